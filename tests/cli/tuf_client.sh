#!/usr/bin/env bash
# uptake-tuf-client against a TUF repository served over HTTP on loopback
# (made with the uptake CLI, served by Python's http.server): init,
# refresh, download, cached re-download (no second request), root
# rotation, and rejections: a tampered and an oversized artifact, a
# tampered timestamp, a bad trusted root, usage errors.
#   bash tests/cli/tuf_client.sh BUILD_DIR
set -uo pipefail
build=$(cd "$1" && pwd)
uptake=$build/uptake
client=$build/uptake-tuf-client
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
expect() {
  local want=$1 rc=0
  shift
  "$@" >out.txt 2>err.txt || rc=$?
  if [ "$rc" -eq "$want" ]; then ok; else
    bad "exit $rc, expected $want: $*"
    sed 's/^/  | /' out.txt err.txt
  fi
}
q() { "$@" >/dev/null 2>&1 || { echo "setup failed: $*"; exit 1; }; }

# --- a repository: consistent snapshots, one target in a sub-directory
mkdir -p keys repo/metadata repo/targets/path/to
for r in root root2 targets snapshot timestamp; do q "$uptake" key generate --out "keys/$r"; done
q "$uptake" metadata root --root-key keys/root.pub.json --targets-key keys/targets.pub.json \
  --snapshot-key keys/snapshot.pub.json --timestamp-key keys/timestamp.pub.json \
  --consistent-snapshot --out root.unsigned.json
q "$uptake" sign --key keys/root.pem --out root.json root.unsigned.json
head -c 50000 /dev/urandom >file.bin
q "$uptake" metadata targets --target "path/to/file.bin=file.bin" --out targets.unsigned.json
q "$uptake" sign --key keys/targets.pem --out targets.json targets.unsigned.json
q "$uptake" metadata snapshot --meta targets.json --out snapshot.unsigned.json
q "$uptake" sign --key keys/snapshot.pem --out snapshot.json snapshot.unsigned.json
q "$uptake" metadata timestamp --meta snapshot.json --out timestamp.unsigned.json
q "$uptake" sign --key keys/timestamp.pem --out timestamp.json timestamp.unsigned.json
cp root.json repo/metadata/1.root.json
cp targets.json repo/metadata/1.targets.json
cp snapshot.json repo/metadata/1.snapshot.json
cp timestamp.json repo/metadata/timestamp.json
sha=$(sha256sum file.bin | cut -c1-64)
cp file.bin "repo/targets/path/to/$sha.file.bin"

# --- serve it on loopback
/usr/bin/python3 -u -m http.server 0 --bind 127.0.0.1 --directory repo >server.out 2>server.log &
server_pid=$!
port=
for _ in $(seq 100); do
  port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' server.out | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "http server did not start"; cat server.log; exit 1; }
url=http://127.0.0.1:$port
M=(--metadata-dir meta --metadata-url "$url/metadata")
D=(--target-name path/to/file.bin --target-base-url "$url/targets/" --target-dir out)

# --- init, refresh
expect 2 "$client"
expect 0 "$client" --help
expect 1 "$client" --metadata-dir badmeta init timestamp.json # not a root
[ ! -e badmeta/root.json ] && ok || bad "a bad root was trusted"
expect 0 "$client" --metadata-dir meta init root.json
cmp -s meta/root.json root.json && ok || bad "init did not keep root.json"
expect 0 "$client" "${M[@]}" refresh
for r in root timestamp snapshot targets; do [ -f "meta/$r.json" ] && ok || bad "meta/$r.json missing"; done
ls meta | grep -v '\.json$' && bad "stray files in the metadata dir" || ok

# --- download, then again from the cache
expect 0 "$client" "${M[@]}" "${D[@]}" download
f=out/path%2Fto%2Ffile.bin
cmp -s "$f" file.bin && ok || bad "downloaded file differs"
n1=$(grep -c "GET /targets/" server.log)
expect 0 "$client" "${M[@]}" "${D[@]}" download
n2=$(grep -c "GET /targets/" server.log)
[ "$n1" -eq 1 ] && [ "$n2" -eq 1 ] && ok || bad "artifact fetched $n1 then $n2 times"

# --- a tampered artifact (same length) is refused and not kept
rm -f "$f"
cp file.bin tampered.bin
/usr/bin/python3 -c 'import sys; b = bytearray(open("tampered.bin", "rb").read()); b[100] ^= 1; open("tampered.bin", "wb").write(b)'
cp tampered.bin "repo/targets/path/to/$sha.file.bin"
expect 1 "$client" "${M[@]}" "${D[@]}" download
grep -q "UPT_ERR_HASH_MISMATCH" err.txt && ok || bad "no hash mismatch reported"
[ -z "$(ls -A out)" ] && ok || bad "target dir not empty after a rejected download: $(ls -A out)"

# --- an oversized artifact (endless data) is cut at the trusted length
cat file.bin file.bin >"repo/targets/path/to/$sha.file.bin"
expect 1 "$client" "${M[@]}" "${D[@]}" download
grep -q "UPT_ERR_TOO_LARGE" err.txt && ok || bad "no endless-data error"
[ -z "$(ls -A out)" ] && ok || bad "target dir not empty after endless data"
cp file.bin "repo/targets/path/to/$sha.file.bin"

# --- an unknown target
expect 1 "$client" "${M[@]}" --target-name nothing --target-base-url "$url/targets/" \
  --target-dir out download
grep -q "UPT_ERR_NOT_FOUND" err.txt && ok || bad "unknown target not reported"

# --- a tampered timestamp is refused; the trusted one stays
cp meta/timestamp.json ts.before
sed 's/"version":1/"version":7/' timestamp.json >repo/metadata/timestamp.json
expect 1 "$client" "${M[@]}" refresh
grep -q "UPT_ERR_THRESHOLD" err.txt && ok || bad "tampered timestamp not refused for its signature"
cmp -s meta/timestamp.json ts.before && ok || bad "trusted timestamp changed"
cp timestamp.json repo/metadata/timestamp.json

# --- root rotation: 2.root.json signed by the old and the new root key
q "$uptake" metadata root --root-key keys/root2.pub.json --targets-key keys/targets.pub.json \
  --snapshot-key keys/snapshot.pub.json --timestamp-key keys/timestamp.pub.json \
  --consistent-snapshot --version 2 --out root2.unsigned.json
q "$uptake" sign --key keys/root2.pem --out root2.half.json root2.unsigned.json
cp root2.half.json repo/metadata/2.root.json
expect 1 "$client" "${M[@]}" refresh # not signed by the trusted root
cmp -s meta/root.json root.json && ok || bad "a root not signed by the old one was trusted"
q "$uptake" sign --key keys/root.pem --out root2.json root2.half.json
cp root2.json repo/metadata/2.root.json
expect 0 "$client" "${M[@]}" refresh
cmp -s meta/root.json root2.json && ok || bad "the rotated root was not kept"
expect 0 "$client" "${M[@]}" "${D[@]}" download
cmp -s "$f" file.bin && ok || bad "download after rotation"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
