#!/usr/bin/env bash
# Power loss: the agent is killed (SIGKILL) at 50 points spread across a
# cycle (verification, download, write, boot switch, report, and the health
# check on the new slot), then the device "powers on" (the simulated
# bootloader) and the agent runs again. Each time the device must boot a
# good slot (its image matches what the agent recorded for it), the next
# cycles must complete (so the trusted metadata is intact: it is verified
# again), and the server must end up seeing the assigned image running.
#   bash tests/cli/power_loss.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
trap 'stop_server; rm -rf "$work"' EXIT
cd "$work"
uptake=$build/uptake
agent=$build/uptake-agent
POINTS=${POWER_LOSS_POINTS:-50}

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
q() { "$@" >/dev/null 2>err.txt || { echo "setup failed: $*"; cat err.txt; exit 1; }; }
cycle() {
  local rc
  for _ in 1 2 3 4 5 6 7 8; do
    rc=0
    "$agent" --config dev/agent.conf once >>agent.log 2>&1 || rc=$?
    [ "$rc" -eq 3 ] || return "$rc"
    "$agent" --config dev/agent.conf boot >>agent.log 2>&1
  done
  return 9
}

start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
mkdir -p dev/health.d
printf '#!/bin/sh\nsleep 0.1\n' >dev/health.d/slow-check
chmod +x dev/health.d/slow-check
q "$uptake" device add dev --dir ws --out dev/cert
cat >dev/agent.conf <<CONF
server = $url
ca = $ca
cert = $work/dev/cert.crt
key = $work/dev/cert.key
state_dir = $work/dev/state
director_root = $work/ws/metadata/director-root.json
image_root = $work/ws/metadata/root.json
primary_serial = main
hardware_id = board-a
slot_a = $work/dev/a.img
slot_b = $work/dev/b.img
health_dir = $work/dev/health.d
max_download_rate = 2000000
CONF
cycle || { echo "first cycle failed"; tail agent.log; exit 1; }
for v in x y; do
  { echo "image $v"; head -c 600000 /dev/urandom; } >"$v.bin"
  q "$uptake" publish "$v.bin" --dir ws --name fw --version "$v" --hardware-id board-a
done

for i in $(seq "$POINTS"); do
  v=$([ $((i % 2)) -eq 1 ] && echo x || echo y)
  q "$uptake" assign "fw-$v" --dir ws --ecu main --device dev
  delay=$(( (i * 37) % 700 ))
  "$agent" --config dev/agent.conf once >>agent.log 2>&1 &
  apid=$!
  sleep "$(printf '0.%03d' "$delay")"
  kill -9 "$apid" 2>/dev/null
  wait "$apid" 2>/dev/null
  # power on, then the agent again until it has nothing left to do
  "$agent" --config dev/agent.conf boot >>agent.log 2>&1
  if ! cycle; then
    bad "point $i (${delay} ms): the cycle after power loss failed"
    tail -5 agent.log
    continue
  fi
  # the booted slot is good: its image is the one recorded for it
  active=$(sed -n 's/^active=//p' dev/state/bootenv)
  info=$(cat "dev/state/slot-$active.info" 2>/dev/null)
  sha=$(echo "$info" | cut -d' ' -f3)
  if [ -n "$sha" ] && [ "$(sha256sum "dev/$active.img" | cut -c1-64)" = "$sha" ]; then ok; else
    bad "point $i (${delay} ms): slot $active does not hold its recorded image"
  fi
  grep -q "upgrade_available=0" dev/state/bootenv && ok || bad "point $i: a slot is left on trial"
  running=$("$uptake" device show dev --dir ws | /usr/bin/python3 -c '
import json, sys
print(json.load(sys.stdin)["ecus"][0]["installed"]["name"])')
  [ "$running" = "fw-$v" ] && ok || bad "point $i (${delay} ms): the server sees $running, not fw-$v"
done
grep -c "resumed the download" agent.log | sed 's/^/downloads resumed after power loss: /'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "--- agent log"; tail -20 agent.log; false; }
