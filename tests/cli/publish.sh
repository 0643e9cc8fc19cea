#!/usr/bin/env bash
# uptake init and uptake publish against a real uptake-server on loopback,
# then uptake-tuf-client fetches what was published. Refusals change
# neither the server nor the workspace.
#   bash tests/cli/publish.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
trap 'stop_server; rm -rf "$work"' EXIT
cd "$work"
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

start_server || exit 1
printf '%s\n' "$token" >token
expect 2 "$uptake" init --server "$url"
expect 0 "$uptake" init --help
expect 2 "$uptake" init --server "$url" --token-file token --root-keys 2 --root-threshold 3
expect 3 "$uptake" init --server "$url" --token-file token --dir ws0 # the server's CA is not trusted
grep -q "certificate" err.txt && ok || bad "untrusted server certificate not named"
expect 0 "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws --root-keys 3 \
  --root-threshold 2
for k in root-1 root-2 root-3 targets; do
  [ "$(stat -c %a "ws/keys/$k.pem")" = 600 ] && ok || bad "ws/keys/$k.pem not 0600"
done
expect 3 "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws # exists already
grep -q "exists" err.txt && ok || bad "second init not refused by name"
expect 0 "$uptake" verify --root ws/metadata/root.json ws/metadata/root.json
grep -q "threshold\|OK" out.txt && ok || bad "verify output"

# publish two versions
head -c 120000 /dev/urandom >fw1.bin
head -c 150000 /dev/urandom >fw2.bin
expect 2 "$uptake" publish fw1.bin --dir ws --name fw # no version, no hardware id
expect 3 "$uptake" publish missing.bin --dir ws --name fw --version 1.0 --hardware-id board-a
expect 3 "$uptake" publish fw1.bin --dir nowhere --name fw --version 1.0 --hardware-id board-a
expect 0 "$uptake" publish fw1.bin --dir ws --name fw --version 1.0 --hardware-id board-a \
  --release-counter 1
expect 0 "$uptake" publish fw2.bin --dir ws --name fw --version 2.0 --hardware-id board-a \
  --hardware-id board-b --release-counter 2
expect 0 "$uptake" inspect ws/metadata/targets.json
grep -q "version: 3" out.txt && ok || bad "workspace targets not at version 3"
grep -q "fw-1.0" out.txt && grep -q "fw-2.0" out.txt && ok || bad "targets do not list both images"

# a refused upload (wrong token) leaves the workspace as it was
cp ws/metadata/targets.json before.json
echo "wrong-token-0123456789abcdef" >token
expect 3 "$uptake" publish fw1.bin --dir ws --name fw --version 3.0 --hardware-id board-a
grep -q "401" err.txt && ok || { bad "401 not reported"; cat err.txt; }
cmp -s before.json ws/metadata/targets.json && ok || bad "workspace changed after a refusal"
printf '%s\n' "$token" >token

# a device-side TUF client gets both
expect 0 "$client" --metadata-dir meta init ws/metadata/root.json
for v in 1.0 2.0; do
  expect 0 "$client" --metadata-dir meta --metadata-url "$repo_url/repo" --target-name "fw-$v" \
    --target-base-url "$repo_url/repo/targets" --target-dir out download
done
cmp -s out/fw-1.0 fw1.bin && cmp -s out/fw-2.0 fw2.bin && ok || bad "downloads differ"
expect 1 "$client" --metadata-dir meta --metadata-url "$repo_url/repo" --target-name "fw-3.0" \
  --target-base-url "$repo_url/repo/targets" --target-dir out download

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "--- server log"; tail -40 "$work/server.log"; false; }
