#!/usr/bin/env bash
# A real boot: an emulated arm64 device (qemu-system-aarch64 -M virt, TCG)
# with Debian's U-Boot, Debian's arm64 kernel and two read-only squashfs
# slots holding the cross-built uptake-agent, updated from this machine's
# uptake-server over mutual TLS (QEMU user networking: the guest dials
# 10.0.2.2, the host's loopback). U-Boot runs dist/uptake-boot.cmd, which
# picks the slot, counts tries (bootlimit 2) and falls back; the agent
# writes the same two-copy environment store through libubootenv.
#   1. factory slot a (v1) -> the agent installs v2 into slot b -> U-Boot
#      boots b -> the health check passes -> the signed report shows v2
#   2. v3 whose init fails: the count runs out, U-Boot boots b again by
#      itself, the agent notices the fallback and reports v2
#   3. dm-verity: v4 published with --verity boots through dm-verity and is
#      committed; v5 (verity too) gets one block flipped on the disk after
#      its install: the read fails, the health check fails, back to v4
#   4. power cuts (QEMU killed where the agent stops on the test's word,
#      UPTAKE_AGENT_TEST_PAUSE through QEMU's fw_cfg): half-way through the
#      write of v2's image, during the first boot of v2 before its health
#      check commits it, half-way through the write of v4's hash tree,
#      between v4's write and the switch, half-way through the write of the
#      environment store (saveenv): each time the device comes back on a
#      slot that verifies (U-Boot's and the slot's lines on the console, a
#      new signed report on the server) and the install goes on.
# Boot times are printed at the end (docs/benchmarks.md records them).
#   bash tests/boot/boot.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
. "$here/device.sh"
trap 'power_cut; stop_server; [ -n "${UPTAKE_BOOT_KEEP:-}" ] || rm -rf "$work"' EXIT
cd "$work"
. "$here/../support/testlib.sh"
uptake=$build/uptake
t0=$(date +%s)

need_tools || exit 1
unpack_debs || { echo "setup failed: the arm64 packages"; exit 1; }
cross_agent || { echo "setup failed: the arm64 agent"; exit 1; }
build_boot_partition || { echo "setup failed: the boot partition"; exit 1; }
echo "boot test: device parts built in $(($(date +%s) - t0)) s"

server_extra_conf="tls_names = localhost,127.0.0.1,10.0.2.2"
start_server || exit 1
port=$(sed -n 1p "$work/port")
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
q "$uptake" device add qdev --dir ws --out dev

reported() { # what the server's verified reports say the device runs, and
  # the counter of the last report
  "$uptake" device show qdev --dir ws 2>/dev/null | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
e = d["ecus"][0] if d.get("ecus") else {}
i = e.get("installed")
print(i["name"] if i else "-", e.get("report_counter", 0))'
}
running() { reported | cut -d' ' -f1; }
counter() { reported | cut -d' ' -f2; }
# came_back SLOT VERSION: after a power cut, U-Boot boots SLOT from a store
# that verifies, the slot's init runs VERSION, the agent reaches its next
# stop or the end of its install, and a new signed report says fw-VERSION
came_back() {
  local before=$1 slot=$2 v=$3
  wait_console "uptake: booting slot $slot" 120 && ok || { bad "$(basename "$boot_log"): U-Boot did not boot slot $slot"; show_boot; }
  grep -q "the environment store does not verify" "$boot_log" && bad "$(basename "$boot_log"): U-Boot found no store" || ok
  wait_console "uptake-boot: slot $slot runs $v" 300 && ok || { bad "$(basename "$boot_log"): slot $slot did not come up"; show_boot; }
  wait_console "report sent: qdev-main runs fw-$v" 300 && ok || { bad "$(basename "$boot_log"): no report"; show_boot; }
  local deadline=$(($(date +%s) + 60))
  while [ "$(date +%s)" -lt "$deadline" ] && [ "$(counter)" -le "$before" ]; do sleep 1; done
  [ "$(reported | cut -d' ' -f1)" = "fw-$v" ] && [ "$(counter)" -gt "$before" ] && ok ||
    bad "$(basename "$boot_log"): the server's last report: $(reported) (before the cut: counter $before)"
}
# cut_power POINT: the agent stopped at POINT: the power goes (c: the counter of
# the server's last report then)
cut_power() {
  wait_console "TEST MODE: paused at $1" 300 && ok || { bad "$(basename "$boot_log"): the agent did not stop at $1"; show_boot; }
  power_cut
  c=$(counter)
  echo "$(basename "$boot_log" .log): power cut at $1" >>"$work/times.txt"
}
wait_running() { # NAME [SECONDS]: until the server says the device runs NAME
  local deadline=$(($(date +%s) + ${2:-300}))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    [ "$(running)" = "$1" ] && return 0
    kill -0 "$qemu_pid" 2>/dev/null || return 1
    sleep 1
  done
  return 1
}
publish() { # IMAGE VERSION [publish options]: publish fw-VERSION
  local img=$1 v=$2
  shift 2
  q "$uptake" publish "$img" --dir ws --name fw --version "$v" --hardware-id board-qemu "$@"
}
assign() { # VERSION: assign fw-VERSION to the device (once it has registered)
  local deadline=$(($(date +%s) + 300))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    "$uptake" assign "fw-$1" --dir ws --hardware-id board-qemu --device qdev >/dev/null 2>err.txt &&
      return 0
    kill -0 "$qemu_pid" 2>/dev/null || break
    sleep 1
  done
  cat err.txt
  return 1
}
store() { fw_printenv -c "$work/fw_env.config" -n "$1" 2>/dev/null; }
show_boot() { echo "  --- console of $(basename "$boot_log"):"; tail -25 "$boot_log" | sed 's/^/  | /'; }

