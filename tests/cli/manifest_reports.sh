#!/usr/bin/env bash
# A manifest must carry the primary's own ECU report with a fresh counter:
# one without reports, or with only a secondary's, is refused with an alert
# (manifest-refused) however often it is sent, and changes nothing (not the
# device's auto_update either).
#   bash tests/cli/manifest_reports.sh BUILD_DIR
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
show() { curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/devices/dev-1" >show.json; }
jget() { /usr/bin/python3 -c "import json,sys; d=json.load(open('show.json')); print($1)"; }
put() { # FILE: PUT it as dev-1's manifest, prints the HTTP status
  curl -s --cacert "$ca" --cert dev1.crt --key dev1.key -o body.txt -w '%{http_code}' -X PUT \
    -H "Content-Type: application/json" --data-binary "@$1" "$url/director/manifest"
}

start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
q "$uptake" device add dev-1 --dir ws --out dev1
D=(--dir dev --server "$url" --ca "$ca" --cert dev1.crt --key dev1.key)
q "$device" "${D[@]}" --root-director ws/metadata/director-root.json --root-image ws/metadata/root.json \
  --ecu prim:board-a --ecu sec:board-b init
q "$device" "${D[@]}" report
show
cp show.json before.json
[ "$(jget 'd["auto_update"]')" = True ] && ok || bad "auto_update not on by default"
alerts=$(jget 'd["alerts"]')

# --- no ECU reports at all, saying auto_update false: refused, three times
q "$device" "${D[@]}" --omit all --auto-update false sign empty.json
grep -q '"ecu_version_manifests":{}' empty.json && ok || bad "test manifest has reports"
for i in 1 2 3; do
  got=$(put empty.json)
  [ "$got" = 400 ] && ok || bad "manifest without reports ($i): HTTP $got"
  grep -q "no report of the primary ECU prim" body.txt && ok || { bad "no reason given"; cat body.txt; }
done
# --- only the secondary's report (fresh counter): refused too
q "$device" "${D[@]}" --omit prim --auto-update false sign sec-only.json
got=$(put sec-only.json)
[ "$got" = 400 ] && ok || bad "manifest without the primary's report: HTTP $got"
show
[ "$(jget 'd["auto_update"]')" = True ] && ok || bad "a refused manifest flipped auto_update"
[ "$(jget 'd["alerts"]')" = $((alerts + 4)) ] && ok || bad "refusals not alerted: $(jget 'd["alerts"]')"
/usr/bin/python3 -c '
import json, sys
a, b = json.load(open("before.json")), json.load(open("show.json"))
for d in (a, b):
    d.pop("alerts")
sys.exit(a != b)' && ok || bad "a refused manifest changed the device"

# --- a full manifest with auto_update false is accepted and says so
q "$device" "${D[@]}" --auto-update false report
show
[ "$(jget 'd["auto_update"]')" = False ] && ok || bad "auto_update false not taken from a verified manifest"
# ... and the report-less manifest cannot switch it back on
q "$device" "${D[@]}" --omit all --auto-update true sign empty-on.json
got=$(put empty-on.json)
[ "$got" = 400 ] && ok || bad "manifest without reports (auto_update true): HTTP $got"
show
[ "$(jget 'd["auto_update"]')" = False ] && ok || bad "a report-less manifest switched auto_update"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "--- server log"; tail -n 20 "$work/server.log"; false; }
