#!/usr/bin/env bash
# The Director end to end on loopback, over mutual TLS: a release engineer
# publishes images (uptake init, uptake publish), sets up the Director's
# root, adds a device (certificate from the server's CA) and assigns
# images; a test device built on libuptake registers its ECUs, runs Uptane
# full verification, installs, and sends signed manifests that become the
# server's inventory. Replayed and forged manifests are refused and
# recorded as alerts; nothing about the device changes.
#   bash tests/cli/director.sh BUILD_DIR
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
expect() {
  local want=$1 rc=0
  shift
  "$@" >out.txt 2>err.txt || rc=$?
  if [ "$rc" -eq "$want" ]; then ok; else
    bad "exit $rc, expected $want: $*"
    sed 's/^/  | /' out.txt err.txt | tail -6
  fi
}
# api STATUS METHOD PATH [BODY]: admin API call, body as JSON
api() {
  local want=$1 method=$2 path=$3 got
  shift 3
  got=$(curl -s --cacert "$ca" -o body.txt -w '%{http_code}' -X "$method" \
    -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    ${1:+--data-binary "$1"} "$url/api/v1/$path")
  if [ "$got" = "$want" ]; then ok; else
    bad "$method $path: HTTP $got, expected $want"
    head -c 300 body.txt | sed 's/^/  | /'
    echo
  fi
}
jget() { /usr/bin/python3 -c "import json,sys; d=json.load(open('body.txt')); print($1)"; }

start_server || exit 1
printf '%s\n' "$token" >token
q() { "$@" >/dev/null 2>err.txt || { echo "setup failed: $*"; cat err.txt; exit 1; }; }

# --- the Image repository, with images for two kinds of hardware
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
head -c 100000 /dev/urandom >fw1.bin
head -c 110000 /dev/urandom >fw2.bin
head -c 50000 /dev/urandom >app1.bin
q "$uptake" publish fw1.bin --dir ws --name fw --version 1.0 --hardware-id board-a --release-counter 1
q "$uptake" publish app1.bin --dir ws --name app --version 1.0 --hardware-id board-b

# --- the Director's root came with uptake init; a root that does not list
# the server's online targets key is refused
[ -f ws/metadata/director-root.json ] && ok || bad "uptake init made no Director root"
api 200 GET director/online-keys
/usr/bin/python3 -c '
import json
k = json.load(open("body.txt"))
for r in ("targets", "snapshot", "timestamp"):
    json.dump(k[r], open("dir-%s.pub.json" % r, "w"))
'
q "$uptake" key generate --out other
q "$uptake" metadata root --root-key other.pub.json --targets-key other.pub.json \
  --snapshot-key dir-snapshot.pub.json --timestamp-key dir-timestamp.pub.json \
  --version 2 --out bad-root.unsigned.json
q "$uptake" sign --key other.pem --key ws/keys/director-root-1.pem --out bad-root.json \
  bad-root.unsigned.json
api 400 PUT director/root "$(cat bad-root.json)"
grep -q "online targets key" body.txt && ok || bad "no reason for a Director root without the online key"

# --- devices: certificates from the server's CA
expect 0 "$uptake" device add dev-1 --dir ws --out dev1
[ "$(stat -c %a dev1.key)" = 600 ] && ok || bad "device key not 0600"
expect 3 "$uptake" device add dev-1 --dir ws --out dev1b # exists
grep -q "409" err.txt && ok || bad "duplicate device not refused with 409"
api 400 POST devices '{"id":"bad/id"}'
api 400 POST devices '{"signed":'
expect 0 "$uptake" device add dev-2 --dir ws --out dev2
expect 2 "$uptake" device add
mv dev1.crt dev1.pem
mv dev2.crt dev2.pem
D=(--dir dev --server "$url" --ca "$ca" --cert dev1.pem --key dev1.key)
D2=(--dir dev2 --server "$url" --ca "$ca" --cert dev2.pem --key dev2.key)

got=$(curl -s --cacert "$ca" -o /dev/null -w '%{http_code}' "$url/director/targets.json")
[ "$got" = 401 ] && ok || bad "Director without a client certificate: HTTP $got"