mkslot 1.0 v1.img || { echo "setup failed: slot image v1"; exit 1; }
mkslot 2.0 v2.img || exit 1
q "$uptake" publish v1.img --dir ws --name fw --version 1.0 --hardware-id board-qemu
build_disk v1.img || { echo "setup failed: the disk"; exit 1; }
publish v2.img 2.0

# --- 1. factory slot a (v1): v2 into slot b, U-Boot boots b, v2 proven;
# 4. with a power cut half-way through the image's write, and one in the
# first boot of slot b before it is committed
power_on 1 image-write
# the later images are made while the device boots
(mkslot 3.0 v3.img broken && mkslot 4.0 v4.img && mkslot 5.0 v5.img) >prebuild.log 2>&1 &
prebuild=$!
wait_console "uptake-boot: slot a runs 1.0" 300 && ok || { bad "boot 1: slot a did not come up"; show_boot; }
assign 2.0 && ok || bad "v2 not assigned"
wait_console "installing fw-2.0 into slot b" 300 && ok || { bad "boot 1: v2 not being installed"; show_boot; }
cut_power image-write
[ "$(store uptake_slot) $(store upgrade_available)" = "a 0" ] && ok ||
  bad "the store after a cut during the image's write: $(store uptake_slot) $(store upgrade_available)"
power_on 1b
came_back "$c" a 1.0
grep -q "the verified download is still here: written to slot b again" "$boot_log" && ok ||
  { bad "boot 1b: the verified download was not written again"; show_boot; }
grep -q "bootloader set to try slot b" "$boot_log" && ok || { bad "boot 1b: v2 not installed into slot b"; show_boot; }
wait_off 120 && ok || bad "boot 1b: the device did not reboot after the install"
[ "$(store uptake_slot) $(store upgrade_available) $(store bootcount)" = "b 1 0" ] && ok ||
  bad "the store after the install: $(store uptake_slot) $(store upgrade_available) $(store bootcount)"
power_on 2 commit
wait_console "uptake: trying slot b (boot 1 of 2)" 120 && ok || { bad "boot 2: U-Boot did not try slot b"; show_boot; }
wait_console "uptake-boot: slot b runs 2.0" 300 && ok || { bad "boot 2: slot b did not come up"; show_boot; }
cut_power commit
[ "$(store uptake_slot) $(store upgrade_available) $(store bootcount)" = "b 1 1" ] && ok ||
  bad "the store after a cut before the commit: $(store uptake_slot) $(store upgrade_available) $(store bootcount)"
power_on 2b
wait_console "uptake: trying slot b (boot 2 of 2)" 120 && ok || { bad "boot 2b: U-Boot did not try slot b again"; show_boot; }
wait_console "uptake-boot: slot b runs 2.0" 300 && ok || { bad "boot 2b: slot b did not come up"; show_boot; }
wait_console "slot b is good: fw-2.0 committed" 300 && ok || { bad "boot 2b: v2 not committed"; show_boot; }
wait_running fw-2.0 120 && ok || bad "the server does not show v2: $(running)"
[ "$(store uptake_slot) $(store upgrade_available)" = "b 0" ] && ok ||
  bad "the store after the commit: $(store uptake_slot) $(store upgrade_available)"

# --- 2. v3's init fails: U-Boot's count runs out (2 tries), back to slot b
wait "$prebuild" || { echo "setup failed: slot images v3 to v5"; cat prebuild.log; exit 1; }
publish v3.img 3.0
assign 3.0 && ok || bad "v3 not assigned"
wait_console "bootloader set to try slot a" 300 && ok || { bad "boot 2b: v3 not installed into slot a"; show_boot; }
wait_off 120 && ok || bad "boot 2b: no reboot after installing v3"
for n in 1 2; do
  power_on "3-$n"
  wait_console "uptake: trying slot a (boot $n of 2)" 120 && ok || { bad "boot 3-$n: U-Boot did not try slot a"; show_boot; }
  wait_console "uptake-boot: broken init of 3.0" 300 && ok || { bad "boot 3-$n: v3 not tried"; show_boot; }
  wait_off 120 && ok || bad "boot 3-$n: the failed init did not reboot"
done
power_on 4 tree-write
wait_console "uptake: slot a failed 2 boots: back to slot b" 120 && ok ||
  { bad "boot 4: U-Boot did not fall back"; show_boot; }
