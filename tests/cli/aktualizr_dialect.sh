#!/usr/bin/env bash
# Both repositories in the aktualizr dialect (what aktualizr devices read):
# uptake init --dialect aktualizr, publishing, the server's online
# signatures, key rotations; a libuptake device verifies and installs.
# The served metadata has capitalised _type, ED25519 key objects and
# base64 signatures with a method.
#   bash tests/cli/aktualizr_dialect.sh BUILD_DIR
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
has() { grep -q -- "$2" "$1" && ok || { bad "$1 lacks $2"; head -c 300 "$1"; echo; }; }

start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws --dialect aktualizr
has ws/metadata/root.json '"_type":"Root"'
has ws/metadata/root.json '"keytype":"ED25519"'
has ws/metadata/root.json '"method":"ed25519"'
has ws/metadata/director-root.json '"_type":"Root"'
{ echo fw1; head -c 50000 /dev/urandom; } >fw1.bin
q "$uptake" publish fw1.bin --dir ws --name fw --version 1.0 --hardware-id board-a
has ws/metadata/targets.json '"_type":"Targets"'
curl -s "$repo_url/repo/timestamp.json" >ts.json
has ts.json '"_type":"Timestamp"'
has ts.json '"method":"ed25519"'
curl -s "$repo_url/repo/snapshot.json" >snap.json
has snap.json '"_type":"Snapshot"'

q "$uptake" device add dev-1 --dir ws --out dev1
D=(--dir dev --server "$url" --ca "$ca" --cert dev1.crt --key dev1.key)
q "$device" "${D[@]}" --root-director ws/metadata/director-root.json --root-image ws/metadata/root.json \
  --ecu prim:board-a init
q "$uptake" assign fw-1.0 --dir ws --ecu prim --device dev-1
curl -s --cacert "$ca" --cert dev1.crt --key dev1.key "$url/director/targets.json" >dt.json
has dt.json '"_type":"Targets"'
has dt.json '"ecuIdentifiers":{"prim":{"hardwareId":"board-a"}}'
has dt.json '"method":"ed25519"'
q "$device" "${D[@]}" update
has out.txt "installed fw-1.0 on prim"
q "$device" "${D[@]}" report

# rotations keep the dialect, and the device follows them
q "$uptake" key rotate root --dir ws
q "$uptake" key rotate targets --dir ws
q "$uptake" key rotate online --dir ws
q "$uptake" key rotate online --director --dir ws
q "$uptake" key rotate root --director --dir ws
has ws/metadata/root.json '"_type":"Root"'
{ echo fw2; head -c 50000 /dev/urandom; } >fw2.bin
q "$uptake" publish fw2.bin --dir ws --name fw --version 2.0 --hardware-id board-a
q "$uptake" assign fw-2.0 --dir ws --ecu prim --device dev-1
q "$device" "${D[@]}" update
has out.txt "installed fw-2.0 on prim"
cmp -s dev/image/root.json ws/metadata/root.json && ok || bad "device did not follow the rotations"
"$uptake" device show dev-1 --dir ws >show.json
has show.json '"fw-1.0"'

# a restarted server keeps signing (in the dialect of the stored roots)
stop_server
rm -f "$work/port"
start_server || exit 1
sed -i "s|\"server\":\"[^\"]*\"|\"server\":\"$url\"|" ws/uptake-workspace.json
D=(--dir dev --server "$url" --ca "$ca" --cert dev1.crt --key dev1.key)
{ echo fw3; head -c 50000 /dev/urandom; } >fw3.bin
q "$uptake" publish fw3.bin --dir ws --name fw --version 3.0 --hardware-id board-a
q "$uptake" assign fw-3.0 --dir ws --ecu prim --device dev-1
q "$device" "${D[@]}" update
has out.txt "installed fw-3.0 on prim"
curl -s "$repo_url/repo/timestamp.json" >ts2.json
has ts2.json '"_type":"Timestamp"'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "--- server log"; tail -20 "$work/server.log"; false; }
