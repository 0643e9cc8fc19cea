#!/usr/bin/env bash
# uptake-agent where it needs root (as installing packages does): A/B slots
# on block devices (loop devices over files): the verified image is copied
# to the start of the inactive slot, read back and checked, then booted and
# proven like on file slots. And a full disk (a small tmpfs): a clear error,
# nothing half-installed, the running slot untouched, installed once there
# is room.
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

# --- a full disk: the slots live on a 1.5 MB file system and the next image
# does not fit. A clear error, the running slot untouched, nothing left
# half-written; once there is room, the next cycle installs it.
mkdir -p small
mount -t tmpfs -o size=1536k tmpfs small || { bad "cannot mount a small file system (needs root)"; }
mounted=small
trap 'umount "$work/$mounted" 2>/dev/null; cleanup' EXIT
sed -e "s|^slot_a = .*|slot_a = $work/small/a.img|" -e "s|^slot_b = .*|slot_b = $work/small/b.img|" \
  -e "s|^state_dir = .*|state_dir = $work/state2|" -e "s|^primary_serial = .*|primary_serial = main2|" \
  agent.conf >small.conf
q "$uptake" device add dev2 --dir ws --out dev2
sed -i -e "s|dev.crt|dev2.crt|" -e "s|dev.key|dev2.key|" small.conf
rc=0
"$agent" --config small.conf once >>agent.log 2>&1 || rc=$?
[ "$rc" -eq 0 ] && ok || bad "small device: first cycle exit $rc"
q "$uptake" assign fw-1 --dir ws --ecu main2 --device dev2
rc=0
"$agent" --config small.conf once >>agent.log 2>&1 || rc=$?
[ "$rc" -eq 3 ] && ok || bad "v1 on the small device: exit $rc"
"$agent" --config small.conf boot >>agent.log 2>&1
"$agent" --config small.conf once >>agent.log 2>&1
cp small/b.img b.before
{ echo "image big"; head -c 1200000 /dev/urandom; } >big.bin
q "$uptake" publish big.bin --dir ws --name fw --version big --hardware-id board-a
q "$uptake" assign fw-big --dir ws --ecu main2 --device dev2
rc=0
"$agent" --config small.conf once >>agent.log 2>&1 || rc=$?
[ "$rc" -eq 1 ] && ok || bad "full disk: exit $rc"
tail -3 agent.log | grep -qi "no space\|write failed\|interrupted" && ok || { bad "full disk: no clear error"; tail -3 agent.log; }
cmp -s small/b.img b.before && ok || bad "the running slot changed on a full disk"
grep -q "upgrade_available=0" state2/bootenv && grep -q "active=b" state2/bootenv && ok ||
  bad "the boot environment changed on a full disk"
[ ! -e small/a.img ] && ok || bad "an unverified image is in slot a after the full disk"
umount small && mount -t tmpfs -o size=8m tmpfs small && cp b.before small/b.img
cycle_small() {
  local rc
  for _ in 1 2 3 4; do
    rc=0
    "$agent" --config small.conf once >>agent.log 2>&1 || rc=$?
    [ "$rc" -eq 3 ] || return "$rc"
    "$agent" --config small.conf boot >>agent.log 2>&1
  done
}
cycle_small && ok || bad "no install once there was room"
cmp -s small/a.img big.bin && ok || bad "the big image did not arrive after the disk was freed"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "--- agent log"; tail -20 agent.log; false; }
