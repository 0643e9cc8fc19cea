#!/usr/bin/env bash
# Manifests exactly as aktualizr sends them, from a primary with an IP
# secondary (aktualizr-secondary): string report counters in the primary's
# report, none in the secondary's, RSA-PSS and Ed25519 ECU keys in
# aktualizr's spelling, base64 signatures, an installation_report after
# the install, events with the Director's correlation id. Each ECU's report
# is judged on its own: a cached secondary report is "unchanged", an older
# one replayed or a forged one is refused for that ECU alone (alert, the
# primary still inventoried). Bad counter strings are refused by name and
# store nothing.
#   bash tests/cli/aktualizr_manifests.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
trap 'stop_server; rm -rf "$work"' EXIT
cd "$work"
uptake=$build/uptake
akt="/usr/bin/python3 $here/../tools/akt_manifest.py"

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
q() { "$@" >out.txt 2>err.txt || { echo "setup failed: $*"; cat err.txt; exit 1; }; }
show() { curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/devices/dev-1" >show.json; }
jget() { /usr/bin/python3 -c "import json,sys; d=json.load(open('show.json')); e={x['serial']: x for x in d['ecus']}; print(($1))"; }
dev() { # METHOD PATH FILE [TYPE]: prints the HTTP status, answer in body.txt
  curl -s --cacert "$ca" --cert dev1.crt --key dev1.key -o body.txt -w '%{http_code}' -X "$1" \
    -H "Content-Type: ${4:-application/json}" --data-binary "@$3" "$url$2"
}
sql() {
  if [ -n "${UPTAKE_TEST_PSQL:-}" ]; then $UPTAKE_TEST_PSQL "$1"; else
    /usr/bin/python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30)
r = c.execute(sys.argv[2]).fetchone()
c.commit()
print(r[0] if r else "")' "$work/db" "$1"
  fi
}
sha() { sha256sum "$1" | cut -c1-64; }
# manifest NAME PRIMARY_COUNTER SECONDARY_REPORT_FILE [akt manifest options]: a
# manifest with a fresh primary report ("fw" installed) and the given
# secondary report
manifest() {
  local name=$1 c=$2 sec=$3
  shift 3
  q $akt report akt prim "p-$name.json" --filepath "$fw" --sha256 "$(sha fw1.bin)" --length 40000 --counter "$c"
  q $akt manifest akt "$name.json" "p-$name.json" ${sec:+"$sec"} "$@"
}

start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws --dialect aktualizr
head -c 40000 /dev/urandom >fw1.bin
head -c 30000 /dev/urandom >app1.bin
head -c 31000 /dev/urandom >app2.bin
q "$uptake" publish fw1.bin --dir ws --name fw --version 1.0 --hardware-id board-a
q "$uptake" publish app1.bin --dir ws --name app --version 1.0 --hardware-id board-b
q "$uptake" publish app2.bin --dir ws --name app --version 2.0 --hardware-id board-b
q "$uptake" device add dev-1 --dir ws --out dev1
fw=fw-1.0

# --- registration: an Ed25519 primary and an RSA secondary, aktualizr's keys
$akt init akt prim prim:board-a:ed25519 sec:board-b:rsa >ecus.json || exit 1
grep -q '"keytype": "RSA"' ecus.json && grep -q '"keytype": "ED25519"' ecus.json && ok || bad "keys not in aktualizr's spelling"
[ "$(dev POST /director/ecus ecus.json)" = 200 ] && ok || { bad "registration refused"; cat body.txt; }

