#!/usr/bin/env bash
# The alerts judged from what verified reports prove, end to end on
# loopback with libuptake test devices (real signatures):
#   unknown-software  an ECU's validly signed report names a hash the Image
#                     repository never published for its hardware id (a
#                     made-up image, or one published for other hardware);
#   downgrade         an ECU turns to an older release (a lower release
#                     counter, or published earlier) than its previous report
#                     without an assignment for it; an assigned older image
#                     is no downgrade;
#   rollback          an assigned install failed by the device's signed
#                     installation report, or by its events (joined by the
#                     correlation id), and the ECU proves its previous image
#                     again: one alert per assignment.
# Each alert's evidence names the manifest's sha256 and the hashes; repeats
# fold into the open alert.
#   bash tests/cli/alerts_evidence.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
trap 'stop_server; rm -rf "$work"' EXIT
cd "$work"
uptake=$build/uptake
device=$build/tests/test_device

. "$here/../support/testlib.sh"
W=(--dir ws)
sha() { sha256sum "$1" | cut -d' ' -f1; }
py() { /usr/bin/python3 -c "$@"; }
# alerts QUERY PYTHON-EXPRESSION: evaluate over the JSON list of alerts
alerts() {
  curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/alerts$1" >alerts.json
  py "import json; a=json.load(open('alerts.json'))['alerts']; print($2)"
}
# the evidence of the newest manifest a test device sent
msha() { printf 'manifest sha256:%s' "$(sha d$1/last-manifest.json)"; }
cid() { # DEVICE ECU: the correlation id of the ECU's assignment
  curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/devices/$1" |
    py "import json, sys; print([a['correlation_id'] for a in json.load(sys.stdin)['assignments'] if a['ecu'] == '$2'][0])"
}

start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
for f in fw10 fw11 app1 app2; do head -c 3000 /dev/urandom >$f.bin; done
q "$uptake" publish fw10.bin "${W[@]}" --name fw --version 1.0 --hardware-id board-a --release-counter 1
q "$uptake" publish fw11.bin "${W[@]}" --name fw --version 1.1 --hardware-id board-a --release-counter 2
q "$uptake" publish app1.bin "${W[@]}" --name app --version 1.0 --hardware-id board-b
sleep 1.1 # app-1.1 is published later than app-1.0 (no release counters)
q "$uptake" publish app2.bin "${W[@]}" --name app --version 1.1 --hardware-id board-b

R=(--root-director ws/metadata/director-root.json --root-image ws/metadata/root.json)
dev() { local i=$1; shift; "$device" --dir d$i --server "$url" --ca "$ca" --cert dev$i.crt --key dev$i.key "$@"; }
for i in 1 2 3 4 5 6; do
  q "$uptake" device add dev-$i "${W[@]}" --out dev$i
  q dev $i "${R[@]}" --ecu prim-$i:board-a --ecu sec-$i:board-b init
  q "$uptake" assign fw-1.1 "${W[@]}" --ecu prim-$i --device dev-$i
  q "$uptake" assign app-1.1 "${W[@]}" --ecu sec-$i --device dev-$i
  q dev $i update
  q dev $i report
done
[ "$(alerts '' '[x["kind"] for x in a]')" = "[]" ] && ok || bad "alerts from official updates: $(cat alerts.json)"

# --- unknown-software: a made-up image, signed by the ECU's own key
evil=$(head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1)
q dev 1 --set sec-1=evil:4096:$evil report
want="[('dev-1', 'sec-1', 1, '$(msha 1); runs sha256:$evil')]"
[ "$(alerts '?kind=unknown-software' '[(x["device"], x["ecu"], x["count"], x["evidence"]) for x in a]')" = "$want" ] &&
  ok || bad "unknown-software: $(cat alerts.json)"
grep -q "never published for hardware board-b" alerts.json && ok || bad "message: $(cat alerts.json)"
# the same image reported again: not a new sighting
q dev 1 report
[ "$(alerts '?kind=unknown-software' '[x["count"] for x in a]')" = "[1]" ] && ok || bad "a repeat report counted: $(cat alerts.json)"
# another unknown image: folds into the open alert
evil2=$(head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1)
q dev 1 --set sec-1=evil2:4096:$evil2 report
[ "$(alerts '?kind=unknown-software' '[(x["count"], x["evidence"].endswith("'$evil2'")) for x in a]')" = "[(2, True)]" ] &&
  ok || bad "fold: $(cat alerts.json)"
# a published image, but for other hardware (app-1.0 is for board-b)
q dev 2 --set prim-2=app-1.0:3000:$(sha app1.bin) report
[ "$(alerts '?kind=unknown-software&device=dev-2' '[(x["ecu"], x["evidence"]) for x in a]')" = "[('prim-2', '$(msha 2); runs sha256:$(sha app1.bin)')]" ] &&
  ok || bad "an image of other hardware: $(cat alerts.json)"
[ "$(alerts '?kind=downgrade&device=dev-2' 'len(a)')" = 0 ] && ok || bad "unknown counted as a downgrade"

