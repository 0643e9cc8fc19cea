# uptake A/B boot with boot counting, for U-Boot (a boot script: compile it
# with `mkimage -A arm64 -T script -C none -d uptake-boot.cmd boot.scr` and
# put boot.scr where the board's distro boot finds it).
#
# uptake-agent (bootloader = uboot) and this script share one environment
# store, read and written by both, holding uptake's variables only:
#   uptake_slot=a|b uptake_prev=a|b upgrade_available=0|1 bootcount=N
#   bootlimit=N uptake_fell_back=0|1 uptake_verity_a uptake_verity_b
# The store is two copies (libubootenv's redundant format: a CRC32, a flags
# byte, the variables), each written in its turn with the flags one up, so
# that a power cut during a write leaves the other copy whole. The agent's
# /etc/fw_env.config names both, e.g. for the second virtio disk below:
#   /dev/vdb 0x0 0x20000
#   /dev/vdb 0x20000 0x20000
# While upgrade_available=1 every boot counts a try; past bootlimit the
# previous slot is booted again and uptake_fell_back=1 tells the agent.
# bootcount is written by setexpr (hexadecimal): keep bootlimit below 10.
#
# Adapt the first block to the board: where the store is (the device, the
# size of a copy, its 512-byte blocks, the block where the second copy
# starts), 3 MiB of free RAM, where the kernel and initramfs are, the
# slots' and the data partition's device names.
setenv uptake_store_dev 1
setenv uptake_store_size 0x20000
setenv uptake_store_blocks 0x100
setenv uptake_store_second 0x100
setenv uptake_addr 0x50000000
setenv uptake_boot_part "virtio 0:1"
setenv uptake_root_a /dev/vda2
setenv uptake_root_b /dev/vda3
setenv uptake_data /dev/vda4

# ---- the environment: defaults, then the newer copy of the store that
# verifies (its CRC is moved next to the variables for env import -c)
setenv uptake_slot a
setenv uptake_prev a
setenv upgrade_available 0
setenv bootcount 0
setenv bootlimit 3
setenv uptake_fell_back 0
setenv uptake_verity_a
setenv uptake_verity_b
setenv uptake_store_ok 0
setenv uptake_ok0 0
setenv uptake_ok1 0
setexpr uptake_a0 ${uptake_addr} + 0
setexpr uptake_a1 ${uptake_addr} + 0x100000
setexpr uptake_w ${uptake_addr} + 0x200000
setexpr uptake_isize ${uptake_store_size} - 1
if virtio dev ${uptake_store_dev} && virtio read ${uptake_a0} 0 ${uptake_store_blocks} && virtio read ${uptake_a1} ${uptake_store_second} ${uptake_store_blocks}; then
  setexpr uptake_p ${uptake_a0} + 4
  setexpr.b uptake_f0 *${uptake_p}
  setexpr uptake_p ${uptake_a0} + 1
  cp.b ${uptake_a0} ${uptake_w} 4
  cp.b ${uptake_w} ${uptake_p} 4
  if env import -c ${uptake_p} ${uptake_isize} uptake_probe; then
    setenv uptake_ok0 1
  fi
  setexpr uptake_p ${uptake_a1} + 4
  setexpr.b uptake_f1 *${uptake_p}
  setexpr uptake_p ${uptake_a1} + 1
  cp.b ${uptake_a1} ${uptake_w} 4
  cp.b ${uptake_w} ${uptake_p} 4
  if env import -c ${uptake_p} ${uptake_isize} uptake_probe; then
    setenv uptake_ok1 1
  fi
fi
# the copy to use: the only one that verifies, or of two the one whose
# flags are one up (modulo 256) from the other's
setenv uptake_use none
if test "${uptake_ok0}" = 1; then
  setenv uptake_use 0
