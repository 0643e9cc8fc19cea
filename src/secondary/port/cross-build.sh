#!/usr/bin/env bash
# Cross-builds the partial-verification port for a Cortex-M3 (qemu's
# mps2-an385: 4 MiB of code memory at 0, 4 MiB of RAM at 0x20000000) with
# Debian's gcc-arm-none-eabi and picolibc, semihosting for output and the
# exit code. (-Wno-maybe-uninitialized: gcc-arm 12 at -Os flags a false
# positive in core's json.c.)
#
#   cross-build.sh --run  OUT_DIR VECTORS.c   build the attack tests, run them under qemu
#   cross-build.sh --size OUT_DIR             size of the port alone (bench/port.sh)
set -euo pipefail
mode=${1:?mode}; out=${2:?out dir}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
for tool in arm-none-eabi-gcc arm-none-eabi-size qemu-system-arm; do
  command -v "$tool" >/dev/null || { echo "cross-build: $tool missing (scripts/install-deps)" >&2; exit 1; }
done
mkdir -p "$out"
cpu=(-mcpu=cortex-m3 -mthumb)
cflags=("${cpu[@]}" -std=c11 -Os -g -ffunction-sections -fdata-sections -Wall -Wextra -Werror
  -Wshadow -Wvla -Wstrict-prototypes -Wmissing-prototypes -Wno-format
  -Wno-maybe-uninitialized
  --specs=picolibc.specs -I"$root/include" -I"$here")
ldflags=(--oslib=semihost --crt0=semihost -Wl,--gc-sections
  -Wl,--defsym=__flash=0x00000000 -Wl,--defsym=__flash_size=0x400000
  -Wl,--defsym=__ram=0x20000000 -Wl,--defsym=__ram_size=0x400000
  -Wl,--defsym=__stack_size=0x10000 -T picolibc.ld)
core=("$root"/src/core/*.c)
port=("$here"/port.c "$here"/port_crypto.c "$here"/port_ed25519.c "$here"/port_sha2.c)

case "$mode" in
--run)
  vectors=${3:?vectors.c}
  arm-none-eabi-gcc "${cflags[@]}" -I"$root/tests/port" "${core[@]}" "${port[@]}" \
    "$root/tests/port/port_attacks.c" "$vectors" "${ldflags[@]}" -o "$out/port_attacks.elf"
  arm-none-eabi-size "$out/port_attacks.elf"
  set +e
  timeout 240 qemu-system-arm -M mps2-an385 -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$out/port_attacks.elf"
  rc=$?
  set -e
  echo "cross-build: qemu mps2-an385 exit code $rc"
  exit "$rc"
  ;;
--size)
  # the port with every entry point referenced, and the same program
  # without the port: the difference is what the port costs
  arm-none-eabi-gcc "${cflags[@]}" -DWITH_PORT "${core[@]}" "${port[@]}" \
    "$root/bench/port/port_min.c" "${ldflags[@]}" -o "$out/port_min.elf"
  arm-none-eabi-gcc "${cflags[@]}" "$root/bench/port/port_min.c" "${ldflags[@]}" \
    -o "$out/port_none.elf"
  arm-none-eabi-size "$out/port_min.elf" "$out/port_none.elf"
  ;;
*) echo "cross-build: unknown mode $mode" >&2; exit 2 ;;
esac
