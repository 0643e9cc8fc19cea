#!/usr/bin/env bash
# Interoperability: the unmodified tuf-js client (from the npm registry)
# refreshes the Image repository served by uptake-server and downloads a
# target; it must fail on a tampered image.
#   bash tests/interop/tufjs.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
trap 'stop_server; rm -rf "$work"' EXIT

# tuf-js, installed once per build directory
js=$build/interop-tufjs
if [ ! -d "$js/node_modules/tuf-js" ]; then
  mkdir -p "$js"
  cp "$here/tufjs/package.json" "$js/"
  (cd "$js" && npm install --no-audit --no-fund --loglevel=error) || { echo "npm install failed"; exit 1; }
fi
cp "$here/tufjs/client.mjs" "$js/"

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

start_server || exit 1
head -c 200000 /dev/urandom >"$work/fw.bin"
publish_repo "$work/fw.bin" "boards/a/fw-1.0.bin" || { echo "publishing failed"; cat "$work/server.log"; exit 1; }

mkdir -p "$work/meta" "$work/out"
cp "$work/root.json" "$work/meta/root.json"
if node "$js/client.mjs" "$work/meta" "$repo_url/repo" "$work/out" "$repo_url/repo/targets" \
  boards/a/fw-1.0.bin; then ok; else bad "tuf-js could not refresh and download"; fi
found=$(find "$work/out" -type f | head -1)
[ -n "$found" ] && cmp -s "$found" "$work/fw.bin" && ok || bad "tuf-js download differs"
for r in root timestamp snapshot targets; do
  [ -f "$work/meta/$r.json" ] && ok || bad "tuf-js did not keep $r.json"
done

# tamper with the stored image (same length): tuf-js must refuse it
sha=$(sha256sum "$work/fw.bin" | cut -c1-64)
flip_byte "$work/data/images/$sha" 1000
rm -rf "$work/out" && mkdir -p "$work/out"
if node "$js/client.mjs" "$work/meta" "$repo_url/repo" "$work/out" "$repo_url/repo/targets" \
  boards/a/fw-1.0.bin 2>"$work/tufjs.err"; then
  bad "tuf-js accepted a tampered image"
else
  ok
fi
[ -z "$(find "$work/out" -type f)" ] && ok || bad "tuf-js kept a tampered file"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "--- server log"; tail -40 "$work/server.log"; false; }
