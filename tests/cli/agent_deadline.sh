#!/usr/bin/env bash
# uptake-agent against a hostile server that drips or stalls: the real
# server and agent on loopback, with a relay between them
# (tests/tools/hostile_relay.py: mutual TLS on both sides) that sends an
# image body or metadata at 2 bytes/s, or never answers the manifest PUT.
# Every request has a total deadline (deadline_base + bytes / min_download_rate):
# the agent fails within it with a clear error, and a stalled report does
# not stop the switch to the verified slot; the next cycle reports it.
# Also: the agent's error carries the server's reason for a refusal.
#   bash tests/cli/agent_deadline.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
relay=
trap '[ -n "$relay" ] && kill "$relay" 2>/dev/null; stop_server; rm -rf "$work"' EXIT
cd "$work"
uptake=$build/uptake
agent=$build/uptake-agent

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
q() { "$@" >/dev/null 2>err.txt || { echo "setup failed: $*"; cat err.txt; exit 1; }; }
running() {
  "$uptake" device show d1 --dir ws | /usr/bin/python3 -c '
import json, sys
i = json.load(sys.stdin)["ecus"][0].get("installed")
print(i["name"] if i else "-")'
}
# once LIMIT: one agent cycle, killed after LIMIT seconds if it has not
# ended by then; sets $rc (137: it had to be killed) and $took (seconds)
once() {
  local start=$SECONDS
  rc=0
  : >run.log
  timeout -s KILL "$1" "$agent" --config d1/agent.conf once >run.log 2>&1 || rc=$?
  took=$((SECONDS - start))
  cat run.log >>agent.log
}

start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
mkdir -p d1
q "$uptake" device add d1 --dir ws --out d1/cert

: >mode
/usr/bin/python3 "$here/../tools/hostile_relay.py" "$(sed -n 1p port)" "$work/data/tls" \
  d1/cert.crt d1/cert.key mode relay.log relay.port 2>relay.err &
relay=$!
for _ in $(seq 50); do [ -s relay.port ] && break; sleep 0.1; done
[ -s relay.port ] || { echo "relay did not start"; cat relay.err; exit 1; }

# deadlines: 5 s plus 1 s per MB the request may carry
cat >d1/agent.conf <<CONF
server = https://127.0.0.1:$(cat relay.port)
ca = $ca
cert = $work/d1/cert.crt
key = $work/d1/cert.key
state_dir = $work/d1/state
director_root = $work/ws/metadata/director-root.json
image_root = $work/ws/metadata/root.json
primary_serial = d1-main
hardware_id = board-a
slot_a = $work/d1/a.img
slot_b = $work/d1/b.img
deadline_base = 5
min_download_rate = 1000000
CONF

# --- an honest relay: provisioning and the first report pass through it
once 120
[ "$rc" -eq 0 ] && ok || { bad "first cycle through the relay: exit $rc"; cat run.log; }
grep -q "POST /director/ecus forward" relay.log && ok || bad "the relay did not carry the registration"

{ echo "image v1"; head -c 100000 /dev/urandom; } >v1.bin
q "$uptake" publish v1.bin --dir ws --name fw --version 1.0 --hardware-id board-a
q "$uptake" assign fw-1.0 --dir ws --hardware-id board-a --device d1

# --- the image body at 2 bytes/s: the download fails at its deadline
# (5 s + 100 kB at 1 MB/s), the part is kept, nothing is installed
echo "drip /repo/targets/" >mode
once 90
[ "$rc" -eq 1 ] && [ "$took" -le 45 ] && ok ||
  { bad "dripped image: exit $rc after $took s (expected a failure within the deadline)"; cat run.log; }
grep -q "repo/targets/fw-1.0: deadline of [0-9]* s passed at [0-9]* of 100009 bytes" run.log && ok ||
  { bad "no clear deadline error for the dripped image"; cat run.log; }
grep -q "GET /repo/targets/fw-1.0 drip" relay.log && ok || bad "the relay did not drip the image"
[ ! -e d1/b.img ] && ok || bad "a slot holds an image after the dripped download"
grep -q "report sent" run.log && ok || bad "no report after the failed download"

# --- metadata at 2 bytes/s: fails at the deadline its size bound allows
echo "drip /director/timestamp.json" >mode
once 120
[ "$rc" -eq 1 ] && [ "$took" -le 45 ] && ok ||
  { bad "dripped metadata: exit $rc after $took s"; cat run.log; }
grep -q "director/timestamp.json: deadline of [0-9]* s passed" run.log && ok ||
  { bad "no clear deadline error for the dripped metadata"; cat run.log; }

# --- the manifest PUT is never answered: the image is installed, the boot
# switched to it, and the agent asks for the reboot within the deadline
echo "stall /director/manifest" >mode
once 90
[ "$rc" -eq 3 ] && [ "$took" -le 45 ] && ok ||
  { bad "stalled report: exit $rc after $took s (expected 3, reboot, within the deadline)"; cat run.log; }
grep -q "PUT /director/manifest stall" relay.log && ok || bad "the relay did not stall the manifest"
grep -q "report failed (sent again next cycle): PUT .*/director/manifest: no complete answer within its deadline" run.log && ok ||
  { bad "no clear error for the stalled report"; cat run.log; }
cmp -s d1/b.img v1.bin && ok || bad "slot b does not hold the verified image"
grep -qx "active=b" d1/state/bootenv && grep -qx "upgrade_available=1" d1/state/bootenv && ok ||
  { bad "the bootloader was not switched to slot b"; cat d1/state/bootenv; }
[ "$(running)" = "none" ] && ok || bad "the server saw a report it was never sent: $(running)"

# --- after the reboot, with an honest relay again: the slot is committed
# and the next cycle reports it
: >mode
"$agent" --config d1/agent.conf boot >>agent.log 2>&1
once 120
[ "$rc" -eq 0 ] && ok || { bad "cycle after the reboot: exit $rc"; cat run.log; }
grep -q "slot b is good" run.log && ok || bad "slot b not committed"
[ "$(running)" = "fw-1.0" ] && ok || bad "after the reboot the server sees $(running), not fw-1.0"

# --- a refusal carries the server's reason: a report counter the server
# has seen already is answered 409 with why
echo 0 >d1/state/counter
once 120
grep -qE "HTTP 409: .*report.counter 1 " run.log && ok ||
  { bad "the agent did not print the server's reason"; cat run.log; }

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "--- agent log"; tail -30 agent.log; echo "--- relay log"; tail relay.log relay.err; false; }
