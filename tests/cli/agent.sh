#!/usr/bin/env bash
# uptake-agent end to end on loopback, with the real server and CLI:
# v1 -> v2 installed and proven; rollback when the health check fails;
# rollback when the boot count runs out (each a rollback alert from the
# signed installation report); automatic updates off is
# honoured; a tampered image on the server is refused and reported in the
# manifest's attack field (an alert on the server). Bad configuration is a
# usage error.
#   bash tests/cli/agent.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
trap 'stop_server; rm -rf "$work"' EXIT
cd "$work"
uptake=$build/uptake
agent=$build/uptake-agent

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
q() { "$@" >/dev/null 2>err.txt || { echo "setup failed: $*"; cat err.txt; exit 1; }; }
# cycle CONF: agent cycles with simulated reboots until it has nothing to do
cycle() {
  local rc
  for _ in 1 2 3 4 5 6; do
    rc=0
    "$agent" --config "$1" once >>agent.log 2>&1 || rc=$?
    [ "$rc" -eq 3 ] || return "$rc"
    "$agent" --config "$1" boot >>agent.log 2>&1
  done
  return 9
}
running() { # what the server says the device's ECU runs
  "$uptake" device show "$1" --dir ws | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
i = d["ecus"][0].get("installed")
print(i["name"] if i else "-", d["alerts"])'
}
image() { { echo "image $1"; head -c 100000 /dev/urandom; } >"$1.bin"; }
publish() { # NAME VERSION: publish NAME.bin as fw-VERSION and assign it
  q "$uptake" publish "$1.bin" --dir ws --name fw --version "$2" --hardware-id board-a
  q "$uptake" assign "fw-$2" --dir ws --hardware-id board-a --device "$3"
}
device_conf() { # ID [extra lines]
  mkdir -p "$1/health.d"
  printf '#!/bin/sh\n! grep -q BROKEN "$UPTAKE_SLOT_PATH"\n' >"$1/health.d/check"
  chmod +x "$1/health.d/check"
  q "$uptake" device add "$1" --dir ws --out "$1/cert"
  cat >"$1/agent.conf" <<CONF
server = $url
ca = $ca
cert = $work/$1/cert.crt
key = $work/$1/cert.key
state_dir = $work/$1/state
director_root = $work/ws/metadata/director-root.json
image_root = $work/ws/metadata/root.json
primary_serial = $1-main
hardware_id = board-a
slot_a = $work/$1/a.img
slot_b = $work/$1/b.img
health_dir = $work/$1/health.d
boot_limit = 2
${2:-}
CONF
}

start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws

# --- configuration errors
printf 'server = x\ncolour = blue\n' >bad.conf
"$agent" --config bad.conf once 2>err.txt; [ $? -eq 2 ] && grep -q "unknown key 'colour'" err.txt && ok ||
  bad "bad configuration not refused by name"
"$agent" 2>/dev/null; [ $? -eq 2 ] && ok || bad "no usage error without --config"
"$agent" --help >/dev/null && ok || bad "--help"

# --- v1 -> v2, each proven by its health check before it is reported
device_conf d1
cycle d1/agent.conf && ok || bad "first cycle"
[ "$(running d1)" = "none 0" ] && ok || bad "a fresh device runs something: $(running d1)"
image v1
publish v1 1.0 d1
cycle d1/agent.conf && ok || bad "v1 cycle"
[ "$(running d1)" = "fw-1.0 0" ] && ok || bad "after v1: $(running d1)"
cmp -s d1/b.img v1.bin && ok || bad "slot b does not hold v1"
image v2
publish v2 2.0 d1
cycle d1/agent.conf && ok || bad "v2 cycle"
[ "$(running d1)" = "fw-2.0 0" ] && ok || bad "after v2: $(running d1)"
cmp -s d1/a.img v2.bin && ok || bad "slot a does not hold v2"
grep -q "runs fw-1.0" agent.log && ok || bad "the old image was not reported while v2 was on trial"

# --- a broken image: health check fails, back to v2, not retried
{ echo "image v3 BROKEN"; head -c 1000 /dev/urandom; } >v3.bin
publish v3 3.0 d1
cycle d1/agent.conf && ok || bad "v3 cycle"
# the signed installation report says it failed: a rollback alert
[ "$(running d1)" = "fw-2.0 1" ] && ok || bad "after the failed v3: $(running d1)"
rollbacks() { # DEVICE: the rollback alerts' (count, assignment named)
  curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/alerts?kind=rollback&device=$1" |
    /usr/bin/python3 -c 'import json, sys; print([(a["count"], "assignment urn:uptake:assignment:" in a["evidence"]) for a in json.load(sys.stdin)["alerts"]])'
}
[ "$(rollbacks d1)" = "[(1, True)]" ] && ok || bad "no rollback alert for v3: $(rollbacks d1)"
grep -q "failed its health checks: back to slot a" agent.log && ok || bad "no rollback logged"
grep -q "not installing fw-3.0 again" agent.log && ok || bad "the broken image was retried"

