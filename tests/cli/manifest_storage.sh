#!/usr/bin/env bash
# One device cannot grow the database without bound: the server keeps the
# newest N of each device report kind, of verified manifests (and
# installation reports; manifests are pruned in steps of N/8, 1 to 16, so
# that at most N + step - 1 are there between prunes), of ECU reports
# without a counter (the report history their replay check searches: cut
# with each one; a report with a counter adds no row there) and of alerts,
# as configured; a manifest larger than its
# device's registered ECUs need (padded) is refused with 413, a report
# upload larger than the kept size too. Row counts are read
# from the database itself (SQLite, or PostgreSQL through $UPTAKE_TEST_PSQL
# when tests/cli/postgres.sh runs it).
#   bash tests/cli/manifest_storage.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
trap 'stop_server; rm -rf "$work"' EXIT
cd "$work"
uptake=$build/uptake
device=$build/tests/test_device

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
q() { "$@" >out.txt 2>err.txt || { echo "setup failed: $*"; cat err.txt; exit 1; }; }
sql() { # one value from the server's database
  if [ -n "${UPTAKE_TEST_PSQL:-}" ]; then $UPTAKE_TEST_PSQL "$1"; else
    /usr/bin/python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30)
r = c.execute(sys.argv[2]).fetchone()
c.commit()
print(r[0] if r else "")' "$work/db" "$1"
  fi
}
dev_put() { # METHOD PATH TYPE FILE: prints the HTTP status
  curl -s --cacert "$ca" --cert dev1.crt --key dev1.key -o body.txt -w '%{http_code}' -X "$1" \
    -H "Content-Type: $3" --data-binary "@$4" "$url$2"
}

server_extra_conf='manifest_history = 16
manifest_history_days = 1
device_report_history = 5
alert_history = 20'
start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
q "$uptake" device add dev-1 --dir ws --out dev1
D=(--dir dev --server "$url" --ca "$ca" --cert dev1.crt --key dev1.key)
q "$device" "${D[@]}" --root-director ws/metadata/director-root.json --root-image ws/metadata/root.json \
  --ecu prim:board-a --ecu sec:board-b init

# --- 50 verified manifests: the newest 16 kept, pruned in steps of 2:
# never more than 17, and 16 right after a prune; their reports carry
# counters, so the report history stays empty
n_man() { sql "SELECT count(*) FROM manifests WHERE device='dev-1'"; }
n_rep() { sql "SELECT count(*) FROM ecu_reports WHERE device='${1:-dev-1}' AND serial='${2:-sec}'"; }
seen=
for i in $(seq 50); do
  q "$device" "${D[@]}" report
  seen="$seen $(n_man)/$(n_rep)"
done
bounded=1
for c in $seen; do
  m=${c%/*} r=${c#*/}
  { [ "$m" -le 17 ] && [ "$r" = 0 ]; } || bounded=0
done
[ $bounded = 1 ] && ok || bad "a history grew past 16 + 1, or counter reports were kept: $seen"
[ "$(echo "$seen" | tr ' ' '\n' | grep -c '^17/0$')" -ge 10 ] && ok ||
  bad "manifests were not pruned in steps: $seen"
[ "$(echo "$seen" | tr ' ' '\n' | tail -10 | grep -c '^16/0$')" -ge 4 ] && ok ||
  bad "the manifests were not cut back to 16: $seen"
acc=$(sql "SELECT count(*) FROM manifests WHERE device='dev-1' AND (accepted LIKE 'prim_sec_' OR accepted LIKE 'sec_prim_')")
[ "$acc" = "$(n_man)" ] && ok || bad "$acc of $(n_man) kept manifests record both ECUs' reports as accepted"

# --- 20 manifests whose secondary report has no counter (as
# aktualizr-secondary's): each new one goes to that ECU's report history,
# which never holds more than the newest 16
akt="/usr/bin/python3 $here/../tools/akt_manifest.py"
q "$uptake" device add dev-2 --dir ws --out dev2
q $akt init akt p2 p2:board-a:ed25519 s2:board-b:ed25519
cp out.txt ecus2.json
curl -s --cacert "$ca" --cert dev2.crt --key dev2.key -o body.txt -w '%{http_code}' -X POST \
  -H "Content-Type: application/json" --data-binary @ecus2.json "$url/director/ecus" >code.txt
[ "$(cat code.txt)" = 200 ] && ok || { bad "dev-2 registration: HTTP $(cat code.txt)"; cat body.txt; }
seen=
for i in $(seq 20); do
  q $akt report akt p2 p.json --filepath fw --sha256 "$(printf '%064x' 1)" --length 1 --counter "$i"
  q $akt report akt s2 s.json --filepath "app-$i" --sha256 "$(printf '%064x' "$i")" --length "$i"
  q $akt manifest akt m2.json p.json s.json
  got=$(curl -s --cacert "$ca" --cert dev2.crt --key dev2.key -o body.txt -w '%{http_code}' -X PUT \
    -H "Content-Type: application/json" --data-binary @m2.json "$url/director/manifest")
  [ "$got" = 200 ] || { bad "dev-2 manifest $i: HTTP $got"; cat body.txt; break; }
  seen="$seen $(n_rep dev-2 s2)"
done
[ "$(echo "$seen" | tr ' ' '\n' | sort -n | tail -1)" = 16 ] && ok ||
  bad "the report history of a secondary without counters: $seen (at most 16, 16 at the end)"
[ "$(n_rep dev-2 s2)" = 16 ] && [ "$(n_rep dev-2 p2)" = 0 ] && ok ||
  bad "report history rows: s2 $(n_rep dev-2 s2), p2 $(n_rep dev-2 p2)"