expect 0 "$device" "${D[@]}" --root-director ws/metadata/director-root.json --root-image ws/metadata/root.json \
  --ecu prim-1:board-a --ecu sec-1:board-b init
expect 0 "$device" "${D2[@]}" --root-director ws/metadata/director-root.json --root-image ws/metadata/root.json \
  --ecu prim-2:board-a init

# --- nothing assigned: verification passes, nothing installed
expect 0 "$device" "${D[@]}" update
grep -q "installed" out.txt && bad "installed without an assignment" || ok

# --- assignments: by hardware id, by ECU; refusals
expect 0 "$uptake" assign fw-1.0 --dir ws --hardware-id board-a --device dev-1 --device dev-2
grep -q '"assigned":2' out.txt && ok || bad "fw-1.0 not assigned to two ECUs"
expect 0 "$uptake" assign app-1.0 --dir ws --ecu sec-1 --device dev-1
expect 2 "$uptake" assign app-1.0 --dir ws --ecu sec-1 --hardware-id board-b --device dev-1
api 400 POST assign '{"target":"fw-1.0","ecu":"sec-1","devices":["dev-1"]}'
grep -q "UPT_ERR_HARDWARE_ID" body.txt && ok || bad "wrong hardware not refused by name"
api 404 POST assign '{"target":"nothing-1.0","hardware_id":"board-a","devices":["dev-1"]}'
api 404 POST assign '{"target":"fw-1.0","hardware_id":"board-a","devices":["dev-1","ghost"]}'
api 400 POST assign '{"target":"fw-1.0","devices":["dev-1"]}'

# --- the device updates: Uptane full verification, verified downloads
expect 0 "$device" "${D[@]}" update
grep -q "installed fw-1.0 on prim-1" out.txt && ok || bad "fw-1.0 not installed on prim-1"
grep -q "installed app-1.0 on sec-1" out.txt && ok || bad "app-1.0 not installed on sec-1"
cmp -s dev/image-prim-1 fw1.bin && cmp -s dev/image-sec-1 app1.bin && ok || bad "images differ"
# dev-2 sees its own Director metadata only
curl -s --cacert "$ca" --cert dev2.pem --key dev2.key "$url/director/targets.json" >t2.json
grep -q "prim-2" t2.json && ! grep -q "sec-1" t2.json && ok || bad "dev-2 saw another device's metadata"

# --- signed manifests become the inventory
expect 0 "$device" "${D[@]}" report
api 200 GET devices/dev-1
[ "$(jget '[e["installed"]["name"] for e in d["ecus"]]')" = "['fw-1.0', 'app-1.0']" ] && ok ||
  bad "inventory: $(jget 'd["ecus"]')"
[ "$(jget 'all(a["installed"] for a in d["assignments"])')" = True ] && ok || bad "assignments not shown installed"
cp body.txt inventory.before
expect 1 "$device" "${D[@]}" replay
grep -q "UPT_ERR_ROLLBACK" err.txt && ok || bad "replayed manifest not refused as a replay"
expect 1 "$device" "${D[@]}" forge
grep -q "UPT_ERR_THRESHOLD" err.txt && ok || bad "forged primary report not refused for its signature"
api 200 GET devices/dev-1
[ "$(jget 'd["alerts"]')" = 2 ] && ok || bad "refusals not recorded as alerts: $(jget 'd["alerts"]')"
/usr/bin/python3 -c '
import json, sys
a, b = json.load(open("inventory.before")), json.load(open("body.txt"))
a.pop("alerts"); b.pop("alerts")
sys.exit(a != b)' && ok || bad "a refused manifest changed the inventory"
# a forged secondary report next to a valid primary report: the manifest is
# accepted, that report alone refused (its own alert, its ECU unchanged)
expect 0 "$device" "${D[@]}" forge-secondary
api 200 GET devices/dev-1
[ "$(jget 'd["alerts"]')" = 3 ] && ok || bad "forged secondary report raised no alert"
/usr/bin/python3 -c '
import json, sys
a, b = json.load(open("inventory.before")), json.load(open("body.txt"))
sa, sb = a["ecus"][1], b["ecus"][1]
pa, pb = a["ecus"][0], b["ecus"][0]
sys.exit(not (sa == sb and pb["report_counter"] > pa["report_counter"]))' && ok ||
  bad "a forged secondary report changed its ECU, or the primary report was dropped"