# --- downgrade: a compromised ECU key signs an older release
q dev 3 --set prim-3=fw-1.0:3000:$(sha fw10.bin) report
want="[('prim-3', '$(msha 3); runs sha256:$(sha fw10.bin); before sha256:$(sha fw11.bin)')]"
[ "$(alerts '?kind=downgrade&device=dev-3' '[(x["ecu"], x["evidence"]) for x in a]')" = "$want" ] &&
  ok || bad "downgrade by release counter: $(cat alerts.json)"
grep -q "from fw-1.1 (release 2) to fw-1.0 (release 1)" alerts.json && ok || bad "message: $(cat alerts.json)"
# no release counters: the one published earlier is older
q dev 3 --set sec-3=app-1.0:3000:$(sha app1.bin) report
[ "$(alerts '?kind=downgrade&device=dev-3' 'sorted(x["ecu"] for x in a)')" = "['prim-3', 'sec-3']" ] &&
  ok || bad "downgrade by publication: $(cat alerts.json)"
grep -q "from app-1.1 to the older app-1.0" alerts.json && ok || bad "message: $(cat alerts.json)"
[ "$(alerts '?kind=unknown-software&device=dev-3' 'len(a)')" = 0 ] && ok || bad "a published image called unknown"
# up again, and down again: folds
q dev 3 --set prim-3=fw-1.1:3000:$(sha fw11.bin) report
q dev 3 --set prim-3=fw-1.0:3000:$(sha fw10.bin) report
[ "$(alerts '?kind=downgrade&device=dev-3' 'sorted((x["ecu"], x["count"]) for x in a)')" = "[('prim-3', 2), ('sec-3', 1)]" ] &&
  ok || bad "downgrade fold: $(cat alerts.json)"
# an assignment that asks for the older release: no alert
q "$uptake" assign fw-1.0 "${W[@]}" --ecu prim-4 --device dev-4
q dev 4 update
q dev 4 report
[ "$(alerts '?device=dev-4' 'len(a)')" = 0 ] && ok || bad "an assigned older image raised: $(cat alerts.json)"

# --- rollback, by the signed installation report
q "$uptake" assign fw-1.0 "${W[@]}" --ecu prim-5 --device dev-5
c5=$(cid dev-5 prim-5)
case "$c5" in urn:uptake:assignment:*) ok ;; *) bad "no correlation id: $c5" ;; esac
q dev 5 report # still runs fw-1.1: no evidence of an attempt
[ "$(alerts '?kind=rollback' 'len(a)')" = 0 ] && ok || bad "rollback without evidence: $(cat alerts.json)"
q dev 5 --install-failed "$c5:prim-5" report
want="[('dev-5', 'prim-5', 1, '$(msha 5); runs sha256:$(sha fw11.bin); assignment $c5')]"
[ "$(alerts '?kind=rollback' '[(x["device"], x["ecu"], x["count"], x["evidence"]) for x in a]')" = "$want" ] &&
  ok || bad "rollback: $(cat alerts.json)"
# the same installation report again: one attempt, one alert
q dev 5 --install-failed "$c5:prim-5" report
[ "$(alerts '?kind=rollback' '[x["count"] for x in a]')" = "[1]" ] && ok || bad "rollback counted twice: $(cat alerts.json)"
[ "$(alerts '?kind=downgrade&device=dev-5' 'len(a)')" = 0 ] && ok || bad "rollback called a downgrade"

# --- rollback, by the device's events
q "$uptake" assign app-1.0 "${W[@]}" --ecu sec-6 --device dev-6
c6=$(cid dev-6 sec-6)
cat >events.json <<E
[{"id":"e1","deviceTime":"2026-01-01T00:00:00Z","eventType":{"id":"EcuInstallationStarted","version":0},"event":{"correlationId":"$c6","ecu":"sec-6"}},
 {"id":"e2","deviceTime":"2026-01-01T00:01:00Z","eventType":{"id":"EcuInstallationCompleted","version":0},"event":{"correlationId":"$c6","ecu":"sec-6","success":false}}]
E
got=$(curl -s --cacert "$ca" --cert dev6.crt --key dev6.key -o /dev/null -w '%{http_code}' -X POST \
  -H 'Content-Type: application/json' --data-binary @events.json "$url/events")
[ "$got" = 200 ] || [ "$got" = 204 ] && ok || bad "events upload: HTTP $got"
q dev 6 report
want="[('dev-6', 'sec-6', '$(msha 6); runs sha256:$(sha app2.bin); assignment $c6')]"
[ "$(alerts '?kind=rollback&device=dev-6' '[(x["device"], x["ecu"], x["evidence"]) for x in a]')" = "$want" ] &&
  ok || bad "rollback by events: $(cat alerts.json)"
q dev 6 report
[ "$(alerts '?kind=rollback&device=dev-6' '[x["count"] for x in a]')" = "[1]" ] && ok || bad "events counted twice: $(cat alerts.json)"

# --- every one of them is in the server's log as a new alert
for k in unknown-software downgrade rollback; do
  grep -q "alert [0-9]*: $k, device" server.log && ok || bad "no log line for $k"
done

finish