# --- boot count exhaustion: the new slot never comes up far enough to run the agent
image v4
publish v4 4.0 d1
"$agent" --config d1/agent.conf once >>agent.log 2>&1; [ $? -eq 3 ] && ok || bad "v4 not installed"
for _ in 1 2 3; do "$agent" --config d1/agent.conf boot >>agent.log 2>&1; done
grep -q "bootloader: slot b failed 2 boots, back to slot a" agent.log && ok || bad "no fallback"
cycle d1/agent.conf && ok || bad "cycle after the fallback"
[ "$(running d1)" = "fw-2.0 2" ] && ok || bad "after the fallback: $(running d1)"
[ "$(rollbacks d1)" = "[(2, True)]" ] && ok || bad "the fallback folds into the rollback alert: $(rollbacks d1)"
grep -q "boot count spent" agent.log && ok || bad "the agent did not see the fallback"

# --- automatic updates off: honoured and logged
device_conf d2 "auto_update = false"
cycle d2/agent.conf && ok || bad "d2 first cycle"
publish v2 2.0 d2
cycle d2/agent.conf && ok || bad "d2 cycle"
grep -q "not installed: automatic updates are off" agent.log && ok || bad "opt-out not logged"
[ "$(running d2)" = "none 0" ] && ok || bad "opt-out not honoured: $(running d2)"
"$uptake" device show d2 --dir ws | grep -q '"auto_update":false' && ok || bad "the fleet view does not show the opt-out"
"$uptake" device show d1 --dir ws | grep -q '"auto_update":true' && ok || bad "the fleet view does not show automatic updates on"

# --- a tampered image on the server: refused, reported as an attack
device_conf d3
cycle d3/agent.conf && ok || bad "d3 first cycle"
image v5
publish v5 5.0 d3
sha=$(sha256sum v5.bin | cut -c1-64)
flip_byte "$work/data/images/$sha" 500
rc=0
"$agent" --config d3/agent.conf once >>agent.log 2>&1 || rc=$?
[ "$rc" -eq 1 ] && ok || bad "tampered image: agent exit $rc"
grep -q "install failed" agent.log && ok || bad "tampered image not refused"
[ ! -e d3/b.img ] && ok || bad "a slot holds a tampered image"
[ "$(running d3)" = "none 1" ] && ok || bad "attack not reported as an alert: $(running d3)"

# --- an interrupted download (the agent killed midway) resumes with Range
device_conf d4 "max_download_rate = 400000"
cycle d4/agent.conf && ok || { bad "d4 first cycle"; tail -5 agent.log; }
{ echo "image v6"; head -c 3000000 /dev/urandom; } >v6.bin
publish v6 6.0 d4
"$agent" --config d4/agent.conf once >>agent.log 2>&1 &
apid=$!
for _ in $(seq 300); do
  [ -s d4/b.img.part ] && [ "$(stat -c %s d4/b.img.part)" -gt 300000 ] && break
  sleep 0.05
done
kill -9 "$apid" 2>/dev/null
wait "$apid" 2>/dev/null
part=$(stat -c %s d4/b.img.part 2>/dev/null || echo 0)
[ "$part" -gt 0 ] && [ "$part" -lt 3000009 ] && ok || bad "no partial download after the kill ($part bytes)"
[ ! -e d4/b.img ] && ok || bad "a slot holds an unverified image after the kill"
sed -i 's/^max_download_rate = .*//' d4/agent.conf
cycle d4/agent.conf && ok || bad "cycle after the interrupted download"
grep -q "resumed the download at $part of 3000009 bytes" agent.log && ok ||
  bad "the download did not resume at $part"
cmp -s d4/b.img v6.bin && ok || bad "the resumed image differs"
[ "$(running d4)" = "fw-6.0 0" ] && ok || bad "after the resumed download: $(running d4)"

# --- the network drops the download midway, again and again: each cycle
# resumes where the last one stopped (a relay that cuts every connection
# after 300 kB from the server)
port=$(sed -n 1p "$work/port")
/usr/bin/python3 "$here/../tools/cutproxy.py" "$port" 300000 proxy.port &
proxy=$!
for _ in $(seq 50); do [ -s proxy.port ] && break; sleep 0.1; done
device_conf d10
sed -i "s|^server = .*|server = https://127.0.0.1:$(cat proxy.port)|" d10/agent.conf
cycle d10/agent.conf && ok || { bad "d10 first cycle"; tail -3 agent.log; }
{ echo "image v11"; head -c 1200000 /dev/urandom; } >v11.bin
publish v11 11.0 d10
for _ in $(seq 12); do
  "$agent" --config d10/agent.conf once >>agent.log 2>&1
  [ -e d10/b.img ] && break
