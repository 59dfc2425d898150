#!/usr/bin/env bash
# Installs the official Svix SDKs that test/svix-sdk-python-go.test.ts runs: the Python SDK
# in a venv under .hookflow/sdk/ (pinned in test/sdk/python/requirements.txt) and the Go
# SDK's module (pinned in test/sdk/go/go.mod and go.sum) into the Go module cache. Run by
# .ci/run; run it once by hand before `npm test` on a new machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.hookflow/sdk/python
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r test/sdk/python/requirements.txt
(cd test/sdk/go && go mod download && go build -o /dev/null .)
echo "Svix SDKs installed: Python $("$VENV/bin/python" -c 'import svix; print(svix.__version__)'), Go $(cd test/sdk/go && go list -m -f '{{.Version}}' github.com/svix/svix-webhooks)"