got=$(curl -s --cacert "$ca" --cert dev1.pem --key dev1.key -o body.txt -w '%{http_code}' \
  -X PUT -H "Content-Type: application/json" --data-binary '{"signed":' "$url/director/manifest")
[ "$got" = 400 ] && ok || bad "malformed manifest: HTTP $got"
got=$(curl -s --cacert "$ca" --cert dev1.pem --key dev1.key -o body.txt -w '%{http_code}' \
  -X PUT -H "Content-Type: text/plain" --data-binary '{}' "$url/director/manifest")
[ "$got" = 415 ] && ok || bad "manifest with a wrong content type: HTTP $got"

# --- a new release reaches the device
q "$uptake" publish fw2.bin --dir ws --name fw --version 2.0 --hardware-id board-a --release-counter 2
expect 0 "$uptake" assign fw-2.0 --dir ws --ecu prim-1 --device dev-1
expect 0 "$device" "${D[@]}" update
grep -q "installed fw-2.0 on prim-1" out.txt && ok || bad "fw-2.0 not installed"
grep -q "app-1.0" out.txt && bad "app-1.0 installed again" || ok
expect 0 "$device" "${D[@]}" report
api 200 GET devices/dev-1
[ "$(jget '[e["installed"]["name"] for e in d["ecus"]]')" = "['fw-2.0', 'app-1.0']" ] && ok ||
  bad "inventory after fw-2.0: $(jget 'd["ecus"]')"
expect 0 "$uptake" device list --dir ws
cp out.txt body.txt
[ "$(jget 'len(d["devices"])')" = 2 ] && ok || bad "device list"
expect 0 "$uptake" device show dev-1 --dir ws
grep -q '"fw-2.0"' out.txt && ok || bad "device show"
expect 3 "$uptake" device show ghost --dir ws

# --- what aktualizr reports besides manifests is accepted and kept
dev_call() { # STATUS METHOD PATH TYPE BODY [CERT KEY]
  local got
  got=$(curl -s --cacert "$ca" --cert "${6:-dev1.pem}" --key "${7:-dev1.key}" -o body.txt \
    -w '%{http_code}' -X "$2" -H "Content-Type: $4" --data-binary "$5" "$url$3")
  [ "$got" = "$1" ] && ok || { bad "$2 $3: HTTP $got, expected $1"; head -c 200 body.txt; echo; }
}
dev_call 200 PUT /core/installed application/json '[{"name":"busybox","version":"1.36"}]'
dev_call 200 PUT /system_info application/json '{"product":"board-a","memory":"512M"}'
dev_call 200 PUT /system_info/network application/json '{"hostname":"dev-1"}'
dev_call 200 POST /system_info/config application/toml '[uptane]
polling_sec = 10'
dev_call 200 POST /events application/json '[{"eventType":{"id":"DownloadComplete"}}]'
dev_call 400 POST /events application/json '[{"eventType":'
dev_call 405 GET /events application/json ''

# --- shared-credential provisioning (aktualizr's POST /devices)
api 200 POST fleet-credentials '{"name":"factory"}'
jget 'd["certificate"]' >fleet.pem
jget 'd["key"]' >fleet.key
dev_call 200 POST /devices application/json '{"deviceId":"dev-3","ttl":36000}' fleet.pem fleet.key
cp body.txt dev3.p12
openssl pkcs12 -in dev3.p12 -passin pass: -nokeys -clcerts -out dev3.pem 2>/dev/null &&
  openssl pkcs12 -in dev3.p12 -passin pass: -nocerts -nodes -out dev3.key 2>/dev/null && ok ||
  bad "provisioning answer is not a PKCS#12 bundle"
