#!/usr/bin/env bash
# bench: a campaign over 100,000 registered devices on a real uptake-server
# (SQLite, or a throwaway PostgreSQL), timed: creating it (filter over the
# whole fleet), starting it (its first stage of 10,000 ECUs assigned and
# each device's Director metadata signed, in batches per transaction),
# advancing a stage (the next 10,000, assigned and signed), and computing
# its progress while ECU states change; each against a plain SQL count of
# the same rows (sqlite3 or psql on the same database) in the same run.
#
# The devices and ECUs are written into the database directly: they never
# connect, so they need no certificates or ECU keys (the campaign reads
# only their rows). The "reports" of stage 1 are state changes written
# directly too: this measures the campaign machinery, not manifest
# verification (bench_server measures that).
#   bash bench/campaign.sh [BUILD_DIR] [DEVICES] [sqlite|postgresql]
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=$(cd "${1:-build}" && pwd)
n=${2:-100000}
backend=${3:-sqlite}
work=$(mktemp -d)
. "$src/tests/support/serverlib.sh"
. "$src/tests/support/pglib.sh"
trap 'stop_server; cd /; stop_postgres; rm -rf "$work"' EXIT
cd "$work"
ms() { date +%s%3N; }
api() { curl -sf -m 1800 --cacert "$ca" -H "Authorization: Bearer $token" -H "Content-Type: application/json" "$@"; }
db=$work/db

if [ "$backend" = postgresql ]; then
  cd /
  start_postgres
  create_database bench
  cd "$work"
  export UPTAKE_TEST_DATABASE=$pg_uri_base/bench
  sql() { psql -q -X -t -A -v ON_ERROR_STOP=1 "$UPTAKE_TEST_DATABASE" -c "$1"; }
  seq_sql="SELECT x FROM generate_series(1, $n) AS x"
  id_of="'dev-' || lpad(x::text, 6, '0')"
else
  sql() { sqlite3 -cmd '.timeout 60000' "$db" "$1"; }
  seq_sql="WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i WHERE x < $n) SELECT x FROM i"
  id_of="printf('dev-%06d', x)"
fi
# min_sql QUERY: the fastest of 5 runs of QUERY, in ms
min_sql() {
  local best= t d
  for _ in 1 2 3 4 5; do
    t=$(ms)
    sql "$1" >/dev/null
    d=$(($(ms) - t))
    [ -z "$best" ] || [ "$d" -lt "$best" ] && best=$d
  done
  echo "$best"
}

start_server
printf '%s\n' "$token" >token
"$build/uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws >/dev/null
head -c 20000 /dev/urandom >fw1.bin
head -c 20000 /dev/urandom >fw2.bin
"$build/uptake" publish fw1.bin --dir ws --name fw --version 1.0 --hardware-id board-a >/dev/null
"$build/uptake" publish fw2.bin --dir ws --name fw --version 2.0 --hardware-id board-a >/dev/null
fw1=$(sha256sum fw1.bin | cut -c1-64)

t=$(ms)
sql "BEGIN;
INSERT INTO devices (id) SELECT $id_of FROM ($seq_sql) AS s;
INSERT INTO ecus (device, serial, hardware_id, keyid, public_key, is_primary, installed,
                  installed_length, installed_sha256, report_counter, reported_at)
  SELECT id, id || '-main', 'board-a', 'k', '{}', 1, 'fw-1.0', 20000, '$fw1', 1, 1 FROM devices;
COMMIT;" >/dev/null
echo "fleet ($backend): $n devices with one ECU each, running fw-1.0 ($(($(ms) - t)) ms of SQL)"

t=$(ms)
api -X POST --data-binary '{"name":"bench","targets":{"board-a":"fw-2.0"},"filter":{"installed":"fw-1.0"},
  "stages":[{"count":10000,"success":95},{"count":10000,"success":95},{"percent":100}]}' \
  "$url/api/v1/campaigns" >created.json
