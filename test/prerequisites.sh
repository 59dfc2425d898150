#!/usr/bin/env bash
# What `npm test` needs besides node_modules, provisioned before it runs (the `pretest`
# script; .ci/run calls it too). Each part is cached, so a second run costs a second or two:
#  - Chromium for the portal's browser tests (test/portal.e2e.test.ts): CHROMIUM_PATH, or
#    /usr/bin/chromium, else Debian's `chromium` package through apt when running as root;
#  - the official Svix SDKs for Python and Go (test/sdk/install.sh: a venv under
#    .hookflow/sdk/, the Go module cache).
# When something cannot be provisioned here it stops with one line saying what to run.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "[test prerequisites] $*" >&2; }
stop() {
  say "$*"
  exit 1
}

chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -d portal ] && [ ! -x "$chromium_path" ]; then
  if [ -n "${CHROMIUM_PATH:-}" ]; then
    stop "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable; point it at Chromium or Chrome, or unset it"
  fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    stop "the portal's browser tests need Chromium: run \`sudo apt-get install -y chromium\` (or set CHROMIUM_PATH to a Chromium or Chrome binary), then npm test again"
  fi
  say "installing Debian's chromium for the portal's browser tests (apt-get, once)"
  # Waits for another apt run (another checkout's tests) instead of failing on its lock.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null
  [ -x /usr/bin/chromium ] || stop "apt-get installed chromium but /usr/bin/chromium is missing; set CHROMIUM_PATH"
fi

test/sdk/install.sh
