#!/usr/bin/env bash
# Installs the official Svix SDKs that test/svix-sdk-python-go.test.ts runs, once: the
# Python SDK in a venv under .hookflow/sdk/ (pinned in test/sdk/python/requirements.txt) and
# the Go SDK's module (pinned in test/sdk/go/go.mod and go.sum) into the Go module cache.
# Cached: the venv is remade only when requirements.txt changes, the modules are fetched only
# when an offline build fails. Run by test/prerequisites.sh (so by `npm test`) and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { echo "[svix sdks] $*" >&2; }
stop() {
  say "$*"
  exit 1
}

VENV=.hookflow/sdk/python
REQS=test/sdk/python/requirements.txt
STAMP="$VENV/.installed-requirements"
if [ -x "$VENV/bin/python" ] && cmp -s "$REQS" "$STAMP"; then
  :
else
  command -v python3 >/dev/null ||
    stop "the Python SDK round trip needs python3 with venv: run \`sudo apt-get install -y python3-venv\`, then npm test again"
  rm -rf "$VENV"
  if ! python3 -m venv "$VENV" 2>/dev/null; then
    # Debian splits venv's ensurepip out of python3.
    rm -rf "$VENV"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing Debian's python3-venv (apt-get, once)"
      apt-get -o DPkg::Lock::Timeout=600 update -qq
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq python3-venv >/dev/null
      python3 -m venv "$VENV"
    else
      stop "python3 cannot make a venv: run \`sudo apt-get install -y python3-venv\`, then npm test again"
    fi
  fi
  say "installing the Python SDK into $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQS"
  cp "$REQS" "$STAMP"
fi

command -v go >/dev/null ||
  stop "the Go SDK round trip needs Go 1.21 or later on PATH (https://go.dev/dl/), then npm test again"
# What the test does (offline, from the module cache); only when that fails is anything fetched.
if ! (cd test/sdk/go && GOFLAGS="${GOFLAGS:-} -mod=readonly -buildvcs=false" GOPROXY=off go build -o /dev/null . 2>/dev/null); then
  say "downloading the Go SDK's modules into $(go env GOMODCACHE)"
  (cd test/sdk/go && go mod download && GOFLAGS="${GOFLAGS:-} -mod=readonly -buildvcs=false" go build -o /dev/null .)
fi

say "ready: Python svix $("$VENV/bin/python" -c 'import svix; print(svix.__version__)'), Go $(cd test/sdk/go && go list -m -f '{{.Version}}' github.com/svix/svix-webhooks)"
