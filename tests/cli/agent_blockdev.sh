#!/usr/bin/env bash
# uptake-agent with A/B slots on block devices (loop devices over files;
# needs root, as installing packages does): the verified image is copied to
# the start of the inactive slot, read back and checked, then booted and
# proven like on file slots.
#   bash tests/cli/agent_blockdev.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
loops=()
cleanup() {
  stop_server
  for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
uptake=$build/uptake
agent=$build/uptake-agent

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
q() { "$@" >/dev/null 2>err.txt || { echo "setup failed: $*"; cat err.txt; exit 1; }; }
cycle() {
  local rc
  for _ in 1 2 3 4 5 6; do
    rc=0
    "$agent" --config agent.conf once >>agent.log 2>&1 || rc=$?
    [ "$rc" -eq 3 ] || return "$rc"
    "$agent" --config agent.conf boot >>agent.log 2>&1
  done
  return 9
}

for s in a b; do
  truncate -s 4M "disk-$s.img"
  l=$(losetup -f --show "disk-$s.img") || { echo "losetup failed: this test needs root"; exit 1; }
  loops+=("$l")
done
start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
q "$uptake" device add dev --dir ws --out dev
cat >agent.conf <<CONF
server = $url
ca = $ca
cert = $work/dev.crt
key = $work/dev.key
state_dir = $work/state
director_root = $work/ws/metadata/director-root.json
image_root = $work/ws/metadata/root.json
primary_serial = main
hardware_id = board-a
slot_a = ${loops[0]}
slot_b = ${loops[1]}
CONF
cycle && ok || { bad "first cycle"; tail -3 agent.log; }
for v in 1 2; do
  { echo "image $v"; head -c 1000000 /dev/urandom; } >"v$v.bin"
  q "$uptake" publish "v$v.bin" --dir ws --name fw --version "$v" --hardware-id board-a
  q "$uptake" assign "fw-$v" --dir ws --ecu main --device dev
  cycle && ok || { bad "v$v cycle"; tail -5 agent.log; }
done
size=$(stat -c %s v1.bin)
cmp -n "$size" "${loops[1]}" v1.bin && ok || bad "slot b does not start with v1"
size=$(stat -c %s v2.bin)
cmp -n "$size" "${loops[0]}" v2.bin && ok || bad "slot a does not start with v2"
[ "$(stat -c %s disk-a.img)" = 4194304 ] && ok || bad "the device was resized"
"$uptake" device show dev --dir ws | grep -q '"name":"fw-2"' && ok || bad "the server does not see fw-2"
[ ! -e state/download.img ] && [ ! -e state/download.part ] && ok || bad "download left behind"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "--- agent log"; tail -20 agent.log; false; }