done
kill "$proxy" 2>/dev/null
wait "$proxy" 2>/dev/null
cmp -s d10/b.img v11.bin && ok || bad "the image did not arrive through the cutting network"
[ "$(grep -c 'resumed the download at' agent.log)" -ge 3 ] && ok || bad "the download did not resume"
grep -q "interrupted at" agent.log && ok || bad "the interruption was not reported"

# --- the script backend: the verified image goes to an installer script
device_conf d5 "install = script
install_script = $work/d5/install.sh"
printf '#!/bin/sh\ncp "$UPTAKE_SLOT_PATH" "%s/d5/installed.img"\n' "$work" >d5/install.sh
chmod +x d5/install.sh
cycle d5/agent.conf && ok || { bad "d5 first cycle"; tail -3 agent.log; }
image v7
publish v7 7.0 d5
cycle d5/agent.conf && ok || bad "d5 cycle"
cmp -s d5/installed.img v7.bin && ok || bad "the install script did not get the verified image"
[ "$(running d5)" = "fw-7.0 0" ] && ok || bad "script install: $(running d5)"
printf '#!/bin/sh\nexit 4\n' >d5/install.sh
image v8
publish v8 8.0 d5
rc=0
"$agent" --config d5/agent.conf once >>agent.log 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "install script exited 4" agent.log && ok || bad "a failing install script"
[ "$(running d5)" = "fw-7.0 0" ] && ok || bad "after a failing install script: $(running d5)"

# --- real bootloader environments: U-Boot (libubootenv, read back with
# fw_printenv) and GRUB (grubenv, read back with grub-editenv)
printf 'bootcmd=run uptake_boot\n' >uboot-vars.txt
mkenvimage -s 0x4000 -o uboot-env.img uboot-vars.txt
printf '%s/uboot-env.img 0x0 0x4000\n' "$work" >fw_env.config
device_conf d6 "bootloader = uboot
uboot_config = $work/fw_env.config"
grub-editenv grubenv create
grub-editenv grubenv set saved_entry=linux
device_conf d7 "bootloader = grub
grub_env = $work/grubenv"
for d in d6 d7; do
  cycle $d/agent.conf && ok || { bad "$d first cycle"; tail -3 agent.log; }
done
image v9
q "$uptake" publish v9.bin --dir ws --name fw --version 9.0 --hardware-id board-a
for d in d6 d7; do
  q "$uptake" assign fw-9.0 --dir ws --ecu $d-main --device $d
  cycle $d/agent.conf && ok || bad "$d install cycle"
  [ "$(running $d)" = "fw-9.0 0" ] && ok || bad "$d after the install: $(running $d)"
done
fw_printenv -c fw_env.config >uboot.txt
grep -qx "uptake_slot=b" uboot.txt && grep -qx "upgrade_available=0" uboot.txt &&
  grep -qx "bootlimit=2" uboot.txt && grep -qx "bootcmd=run uptake_boot" uboot.txt && ok ||
  { bad "U-Boot environment"; cat uboot.txt; }
grub-editenv grubenv list >grub.txt
grep -qx "uptake_slot=b" grub.txt && grep -qx "upgrade_available=0" grub.txt &&
  grep -qx "saved_entry=linux" grub.txt && [ "$(stat -c %s grubenv)" = 1024 ] && ok ||
  { bad "GRUB environment"; cat grub.txt; }
# boot count exhaustion on both
image v10
q "$uptake" publish v10.bin --dir ws --name fw --version 10.0 --hardware-id board-a
for d in d6 d7; do
  q "$uptake" assign fw-10.0 --dir ws --ecu $d-main --device $d
  "$agent" --config $d/agent.conf once >>agent.log 2>&1; [ $? -eq 3 ] && ok || bad "$d: v10 not installed"
  for _ in 1 2 3; do "$agent" --config $d/agent.conf boot >>agent.log 2>&1; done
  cycle $d/agent.conf && ok || bad "$d cycle after the fallback"
  [ "$(running $d)" = "fw-9.0 1" ] && ok || bad "$d after the fallback: $(running $d)"
done
fw_printenv -c fw_env.config uptake_slot | grep -qx "uptake_slot=b" && ok || bad "U-Boot slot after the fallback"
grub-editenv grubenv list | grep -qx "uptake_slot=b" && ok || bad "GRUB slot after the fallback"
[ "$(grep -c 'fell back from slot a' agent.log)" -ge 2 ] && ok || bad "the fallbacks were not noticed"

