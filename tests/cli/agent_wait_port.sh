#!/usr/bin/env bash
# The wait port (aktualizr's secondaries_wait_port): uptake-agent starts
# first, a secondary of its configuration does not answer, so the agent
# listens on its wait port; a connection from an address and port that is
# no configured secondary is closed; uptake-secondary starts late with
# --primary, connects there from its own listening port and is served
# getInfo over that connection; the agent then registers it (the server
# lists the ECU with its key) and updates it in the same run. A secondary
# that never comes: the agent waits its time, then the cycle reports it.
#   bash tests/cli/agent_wait_port.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
apid= spid=
cleanup() {
  [ -n "$apid" ] && kill "$apid" 2>/dev/null && wait "$apid" 2>/dev/null
  [ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
  stop_server
  [ -n "${UPT_TEST_KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
. "$here/../support/testlib.sh"
uptake=$build/uptake
agent=$build/uptake-agent
# wait_for FILE PATTERN: until FILE has PATTERN (a generous deadline)
wait_for() {
  for _ in $(seq 600); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
# a port nothing listens on now, for the secondary to take (it must be
# known to the agent's configuration before the secondary starts)
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
q "$uptake" device add dev1 --dir ws --out "$work/dev1"
sport=$(free_port)
conf() { # SECONDARY_PORT WAIT_TIMEOUT
  cat <<CONF
server = $url
ca = $ca
cert = $work/dev1.crt
key = $work/dev1.key
state_dir = $work/state
director_root = $work/ws/metadata/director-root.json
image_root = $work/ws/metadata/root.json
primary_serial = dev1-main
hardware_id = board-a
slot_a = $work/a.img
slot_b = $work/b.img
secondary_timeout = 5
secondary = 127.0.0.1 $1 dev1-late late-ecu full
secondaries_wait_address = 127.0.0.1
secondaries_wait_port = 0
secondaries_wait_port_file = $work/wait.port
secondaries_wait_timeout = $2
CONF
}
conf "$sport" 300 >agent.conf
{ echo "image late-1"; head -c 20000 /dev/urandom; } >late1.bin
q "$uptake" publish late1.bin --dir ws --name late --version 1 --hardware-id late-ecu

# the agent starts first: the secondary does not answer, the wait port opens
"$agent" --config agent.conf once >agent.log 2>&1 &
apid=$!
wait_for agent.log "waiting up to 300 s on port" && ok || { bad "the agent does not wait"; cat agent.log; }
wport=$(cat wait.port)
# a connection from elsewhere: closed, nothing sent to it
/usr/bin/python3 - "$wport" <<'PY' && ok || bad "a stranger on the wait port was sent something"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(60)
assert s.recv(100) == b""
PY
grep -q "wait port: a connection from 127.0.0.1 port .*, which is no secondary waited for: closed" agent.log &&
  ok || bad "the stranger was not refused: $(tail -2 agent.log)"

# the secondary starts late: it connects to the wait port from its own port
"$build/uptake-secondary" --state-dir sec --serial dev1-late --hardware-id late-ecu \
  --slot sec/slot.img --director-root ws/metadata/director-root.json \
  --image-root ws/metadata/root.json --listen 127.0.0.1 --port "$sport" \
  --primary 127.0.0.1 --primary-port "$wport" 2>sec.log &
spid=$!
rc=0; wait "$apid" || rc=$?
apid=
[ "$rc" -eq 0 ] && ok || { bad "the agent's first run exited $rc"; tail -15 agent.log; }
grep -q "connected to the primary's wait port 127.0.0.1:$wport" sec.log && ok ||
  bad "uptake-secondary did not connect to the wait port: $(cat sec.log)"
grep -q "secondary dev1-late (late-ecu) connected on the wait port" agent.log && ok ||
  bad "the agent did not serve the late secondary on the wait port"
"$uptake" device show dev1 --dir ws >show.json
/usr/bin/python3 - show.json <<'PY' && ok || bad "the late secondary is not registered with its key"
import json, sys
d = json.load(open(sys.argv[1]))
e = {x["serial"]: x for x in d["ecus"]}
assert set(e) == {"dev1-main", "dev1-late"}, e
assert e["dev1-late"]["hardware_id"] == "late-ecu" and e["dev1-late"]["keyid"], e
PY
# and it is updated like any other secondary
q "$uptake" assign late-1 --dir ws --hardware-id late-ecu --device dev1
rc=0; "$agent" --config agent.conf once >>agent.log 2>&1 || rc=$?
[ "$rc" -eq 0 ] && cmp -s sec/slot.img late1.bin && ok ||
  { bad "the late secondary was not updated (exit $rc)"; tail -5 agent.log; }
# registered now: a later start does not wait for it
grep -c "waiting up to" agent.log | grep -qx 1 && ok || bad "the agent waited again for a registered secondary"
kill "$spid"; wait "$spid" 2>/dev/null; spid=

# a secondary that never comes (a new one, on a fresh device state): the
# agent waits its time, then the registration reports it
rm -rf state
conf "$(free_port)" 2 >never.conf
rc=0; "$agent" --config never.conf once >never.log 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "secondary dev1-late did not connect within 2 s" never.log && ok ||
  { bad "a secondary that never came: exit $rc"; tail -5 never.log; }

# configuration: the wait keys are checked
{ conf "$sport" 300; echo "secondaries_wait_port = 70000"; } >bad.conf
"$agent" --config bad.conf once 2>err.txt
[ $? -eq 2 ] && grep -q "bad value for secondaries_wait_port" err.txt && ok ||
  bad "a wait port of 70000 was not refused"
expect 2 "$build/uptake-secondary" --state-dir x --serial s --hardware-id h --slot f --primary-port 0
finish
