#!/usr/bin/env bash
# The same server behaviour on PostgreSQL: a throwaway PostgreSQL on
# loopback, and the Director, publishing and agent tests run against it
# (each with its own database).
#   bash tests/cli/postgres.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/pglib.sh"
trap 'stop_postgres; rm -rf "$work"' EXIT
start_postgres || exit 1
fail=0
for t in publish director aktualizr_dialect agent compliance reports manifest_race manifest_storage manifest_reports aktualizr_manifests alerts users vulns; do
  create_database "$t" || { echo "createdb $t failed"; exit 1; }
  if UPTAKE_TEST_DATABASE="$pg_uri_base/$t" \
    UPTAKE_TEST_PSQL="$pg_bin/psql -h 127.0.0.1 -p $pg_port -U uptake -d $t -Atc" \
    bash "$here/$t.sh" "$build" >"$work/$t.log" 2>&1; then
    echo "ok   $t on PostgreSQL: $(tail -1 "$work/$t.log")"
  else
    echo "FAIL $t on PostgreSQL"
    tail -20 "$work/$t.log"
    fail=1
  fi
done
# the schema is PostgreSQL's own, migrated
pg_as "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U uptake -d director -Atc \
  "SELECT max(version) FROM uptake_schema" | grep -qx 16 || { echo "FAIL: schema version"; fail=1; }
[ "$fail" -eq 0 ]