# --- shared-credential provisioning: the agent gets its own certificate
curl -s --cacert "$ca" -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
  --data-binary '{"name":"factory"}' "$url/api/v1/fleet-credentials" >fleet.json
/usr/bin/python3 -c '
import json
d = json.load(open("fleet.json"))
open("fleet.crt", "w").write(d["certificate"]); open("fleet.key", "w").write(d["key"])'
mkdir -p d8
sed -e "s|$work/d7/|$work/d8/|g" -e "s|d7-main|d8-main|" -e '/^bootloader/d' -e '/^grub_env/d' \
  d7/agent.conf >d8/agent.conf
printf 'fleet_cert = %s/fleet.crt\nfleet_key = %s/fleet.key\ndevice_id = d8\n' "$work" "$work" \
  >>d8/agent.conf
cycle d8/agent.conf && ok || { bad "d8 provisioning cycle"; tail -3 agent.log; }
grep -q "provisioned as d8 with the fleet credential" agent.log && ok || bad "fleet provisioning not logged"
[ "$(stat -c %a d8/cert.key 2>/dev/null)" = 600 ] && ok || bad "provisioned key not 0600"
q "$uptake" assign fw-9.0 --dir ws --ecu d8-main --device d8
cycle d8/agent.conf && ok || bad "d8 install cycle"
[ "$(running d8)" = "fw-9.0 0" ] && ok || bad "d8 after the install: $(running d8)"

# --- the file backend: the verified image replaces one file
mkdir -p d9
sed -e "s|$work/d8/|$work/d9/|g" -e "s|d8-main|d9-main|" -e 's/^device_id = d8/device_id = d9/' \
  -e '/^slot_a/d' -e '/^slot_b/d' d8/agent.conf >d9/agent.conf
printf 'install = file\ntarget_file = %s/d9/app.bin\n' "$work" >>d9/agent.conf
cycle d9/agent.conf && ok || { bad "d9 first cycle"; tail -3 agent.log; }
q "$uptake" assign fw-9.0 --dir ws --ecu d9-main --device d9
cycle d9/agent.conf && ok || bad "d9 install cycle"
cmp -s d9/app.bin v9.bin && ok || bad "the file backend did not write the verified image"
[ "$(running d9)" = "fw-9.0 0" ] && ok || bad "file backend: $(running d9)"

# --- postponed: an update waits, a security update does not (CRA)
cp d9/agent.conf d9/postponed.conf
printf 'postpone_until = %s\n' "$(date -u -d '+10 days' +%Y-%m-%dT%H:%M:%SZ)" >>d9/postponed.conf
image v10
q "$uptake" publish v10.bin --dir ws --name fw --version 10.0 --hardware-id board-a
q "$uptake" assign fw-10.0 --dir ws --ecu d9-main --device d9
cycle d9/postponed.conf && ok || bad "d9 postponed cycle"
[ "$(running d9)" = "fw-9.0 0" ] && ok || bad "a postponed update was installed: $(running d9)"
grep -q "fw-10.0 available; not installed: postponed" agent.log && ok || bad "postponement not logged"
image v11
q "$uptake" publish v11.bin --dir ws --name fw --version 11.0 --hardware-id board-a --security
q "$uptake" assign fw-11.0 --dir ws --ecu d9-main --device d9
cycle d9/postponed.conf && ok || bad "d9 security cycle"
[ "$(running d9)" = "fw-11.0 0" ] && ok || bad "a security update was postponed: $(running d9)"
grep -q "fw-11.0 is a security update: not postponed" agent.log && ok || bad "security install not logged"
cmp -s d9/app.bin v11.bin && ok || bad "the security update's image is not installed"

# --- an unreachable server: a clear failure, nothing touched
sed "s|^server = .*|server = https://127.0.0.1:9|" d9/agent.conf >d9/offline.conf
cp d9/app.bin app.before
rc=0
"$agent" --config d9/offline.conf once 2>err.txt || rc=$?
[ "$rc" -eq 1 ] && grep -qi "connect" err.txt && ok || bad "unreachable server: exit $rc"
cmp -s d9/app.bin app.before && ok || bad "the installed file changed while the server was away"

# --- postponement is bounded
printf 'postpone_until = 2099-01-01T00:00:00Z\n' >>d5/agent.conf
"$agent" --config d5/agent.conf once 2>err.txt; [ $? -eq 2 ] && grep -q "at most 30 days" err.txt && ok ||
  bad "an unbounded postponement was accepted"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "--- agent log"; tail -30 agent.log; echo "--- server log"; tail -20 "$work/server.log"; false; }
