#!/usr/bin/env bash
# uptake-server against hostile clients on loopback: a flood of 2,000 idle
# connections trickling bytes from 40 addresses (known devices keep being
# served), many connections from one address (per-address limit), an
# endless chunked body (the connection is cut past the route's limit),
# device reports over their limit, a NUL or other control character in the
# path (400, nothing stored under a cut-short name), a known path with the
# wrong method (405 with Allow), and uploads cut short by a kill or an
# aborted client (nothing left in the image store).
#   bash tests/cli/server_hardening.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
flood_pid=
. "$here/../support/serverlib.sh"
trap '[ -n "$flood_pid" ] && kill $flood_pid 2>/dev/null; stop_server; rm -rf "$work"' EXIT
cd "$work"
uptake=$build/uptake
device=$build/tests/test_device
hostile=$here/../tools/hostile.py

. "$here/../support/testlib.sh"
# http STATUS METHOD PATH [curl args...]: over TLS, body in body.txt, headers in head.txt
http() {
  local want=$1 method=$2 path=$3 got
  shift 3
  got=$(curl -s --cacert "$ca" -D head.txt -o body.txt -w '%{http_code}' -X "$method" "$@" \
    "$url$path")
  if [ "$got" = "$want" ]; then ok; else
    bad "$method $path: HTTP $got, expected $want"
    head -c 300 body.txt | sed 's/^/  | /'
    echo
  fi
}
A=(-H "Authorization: Bearer $token")
DEV=(--cert dev1.crt --key dev1.key)

server_extra_conf='max_connections = 1000
max_connections_per_ip = 64
header_timeout = 3
max_metadata_bytes = 1048576'
start_server || exit 1
port=$(sed -n 1p port)
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
head -c 20000 /dev/urandom >fw1.bin
q "$uptake" publish fw1.bin --dir ws --name fw --version 1.0 --hardware-id board-a --release-counter 1
q "$uptake" device add dev-1 --dir ws --out dev1
q "$device" --dir dev --server "$url" --ca "$ca" --cert dev1.crt --key dev1.key \
  --root-director ws/metadata/director-root.json --root-image ws/metadata/root.json \
  --ecu prim-1:board-a init
http 200 GET /director/targets.json "${DEV[@]}"

# --- 405 with Allow; unknown paths 404
http 405 DELETE /api/v1/devices "${A[@]}"
grep -qi '^Allow: GET, HEAD, POST' head.txt && ok || bad "no Allow header on 405: $(cat head.txt)"
grep -q '"code":"UPT_ERR_ARG"' body.txt && ok || bad "405 not in the error shape"
http 405 PUT /director/targets.json "${DEV[@]}" -H 'Content-Type: application/json' --data-binary '{}'
grep -qi '^Allow: GET, HEAD' head.txt && ok || bad "no Allow header on a device 405"
http 404 GET /api/v1/nothing "${A[@]}"
http 404 GET /director/a/b "${DEV[@]}"

# --- control characters in the path: refused, nothing stored under "a"
http 400 PUT '/api/v1/images/a%00b' "${A[@]}" -H 'Content-Type: application/octet-stream' \
  --data-binary @fw1.bin
grep -q "control character" body.txt && ok || bad "NUL path refused without the reason"
http 404 GET /repo/targets/a
http 400 GET '/repo/root%00.json'
http 400 GET '/repo/1.root.json%0a'
http 400 GET '/api/v1/devices/dev-1%1f' "${A[@]}"
http 200 GET /api/v1/devices/dev-1 "${A[@]}"

# --- device reports are bounded (64 KiB); an oversized one is refused
/usr/bin/python3 -c 'import json; print(json.dumps({"pad": "x" * 60000}))' >small.json
/usr/bin/python3 -c 'import json; print(json.dumps({"pad": "x" * 70000}))' >big.json
http 200 PUT /system_info "${DEV[@]}" -H 'Content-Type: application/json' --data-binary @small.json
# (refused on the declared length, before the body: the client waits for
# the answer, as one sending Expect: 100-continue does, so that the server
# closing the connection on a body in flight cannot reset the answer away)
X=(-H 'Expect: 100-continue')
http 413 PUT /system_info "${DEV[@]}" "${X[@]}" -H 'Content-Type: application/json' --data-binary @big.json
http 413 POST /events "${DEV[@]}" "${X[@]}" -H 'Content-Type: application/json' --data-binary @big.json
# a body on an endpoint that takes none
http 413 POST /api/v1/repo/online-keys/rotate "${A[@]}" "${X[@]}" --data-binary @small.json

# --- an endless chunked body is cut once it passes the limit (1 MiB here)
sent=$(/usr/bin/python3 "$hostile" endless "$port" /api/v1/repo/root "$token" "$ca" 268435456)
if [ "$sent" != "not cut" ] && [ "$sent" -lt $((16 << 20)) ]; then ok; else
  bad "endless body not cut: $sent bytes sent"
fi
grep -q "body over 1048576 bytes, connection closed" server.log && ok || bad "cut body not logged"
http 200 GET /health

# --- uploads cut short leave nothing behind
/usr/bin/python3 "$hostile" abort "$port" /api/v1/images/cut.bin "$token" "$ca" 3000000
for _ in $(seq 50); do
  [ -z "$(ls -A data/images | grep '^\.upload-')" ] && break
  sleep 0.1
done
[ -z "$(ls -A data/images | grep '^\.upload-')" ] && ok || bad "an aborted upload left $(ls -A data/images)"
stop_server
head -c 1000000 /dev/zero >data/images/.upload-Kill01
start_server || exit 1
port=$(sed -n 1p port)
[ ! -e data/images/.upload-Kill01 ] && ok || bad "a killed upload's file survived a restart"
grep -q "removed 1 unfinished upload" server.log && ok || bad "start-up cleanup not logged"
http 200 GET /director/targets.json "${DEV[@]}"

# --- 2,000 idle connections from 40 addresses: devices are still served
/usr/bin/python3 "$hostile" flood "$port" 2000 40 30 flood.txt &
flood_pid=$!
sleep 8
polls=0
for i in $(seq 20); do
  got=$(curl -s --max-time 10 --cacert "$ca" "${DEV[@]}" -o /dev/null -w '%{http_code}' \
    "$url/director/targets.json")
  [ "$got" = 200 ] && polls=$((polls + 1))
  sleep 0.5
done
[ "$polls" = 20 ] && ok || bad "under the flood only $polls of 20 polls succeeded"
wait "$flood_pid"
flood_pid=
read -r _ opened _ closed _ peak <flood.txt
[ "$opened" -ge 2000 ] && ok || bad "the flood did not open its connections: $(cat flood.txt)"
# the trickling connections were cut (header timeout, shedding), not served
[ "$closed" -ge 1000 ] && ok || bad "the server did not cut idle connections: $(cat flood.txt)"
http 200 GET /director/targets.json "${DEV[@]}"

# --- one address gets at most max_connections_per_ip (64)
/usr/bin/python3 "$hostile" flood "$port" 300 1 2 flood1.txt
read -r _ opened _ closed _ peak <flood1.txt
[ "$closed" -ge 200 ] && ok || bad "per-address limit not applied: $(cat flood1.txt)"
http 200 GET /director/targets.json "${DEV[@]}"

finish
