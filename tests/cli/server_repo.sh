#!/usr/bin/env bash
# uptake-server's Image repository on loopback: online keys, an
# offline-signed root and targets uploaded with the admin API, an image
# upload, then uptake-tuf-client refreshes and downloads from the server.
# Bad input gets a precise 4xx with a JSON error, and changes nothing.
#   bash tests/cli/server_repo.sh BUILD_DIR
set -uo pipefail
build=$(cd "$1" && pwd)
uptake=$build/uptake
server=$build/uptake-server
client=$build/uptake-tuf-client
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
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
    sed 's/^/  | /' out.txt err.txt | tail -5
  fi
}
q() { "$@" >/dev/null 2>&1 || { echo "setup failed: $*"; exit 1; }; }
token=test-admin-token-0123456789
# http STATUS METHOD PATH [curl args...]: checks the status code
http() {
  local want=$1 method=$2 path=$3 got
  shift 3
  got=$(curl -s --cacert "$work/data/tls/ca.pem" -o body.txt -w '%{http_code}' -X "$method" "$@" "$url$path")
  if [ "$got" = "$want" ]; then ok; else
    bad "$method $path: HTTP $got, expected $want"
    head -c 300 body.txt | sed 's/^/  | /'
    echo
  fi
}
A=(-H "Authorization: Bearer $token")
J=(-H "Content-Type: application/json")
O=(-H "Content-Type: application/octet-stream")

# --- configuration errors
printf 'database = %s/db\ndata_dir = %s/data\nport = 0\nadmin_token = %s\ncolour = blue\n' \
  "$work" "$work" "$token" >bad.conf
expect 1 "$server" --config bad.conf
grep -q "unknown key 'colour'" err.txt && ok || bad "unknown config key not named"
expect 2 "$server"
expect 0 "$server" --help

# --- start
printf 'database = %s/db\ndata_dir = %s/data\nport = 0\nrepo_http_port = 0\nadmin_token = %s\nlog_level = info\n' \
  "$work" "$work" "$token" >server.conf
"$server" --config server.conf --port-file port 2>server.log &
pid=$!
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || { echo "server did not start"; cat server.log; exit 1; }
url=https://127.0.0.1:$(sed -n 1p port)
rurl=http://127.0.0.1:$(sed -n 2p port)

# --- TLS: the server's CA vouches for it; device endpoints need a device certificate
[ -f data/tls/ca.pem ] && [ "$(stat -c %a data/tls/ca.key)" = 600 ] && ok || bad "no CA or key not 0600"
curl -s -o /dev/null "$url/health" && bad "an untrusted certificate was accepted" || ok
http 401 GET /director/root.json
grep -q "device certificate" body.txt && ok || bad "no reason for a missing client certificate"
got=$(curl -s -o body.txt -w '%{http_code}' "$rurl/api/v1/repo/online-keys")
[ "$got" = 404 ] && ok || bad "admin API on the plain port: HTTP $got"

http 200 GET /health
http 401 GET /api/v1/repo/online-keys
http 401 GET /api/v1/repo/online-keys -H "Authorization: Bearer wrong-token-0123456789"
http 200 GET /api/v1/repo/online-keys "${A[@]}"
/usr/bin/python3 -c '
import json, sys
k = json.load(open("body.txt"))
for r in ("snapshot", "timestamp"):
    json.dump(k[r], open("online-%s.pub.json" % r, "w"))
'
http 404 GET /repo/root.json

# --- offline keys and root (the online keys from the server)
for r in root root2 targets; do q "$uptake" key generate --out "$r"; done
q "$uptake" metadata root --root-key root.pub.json --targets-key targets.pub.json \
  --snapshot-key online-snapshot.pub.json --timestamp-key online-timestamp.pub.json \
  --consistent-snapshot --out root.unsigned.json
q "$uptake" sign --key root.pem --out root.json root.unsigned.json
# a root that does not list the server's online keys is refused
q "$uptake" metadata root --root-key root.pub.json --targets-key targets.pub.json \
  --snapshot-key targets.pub.json --timestamp-key targets.pub.json --out other.unsigned.json
q "$uptake" sign --key root.pem --out other.json other.unsigned.json
http 400 PUT /api/v1/repo/root "${A[@]}" "${J[@]}" --data-binary @other.json
grep -q "online snapshot key" body.txt && ok || bad "no reason given for a root without online keys"
http 415 PUT /api/v1/repo/root "${A[@]}" "${O[@]}" --data-binary @root.json
http 400 PUT /api/v1/repo/root "${A[@]}" "${J[@]}" --data-binary '{"signed":'
grep -q "UPT_ERR_JSON_SYNTAX" body.txt && ok || bad "malformed JSON not named"
http 200 PUT /api/v1/repo/root "${A[@]}" "${J[@]}" --data-binary @root.json
http 409 PUT /api/v1/repo/root "${A[@]}" "${J[@]}" --data-binary @root.json
http 200 GET /repo/1.root.json
cmp -s body.txt root.json && ok || bad "served root differs from the uploaded one"

