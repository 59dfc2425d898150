#!/bin/sh
# Registers the namespace Hookflow uses once the server answers (a server on SQL has no
# namespace of its own). Run by docker-compose.yml in temporalio/admin-tools and by the
# cluster tests with the Temporal CLI. Safe to re-run.
set -eu
: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS (host:port of the frontend)}"
NAMESPACE=${TEMPORAL_NAMESPACE:-default}
# until_ok WHAT COMMAND...: runs COMMAND once a second until it succeeds, TEMPORAL_WAIT_TRIES times at most.
until_ok() {
  what=$1
  shift
  tries=0
  until "$@" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge "${TEMPORAL_WAIT_TRIES:-120}" ]; then
      echo "$what" >&2
      exit 1
    fi
    sleep 1
  done
}
until_ok "Temporal at $TEMPORAL_ADDRESS did not become healthy" \
  temporal operator cluster health --address "$TEMPORAL_ADDRESS"
if temporal operator namespace describe -n "$NAMESPACE" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  temporal operator namespace create -n "$NAMESPACE" --retention "${TEMPORAL_NAMESPACE_RETENTION:-72h}" --address "$TEMPORAL_ADDRESS"
fi
# The frontend learns of a new namespace when its registry refreshes (seconds later); until
# then a client that uses it hears "Namespace … is not found". Done when a query on it works.
until_ok "namespace $NAMESPACE is not served by $TEMPORAL_ADDRESS" \
  temporal workflow count -n "$NAMESPACE" --address "$TEMPORAL_ADDRESS"
echo "namespace $NAMESPACE ready"