create_ms=$(($(ms) - t))
id=$(/usr/bin/python3 -c 'import json; print(json.load(open("created.json"))["id"])')
create_sql=$(min_sql "SELECT count(*) FROM ecus e JOIN devices d ON d.id = e.device WHERE e.installed = 'fw-1.0'")

t=$(ms)
api -X POST --data-binary '{}' "$url/api/v1/campaigns/$id/start" >started.json
start_ms=$(($(ms) - t))
assigned=$(/usr/bin/python3 -c 'import json; print(json.load(open("started.json"))["stages"][0]["counts"]["assigned"])')
signed=$(sql "SELECT count(*) FROM campaign_members WHERE campaign=$id AND stage=0 AND published=1")
start_sql=$(min_sql "SELECT count(*) FROM campaign_members WHERE campaign=$id AND stage=0")

# progress while states change: a writer marks stage-1 ECUs succeeded in
# batches (as reports would), meanwhile both counts run 20 times each
mark() { # STAGE COUNT
  sql "UPDATE campaign_members SET state='succeeded' WHERE (campaign, device, ecu) IN
    (SELECT campaign, device, ecu FROM campaign_members WHERE campaign=$id AND stage=$1
     AND state='assigned' LIMIT $2)" >/dev/null
}
(for _ in $(seq 0 18); do mark 0 250; done) &
writer=$!
t=$(ms)
for _ in $(seq 20); do api "$url/api/v1/campaigns/$id" >/dev/null; done
api_ms=$((($(ms) - t) / 20))
progress_sql="SELECT stage, state, count(*) FROM campaign_members WHERE campaign=$id GROUP BY stage, state"
t=$(ms)
for _ in $(seq 20); do sql "$progress_sql" >/dev/null; done
sql_ms=$((($(ms) - t) / 20))
wait "$writer"

# advance: 95% of stage 1 succeeded; the periodic evaluation starts stage 2
# (assigned in its transaction, then signed in batches)
mark 0 10000
t=$(ms)
assigned_ms=
for _ in $(seq 3600); do
  got=$(sql "SELECT count(*), sum(published) FROM campaign_members WHERE campaign=$id AND stage=1 AND state='assigned'")
  [ -z "$assigned_ms" ] && [ "${got%|*}" = 10000 ] && assigned_ms=$(($(ms) - t))
  [ "$got" = "10000|10000" ] && break
  sleep 0.2
done
advance_ms=$(($(ms) - t))
advance_sql=$(min_sql "SELECT count(*) FROM campaign_members WHERE campaign=$id AND stage=1")

ratio() { /usr/bin/python3 -c "print('%.0f' % ($1 / max($2, 1)))"; }
printf '%-64s %9s %9s %8s\n' "$backend, $n devices" "uptake" "SQL" "ratio"
printf '%-64s %6s ms %6s ms %7sx\n' "create (filter over $n devices, all checks, one transaction)" "$create_ms" "$create_sql" "$(ratio "$create_ms" "$create_sql")"
printf '%-64s %6s ms %6s ms %7sx\n' "start: stage 1 ($assigned ECUs assigned, $signed signed)" "$start_ms" "$start_sql" "$(ratio "$start_ms" "$start_sql")"
printf '%-64s %6s ms %6s ms %7sx\n' "advance: stage 2 (10000 ECUs) assigned after the threshold" "$assigned_ms" "$advance_sql" "$(ratio "$assigned_ms" "$advance_sql")"
printf '%-64s %6s ms %6s ms %7sx\n' "advance: ... and every one's Director metadata signed" "$advance_ms" "$advance_sql" "$(ratio "$advance_ms" "$advance_sql")"
printf '%-64s %6s ms %6s ms %7sx\n' "progress: GET /api/v1/campaigns/ID while states change" "$api_ms" "$sql_ms" "$(ratio "$api_ms" "$sql_ms")"
