#!/usr/bin/env bash
# A workspace with RSA keys (key objects longer than 512 bytes) in both
# dialects against a real uptake-server on loopback: init, publish, a
# targets rotation and a Director root rotation; a device-side TUF client
# then follows the rotated root and downloads.
#   bash tests/cli/rsa_keys.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
top=$(mktemp -d)
. "$here/../support/serverlib.sh"
trap 'stop_server; rm -rf "$top"' EXIT
cd "$top"
uptake=$build/uptake
client=$build/uptake-tuf-client

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
expect() {
  local want=$1 rc=0
  shift
  "$@" >out.txt 2>err.txt || rc=$?
  if [ "$rc" -eq "$want" ]; then ok; else
    bad "exit $rc, expected $want: $*"
    sed 's/^/  | /' out.txt err.txt | tail -5
  fi
}

printf '%s\n' "$token" >token
head -c 70000 /dev/urandom >fw.bin
for d in tuf aktualizr; do
  work=$top/server-$d
  mkdir -p "$work"
  start_server || exit 1
  ws=ws-$d
  expect 0 "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir "$ws" \
    --type rsa --dialect "$d"
  grep -q '"keytype":"\(rsa\|RSA\)"' "$ws/metadata/root.json" && ok || bad "no RSA key in the $d root"
  expect 0 "$uptake" publish fw.bin --dir "$ws" --name fw --version 1.0 --hardware-id board-a
  expect 0 "$uptake" key rotate targets --dir "$ws"
  expect 0 "$uptake" key rotate root --dir "$ws" --director
  expect 0 "$uptake" inspect "$ws/metadata/root.json"
  grep -q "version: 2" out.txt && ok || bad "$d: root not at version 2"
  if [ "$d" = tuf ]; then
    expect 0 "$client" --metadata-dir meta init "$ws/metadata/root.json"
    expect 0 "$client" --metadata-dir meta --metadata-url "$repo_url/repo" --target-name fw-1.0 \
      --target-base-url "$repo_url/repo/targets" --target-dir dl download
    cmp -s dl/fw-1.0 fw.bin && ok || bad "download differs"
  fi
  stop_server
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