# the device's history says which reports were accepted: from the
# manifest row, or for a manifest stored before that was kept with it
# (accepted NULL), from the report history alone
hist() {
  curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/devices/dev-2/manifests" |
    /usr/bin/python3 -c 'import json, sys
r = json.load(sys.stdin)["manifests"][0]["reports"]
print(" ".join("%s=%s" % (x["ecu"], x["accepted"]) for x in sorted(r, key=lambda x: x["ecu"])))'
}
[ "$(hist)" = "p2=True s2=True" ] && ok || bad "history of dev-2: $(hist)"
sql "UPDATE manifests SET accepted = NULL WHERE device='dev-2'" >/dev/null
[ "$(hist)" = "p2=False s2=True" ] && ok || bad "history of dev-2 stored before: $(hist)"
[ "$(sql "SELECT max(received) FROM manifests WHERE device='dev-1'")" -ge "$(date -d '-5 min' +%s)" ] && ok ||
  bad "the newest manifest was not kept"
# the newest kept is the last accepted: replaying it is still refused
"$device" "${D[@]}" replay >/dev/null 2>&1 && bad "replay accepted" || ok

# the age limit: a manifest received two days ago goes with the next one
before=$(n_man)
sql "INSERT INTO manifests (device, received, body) VALUES ('dev-1', $(date -d '-2 days' +%s), 'x')" >/dev/null
[ "$(n_man)" = $((before + 1)) ] && ok || bad "old manifest not inserted"
q "$device" "${D[@]}" report
[ "$(sql "SELECT count(*) FROM manifests WHERE device='dev-1' AND received < $(date -d '-1 day' +%s)")" = 0 ] && ok ||
  bad "a manifest older than manifest_history_days was kept"

# --- 50 uploads of each report kind, 60 KiB each: the newest 5 of each kept
/usr/bin/python3 -c '
import json
json.dump({"product": "board-a", "pad": "x" * 60000}, open("info.json", "w"))
json.dump([{"id": "e", "eventType": {"id": "EcuDownloadStarted", "version": 0}, "event": {"pad": "y" * 60000}}], open("events.json", "w"))
open("config.toml", "w").write("[uptane]\npolling_sec = 10\n# " + "z" * 60000 + "\n")
'
for i in $(seq 50); do
  for r in "PUT /system_info application/json info.json" "PUT /system_info/network application/json info.json" \
    "PUT /core/installed application/json info.json" "POST /events application/json events.json" \
    "POST /system_info/config application/toml config.toml"; do
    set -- $r
    got=$(dev_put "$1" "$2" "$3" "$4")
    [ "$got" = 200 ] || { bad "$1 $2 ($i): HTTP $got"; break 2; }
  done
done
for k in system_info network installed events config; do
  n=$(sql "SELECT count(*) FROM device_info WHERE device='dev-1' AND kind='$k'")
  [ "$n" = 5 ] && ok || bad "$k uploads kept: $n"
done
total=$(sql "SELECT sum(length(body)) FROM device_info WHERE device='dev-1'")
[ "$total" -le $((25 * 65536)) ] && ok || bad "device reports take $total bytes"

# --- larger than kept: 413, nothing stored
head -c $((6 << 20)) /dev/zero | tr '\0' ' ' >big.json
printf '{}' >>big.json
got=$(dev_put PUT /system_info application/json big.json)
[ "$got" = 413 ] && ok || bad "6 MiB system_info: HTTP $got"

# --- padded manifests: a valid signed manifest with 7 MiB of white space,
# and one just over the bound for two ECUs (16384 + 2 * 16384 bytes)
q "$device" "${D[@]}" sign m.json
cp m.json padded.json
head -c $((7 << 20)) /dev/zero | tr '\0' ' ' >>padded.json
got=$(dev_put PUT /director/manifest application/json padded.json)
[ "$got" = 413 ] && ok || bad "7 MiB padded manifest: HTTP $got"
grep -q "UPT_ERR_TOO_LARGE" body.txt && ok || { bad "padded manifest: no UPT_ERR_TOO_LARGE"; head -c 300 body.txt; }
cp m.json edge.json
head -c $((49152 - $(stat -c %s m.json) + 1)) /dev/zero | tr '\0' ' ' >>edge.json
got=$(dev_put PUT /director/manifest application/json edge.json)
[ "$got" = 413 ] && ok || bad "manifest one byte over the bound: HTTP $got"
grep -q "more than the 49152 a device with 2 registered ECUs may send" body.txt && ok ||
  { bad "no clear message for the bound"; head -c 300 body.txt; }
head -c -1 edge.json >edge2.json # exactly at the bound: accepted
got=$(dev_put PUT /director/manifest application/json edge2.json)
[ "$got" = 200 ] && ok || { bad "manifest at the bound: HTTP $got"; head -c 300 body.txt; }

# --- 50 refused manifests: one open alert with its count (repeats fold),
# the rows bounded by alert_history
for i in $(seq 50); do dev_put PUT /director/manifest application/json m.json >/dev/null; done
n=$(sql "SELECT count(*) FROM alerts WHERE device='dev-1'")
c=$(sql "SELECT max(count) FROM alerts WHERE device='dev-1' AND kind='manifest-refused'")
[ "$n" -le 20 ] && [ "$c" -ge 50 ] && ok || bad "alerts kept: $n rows, count $c"
[ "$(sql "SELECT count(*) FROM manifests WHERE device='dev-1'")" -le 17 ] && ok || bad "manifests grew"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "--- server log"; tail -n 20 "$work/server.log"; false; }
