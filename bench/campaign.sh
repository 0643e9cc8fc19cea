#!/usr/bin/env bash
# bench: a campaign over 100,000 registered devices on a real uptake-server
# (SQLite), timed: creating it (filter over the whole fleet), starting it
# (its first stage of 10,000 ECUs assigned and each device's Director
# metadata signed), advancing a stage (the next 10,000), and computing its
# progress while ECU states change, against a plain SQL count of the same
# rows (sqlite3 on the same database) in the same run.
#
# The devices and ECUs are written into the database directly, and the
# "reports" of stage 1 are state changes written directly too: this
# measures the campaign machinery, not manifest verification (bench_server
# measures that).
#   bash bench/campaign.sh [BUILD_DIR] [DEVICES]
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=$(cd "${1:-build}" && pwd)
n=${2:-100000}
work=$(mktemp -d)
. "$src/tests/support/serverlib.sh"
trap 'stop_server; rm -rf "$work"' EXIT
cd "$work"
ms() { date +%s%3N; }
api() { curl -sf -m 900 --cacert "$ca" -H "Authorization: Bearer $token" -H "Content-Type: application/json" "$@"; }
db=$work/db

start_server
printf '%s\n' "$token" >token
"$build/uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws >/dev/null
head -c 20000 /dev/urandom >fw1.bin
head -c 20000 /dev/urandom >fw2.bin
"$build/uptake" publish fw1.bin --dir ws --name fw --version 1.0 --hardware-id board-a >/dev/null
"$build/uptake" publish fw2.bin --dir ws --name fw --version 2.0 --hardware-id board-a >/dev/null
fw1=$(sha256sum fw1.bin | cut -c1-64)

t=$(ms)
sqlite3 "$db" >/dev/null <<SQL
PRAGMA busy_timeout = 10000;
BEGIN;
WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i WHERE x < $n)
INSERT INTO devices (id) SELECT printf('dev-%06d', x) FROM i;
INSERT INTO ecus (device, serial, hardware_id, keyid, public_key, is_primary, installed,
                  installed_length, installed_sha256, report_counter, reported_at)
  SELECT id, id || '-main', 'board-a', 'k', '{}', 1, 'fw-1.0', 20000, '$fw1', 1, 1 FROM devices;
COMMIT;
SQL
echo "fleet: $n devices with one ECU each, running fw-1.0 ($(($(ms) - t)) ms of SQL)"

t=$(ms)
api -X POST --data-binary '{"name":"bench","targets":{"board-a":"fw-2.0"},"filter":{"installed":"fw-1.0"},
  "stages":[{"count":10000,"success":95},{"count":10000,"success":95},{"percent":100}]}' \
  "$url/api/v1/campaigns" >created.json
create_ms=$(($(ms) - t))
id=$(/usr/bin/python3 -c 'import json; print(json.load(open("created.json"))["id"])')

t=$(ms)
api -X POST --data-binary '{}' "$url/api/v1/campaigns/$id/start" >started.json
start_ms=$(($(ms) - t))
assigned=$(/usr/bin/python3 -c 'import json; print(json.load(open("started.json"))["stages"][0]["counts"]["assigned"])')

# progress while states change: a writer marks stage-1 ECUs succeeded in
# batches (as reports would), meanwhile both counts run 20 times each
(
  for b in $(seq 0 18); do
    sqlite3 "$db" "PRAGMA busy_timeout = 10000; UPDATE campaign_members SET state='succeeded'
      WHERE rowid IN (SELECT rowid FROM campaign_members WHERE campaign=$id AND stage=0
      AND state='assigned' LIMIT 500);" >/dev/null
  done
) &
writer=$!
t=$(ms)
for _ in $(seq 20); do api "$url/api/v1/campaigns/$id" >/dev/null; done
api_ms=$((($(ms) - t) / 20))
t=$(ms)
for _ in $(seq 20); do
  sqlite3 "$db" "PRAGMA busy_timeout = 10000; SELECT stage, state, count(*) FROM campaign_members
    WHERE campaign=$id GROUP BY stage, state;" >/dev/null
done
sql_ms=$((($(ms) - t) / 20))
wait "$writer"

# advance: 95% of stage 1 succeeded; the periodic evaluation starts stage 2
t=$(ms)
sqlite3 "$db" "PRAGMA busy_timeout = 10000; UPDATE campaign_members SET state='succeeded'
  WHERE campaign=$id AND stage=0 AND rowid IN (SELECT rowid FROM campaign_members
  WHERE campaign=$id AND stage=0 LIMIT 9500);" >/dev/null
for _ in $(seq 1800); do
  got=$(api "$url/api/v1/campaigns/$id" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["stages"][1]["counts"]["assigned"])')
  [ "$got" = 10000 ] && break
  sleep 0.5
done
advance_ms=$(($(ms) - t))

printf '%-58s %10s\n' "create (filter over $n devices, all checks, one transaction)" "$create_ms ms"
printf '%-58s %10s\n' "start: stage 1 ($assigned ECUs assigned, Director signed)" "$start_ms ms"
printf '%-58s %10s\n' "advance: stage 2 (10000 ECUs) after the threshold" "$advance_ms ms"
printf '%-58s %10s\n' "progress: GET /api/v1/campaigns/ID (whole answer)" "$api_ms ms"
printf '%-58s %10s\n' "baseline: the same GROUP BY in sqlite3, same database" "$sql_ms ms"
echo "ratio (API / SQL): $(/usr/bin/python3 -c "print('%.2f' % ($api_ms / max($sql_ms, 1)))")"
