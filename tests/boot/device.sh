# The emulated arm64 device of the boot test, built from Debian's packages
# (nothing binary is kept in the repository). Sourced by tests/boot/boot.sh
# with $here, $repo, $build, $work set.
#
#   disk.img (virtio 0, /dev/vda), MBR:
#     1  boot, ext2: Image (linux-image-arm64), initrd.img, boot.scr
#        (dist/uptake-boot.cmd compiled with mkimage)
#     2  slot a  } a squashfs image each: busybox-static, the cross-built
#     3  slot b  } uptake-agent and its libraries, its configuration, init
#     4  data, ext4: the device's credentials, roots and state_dir
#   env.img (virtio 1, /dev/vdb): the environment store of the boot script
#     and the agent, two copies of 128 KiB (libubootenv's redundant
#     format). Not in the second pflash: U-Boot 2023.01 cannot write QEMU
#     7.2's pflash, and the Debian kernel has no CFI flash driver (see
#     docs/agent.md, "The environment store").
#   U-Boot: u-boot-qemu's qemu_arm64/u-boot.bin as the firmware.

uboot_bin=/usr/lib/u-boot/qemu_arm64/u-boot.bin
boot_mib=48 slot_mib=24 data_mib=16

need_tools() {
  local t missing=()
  for t in qemu-system-aarch64 mkimage mkenvimage fw_printenv mksquashfs mke2fs veritysetup \
    aarch64-linux-gnu-gcc aarch64-linux-gnu-readelf aarch64-linux-gnu-strip dpkg-deb apt-get; do
    command -v "$t" >/dev/null || missing+=("$t")
  done
  [ -r "$uboot_bin" ] || missing+=("$uboot_bin (u-boot-qemu)")
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "boot test: missing ${missing[*]} (scripts/install-deps)"
  return 1
}