# --- an image, then targets
head -c 300000 /dev/urandom >fw.bin
q "$uptake" metadata targets --target "boards/a/fw-1.0.bin=fw.bin,hwid=board-a,release-counter=1" \
  --out targets.unsigned.json
q "$uptake" sign --key targets.pem --out targets.json targets.unsigned.json
http 409 PUT /api/v1/repo/metadata/targets "${A[@]}" "${J[@]}" --data-binary @targets.json
grep -q "upload the image first" body.txt && ok || bad "missing image not named"
http 400 PUT /api/v1/images/../../etc/passwd "${A[@]}" "${O[@]}" --data-binary @fw.bin --path-as-is
http 415 PUT /api/v1/images/boards/a/fw-1.0.bin "${A[@]}" "${J[@]}" --data-binary @fw.bin
http 200 PUT /api/v1/images/boards/a/fw-1.0.bin "${A[@]}" "${O[@]}" --data-binary @fw.bin
grep -q "$(sha256sum fw.bin | cut -c1-64)" body.txt && ok || bad "upload did not report the sha256"
q "$uptake" sign --key root2.pem --out targets.wrong.json targets.unsigned.json
http 400 PUT /api/v1/repo/metadata/targets "${A[@]}" "${J[@]}" --data-binary @targets.wrong.json
grep -q "UPT_ERR_THRESHOLD" body.txt && ok || bad "wrongly signed targets not refused for the threshold"
q "$uptake" metadata targets --target "boards/a/fw-1.0.bin=fw.bin" --expires 2020-01-01T00:00:00Z \
  --out old.unsigned.json
q "$uptake" sign --key targets.pem --out old.json old.unsigned.json
http 400 PUT /api/v1/repo/metadata/targets "${A[@]}" "${J[@]}" --data-binary @old.json
grep -q "UPT_ERR_EXPIRED" body.txt && ok || bad "expired targets not refused as expired"
http 200 PUT /api/v1/repo/metadata/targets "${A[@]}" "${J[@]}" --data-binary @targets.json
http 409 PUT /api/v1/repo/metadata/targets "${A[@]}" "${J[@]}" --data-binary @targets.json
http 400 PUT /api/v1/repo/metadata/nobody "${A[@]}" "${J[@]}" --data-binary @targets.json
head -c 9000000 /dev/zero >huge.json
http 413 PUT /api/v1/repo/metadata/targets "${A[@]}" "${J[@]}" --data-binary @huge.json
http 200 GET /repo/timestamp.json
http 200 GET /repo/1.snapshot.json
http 200 GET /repo/1.targets.json
cmp -s body.txt targets.json && ok || bad "served targets differ (nothing may change on refused uploads)"

# --- images: Range and ETag
sha=$(sha256sum fw.bin | cut -c1-64)
http 200 GET "/repo/targets/boards/a/$sha.fw-1.0.bin"
cmp -s body.txt fw.bin && ok || bad "image differs"
http 206 GET /repo/targets/boards/a/fw-1.0.bin -H "Range: bytes=100-199"
[ "$(stat -c %s body.txt)" = 100 ] && cmp -s body.txt <(tail -c +101 fw.bin | head -c 100) && ok ||
  bad "range content"
http 416 GET /repo/targets/boards/a/fw-1.0.bin -H "Range: bytes=999999-"
http 304 GET /repo/targets/boards/a/fw-1.0.bin -H "If-None-Match: \"$sha\""
http 404 GET "/repo/targets/boards/a/$(printf '0%.0s' $(seq 64)).fw-1.0.bin"

# --- an unmodified TUF client workflow against the server
expect 0 "$client" --metadata-dir meta init root.json
expect 0 "$client" --metadata-dir meta --metadata-url "$rurl/repo" refresh
expect 0 "$client" --metadata-dir meta --metadata-url "$rurl/repo" --target-name boards/a/fw-1.0.bin \
  --target-base-url "$rurl/repo/targets" --target-dir out download
cmp -s out/boards%2Fa%2Ffw-1.0.bin fw.bin && ok || bad "client download differs"

# --- root rotation through the server, then the client follows it
q "$uptake" metadata root --root-key root2.pub.json --targets-key targets.pub.json \
  --snapshot-key online-snapshot.pub.json --timestamp-key online-timestamp.pub.json \
  --consistent-snapshot --version 2 --out root2.unsigned.json
q "$uptake" sign --key root2.pem --out root2.half.json root2.unsigned.json
http 400 PUT /api/v1/repo/root "${A[@]}" "${J[@]}" --data-binary @root2.half.json
q "$uptake" sign --key root.pem --out root2.json root2.half.json
http 200 PUT /api/v1/repo/root "${A[@]}" "${J[@]}" --data-binary @root2.json
expect 0 "$client" --metadata-dir meta --metadata-url "$rurl/repo" refresh
cmp -s meta/root.json root2.json && ok || bad "client did not follow the rotation"

# --- the server kept serving through all of it, and stops cleanly
http 200 GET /health
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" -eq 0 ] && ok || bad "server exit $rc after SIGTERM"
grep -q "stopping" server.log && ok || bad "no stop in the log"
grep -q "401" server.log && ok || bad "refused requests not logged"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
