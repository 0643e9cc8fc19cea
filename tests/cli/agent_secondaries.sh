#!/usr/bin/env bash
# uptake-agent as a primary with two secondaries (IP-Uptane, aktualizr's
# protocol), against the real server: every ECU registered with its own
# key; both secondaries (different hardware ids: uptake-secondary with full
# verification, and tests/tools/test_secondary with partial) updated in one cycle with the primary, the server's
# inventory showing each ECU's hash from its own signed report; a
# secondary down during an update (the primary and the other still
# updated, the failure in the manifest's installation report, the down one
# finished next cycle); the primary's and both secondaries' installs
# finishing in one cycle, the server keeping each ECU's result with its
# correlation id; root rotations reaching both; a compromised primary
# (test mode) handing each secondary an image for other hardware: each
# refuses it and the server sees the refusal in that ECU's signed report;
# an image that fails its health check on uptake-secondary (A/B slots,
# the agent's bootloader backends) rolled back, the manifest carrying its
# signed report of the previous image and of the rollback;
# hostile answers, an impostor and a changed key refused. Bad secondary
# configuration is refused naming the field.
#   bash tests/cli/agent_secondaries.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
sec_pids=()
stop_secondary() { # N
  local p=${sec_pids[$1]:-}
  [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  sec_pids[$1]=
}
cleanup() {
  stop_secondary 1
  stop_secondary 2
  stop_server
  [ -n "${UPT_TEST_KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
. "$here/../support/testlib.sh"
uptake=$build/uptake
agent=$build/uptake-agent
secondary=$build/tests/test_secondary

# start_secondary N SERIAL HWID full|partial [PORT]: secondary 1 is
# uptake-secondary (full verification), secondary 2 the test secondary
start_secondary() {
  rm -f "sec$1.port"
  if [ "$1" = 1 ]; then
    "$build/uptake-secondary" --state-dir "$work/sec1" --serial "$2" --hardware-id "$3" \
      --slot "$work/sec1/slot-a.img" --slot-b "$work/sec1/slot-b.img" \
      --health-dir "$work/sec1-health.d" --director-root "$work/ws/metadata/director-root.json" \
      --image-root "$work/ws/metadata/root.json" --listen 127.0.0.1 --port "${5:-0}" \
      --port-file "$work/sec1.port" 2>>sec1.log &
  else
    "$secondary" --dir "$work/sec$1" --serial "$2" --hardware-id "$3" --verification "$4" \
      --director-root "$work/ws/metadata/director-root.json" --image-root "$work/ws/metadata/root.json" \
      --port-file "$work/sec$1.port" ${5:+--port "$5"} 2>>"sec$1.log" &
  fi
  sec_pids[$1]=$!
  for _ in $(seq 100); do [ -s "sec$1.port" ] && break; sleep 0.1; done
  [ -s "sec$1.port" ] || { echo "secondary $1 did not start"; cat "sec$1.log"; exit 1; }
}
cycle() { # CONF: cycles with simulated reboots until nothing is left to do
  local rc
  for _ in 1 2 3 4 5 6; do
    rc=0
    "$agent" --config "$1" once >>agent.log 2>&1 || rc=$?
    [ "$rc" -eq 3 ] || return "$rc"
    "$agent" --config "$1" boot >>agent.log 2>&1
  done
  return 9
}
# inventory DEVICE SERIAL: what the server says that ECU runs (name sha256)
inventory() {
  "$uptake" device show "$1" --dir ws | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
for e in d["ecus"]:
    if e["serial"] == sys.argv[1]:
        i = e.get("installed")
        print(i["name"], i["sha256"]) if i else print("-")
' "$2"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
image() { { echo "image $1"; head -c 30000 /dev/urandom; } >"$1.bin"; }
publish() { # FILE NAME VERSION HWID
  q "$uptake" publish "$1" --dir ws --name "$2" --version "$3" --hardware-id "$4"
}
assign() { q "$uptake" assign "$1" --dir ws --hardware-id "$2" --device dev1; }

# uptake-secondary's active slot (A/B, the simulated bootloader)
sec1_slot() {
  case "$(grep '^active=' "$work/sec1/bootenv" 2>/dev/null)" in
    active=b) echo "$work/sec1/slot-b.img" ;; *) echo "$work/sec1/slot-a.img" ;;
  esac
}
mkdir -p sec1-health.d
printf '#!/bin/sh\n! head -1 "$UPTAKE_SLOT_PATH" | grep -q broken\n' >sec1-health.d/10-image
chmod +x sec1-health.d/10-image

start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws

start_secondary 1 dev1-motor motor-ctl full
start_secondary 2 dev1-hub sensor-hub partial
port1=$(cat sec1.port) port2=$(cat sec2.port)

q "$uptake" device add dev1 --dir ws --out "$work/dev1"
mkdir -p health.d
base_conf() {
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
health_dir = $work/health.d
secondary_timeout = 5
CONF
}
{ base_conf
  echo "secondary = 127.0.0.1 $port1 dev1-motor motor-ctl full"
  echo "secondary = 127.0.0.1 $port2 dev1-hub sensor-hub partial # the sensor hub"
} >agent.conf

# --- configuration: a bad secondary line is refused naming the field
bad_conf() { # LINE PATTERN
  { base_conf; echo "$1"; } >bad.conf
  "$agent" --config bad.conf once 2>err.txt
  if [ $? -eq 2 ] && grep -q -- "$2" err.txt; then ok; else
    bad "secondary line '$1' not refused with '$2'"; cat err.txt; fi
}
bad_conf "secondary = 127.0.0.1 70000 s1 hw full" "secondary: port '70000'"
bad_conf "secondary = 127.0.0.1 9030 s1 hw fast" "secondary: verification 'fast': full or partial"
bad_conf "secondary = 127.0.0.1 9030 s1" "secondary: hardware id missing"
bad_conf "secondary = 127.0.0.1 9030 s1 hw full more" "'more' after the verification kind"
bad_conf "secondary = 127.0.0.1/8 9030 s1 hw full" "secondary: address '127.0.0.1/8'"
bad_conf "secondary = 127.0.0.1 9030 dev1-main hw full" "the primary's own serial"
bad_conf "secondary = 127.0.0.1 9030 s\"1 hw full" "secondary: serial"
{ base_conf; echo "secondary = 127.0.0.1 9030 s1 hw full"; echo "secondary = 127.0.0.1 9031 s1 hw2 partial"; } >bad.conf
"$agent" --config bad.conf once 2>err.txt
[ $? -eq 2 ] && grep -q "serial s1 listed twice" err.txt && ok || bad "a serial listed twice not refused"

# --- first start: every ECU registered, each with its own key
cycle agent.conf || { bad "first cycle failed"; tail -20 agent.log; }
"$uptake" device show dev1 --dir ws >show.json
/usr/bin/python3 - show.json <<'PY' && ok || bad "the three ECUs are not registered with distinct keys"
import json, sys
d = json.load(open(sys.argv[1]))
e = {x["serial"]: x for x in d["ecus"]}
assert set(e) == {"dev1-main", "dev1-motor", "dev1-hub"}, e
assert e["dev1-motor"]["hardware_id"] == "motor-ctl" and e["dev1-hub"]["hardware_id"] == "sensor-hub"
assert len({x["keyid"] for x in d["ecus"]}) == 3
assert e["dev1-main"]["primary"] and not e["dev1-motor"]["primary"]
# each secondary's own signed report is in the inventory already (nothing installed)
assert e["dev1-motor"]["last_report"]["status"] in ("fresh", "no_counter"), e["dev1-motor"]
PY

# --- one cycle: the primary and both secondaries, different hardware ids
image main1; image motor1; image hub1
publish main1.bin fw 1 board-a; publish motor1.bin motor 1 motor-ctl; publish hub1.bin hub 1 sensor-hub
assign fw-1 board-a; assign motor-1 motor-ctl; assign hub-1 sensor-hub
cycle agent.conf || { bad "update cycle failed"; tail -30 agent.log; }
[ "$(inventory dev1 dev1-main)" = "fw-1 $(sha main1.bin)" ] && ok || bad "primary: $(inventory dev1 dev1-main)"
[ "$(inventory dev1 dev1-motor)" = "motor-1 $(sha motor1.bin)" ] && ok ||
  bad "full-verification secondary: $(inventory dev1 dev1-motor)"
[ "$(inventory dev1 dev1-hub)" = "hub-1 $(sha hub1.bin)" ] && ok ||
  bad "partial-verification secondary: $(inventory dev1 dev1-hub)"
cmp -s "$(sec1_slot)" motor1.bin && cmp -s sec2/image.bin hub1.bin && ok ||
  bad "the secondaries do not hold the images they report"
grep -q "secondary dev1-motor: done" agent.log && grep -q "secondary dev1-hub: done" agent.log && ok ||
  bad "the agent's log does not show both secondaries updated"

# the manifest on the server carries each secondary's report as it signed it
# (the server verified it against that ECU's registered key: fresh)
"$uptake" device show dev1 --dir ws >show.json
/usr/bin/python3 - show.json <<'PY' && ok || bad "an installation report does not show both secondaries installed"
import json, sys
d = json.load(open(sys.argv[1]))
reps = [json.loads(r["report"]) if isinstance(r["report"], str) else r["report"] for r in d["installation_reports"]]
items = {i["ecu"]: i["result"] for r in reps for i in r["report"]["items"]}
assert items["dev1-motor"]["success"] and items["dev1-hub"]["success"], items
PY

# --- a secondary down during an update: the rest is updated, it is next
# cycle. The first secondary of the configuration is the one down, so the
# one after it shows that the cycle goes on past a failure
image main2; image hub2; image motor2
publish main2.bin fw 2 board-a; publish hub2.bin hub 2 sensor-hub; publish motor2.bin motor 2 motor-ctl
assign fw-2 board-a; assign hub-2 sensor-hub; assign motor-2 motor-ctl
stop_secondary 1
rc=0; cycle agent.conf || rc=$?
[ "$rc" -eq 1 ] && ok || bad "a cycle with a secondary down exited $rc, expected 1 (retry)"
[ "$(inventory dev1 dev1-main)" = "fw-2 $(sha main2.bin)" ] && ok ||
  bad "primary not updated while a secondary was down: $(inventory dev1 dev1-main)"
[ "$(inventory dev1 dev1-hub)" = "hub-2 $(sha hub2.bin)" ] && ok ||
  bad "the other secondary not updated: $(inventory dev1 dev1-hub)"
[ "$(inventory dev1 dev1-motor)" = "motor-1 $(sha motor1.bin)" ] && ok ||
  bad "the down secondary: its last report is not what the server shows: $(inventory dev1 dev1-motor)"
"$uptake" device show dev1 --dir ws >show.json
/usr/bin/python3 - show.json <<'PY' && ok || bad "the manifest's installation report does not name the down secondary's failure"
import json, sys
d = json.load(open(sys.argv[1]))
reps = [json.loads(r["report"]) if isinstance(r["report"], str) else r["report"] for r in d["installation_reports"]]
found = [i for r in reps for i in r["report"]["items"]
         if i["ecu"] == "dev1-motor" and not i["result"]["success"]
         and "connect" in i["result"]["description"] and "motor-2" in i["result"]["description"]]
assert found, reps
PY
/usr/bin/python3 - show.json <<'PY' && ok || bad "the down secondary's report is not its last one, cached"
import json, sys
d = json.load(open(sys.argv[1]))
e = {x["serial"]: x for x in d["ecus"]}
assert e["dev1-motor"]["last_report"]["status"] == "cached", e["dev1-motor"]
PY
start_secondary 1 dev1-motor motor-ctl full "$port1"
cycle agent.conf || { bad "cycle after the secondary came back failed"; tail -20 agent.log; }
[ "$(inventory dev1 dev1-motor)" = "motor-2 $(sha motor2.bin)" ] && ok ||
  bad "the secondary that was down did not finish next cycle: $(inventory dev1 dev1-motor)"

# --- the primary and both secondaries finish an install in one cycle: the
# primary's new slot proves itself after its reboot in the cycle that
# updates the secondaries. The manifest carries every result, each ECU's
# with its own correlation id, and the server keeps each one.
image main3
publish main3.bin fw 3 board-a; assign fw-3 board-a
"$uptake" device show dev1 --dir ws >show.json
cid_main=$(/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print([a for a in d["assignments"] if a["ecu"] == "dev1-main" and a["target"] == "fw-3"][0]["correlation_id"])
' show.json)
rc=0; "$agent" --config agent.conf once >>agent.log 2>&1 || rc=$?
[ "$rc" -eq 3 ] && ok || bad "the primary's install of fw-3 exited $rc, expected 3 (reboot)"

# --- root rotation of both repositories: the primary follows each chain
# and hands every secondary the versions it lacks (putRootReq, one by one);
# the partial-verification secondary only the Director's
q "$uptake" key rotate root --director --dir ws
q "$uptake" key rotate root --director --dir ws
q "$uptake" key rotate root --dir ws
image motor3
publish motor3.bin motor 3 motor-ctl; assign motor-3 motor-ctl
image hub3
publish hub3.bin hub 3 sensor-hub; assign hub-3 sensor-hub
"$uptake" device show dev1 --dir ws >show.json
cids=$(/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
a = {(x["ecu"], x["target"]): x["correlation_id"] for x in d["assignments"]}
print(a[("dev1-motor", "motor-3")], a[("dev1-hub", "hub-3")])
' show.json)
"$agent" --config agent.conf boot >>agent.log 2>&1
cycle agent.conf || { bad "cycle after root rotations failed"; tail -20 agent.log; }
grep -q "slot b is good: fw-3 committed\|slot a is good: fw-3 committed" agent.log && ok ||
  bad "the primary's fw-3 was not committed in the cycle that updated the secondaries"
[ "$(inventory dev1 dev1-main)" = "fw-3 $(sha main3.bin)" ] && ok ||
  bad "primary: $(inventory dev1 dev1-main)"
"$uptake" device show dev1 --dir ws >show.json
/usr/bin/python3 - show.json "$cid_main" $cids <<'PY' && ok || bad "the server does not have each ECU's installation result of the cycle"
import json, sys
d = json.load(open(sys.argv[1]))
want = {"dev1-main": sys.argv[2], "dev1-motor": sys.argv[3], "dev1-hub": sys.argv[4]}
got = {}
for r in d["installation_reports"]:
    rep = r["report"]["report"]
    for i in rep["items"]:
        got.setdefault((i["ecu"], rep["correlation_id"]), i["result"]["success"])
for ecu, cid in want.items():
    assert got.get((ecu, cid)) is True, (ecu, cid, got)
# each assignment shows its own ECU's signed result
for a in d["assignments"]:
    if (a["ecu"], a["correlation_id"]) in {(e, c) for e, c in want.items()}:
        items = a["installation_report"]["report"]["report"]["items"]
        assert [i["ecu"] for i in items] == [a["ecu"]], a
PY
rootv() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["signed"]["version"])' "$1"; }
[ "$(rootv sec1/director/root.json) $(rootv sec1/image/root.json)" = "3 2" ] && ok ||
  bad "full-verification secondary trusts roots $(rootv sec1/director/root.json) $(rootv sec1/image/root.json), not 3 2"
[ "$(rootv sec2/director/root.json) $(rootv sec2/image/root.json)" = "3 1" ] && ok ||
  bad "partial-verification secondary trusts roots $(rootv sec2/director/root.json) $(rootv sec2/image/root.json), not 3 1"
[ -f state/director/roots/2.root.json ] && [ -f state/director/roots/3.root.json ] && ok ||
  bad "the primary did not keep each root version"
# putRoot carries the intermediate versions only; the latest goes in
# putMetaReq2, as aktualizr's primary sends it (aktualizr-secondary takes the
# end of the chain from there)
grep -q "secondary dev1-motor: director root version 2 sent" agent.log && ok ||
  bad "the intermediate director root 2 was not sent by putRoot"
! grep -q "root version 3 sent\|image root version 2 sent" agent.log && ok ||
  bad "the latest root was sent by putRoot, not in putMetaReq2"
[ "$(inventory dev1 dev1-motor)" = "motor-3 $(sha motor3.bin)" ] &&
  [ "$(inventory dev1 dev1-hub)" = "hub-3 $(sha hub3.bin)" ] && ok ||
  bad "secondaries not updated after root rotations: $(inventory dev1 dev1-motor) / $(inventory dev1 dev1-hub)"

# --- a compromised primary (test mode) hands a secondary the image of the
# other one, for other hardware: each refuses it by its own verification,
# and the server sees the refusal in that ECU's own signed report.
# uptake-secondary (full) gets hub-4's bytes in place of its own motor-4,
# more bytes than its metadata signs for motor-4
image motor4
{ echo "image hub4"; head -c 40000 /dev/urandom; } >hub4.bin
publish motor4.bin motor 4 motor-ctl; assign motor-4 motor-ctl
publish hub4.bin hub 4 sensor-hub; assign hub-4 sensor-hub
before=$(sha "$(sec1_slot)")
UPTAKE_AGENT_TEST_MISDIRECT=dev1-motor "$agent" --config agent.conf once >>agent.log 2>&1
grep -q "TEST MODE: handing secondary dev1-motor the image hub-4" agent.log && ok ||
  bad "the test mode did not hand the image to the wrong secondary"
grep -q "image refused: image motor-4: more than the $(stat -c %s motor4.bin) bytes the metadata signs" sec1.log && ok ||
  { bad "uptake-secondary did not refuse the image for other hardware"; tail -3 sec1.log; }
[ "$(sha "$(sec1_slot)")" = "$before" ] && ok || bad "the refusing secondary's slot changed"
[ "$(inventory dev1 dev1-motor)" = "motor-3 $(sha motor3.bin)" ] && ok ||
  bad "the refusing secondary's inventory changed: $(inventory dev1 dev1-motor)"
[ "$(inventory dev1 dev1-hub)" = "hub-4 $(sha hub4.bin)" ] && ok ||
  bad "the other secondary was not updated meanwhile: $(inventory dev1 dev1-hub)"
# the test secondary (partial), nothing new of its own, gets motor-4 under
# that name: not the image the Director assigns it
UPTAKE_AGENT_TEST_MISDIRECT=dev1-hub "$agent" --config agent.conf once >>agent.log 2>&1
grep -q "refused: install motor-4: not the image the Director assigns this ECU" sec2.log && ok ||
  bad "the test secondary did not refuse the image for other hardware"
[ "$(inventory dev1 dev1-hub)" = "hub-4 $(sha hub4.bin)" ] && ok ||
  bad "the refusing secondary's inventory changed: $(inventory dev1 dev1-hub)"
[ "$(inventory dev1 dev1-motor)" = "motor-4 $(sha motor4.bin)" ] && ok ||
  bad "motor-4 was not installed in the cycle after the attack: $(inventory dev1 dev1-motor)"
"$uptake" alerts list --kind attack-reported --device dev1 --json --dir ws >alerts.json
/usr/bin/python3 - alerts.json <<'PY' && ok || bad "the server shows no attack reported by each refusing ECU's signed report"
import json, sys
a = json.load(open(sys.argv[1]))["alerts"]
assert any(x["ecu"] == "dev1-motor" and "UPT_ERR_TOO_LARGE" in x["message"] and "motor-4" in x["message"] for x in a), a
assert any(x["ecu"] == "dev1-hub" and "motor-4" in x["message"] for x in a), a
PY

# --- an image that fails its health check on uptake-secondary: back to the
# previous one, reported in its signed report (installation_result) and in
# the manifest's installation report; the server's inventory is motor-4
{ echo "image motor5 broken"; head -c 30000 /dev/urandom; } >motor5.bin
publish motor5.bin motor 5 motor-ctl; assign motor-5 motor-ctl
before=$(sec1_slot)
rc=0; cycle agent.conf || rc=$?
[ "$rc" -eq 1 ] && ok || bad "a cycle with a secondary's rollback exited $rc, expected 1"
grep -q "motor-5 failed its health checks: rolled back to motor-4" sec1.log && ok ||
  { bad "uptake-secondary did not roll back"; tail -5 sec1.log; }
[ "$(sec1_slot)" = "$before" ] && cmp -s "$(sec1_slot)" motor4.bin && ok ||
  bad "after the rollback the active slot does not hold motor-4"
[ "$(inventory dev1 dev1-motor)" = "motor-4 $(sha motor4.bin)" ] && ok ||
  bad "the server's inventory after the rollback: $(inventory dev1 dev1-motor)"
/usr/bin/python3 - state/secondaries <<'PY' && ok || bad "the kept signed report of dev1-motor does not show the rollback"
import glob, json, os, sys
reps = [json.load(open(f)) for f in glob.glob(os.path.join(sys.argv[1], "*.report"))]
r = [x["signed"] for x in reps if x["signed"]["ecu_serial"] == "dev1-motor"][0]
assert r["installed_image"]["filepath"] == "motor-4", r
ir = r["installation_result"]
assert ir["code"] == "HEALTH_CHECK_FAILED" and not ir["success"] and ir["image"] == "motor-5", ir
PY
"$uptake" device show dev1 --dir ws >show.json
/usr/bin/python3 - show.json <<'PY' && ok || bad "the manifest's installation report does not show the rollback"
import json, sys
d = json.load(open(sys.argv[1]))
reps = [json.loads(r["report"]) if isinstance(r["report"], str) else r["report"] for r in d["installation_reports"]]
found = [i for r in reps for i in r["report"]["items"]
         if i["ecu"] == "dev1-motor" and not i["result"]["success"]
         and "rolled back to motor-4" in i["result"]["description"]]
assert found, reps
PY
# not installed again next cycle: refused before anything is switched
rc=0; cycle agent.conf || rc=$?
grep -q "motor-5 failed on this ECU before: not installed again" sec1.log && ok ||
  bad "the failed image was installed again"
[ "$(inventory dev1 dev1-motor)" = "motor-4 $(sha motor4.bin)" ] && ok ||
  bad "inventory after the refused retry: $(inventory dev1 dev1-motor)"

# --- a secondary that misbehaves on the link: each answer a clear error
# within the timeout, nothing of it kept, the rest of the device unaffected
image hub5
publish hub5.bin hub 5 sensor-hub; assign hub-5 sensor-hub
stop_secondary 2
hostile() { # MODE PATTERN
  local rc=0 hpid
  rm -f h.port
  /usr/bin/python3 "$here/../tools/hostile_secondary.py" "$1" "$port2" h.port 2>>hostile.log &
  hpid=$!
  for _ in $(seq 50); do [ -s h.port ] && break; sleep 0.1; done
  timeout 120 "$agent" --config agent.conf once >one.log 2>&1 || rc=$?
  cat one.log >>agent.log
  kill "$hpid" 2>/dev/null; wait "$hpid" 2>/dev/null
  if [ "$rc" -eq 1 ] && grep -q -- "$2" one.log; then ok; else
    bad "hostile secondary ($1): exit $rc, no '$2' in the log"; tail -4 one.log; fi
}
hostile stall "secondary dev1-hub: getInfoReq: no answer within 5 s"
hostile garbage "secondary dev1-hub: getInfoReq: .*first byte is not the tag of a known message"
hostile huge "secondary dev1-hub: manifestReq: .*more than the bound of 65536"
hostile cut "secondary dev1-hub: getInfoReq: .*connection closed after 8 of 203 bytes"
hostile indefinite "secondary dev1-hub: getInfoReq: .*indefinite"
[ "$(inventory dev1 dev1-hub)" = "hub-4 $(sha hub4.bin)" ] && ok ||
  bad "a misbehaving secondary changed its inventory: $(inventory dev1 dev1-hub)"
[ "$(inventory dev1 dev1-motor)" = "motor-4 $(sha motor4.bin)" ] && ok ||
  bad "a misbehaving secondary disturbed the other: $(inventory dev1 dev1-motor)"

# --- another ECU at the configured address, or the secondary with a new
# key: refused before anything is sent to it
start_secondary 2 dev1-other sensor-hub partial "$port2"
rc=0; "$agent" --config agent.conf once >one.log 2>&1 || rc=$?
cat one.log >>agent.log
[ "$rc" -eq 1 ] && grep -q "getInfo: 127.0.0.1 port $port2 answers as ECU 'dev1-other'" one.log && ok ||
  { bad "an impostor secondary was not refused"; tail -4 one.log; }
stop_secondary 2
rm -f sec2/key.pem
start_secondary 2 dev1-hub sensor-hub partial "$port2"
rc=0; "$agent" --config agent.conf once >one.log 2>&1 || rc=$?
cat one.log >>agent.log
[ "$rc" -eq 1 ] && grep -q "getInfo: a key other than the registered one" one.log &&
  grep -q "dev1-hub: no new report .*no valid signature by the registered key" one.log && ok ||
  { bad "a secondary with another key was not refused"; tail -4 one.log; }
[ "$(inventory dev1 dev1-hub)" = "hub-4 $(sha hub4.bin)" ] && ok ||
  bad "a secondary with another key changed its inventory: $(inventory dev1 dev1-hub)"

finish