# The arm64 packages: from UPTAKE_BOOT_DEBS (scripts/install-deps fills
# /var/cache/uptake/boot-debs), else fetched into the build directory.
unpack_debs() {
  local debs=${UPTAKE_BOOT_DEBS:-/var/cache/uptake/boot-debs} d
  ls "$debs"/linux-image-*_arm64.deb >/dev/null 2>&1 || {
    debs=$build/boot-debs
    "$here/fetch-debs" "$debs" >/dev/null || return 1
  }
  pkgs=$build/boot-pkgs
  for d in "$debs"/linux-image-*_arm64.deb "$debs"/busybox-static_*_arm64.deb; do
    [ -e "$pkgs/$(basename "$d").done" ] && continue
    mkdir -p "$pkgs/root"
    dpkg-deb -x "$d" "$pkgs/root" && touch "$pkgs/$(basename "$d").done" || return 1
  done
  kimage=$(ls "$pkgs"/root/boot/vmlinuz-*-arm64 | tail -1)
  kmods=$pkgs/root/lib/modules/${kimage##*/vmlinuz-}
  busybox=$pkgs/root/bin/busybox
  [ -s "$kimage" ] && [ -d "$kmods" ] && [ -x "$busybox" ]
}

# uptake-agent for arm64 (cmake/toolchain-arm64.cmake), kept in the build
# directory between runs.
cross_agent() {
  local dir=$build/boot-arm64
  cmake -S "$repo" -B "$dir" -DUPTAKE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DUPTAKE_SERVER=OFF -DUPTAKE_CLI=OFF \
    -DCMAKE_TOOLCHAIN_FILE="$repo/cmake/toolchain-arm64.cmake" >"$work/cross.log" 2>&1 &&
    cmake --build "$dir" -j2 --target uptake_agent >>"$work/cross.log" 2>&1 ||
    { tail -20 "$work/cross.log"; return 1; }
  agent_arm64=$dir/uptake-agent
  aarch64-linux-gnu-gcc -static -Os -o "$work/dm-verity-open" "$here/dm-verity-open.c"
}

busybox_into() { # DIR: busybox and the applets the scripts use
  local a
  mkdir -p "$1/bin"
  cp "$busybox" "$1/bin/busybox"
  for a in sh mount umount insmod switch_root reboot sleep cat seq ln mkdir ip dd sed sync \
    echo test '[' grep true; do
    ln -sf busybox "$1/bin/$a"
  done
}

# The kernel's modules the device needs, dependencies first.
modules_into() { # DIR
  local m
  /usr/bin/python3 "$here/devimg.py" modules "$kmods" virtio_pci virtio_blk virtio_net \
    squashfs crc32c_generic ext4 dm_verity qemu_fw_cfg >"$1/modules.list" || return 1
  while read -r m; do
    mkdir -p "$1/lib/modules/$(dirname "$m")"
    cp "$kmods/$m" "$1/lib/modules/$m"
  done <"$1/modules.list"
}

build_boot_partition() {
  local r=$work/initramfs b=$work/bootfs
  rm -rf "$r" "$b"
  mkdir -p "$r"/{proc,sys,dev,newroot} "$b"
  busybox_into "$r"
  modules_into "$r" || return 1
  cp "$work/dm-verity-open" "$r/bin/"
  cp "$here/initramfs-init" "$r/init"
  /usr/bin/python3 "$here/devimg.py" cpio "$r" "$b/initrd.img" || return 1
  cp "$kimage" "$b/Image"
  mkimage -A arm64 -T script -C none -n uptake -d "$repo/dist/uptake-boot.cmd" "$b/boot.scr" \
    >/dev/null || return 1
  rm -f "$work/boot.part"
  mke2fs -q -t ext2 -d "$b" "$work/boot.part" "${boot_mib}M" >/dev/null
}

# A slot image: mkslot VERSION OUT [broken]. Each holds a random file of
# its own (so two versions never share a hash).
mkslot() {
  local v=$1 out=$2 r=$work/slot-$1 lib
  rm -rf "$r" "$out"
  mkdir -p "$r"/{proc,sys,dev,tmp,data,etc/uptake/health.d,usr/share/uptake,lib/aarch64-linux-gnu}
  busybox_into "$r"
  aarch64-linux-gnu-strip -o "$r/bin/uptake-agent" "$agent_arm64"
  /usr/bin/python3 "$here/devimg.py" libs /usr/lib/aarch64-linux-gnu /lib/aarch64-linux-gnu \
    -- "$agent_arm64" >"$work/libs.txt" || return 1
  while read -r lib path; do
    if [ "$lib" = ld-linux-aarch64.so.1 ]; then cp "$path" "$r/lib/$lib"
    else cp "$path" "$r/lib/aarch64-linux-gnu/$lib"; fi
  done <"$work/libs.txt"
  mkdir -p "$r/sbin"
  if [ "${3:-}" = broken ]; then cp "$here/broken-init" "$r/sbin/init"
  else cp "$here/slot-init" "$r/sbin/init"; fi
  cp "$here/health-read-slot" "$r/etc/uptake/health.d/10-read-slot"
  printf '%s\n' "$v" >"$r/etc/uptake/version"
  printf '/dev/vdb 0x0 0x20000\n/dev/vdb 0x20000 0x20000\n' >"$r/etc/fw_env.config"
  cat >"$r/etc/uptake/agent.conf" <<CONF
server = https://10.0.2.2:$port
ca = /data/uptake/ca.pem
cert = /data/uptake/device.crt
key = /data/uptake/device.key
state_dir = /data/uptake/state
director_root = /data/uptake/director-root.json
image_root = /data/uptake/root.json
primary_serial = qdev-main
hardware_id = board-qemu
install = ab
slot_a = /dev/vda2
slot_b = /dev/vda3
bootloader = uboot
uboot_config = /etc/fw_env.config
boot_limit = 2
health_dir = /etc/uptake/health.d
health_timeout = 120
interval = 5
jitter = 0
${slot_conf_extra:-}
CONF
  head -c 262144 /dev/urandom >"$r/usr/share/uptake/filler"
  cp "$r/usr/share/uptake/filler" "$work/filler-$v"
  mksquashfs "$r" "$out" -comp xz -all-root -noappend -quiet -no-progress >/dev/null
}

# The factory state: slot a holds v1 (and its record), the data partition
# the device's credentials and roots, the store says slot a.
build_disk() { # V1-IMAGE
  local d=$work/datafs len sha
  rm -rf "$d"
  mkdir -p "$d/uptake/state"
  cp "$work/dev.crt" "$d/uptake/device.crt"
  cp "$work/dev.key" "$d/uptake/device.key"
  cp "$work/dev-ca.crt" "$d/uptake/ca.pem"
  cp "$work/ws/metadata/director-root.json" "$d/uptake/director-root.json"
  cp "$work/ws/metadata/root.json" "$d/uptake/root.json"
  len=$(stat -c %s "$1")
  sha=$(sha256sum "$1" | cut -c1-64)
  printf 'fw-1.0 %s %s\n' "$len" "$sha" >"$d/uptake/state/slot-a.info"
  rm -f "$work/data.part"
  mke2fs -q -t ext4 -d "$d" "$work/data.part" "${data_mib}M" >/dev/null || return 1
  truncate -s "${slot_mib}M" "$work/empty.part"
  /usr/bin/python3 "$here/devimg.py" disk "$work/disk.img" "$work/boot.part:$boot_mib" \
    "$1:$slot_mib" "$work/empty.part:$slot_mib" "$work/data.part:$data_mib" >"$work/layout.txt" ||
    return 1
  printf 'uptake_slot=a\nuptake_prev=a\nupgrade_available=0\nbootcount=0\nbootlimit=2\nuptake_fell_back=0\n' \
    >"$work/env.txt"
  # the first copy (flags 1); the second is empty until the first write
  mkenvimage -r -s 0x20000 -o "$work/env.img" "$work/env.txt" && truncate -s 1M "$work/env.img"
  printf '%s 0x0 0x20000\n%s 0x20000 0x20000\n' "$work/env.img" "$work/env.img" >"$work/fw_env.config"
}

slot_offset() { # a|b: the slot's byte offset in disk.img
  sed -n "$([ "$1" = a ] && echo 2 || echo 3)p" "$work/layout.txt" | cut -d' ' -f2
}

# ---- power-on -----------------------------------------------------------
qemu_pid=
# power_on N [POINT]: the device starts (console in boot-N.log) and runs
# until it reboots or powers off (QEMU exits: -no-reboot) or is cut off.
# POINT (QEMU's fw_cfg opt/uptake/pause, read by the slot's init) makes
# the agent stop there for a power cut (UPTAKE_AGENT_TEST_PAUSE).
power_on() {
  local pause=()
  [ -z "${2:-}" ] || pause=(-fw_cfg "name=opt/uptake/pause,string=$2")
  boot_log=$work/boot-$1.log
  : >"$boot_log"
  boot_started=$(date +%s)
  qemu-system-aarch64 -M virt -cpu cortex-a57 -m 512 -smp 1 -display none -monitor none \
    -no-reboot -serial "file:$boot_log" -bios "$uboot_bin" "${pause[@]}" \
    -drive if=none,id=disk,format=raw,file="$work/disk.img" -device virtio-blk-pci,drive=disk \
    -drive if=none,id=env,format=raw,file="$work/env.img" -device virtio-blk-pci,drive=env \
    -netdev user,id=net -device virtio-net-pci,netdev=net,romfile= 2>>"$work/qemu.err" &
  qemu_pid=$!
}
# wait_console TEXT [SECONDS]: until the console shows TEXT (1 if QEMU
# exits or the deadline passes first)
wait_console() {
  local deadline=$(($(date +%s) + ${2:-300}))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if grep -qF -- "$1" "$boot_log"; then
      echo "$(basename "$boot_log" .log): '$1' after $(($(date +%s) - boot_started)) s" >>"$work/times.txt"
      return 0
    fi
    kill -0 "$qemu_pid" 2>/dev/null || { grep -qF -- "$1" "$boot_log"; return; }
    sleep 0.5
  done
  return 1
}
# wait_console_after FIRST TEXT [SECONDS]: until TEXT is on the console
# after the line that holds FIRST
wait_console_after() {
  local deadline=$(($(date +%s) + ${3:-300}))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    awk -v a="$1" -v b="$2" 'index($0, a) { seen = 1; next } seen && index($0, b) { f = 1 } END { exit !f }' \
      "$boot_log" && return 0
    kill -0 "$qemu_pid" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}
# wait_off [SECONDS]: until the device has rebooted (QEMU exited)
wait_off() {
  local deadline=$(($(date +%s) + ${1:-300}))
  while kill -0 "$qemu_pid" 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || { power_cut; return 1; }
    sleep 0.5
  done
  wait "$qemu_pid" 2>/dev/null
  qemu_pid=
  echo "$(basename "$boot_log" .log): off after $(($(date +%s) - boot_started)) s" >>"$work/times.txt"
  return 0
}
power_cut() {
  [ -n "$qemu_pid" ] || return 0
  kill -9 "$qemu_pid" 2>/dev/null
  wait "$qemu_pid" 2>/dev/null
  qemu_pid=
}