fi
if test "${uptake_ok1}" = 1; then
  setenv uptake_use 1
  if test "${uptake_ok0}" = 1; then
    setexpr uptake_d ${uptake_f1} - ${uptake_f0}
    setexpr uptake_d ${uptake_d} \& 0xff
    setexpr uptake_h ${uptake_d} \& 0x80
    if test "${uptake_d}" = 0 || test "${uptake_h}" != 0; then
      setenv uptake_use 0
    fi
  fi
fi
if test "${uptake_use}" = 0; then
  setexpr uptake_p ${uptake_a0} + 1
  setenv uptake_flags ${uptake_f0}
  setenv uptake_other ${uptake_store_second}
fi
if test "${uptake_use}" = 1; then
  setexpr uptake_p ${uptake_a1} + 1
  setenv uptake_flags ${uptake_f1}
  setenv uptake_other 0
fi
if test "${uptake_use}" != none; then
  if env import -c ${uptake_p} ${uptake_isize}; then
    setenv uptake_store_ok 1
  fi
fi
if test "${uptake_store_ok}" = 0; then
  echo "uptake: the environment store does not verify: booting slot a, nothing saved"
  setenv uptake_slot a
  setenv upgrade_available 0
fi
# a value this script does not understand is not guessed at
if test "${uptake_slot}" != a && test "${uptake_slot}" != b; then
  echo "uptake: uptake_slot '${uptake_slot}' is not a or b: booting slot a, nothing saved"
  setenv uptake_slot a
  setenv upgrade_available 0
  setenv uptake_store_ok 0
fi
if test "${upgrade_available}" != 0 && test "${upgrade_available}" != 1; then
  echo "uptake: upgrade_available '${upgrade_available}' is not 0 or 1: no trial, nothing saved"
  setenv upgrade_available 0
  setenv uptake_store_ok 0
fi

# ---- boot counting: a new slot gets bootlimit tries
if test "${upgrade_available}" = 1; then
  setexpr bootcount ${bootcount} + 1
  if test ${bootcount} -gt ${bootlimit}; then
    echo "uptake: slot ${uptake_slot} failed ${bootlimit} boots: back to slot ${uptake_prev}"
    setenv uptake_abandoned ${uptake_slot}
    setenv uptake_slot ${uptake_prev}
    setenv uptake_prev ${uptake_abandoned}
    setenv uptake_abandoned
    setenv upgrade_available 0
    setenv bootcount 0
    setenv uptake_fell_back 1
  else
    echo "uptake: trying slot ${uptake_slot} (boot ${bootcount} of ${bootlimit})"
  fi
  # saved into the other copy, flags one up: a cut leaves this one
  if test "${uptake_store_ok}" = 1; then
    setexpr uptake_p ${uptake_w} + 1
    env export -c -s ${uptake_isize} ${uptake_p} uptake_slot uptake_prev upgrade_available bootcount bootlimit uptake_fell_back uptake_verity_a uptake_verity_b
    cp.b ${uptake_p} ${uptake_w} 4
    setexpr uptake_flags ${uptake_flags} + 1
    setexpr uptake_flags ${uptake_flags} \& 0xff
    setexpr uptake_p ${uptake_w} + 4
    mw.b ${uptake_p} ${uptake_flags} 1
    virtio dev ${uptake_store_dev}
    virtio write ${uptake_w} ${uptake_other} ${uptake_store_blocks}
  fi
fi

# ---- boot the chosen slot (read-only; through dm-verity when the agent
# recorded the slot's signed verity parameters)
if test "${uptake_slot}" = b; then
  setenv uptake_root ${uptake_root_b}
  setenv uptake_verity ${uptake_verity_b}
else
  setenv uptake_root ${uptake_root_a}
  setenv uptake_verity ${uptake_verity_a}
fi
echo "uptake: booting slot ${uptake_slot}"
setenv bootargs "console=ttyAMA0 panic=1 quiet uptake.slot=${uptake_slot} uptake.root=${uptake_root} uptake.data=${uptake_data} uptake.verity=${uptake_verity}"
load ${uptake_boot_part} ${kernel_addr_r} Image
load ${uptake_boot_part} ${ramdisk_addr_r} initrd.img
booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdtcontroladdr}
