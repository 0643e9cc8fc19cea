# uptake A/B boot with boot counting, for U-Boot (a boot script: compile it
# with `mkimage -A arm64 -T script -C none -d uptake-boot.cmd boot.scr` and
# put boot.scr where the board's distro boot finds it).
#
# uptake-agent (bootloader = uboot) and this script share one environment
# store, read and written by both (libubootenv's format: a CRC32 and the
# variables, no redundant copy), holding uptake's variables only:
#   uptake_slot=a|b uptake_prev=a|b upgrade_available=0|1 bootcount=N
#   bootlimit=N uptake_fell_back=0|1 uptake_verity_a uptake_verity_b
# The agent's /etc/fw_env.config names the same store, e.g. for the
# second virtio disk below: `/dev/vdb 0x0 0x20000`.
# While upgrade_available=1 every boot counts a try; past bootlimit the
# previous slot is booted again and uptake_fell_back=1 tells the agent.
# bootcount is written by setexpr (hexadecimal): keep bootlimit below 10.
#
# Adapt the first block to the board: where the store is, where the kernel
# and initramfs are, the slots' and the data partition's device names.
setenv uptake_store_dev 1
setenv uptake_store_size 0x20000
setenv uptake_store_blocks 0x100
setenv uptake_addr 0x50000000
setenv uptake_boot_part "virtio 0:1"
setenv uptake_root_a /dev/vda2
setenv uptake_root_b /dev/vda3
setenv uptake_data /dev/vda4

# ---- the environment: defaults, then the store (checked by its CRC)
setenv uptake_slot a
setenv uptake_prev a
setenv upgrade_available 0
setenv bootcount 0
setenv bootlimit 3
setenv uptake_fell_back 0
setenv uptake_verity_a
setenv uptake_verity_b
setenv uptake_store_ok 0
if virtio dev ${uptake_store_dev} && virtio read ${uptake_addr} 0 ${uptake_store_blocks}; then
  if env import -c ${uptake_addr} ${uptake_store_size}; then
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
  echo "uptake: uptake_slot '${uptake_slot}' is not a or b: booting slot a"
  setenv uptake_slot a
  setenv upgrade_available 0
  setenv uptake_store_ok 0
fi
if test "${upgrade_available}" != 0 && test "${upgrade_available}" != 1; then
  echo "uptake: upgrade_available '${upgrade_available}' is not 0 or 1: no trial"
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
  if test "${uptake_store_ok}" = 1; then
    env export -c -s ${uptake_store_size} ${uptake_addr} uptake_slot uptake_prev upgrade_available bootcount bootlimit uptake_fell_back uptake_verity_a uptake_verity_b
    virtio dev ${uptake_store_dev}
    virtio write ${uptake_addr} 0 ${uptake_store_blocks}
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
