#!/usr/bin/env bash
# Alerts end to end on loopback: raised from evidence (a replayed manifest,
# a forged ECU report, a registered ECU missing from a manifest, a device
# gone silent), repeats folded into one open alert, listed, exported as JSON
# lines and acknowledged; each new alert delivered once to a webhook with a
# valid HMAC-SHA256 signature, through a receiver that fails, is down while
# the server restarts, and recovers (the outbox is persistent).
#   bash tests/cli/alerts.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
hook_pid=
. "$here/../support/serverlib.sh"
trap '[ -n "$hook_pid" ] && kill $hook_pid 2>/dev/null; stop_server; rm -rf "$work"' EXIT
cd "$work"
uptake=$build/uptake
device=$build/tests/test_device
akt=$here/../tools/akt_manifest.py

. "$here/../support/testlib.sh"
W=(--dir ws)
secret=alert-hmac-secret-0123456789
# alerts QUERY PYTHON-EXPRESSION: evaluate over the JSON list of alerts
alerts() {
  curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/alerts$1" >alerts.json
  /usr/bin/python3 -c "import json; a=json.load(open('alerts.json'))['alerts']; print($2)"
}
start_hook() { # FAIL [PORT]
  rm -f hook.port
  /usr/bin/python3 "$here/../tools/webhook.py" "$secret" "$1" hook.log hook.port "${2:-0}" &
  hook_pid=$!
  for _ in $(seq 50); do [ -s hook.port ] && break; sleep 0.1; done
}
stop_hook() { kill "$hook_pid" 2>/dev/null; wait "$hook_pid" 2>/dev/null; hook_pid=; }

start_hook 2
hook_port=$(cat hook.port)
server_extra_conf="alert_webhook = http://127.0.0.1:$hook_port/hook
alert_webhook_secret = $secret
silent_after = 4"
start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
q "$uptake" device add dev-1 "${W[@]}" --out dev1
D=(--dir dev --server "$url" --ca "$ca" --cert dev1.crt --key dev1.key)
q "$device" "${D[@]}" --root-director ws/metadata/director-root.json --root-image ws/metadata/root.json \
  --ecu prim-1:board-a --ecu sec-1:board-b init
q "$device" "${D[@]}" report

# --- evidence raises alerts; repeats fold
expect 1 "$device" "${D[@]}" replay
expect 1 "$device" "${D[@]}" replay
[ "$(alerts '?kind=manifest-refused' 'len(a)')" = 1 ] && ok || bad "replays not folded: $(cat alerts.json)"
[ "$(alerts '?kind=manifest-refused' 'a[0]["count"]')" = 2 ] && ok || bad "fold count: $(cat alerts.json)"
[ "$(alerts '?kind=manifest-refused' 'a[0]["evidence"].startswith("manifest sha256:")')" = True ] && ok ||
  bad "no evidence on the alert"
expect 0 "$device" "${D[@]}" forge-secondary
[ "$(alerts '?kind=report-refused' '[x["ecu"] for x in a]')" = "['sec-1']" ] && ok ||
  bad "forged ECU report: $(cat alerts.json)"
# a two-ECU device (aktualizr's form) whose manifest names only its primary
q "$uptake" device add dev-2 "${W[@]}" --out dev2
/usr/bin/python3 "$akt" init akt prim-2 prim-2:board-a:ed25519 sec-2:board-b:ed25519 >ecus.json
curl -sf --cacert "$ca" --cert dev2.crt --key dev2.key -H 'Content-Type: application/json' \
  --data-binary @ecus.json "$url/director/ecus" >/dev/null || bad "dev-2 registration"
/usr/bin/python3 "$akt" report akt prim-2 r.json --filepath none \
  --sha256 "$(printf '0%.0s' $(seq 64))" --length 0 --counter 1 &&
  /usr/bin/python3 "$akt" manifest akt m.json r.json || bad "akt manifest"
got=$(curl -s --cacert "$ca" --cert dev2.crt --key dev2.key -o /dev/null -w '%{http_code}' -X PUT \
  -H 'Content-Type: application/json' --data-binary @m.json "$url/director/manifest")
[ "$got" = 200 ] && ok || bad "dev-2 manifest: HTTP $got"
[ "$(alerts '?kind=ecu-missing' '[(x["device"], x["ecu"]) for x in a]')" = "[('dev-2', 'sec-2')]" ] && ok ||
  bad "missing ECU: $(cat alerts.json)"