wait_console "uptake-boot: slot b runs 2.0" 300 && ok || { bad "boot 4: slot b did not come up"; show_boot; }
wait_console "the bootloader fell back from slot a (fw-3.0): boot count spent" 300 && ok ||
  { bad "boot 4: the agent did not see the fallback"; show_boot; }
wait_console_after "boot count spent" "report sent: qdev-main runs fw-2.0" 120 && ok ||
  bad "boot 4: no report after the fallback"
[ "$(running)" = fw-2.0 ] && ok || bad "after the fallback the server shows $(running)"
[ "$(store uptake_slot) $(store upgrade_available) $(store uptake_fell_back)" = "b 0 0" ] && ok ||
  bad "the store after the fallback: $(store uptake_slot) $(store upgrade_available) $(store uptake_fell_back)"

# --- 3. dm-verity: v4 opened through dm-verity and committed; 4. with power
# cuts half-way through its hash tree, between its write and the switch,
# and half-way through the store's write
publish v4.img 4.0 --verity
assign 4.0 && ok || bad "v4 not assigned"
wait_console "installing fw-4.0 into slot a (dm-verity)" 300 && ok || { bad "boot 4: v4 not installed"; show_boot; }
cut_power tree-write
power_on 4b switch
came_back "$c" b 2.0
grep -q "the verified download is still here: written to slot a again" "$boot_log" && ok ||
  { bad "boot 4b: the verified download was not written again"; show_boot; }
grep -q "slot a: the dm-verity hash tree matches the signed root hash" "$boot_log" && ok ||
  { bad "boot 4b: the hash tree of v4 was not checked"; show_boot; }
cut_power switch
[ "$(store uptake_slot) $(store upgrade_available) $(store uptake_verity_a)" = "b 0 " ] && ok ||
  bad "the store after a cut before the switch: $(store uptake_slot) $(store upgrade_available) $(store uptake_verity_a)"
power_on 4c saveenv
came_back "$c" b 2.0
cut_power saveenv
grep -q "TEST MODE: /dev/vdb at .*: the new store written half" "$boot_log" && ok ||
  { bad "boot 4c: the store was not written half"; show_boot; }
# the copy written half does not verify; the other one still says slot b
[ "$(store uptake_slot) $(store upgrade_available)" = "b 0" ] && ok ||
  bad "the store after a cut during its write: $(store uptake_slot) $(store upgrade_available)"
power_on 4d
came_back "$c" b 2.0
grep -q "bootloader set to try slot a" "$boot_log" && ok || { bad "boot 4d: v4 not installed"; show_boot; }
wait_off 120 && ok || bad "boot 4d: no reboot after installing v4"
signed_root=$(/usr/bin/python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["signed"]["targets"]["fw-4.0"]
print(t["custom"]["verity"]["root_hash"])' ws/metadata/targets.json)
[ "$(store uptake_verity_a | cut -d, -f1)" = "$signed_root" ] && ok ||
  bad "the store's verity root hash for slot a is not the signed one: $(store uptake_verity_a)"
power_on 5
wait_console "uptake-initramfs: slot a through dm-verity" 120 && ok || { bad "boot 5: slot a not opened through dm-verity"; show_boot; }
wait_console "slot a is good: fw-4.0 committed" 300 && ok || { bad "boot 5: v4 not committed"; show_boot; }
wait_running fw-4.0 120 && ok || bad "the server does not show v4: $(running)"
publish v5.img 5.0 --verity
assign 5.0 && ok || bad "v5 not assigned"
wait_console "bootloader set to try slot b" 300 && ok || { bad "boot 5: v5 not installed"; show_boot; }
wait_off 120 && ok || bad "boot 5: no reboot after installing v5"
# one byte of v5's data changed on the disk, in slot b (in the middle of a file
# no program reads: the health check is what finds it)
at=$(/usr/bin/python3 "$here/devimg.py" find disk.img filler-5.0 "$(slot_offset b)" $((slot_mib << 20))) &&
  /usr/bin/python3 "$here/devimg.py" flip disk.img $((at + 131072)) &&
  ok || bad "could not change slot b on the disk"
power_on 6
wait_console "uptake-initramfs: slot b through dm-verity" 120 && ok || { bad "boot 6: slot b not opened through dm-verity"; show_boot; }
wait_console "slot b failed its health checks: back to slot a (fw-4.0)" 300 && ok ||
  { bad "boot 6: the changed slot was not abandoned"; show_boot; }
grep -q "device-mapper: verity" "$boot_log" && ok || bad "boot 6: dm-verity did not report the changed block"
wait_off 120 && ok || bad "boot 6: no reboot after the failed health check"
power_on 7
wait_console "uptake-boot: slot a runs 4.0" 300 && ok || { bad "boot 7: slot a did not come back"; show_boot; }
wait_console "report sent: qdev-main runs fw-4.0" 300 && ok || bad "boot 7: no report"
[ "$(running)" = fw-4.0 ] && ok || bad "after the changed slot the server shows $(running)"
power_cut

times=$(sed 's/^/  /' "$work/times.txt")
echo "boot test: $(($(date +%s) - t0)) s in all; each power-on until its reboot:"
echo "$times"
finish