# --- correlation ids: one per assignment, in the Director's targets
q "$uptake" assign fw-1.0 --dir ws --ecu prim --device dev-1
q "$uptake" assign app-1.0 --dir ws --ecu sec --device dev-1
curl -s --cacert "$ca" --cert dev1.crt --key dev1.key "$url/director/targets.json" >dt.json
cids=$(/usr/bin/python3 -c '
import json
s = json.load(open("dt.json"))["signed"]
t = s["targets"]
print(s["custom"]["correlationId"], t["fw-1.0"]["custom"]["correlationId"], t["app-1.0"]["custom"]["correlationId"])') ||
  bad "Director targets without correlation ids"
read -r top cid_fw cid_app <<<"$cids"
[[ "$cid_fw" == urn:uptake:assignment:* ]] && ok || bad "correlation id: $cid_fw"
[ "$cid_fw" != "$cid_app" ] && ok || bad "two assignments share a correlation id"
[ "$top" = "$cid_app" ] && ok || bad "targets' correlationId $top is not the newest assignment's ($cid_app)"

# --- 1: string counter in the primary's report, none in the secondary's
q $akt report akt sec s1.json --filepath app-1.0 --sha256 "$(sha app1.bin)" --length 30000
manifest m1 1 s1.json
grep -q '"report_counter": "1"' m1.json && ! grep -q '"report_counter"' s1.json && ok || bad "test manifest not in aktualizr's form"
curl -s --cacert "$ca" --cert dev1.crt --key dev1.key -D head.txt -o body.txt -w '%{http_code}' -X PUT \
  -H "Content-Type: application/json" --data-binary @m1.json "$url/director/manifest" >code.txt
[ "$(cat code.txt)" = 200 ] && ok || { bad "aktualizr manifest refused"; cat body.txt; }
# accepted: no body, and nothing claims one (no Content-Type)
[ ! -s body.txt ] && grep -qi '^content-length: 0' head.txt && ! grep -qi '^content-type' head.txt && ok ||
  { bad "the accepted manifest's answer is not empty"; cat head.txt body.txt; }
show
[ "$(jget 'e["prim"]["installed"]["name"], e["sec"]["installed"]["name"]')" = "('fw-1.0', 'app-1.0')" ] && ok ||
  bad "inventory: $(jget 'd["ecus"]')"
[ "$(jget 'e["prim"]["last_report"]["status"], e["sec"]["last_report"]["status"]')" = "('fresh', 'no_counter')" ] && ok ||
  bad "report status: $(jget '[x.get("last_report") for x in d["ecus"]]')"
[ "$(jget 'e["prim"]["report_counter"]')" = 1 ] && ok || bad "string counter not stored as 1"
alerts=$(jget 'd["alerts"]')
rows=$(sql "SELECT count(*) FROM ecu_reports WHERE device='dev-1' AND serial='sec'")

# --- 2: the secondary unreachable: its cached report again, byte for byte
manifest m2 2 s1.json
[ "$(dev PUT /director/manifest m2.json)" = 200 ] && ok || { bad "manifest with a cached report refused"; cat body.txt; }
show
[ "$(jget 'e["sec"]["last_report"]["status"]')" = cached ] && ok || bad "cached report not shown as cached"
[ "$(jget 'd["alerts"]')" = "$alerts" ] && ok || bad "a cached report raised an alert"
[ "$(sql "SELECT count(*) FROM ecu_reports WHERE device='dev-1' AND serial='sec'")" = "$rows" ] && ok ||
  bad "a cached report added an inventory row"

# --- 3: the secondary installs app-2.0: new content without a counter
q $akt report akt sec s2.json --filepath app-2.0 --sha256 "$(sha app2.bin)" --length 31000
manifest m3 3 s2.json
[ "$(dev PUT /director/manifest m3.json)" = 200 ] && ok || { bad "new secondary report refused"; cat body.txt; }
show
[ "$(jget 'e["sec"]["installed"]["name"], e["sec"]["last_report"]["status"]')" = "('app-2.0', 'no_counter')" ] && ok ||
  bad "new counter-less report not taken: $(jget 'e["sec"]')"

# --- 4: the older secondary report replayed: refused for that ECU only
manifest m4 4 s1.json
[ "$(dev PUT /director/manifest m4.json)" = 200 ] && ok || { bad "manifest refused for a secondary's replay"; cat body.txt; }
show
[ "$(jget 'e["sec"]["installed"]["name"]')" = app-2.0 ] && ok || bad "a replayed secondary report changed its inventory"
[ "$(jget 'e["prim"]["report_counter"]')" = 4 ] && ok || bad "primary not inventoried next to a replayed secondary report"
[ "$(jget 'd["alerts"]')" = $((alerts + 1)) ] && ok || bad "replayed secondary report: no alert"
[ "$(sql "SELECT kind FROM alerts WHERE device='dev-1' ORDER BY at DESC, message DESC LIMIT 1")" = report-replayed ] && ok ||
  bad "alert kind: $(sql "SELECT kind FROM alerts WHERE device='dev-1' ORDER BY at DESC LIMIT 1")"

# --- 5: a forged secondary report next to a valid primary report
q $akt report akt sec s-forged.json --filepath app-1.0 --sha256 "$(sha app1.bin)" --length 30000 --wrong-key
manifest m5 5 s-forged.json
[ "$(dev PUT /director/manifest m5.json)" = 200 ] && ok || { bad "manifest refused for a forged secondary report"; cat body.txt; }
show
[ "$(jget 'e["sec"]["installed"]["name"], e["prim"]["report_counter"]')" = "('app-2.0', 5)" ] && ok ||
  bad "forged secondary report: $(jget 'd["ecus"]')"
[ "$(jget 'd["alerts"]')" = $((alerts + 2)) ] && ok || bad "forged secondary report: no alert"
grep -q "report-refused" <(sql "SELECT group_concat(kind) FROM alerts WHERE device='dev-1'" 2>/dev/null ||
  sql "SELECT string_agg(kind, ',') FROM alerts WHERE device='dev-1'") && ok || bad "no report-refused alert"

# --- bad counter strings: refused by name, nothing stored
n_manifests=$(sql "SELECT count(*) FROM manifests WHERE device='dev-1'")
for c in "+6" " 6" "6 " "06" "-6" "6a" "12345678901234567890" "9223372036854775808" ""; do
  q $akt report akt prim p-bad.json --filepath "$fw" --sha256 "$(sha fw1.bin)" --length 40000 --counter "$c"
  q $akt manifest akt bad.json p-bad.json
  got=$(dev PUT /director/manifest bad.json)
  [ "$got" = 400 ] && ok || bad "counter '$c': HTTP $got"
  grep -q "ecu_version_manifests.prim.report_counter" body.txt && ok || { bad "counter '$c': no field named"; cat body.txt; }
done
for c in '[6]' 'true' '-6' '""'; do
  q $akt report akt prim p-bad.json --filepath "$fw" --sha256 "$(sha fw1.bin)" --length 40000 --counter-json "$c"
  q $akt manifest akt bad.json p-bad.json
  got=$(dev PUT /director/manifest bad.json)
  [ "$got" = 400 ] && grep -q "report_counter: must" body.txt && ok || { bad "counter $c: HTTP $got"; cat body.txt; }
done
[ "$(sql "SELECT count(*) FROM manifests WHERE device='dev-1'")" = "$n_manifests" ] && ok || bad "a refused manifest was stored"
show
[ "$(jget 'e["prim"]["report_counter"]')" = 5 ] && ok || bad "a refused counter changed the stored one"
# a counter string not above the last: a replay
manifest m5b 5 s2.json
[ "$(dev PUT /director/manifest m5b.json)" = 409 ] && grep -q "not above 5" body.txt && ok || { bad "string counter 5 after 5 accepted"; cat body.txt; }

# --- installation report and events, joined to the assignment by correlation id
cid=$cid_fw
cat >events.json <<EOF
[{"id":"6d3f0b7e-1","deviceTime":"2026-01-01T00:00:00Z","eventType":{"id":"EcuDownloadStarted","version":0},"event":{"correlationId":"$cid","ecu":"prim"}},
 {"id":"6d3f0b7e-2","deviceTime":"2026-01-01T00:00:05Z","eventType":{"id":"EcuInstallationCompleted","version":0},"event":{"correlationId":"$cid","ecu":"prim","success":true}},
 {"id":"6d3f0b7e-3","deviceTime":"2026-01-01T00:00:06Z","eventType":{"id":"EcuDownloadStarted","version":0},"event":{"correlationId":"other","ecu":"prim"}}]
EOF
[ "$(dev POST /events events.json)" = 200 ] && ok || bad "events refused"
cat >ir.json <<EOF
{"content_type":"application/vnd.com.here.otac.installationReport.v1",
 "report":{"correlation_id":"$cid","raw_report":"Installation succesful",
  "result":{"success":true,"code":"OK","description":"Device has been successfully installed"},
  "items":[{"ecu":"prim","result":{"success":true,"code":"OK","description":"Installed\nwell"}}]}}
EOF
manifest m6 6 s2.json --installation-report ir.json
[ "$(dev PUT /director/manifest m6.json)" = 200 ] && ok || { bad "manifest with an installation report refused"; cat body.txt; }
show
/usr/bin/python3 -c '
import json, sys
d = json.load(open("show.json"))
a = [x for x in d["assignments"] if x["ecu"] == "prim"][0]
ir = a["installation_report"]
assert a["correlation_id"] == sys.argv[1], a
assert ir["success"] is True and ir["correlation_id"] == sys.argv[1], ir
assert ir["report"]["report"]["items"][0]["result"]["description"] == "Installed\nwell", ir
assert [e["type"] for e in a["events"]] == ["EcuDownloadStarted", "EcuInstallationCompleted"], a["events"]
assert a["events"][1]["success"] is True and a["events"][0]["ecu"] == "prim"
assert d["installation_reports"][0]["correlation_id"] == sys.argv[1]
s = [x for x in d["assignments"] if x["ecu"] == "sec"][0]
assert "installation_report" not in s and s["events"] == [], s
' "$cid" && ok || bad "installation report or events not joined to the assignment"
"$uptake" device show dev-1 --dir ws >cli-show.json 2>&1
grep -q '"installation_report"' cli-show.json && grep -q "$cid" cli-show.json && ok || bad "uptake device show lacks the installation report"

# --- installation reports are parsed strictly
bad_ir() { # DESCRIPTION PYTHON-EDIT
  /usr/bin/python3 -c "
import json; r = json.load(open('ir.json')); $2; json.dump(r, open('ir-bad.json', 'w'))"
  manifest irbad 7 "" --installation-report ir-bad.json
  got=$(dev PUT /director/manifest irbad.json)
  { [ "$got" = 400 ] || [ "$got" = 413 ]; } && grep -q "installation_report" body.txt && ok || { bad "installation report with $1: HTTP $got"; cat body.txt; }
}
bad_ir "an unknown field" 'r["report"]["extra"] = 1'
bad_ir "another content type" 'r["content_type"] = "text/plain"'
bad_ir "no result" 'del r["report"]["result"]'
bad_ir "a string for success" 'r["report"]["result"]["success"] = "true"'
bad_ir "an unknown ECU" 'r["report"]["items"][0]["ecu"] = "ghost"'
bad_ir "an ECU twice" 'r["report"]["items"].append(r["report"]["items"][0])'
bad_ir "a long description" 'r["report"]["raw_report"] = "x" * 9000'
show
[ "$(jget 'e["prim"]["report_counter"]')" = 6 ] && ok || bad "a refused installation report changed the inventory"
[ "$(jget 'len(d["installation_reports"])')" = 1 ] && ok || bad "a refused installation report was stored"

# --- the largest int64 counter is accepted (and nothing can follow it)
manifest mmax 9223372036854775807 s2.json
[ "$(dev PUT /director/manifest mmax.json)" = 200 ] && ok || { bad "counter 2^63-1 refused"; cat body.txt; }

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "--- server log"; tail -n 30 "$work/server.log"; false; }
