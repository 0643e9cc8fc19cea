#!/usr/bin/env bash
# Fails when libuptake core's objects reference anything beyond the few
# freestanding string functions: core must stay free of heap, stdio, clocks
# and sockets so the same code runs on a microcontroller.
set -euo pipefail
allowed='^(memcpy|memmove|memset|memcmp|memchr|strlen|strcmp|strncmp|strchr|__stack_chk_fail|__stack_chk_guard|__asan_.*|__ubsan_.*|__sanitizer_.*|__tsan_.*|_GLOBAL_OFFSET_TABLE_)$'
bad=0
[ "$#" -gt 0 ] || { echo "core_symbols: no objects given"; exit 1; }
defined=$(nm --defined-only "$@" 2>/dev/null | awk 'NF==3 {print $3}' | sort -u)
for obj in "$@"; do
  while read -r sym; do
    [ -z "$sym" ] && continue
    grep -qxF "$sym" <<<"$defined" && continue
    if ! [[ "$sym" =~ $allowed ]]; then
      echo "core_symbols: $(basename "$obj") references $sym"
      bad=1
    fi
  done < <(nm -u "$obj" | awk '{print $2}')
done
if [ "$bad" -ne 0 ]; then
  echo "core_symbols: FAILED"
  exit 1
fi
echo "core_symbols: $# objects, only freestanding symbols referenced"