grep -q "CN *= *dev-3" <(openssl x509 -in dev3.pem -noout -subject 2>/dev/null) && ok ||
  bad "provisioned certificate is not for dev-3"
dev_call 409 POST /devices application/json '{"deviceId":"dev-3"}' fleet.pem fleet.key
dev_call 403 POST /devices application/json '{"deviceId":"dev-4"}' dev1.pem dev1.key
got=$(curl -s --cacert "$ca" --cert fleet.pem --key fleet.key -o /dev/null -w '%{http_code}' \
  "$url/director/targets.json")
[ "$got" = 403 ] && ok || bad "a fleet credential reached a device's metadata: HTTP $got"
got=$(curl -s --cacert "$ca" --cert dev3.pem --key dev3.key -o /dev/null -w '%{http_code}' \
  "$url/director/targets.json")
[ "$got" = 200 ] && ok || bad "the provisioned device cannot reach its metadata: HTTP $got"
api 400 POST devices '{"id":"fleet:x"}'

# --- key rotation: the device follows the Image repository's new root
expect 0 "$uptake" key rotate root --dir ws
[ -f ws/keys/retired/root-v1-1.pem ] && ok || bad "old root key not retired"
expect 0 "$uptake" key rotate targets --dir ws
expect 0 "$uptake" verify --root ws/metadata/root.json ws/metadata/targets.json
q "$uptake" publish fw1.bin --dir ws --name fw --version 1.1 --hardware-id board-a --release-counter 3
expect 0 "$uptake" assign fw-1.1 --dir ws --ecu prim-1 --device dev-1
expect 0 "$device" "${D[@]}" update
grep -q "installed fw-1.1 on prim-1" out.txt && ok || bad "no update after key rotations"
cmp -s dev/image/root.json ws/metadata/root.json && ok || bad "device did not follow the root rotation"

# --- online keys rotate too (server makes them, the offline root lists them)
expect 0 "$uptake" key rotate online --dir ws
expect 0 "$uptake" key rotate online --director --dir ws
expect 0 "$uptake" key rotate root --director --dir ws
expect 2 "$uptake" key rotate targets --director --dir ws
expect 0 "$uptake" verify --root ws/metadata/director-root.json ws/metadata/director-root.json
head -c 90000 /dev/urandom >fw12.bin
q "$uptake" publish fw12.bin --dir ws --name fw --version 1.2 --hardware-id board-a --release-counter 4
expect 0 "$uptake" assign fw-1.2 --dir ws --ecu prim-1 --device dev-1
expect 0 "$device" "${D[@]}" update
grep -q "installed fw-1.2 on prim-1" out.txt && ok || { bad "no update after the online key rotations"; cat out.txt err.txt; }
cmp -s dev/director/root.json ws/metadata/director-root.json && ok ||
  bad "device did not follow the Director's root rotation"
expect 0 "$device" "${D2[@]}" update
# a root that lists neither the current nor the rotated online keys is refused
api 200 POST repo/online-keys/rotate
expect 3 "$uptake" key rotate root --dir ws --expires 2020-01-01T00:00:00Z
grep -q "expired" err.txt && ok || bad "an expired root was not refused by name"

# --- a restarted server picks up where it was
stop_server
rm -f "$work/port"
start_server || exit 1
sed -i "s|\"server\":\"[^\"]*\"|\"server\":\"$url\"|" ws/uptake-workspace.json
D=(--dir dev --server "$url" --ca "$ca" --cert dev1.pem --key dev1.key)
head -c 70000 /dev/urandom >fw13.bin
q "$uptake" publish fw13.bin --dir ws --name fw --version 1.3 --hardware-id board-a --release-counter 5
expect 0 "$uptake" assign fw-1.3 --dir ws --ecu prim-1 --device dev-1
expect 0 "$device" "${D[@]}" update
grep -q "installed fw-1.3 on prim-1" out.txt && ok || bad "no update after a server restart"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "--- server log"; tail -40 "$work/server.log"; false; }