# --- a device goes silent (silent_after = 4 s here)
for _ in $(seq 30); do
  [ "$(alerts '?kind=silent&open=1' 'sorted(x["device"] for x in a)')" = "['dev-1', 'dev-2']" ] && break
  sleep 0.5
done
[ "$(alerts '?kind=silent&open=1' 'sorted(x["device"] for x in a)')" = "['dev-1', 'dev-2']" ] && ok ||
  bad "silent devices: $(cat alerts.json)"
sleep 6
[ "$(alerts '?kind=silent&device=dev-1' '(len(a), a[0]["count"])')" = "(1, 1)" ] && ok ||
  bad "a silent device raised it again: $(cat alerts.json)"

# --- the CLI: list, filters, JSON lines, acknowledge
expect 0 "$uptake" alerts list "${W[@]}"
grep -q "manifest-refused .*dev-1" out.txt && ok || bad "table: $(cat out.txt)"
expect 0 "$uptake" alerts list "${W[@]}" --kind report-refused --json
[ "$(/usr/bin/python3 -c 'import json; print(len(json.load(open("out.txt"))["alerts"]))')" = 1 ] && ok ||
  bad "--kind --json: $(cat out.txt)"
expect 0 "$uptake" alerts list "${W[@]}" --jsonl
n=$(wc -l <out.txt)
/usr/bin/python3 -c '
import json, sys
rows = [json.loads(l) for l in open("out.txt")]
sys.exit(0 if rows and all({"id", "kind", "device", "first_seen", "last_seen", "count", "open"} <= set(r) for r in rows) else 1)' &&
  ok || bad "JSON lines export"
id=$(alerts '?kind=manifest-refused' 'a[0]["id"]')
expect 0 "$uptake" alerts ack "$id" "${W[@]}" --by alice
[ "$(alerts '?kind=manifest-refused' '(a[0]["open"], a[0]["acknowledged_by"])')" = "(False, 'alice')" ] && ok ||
  bad "ack: $(cat alerts.json)"
expect 3 "$uptake" alerts ack "$id" "${W[@]}"
grep -q "acknowledged already" err.txt && ok || bad "second ack not refused"
expect 3 "$uptake" alerts ack 99999 "${W[@]}"
expect 2 "$uptake" alerts ack x "${W[@]}"
[ "$(alerts '?open=1&kind=manifest-refused' 'len(a)')" = 0 ] && ok || bad "--open after ack"
# after an acknowledgement, the same evidence opens a new alert
expect 1 "$device" "${D[@]}" replay
[ "$(alerts '?kind=manifest-refused' '(len(a), a[0]["open"])')" = "(2, True)" ] && ok ||
  bad "a new alert after ack: $(cat alerts.json)"
got=$(curl -s --cacert "$ca" -H "Authorization: Bearer $token" -o /dev/null -w '%{http_code}' "$url/api/v1/alerts?since=x")
[ "$got" = 400 ] && ok || bad "bad since: $got"

# --- delivery: the receiver refused the first two, then took them
all=$(alerts '' 'len(a)')
for _ in $(seq 60); do [ "$(wc -l <hook.log 2>/dev/null || echo 0)" -ge "$all" ] && break; sleep 0.5; done
[ "$(wc -l <hook.log)" = "$all" ] && ok || bad "delivered $(wc -l <hook.log 2>/dev/null) of $all"
[ ! -e hook.log.bad ] && ok || bad "a delivery with a bad signature"
grep -q "did not take it (attempt 1)" server.log && ok || bad "the refused deliveries were not retried"
# the receiver is down while alerts are raised and the server restarts
stop_hook
expect 1 "$device" "${D[@]}" replay # folds: no new delivery
q "$uptake" device add dev-3 "${W[@]}" --out dev3
curl -s --cacert "$ca" --cert dev3.crt --key dev3.key -X PUT -H 'Content-Type: application/json' \
  --data-binary '{}' "$url/director/manifest" >/dev/null # refused: not registered
sleep 2
stop_server
start_server || exit 1
start_hook 0 "$hook_port" # back on the URL the server delivers to
for _ in $(seq 80); do [ "$(wc -l <hook.log)" -ge $((all + 1)) ] && break; sleep 0.5; done
/usr/bin/python3 -c '
import json, sys
rows = [json.loads(l) for l in open("hook.log")]
ids = [r["id"] for r in rows]
new = [r for r in rows if r["device"] == "dev-3"]
sys.exit(0 if len(ids) == len(set(ids)) and len(new) == 1 and new[0]["kind"] == "manifest-refused" else 1)' &&
  ok || bad "after the outage: $(tail -3 hook.log)"

finish
