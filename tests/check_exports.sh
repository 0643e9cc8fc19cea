#!/usr/bin/env bash
# libuptake.so exports exactly the public API: every function declared with
# UPT_API in include/uptake/*.h, and nothing else (the rest is hidden by
# -fvisibility=hidden). Also checks the SONAME.
#   check_exports.sh LIBUPTAKE_SO INCLUDE_DIR
set -euo pipefail
so=$1 inc=$2
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libuptake.so.0" ] || { echo "exports: SONAME is '$soname', expected libuptake.so.0"; exit 1; }
declared=$(grep -h 'UPT_API' "$inc"/uptake/*.h | grep -v '#define' |
  grep -oE '\bupt_[A-Za-z0-9_]+ *\(' | tr -d ' (' | sort -u)
exported=$(nm -D --defined-only "$so" | awk '{print $3}' | sort -u)
[ -n "$declared" ] || { echo "exports: no UPT_API declarations found in $inc"; exit 1; }
extra=$(comm -13 <(echo "$declared") <(echo "$exported"))
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
[ -z "$extra" ] || { echo "exports: exported but not public API:"; echo "$extra"; exit 1; }
[ -z "$missing" ] || { echo "exports: public API not exported:"; echo "$missing"; exit 1; }
echo "exports: $soname exports the $(wc -l <<<"$declared") UPT_API functions and nothing else"
