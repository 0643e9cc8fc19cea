#!/usr/bin/env bash
# A reply lost after the server accepted an upload must not wedge the
# workspace: uptake publish and uptake key rotate reconcile with a real
# uptake-server on loopback (adopt what the server holds when this
# workspace's keys signed it, say so on stderr) and refuse a server whose
# metadata the workspace's keys did not sign. The lost reply is made two
# ways: the workspace put back as it was before an upload the server took,
# and a real kill -9 of the CLI while the server's 200 is held back by a
# TLS relay (tests/tools/holdproxy.py).
#   bash tests/cli/publish_reconcile.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
top=$(mktemp -d)
work=$top/a
mkdir -p "$work"
. "$here/../support/serverlib.sh"
proxy_pid=
other_pid=
cleanup() {
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
  [ -n "$other_pid" ] && kill "$other_pid" 2>/dev/null && wait "$other_pid" 2>/dev/null
  stop_server
  rm -rf "$top"
}
trap cleanup EXIT
cd "$top"
uptake=$build/uptake
client=$build/uptake-tuf-client
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
    sed 's/^/  | /' out.txt err.txt | tail -8
  fi
}
q() { "$@" >/dev/null 2>q.err || { echo "setup failed: $*"; cat q.err; exit 1; }; }
jver() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["signed"]["version"])' "$1"; }
server_ver() { curl -sf --cacert "$ca" "$url/repo/$1" >sv.json && jver sv.json; }
set_server() { # WORKSPACE URL
  /usr/bin/python3 -c '
import json, sys
p = sys.argv[1] + "/uptake-workspace.json"
w = json.load(open(p))
w["server"] = sys.argv[2]
json.dump(w, open(p, "w"))' "$1" "$2"
}
fetch() { # NAME FILE: a device-side TUF client refreshes and downloads NAME
  "$client" --metadata-dir meta --metadata-url "$repo_url/repo" --target-name "$1" \
    --target-base-url "$repo_url/repo/targets" --target-dir dl download >fetch.out 2>&1 &&
    cmp -s "dl/$1" "$2"
}
# lose_reply PATTERN CMD...: run CMD through the relay, kill -9 it once the
# server has answered 2xx to the request PATTERN (its reply held back)
lose_reply() {
  local pattern=$1 pid i
  shift
  rm -f held proxy.port
  /usr/bin/python3 "$here/../tools/holdproxy.py" "$(sed -n 1p "$work/port")" "$ca" \
    "$work/data/tls/server.pem" "$work/data/tls/server.key" "$pattern" held proxy.port &
  proxy_pid=$!
  for i in $(seq 100); do [ -s proxy.port ] && break; sleep 0.1; done
  set_server ws "https://127.0.0.1:$(cat proxy.port)"
  "$@" >lost.out 2>lost.err &
  pid=$!
  for i in $(seq 600); do [ -s held ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if [ -s held ]; then ok; else bad "the server never answered $pattern"; cat lost.err; fi
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  kill "$proxy_pid" 2>/dev/null
  wait "$proxy_pid" 2>/dev/null
  proxy_pid=
  set_server ws "$url"
}

start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
cp ws/metadata/director-root.json director-root-v1.json
for v in 1 2 3 4 5 6 7 8; do head -c $((50000 + v * 1000)) /dev/urandom >fw$v.bin; done
P() { "$uptake" publish "fw$1.bin" --dir ws --name fw --version "$1.0" --hardware-id board-a; }
q P 1
[ "$(jver ws/metadata/targets.json)" = 2 ] && ok || bad "targets not at version 2"

# --- 1. the state a kill between the server's 200 and the workspace's write
# leaves: the workspace as it was before an upload the server took
cp -a ws ws.before
q P 2
rm -rf ws
mv ws.before ws
[ "$(server_ver targets.json)" = 3 ] && [ "$(jver ws/metadata/targets.json)" = 2 ] && ok ||
  bad "setup: server and workspace should disagree"
expect 0 P 3
grep -q "reconciled: the server holds targets version 3 (this workspace had 2)" err.txt && ok ||
  bad "publish did not say it reconciled"
[ "$(jver ws/metadata/targets.json)" = 4 ] && [ "$(server_ver targets.json)" = 4 ] && ok ||
  bad "not continued from the server's targets"
for v in 1 2 3; do grep -q "\"fw-$v.0\"" ws/metadata/targets.json && ok || bad "fw-$v.0 lost"; done
q "$client" --metadata-dir meta init ws/metadata/root.json
fetch fw-3.0 fw3.bin && ok || { bad "a client does not get fw-3.0"; cat fetch.out; }
fetch fw-2.0 fw2.bin && ok || { bad "a client does not get fw-2.0"; cat fetch.out; }
expect 0 P 3 # nothing to reconcile: no message
grep -q "reconciled" err.txt && bad "reconciled with nothing to reconcile" || ok

# --- 2. a real kill -9 of uptake publish after the server's 200
lose_reply "PUT /api/v1/repo/metadata/targets" P 4
[ "$(server_ver targets.json)" = 6 ] && [ "$(jver ws/metadata/targets.json)" = 5 ] && ok ||
  bad "the kill did not leave the server ahead of the workspace"
[ -f ws/metadata/pending/targets.json ] && ok || bad "no pending upload after the kill"
expect 0 P 5
grep -q "reconciled: the server holds targets version 6 (this workspace had 5), signed by this workspace's targets key and identical to the upload whose reply was lost" err.txt &&
  ok || bad "publish after a kill did not reconcile with the pending upload"
[ -e ws/metadata/pending/targets.json ] && bad "pending upload left behind" || ok
fetch fw-4.0 fw4.bin && ok || { bad "a client does not get fw-4.0"; cat fetch.out; }
fetch fw-5.0 fw5.bin && ok || { bad "a client does not get fw-5.0"; cat fetch.out; }

# --- 3. a targets rotation killed once the server took the root listing the
# new key: the next publish puts the key in place and signs with it
old_targets=$(sha256sum ws/keys/targets.pem)
lose_reply "PUT /api/v1/repo/root" "$uptake" key rotate targets --dir ws
[ "$(server_ver root.json)" = 2 ] && [ "$(jver ws/metadata/root.json)" = 1 ] && ok ||
  bad "the kill did not leave the server's root ahead"
[ -f ws/keys/new-root-1.pem ] && ok || bad "the new targets key is gone after the kill"
expect 0 P 6
grep -q "reconciled: the server holds Image repository root version 2" err.txt && ok ||
  bad "root not reconciled"
grep -q "targets keys listed by Image repository root version 2 are in place" err.txt && ok ||
  bad "new targets key not put in place"
grep -q "signed by the retired targets key; signed it again" err.txt && ok ||
  bad "targets of the interrupted rotation not signed again"
[ "$(sha256sum ws/keys/targets.pem)" != "$old_targets" ] && [ -f ws/keys/retired/targets-v1.pem ] &&
  ok || bad "keys not rotated in the workspace"
fetch fw-6.0 fw6.bin && ok || { bad "a client does not get fw-6.0 after the rotation"; cat fetch.out; }

# --- 4. a root rotation killed the same way, then rotated again: the keys the
# server's root lists are never overwritten
lose_reply "PUT /api/v1/repo/root" "$uptake" key rotate root --dir ws
[ "$(server_ver root.json)" = 3 ] && [ -f ws/keys/new-root-1.pem ] && ok || bad "root rotation kill"
new_root=$(sha256sum <ws/keys/new-root-1.pem)
expect 0 "$uptake" key rotate root --dir ws
grep -q "reconciled: the server holds Image repository root version 3" err.txt && ok ||
  bad "root rotation not reconciled"
[ -f ws/keys/retired/root-v3-1.pem ] && [ "$(sha256sum <ws/keys/retired/root-v3-1.pem)" = "$new_root" ] &&
  ok || bad "the key root version 3 lists was not kept"
[ "$(jver ws/metadata/root.json)" = 4 ] && [ "$(server_ver root.json)" = 4 ] && ok ||
  bad "second root rotation not at version 4"
expect 0 P 7
fetch fw-7.0 fw7.bin && ok || { bad "a client does not follow the root chain"; cat fetch.out; }

# --- 5. a Director root rotation killed after the server's 200: the admin API
# cannot read the Director's root, so the pending copy is sent again
lose_reply "PUT /api/v1/director/root" "$uptake" key rotate root --dir ws --director
[ -f ws/metadata/pending/director-root.json ] && [ -f ws/keys/new-director-root-1.pem ] && ok ||
  bad "Director rotation kill left no pending root"
expect 0 "$uptake" key rotate online --dir ws --director
grep -q "reconciled: the server holds Director root version 2" err.txt && ok ||
  bad "Director root not reconciled"
[ "$(jver ws/metadata/director-root.json)" = 3 ] && ok || bad "Director root not at version 3"
[ -f ws/keys/retired/director-root-v1-1.pem ] && ok || bad "Director root keys not rotated"
# a device provisioned with the first Director root follows the chain
q "$uptake" device add dev-1 --dir ws --out dev1
D=(--dir dev --server "$url" --ca "$ca" --cert dev1.crt --key dev1.key)
q "$device" "${D[@]}" --root-director director-root-v1.json --root-image ws/metadata/root.json \
  --ecu prim-1:board-a init
q "$uptake" assign fw-7.0 --dir ws --ecu prim-1 --device dev-1
expect 0 "$device" "${D[@]}" update
grep -q "installed fw-7.0 on prim-1" out.txt && ok || bad "device did not verify the Director chain"

# --- 6. a server whose metadata this workspace's keys did not sign is refused,
# and nothing changes
a_url=$url a_ca=$ca a_pid=$server_pid a_work=$work
work=$top/b
mkdir -p "$work"
start_server || exit 1
b_url=$url b_ca=$ca other_pid=$server_pid
url=$a_url ca=$a_ca server_pid=$a_pid work=$a_work
q "$uptake" init --server "$b_url" --token-file token --ca-file "$b_ca" --dir wsb
q "$uptake" publish fw8.bin --dir wsb --name fw --version 8.0 --hardware-id board-a
# this workspace (at root version 4 on server A), pointed at server B
mkdir -p wsf
cp -a ws/. wsf/
/usr/bin/python3 -c '
import json, sys
p = "wsf/uptake-workspace.json"
w = json.load(open(p))
w["server"], w["ca_file"] = sys.argv[1], sys.argv[2]
json.dump(w, open(p, "w"))' "$b_url" "$b_ca"
Pf() { "$uptake" publish fw8.bin --dir wsf --name fw --version 8.0 --hardware-id board-a; }
b_state() { curl -sf --cacert "$b_ca" "$b_url/repo/targets.json" | sha256sum; }
# B's root of the same version, not this workspace's
for i in 1 2 3; do q "$uptake" key rotate online --dir wsb; done
cp -a wsf wsf.before
b_targets=$(b_state)
expect 1 Pf
grep -q "the server's Image repository root version 4 is not this workspace's" err.txt && ok ||
  bad "a foreign root of the same version not refused by name"
diff -r wsf wsf.before >/dev/null && ok || bad "the workspace changed after a refusal"
# B's newer root, not signed by this workspace's root keys
q "$uptake" key rotate online --dir wsb
expect 1 Pf
grep -q "the server's Image repository root version 5 is not signed by this workspace's root keys" err.txt &&
  ok || bad "a foreign root chain not refused by name"
diff -r wsf wsf.before >/dev/null && ok || bad "the workspace changed after a refusal"
[ "$(b_state)" = "$b_targets" ] && ok || bad "server B changed"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "--- server log"; tail -30 "$work/server.log"; false; }
