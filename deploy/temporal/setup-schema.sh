#!/bin/sh
# Creates Temporal's two databases on PostgreSQL and brings their schemas to the server's
# version. Run by docker-compose.yml (in temporalio/admin-tools, whose /etc/temporal holds
# the schemas) and by the cluster tests (test/cluster/, with the tool and schemas built from
# the server's Go module): one script, so both set up Temporal the same way. Safe to re-run.
set -eu
: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS (PostgreSQL host)}"
: "${POSTGRES_USER:?set POSTGRES_USER}"
SCHEMA_DIR=${TEMPORAL_HOME:-/etc/temporal}/schema/postgresql/v12
export SQL_PASSWORD="${POSTGRES_PWD:-}"

sql() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" "$@"
}

for db in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
  name=${db%%:*}
  schema=${db#*:}
  # create fails when the database exists: a re-run goes on to the schema steps.
  sql --db "$name" create 2>/dev/null || echo "database $name exists"
  # setup-schema -v 0.0 only adds the version table (no-op when present); update-schema applies
  # every versioned step above the recorded version.
  sql --db "$name" setup-schema -v 0.0
  sql --db "$name" update-schema -d "$SCHEMA_DIR/$schema/versioned"
done
echo "Temporal schemas ready"
