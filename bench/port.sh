#!/usr/bin/env bash
# bench: code size and RAM of the microcontroller port on a Cortex-M3
# (gcc-arm-none-eabi -Os, picolibc), next to libuptiny's published "about
# 10 KB" of code. Usage: bench/port.sh [BUILD_DIR] (a host build that has
# generated tests/port/port_vectors.c; default build).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bash src/secondary/port/cross-build.sh --size "$out" >"$out/size.txt"
read -r with_text with_data with_bss _ < <(awk '/port_min.elf/ {print $1, $2, $3, $4}' "$out/size.txt")
read -r none_text none_data none_bss _ < <(awk '/port_none.elf/ {print $1, $2, $3, $4}' "$out/size.txt")
echo "== code size on Cortex-M3 (-Os, --gc-sections), every entry point linked"
printf '%-44s %8s\n' "the port + libuptake core (text+rodata)" "$((with_text - none_text)) B"
printf '%-44s %8s\n' "its static data (data+bss, incl. 32 KiB arena)" "$((with_data + with_bss - none_data - none_bss)) B"
printf '%-44s %8s\n' "libuptiny (published)" "~10 KB"
echo
echo "== per object (before --gc-sections)"
for f in src/secondary/port/port.c src/secondary/port/port_crypto.c src/secondary/port/port_ed25519.c \
         src/secondary/port/port_sha2.c src/core/*.c; do
  arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb -std=c11 -Os -ffunction-sections -fdata-sections \
    --specs=picolibc.specs -Iinclude -Isrc/secondary/port -c "$f" -o "$out/o.o"
  printf '%-44s %8s\n' "$f" "$(arm-none-eabi-size "$out/o.o" | awk 'NR==2 {print $1}') B"
done
echo
echo "== RAM measured on qemu mps2-an385 (the attack tests)"
bash src/secondary/port/cross-build.sh --run "$out/run" "$build/tests/port/port_vectors.c" 2>&1 \
  | grep -E 'high-water|static RAM|checks'
