# uptake tests: start an uptake-server on loopback and publish a signed
# Image repository with the CLI. Source it; it needs $build and $work and
# defines $url (HTTPS), $repo_url (the public Image repository over plain
# HTTP), $ca (the server's CA), $token, $server_pid and these functions.
token=test-admin-token-0123456789
server_pid=

# start_server: a fresh server with its database and images in $work (or the
# database in $UPTAKE_TEST_DATABASE, e.g. a PostgreSQL URI); more
# configuration lines may come in $server_extra_conf
start_server() {
  printf 'database = %s\ndata_dir = %s/data\nport = 0\nrepo_http_port = 0\nadmin_token = %s\n' \
    "${UPTAKE_TEST_DATABASE:-$work/db}" "$work" "$token" >"$work/server.conf"
  [ -n "${server_extra_conf:-}" ] && printf '%s\n' "$server_extra_conf" >>"$work/server.conf"
  rm -f "$work/port"
  "$build/uptake-server" --config "$work/server.conf" --port-file "$work/port" \
    2>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
  [ -s "$work/port" ] || { echo "server did not start"; cat "$work/server.log"; return 1; }
  url=https://127.0.0.1:$(sed -n 1p "$work/port")
  repo_url=http://127.0.0.1:$(sed -n 2p "$work/port")
  ca=$work/data/tls/ca.pem
}

stop_server() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  server_pid=
}

admin() { # METHOD PATH CONTENT-TYPE FILE
  curl -sf --cacert "$ca" -X "$1" -H "Authorization: Bearer $token" -H "Content-Type: $3" \
    --data-binary "@$4" "$url/api/v1/$2" >/dev/null
}

# publish_repo IMAGE NAME: keys in $work/keys, a root listing the server's
# online keys, the image and targets metadata naming it; $work/root.json is
# the root a client starts from.
publish_repo() {
  local u=$build/uptake k=$work/keys
  mkdir -p "$k"
  curl -sf --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/repo/online-keys" >"$k/online.json" &&
    /usr/bin/python3 -c '
import json, sys
k = json.load(open(sys.argv[1]))
for r in ("snapshot", "timestamp"):
    json.dump(k[r], open(sys.argv[2] + "/online-%s.pub.json" % r, "w"))
' "$k/online.json" "$k" &&
    "$u" key generate --out "$k/root" >/dev/null &&
    "$u" key generate --out "$k/targets" >/dev/null &&
    "$u" metadata root --root-key "$k/root.pub.json" --targets-key "$k/targets.pub.json" \
      --snapshot-key "$k/online-snapshot.pub.json" --timestamp-key "$k/online-timestamp.pub.json" \
      --consistent-snapshot --out "$work/root.unsigned.json" &&
    "$u" sign --key "$k/root.pem" --out "$work/root.json" "$work/root.unsigned.json" >/dev/null &&
    admin PUT repo/root application/json "$work/root.json" &&
    admin PUT "images/$2" application/octet-stream "$1" &&
    "$u" metadata targets --target "$2=$1" --out "$work/targets.unsigned.json" &&
    "$u" sign --key "$k/targets.pem" --out "$work/targets.json" "$work/targets.unsigned.json" \
      >/dev/null &&
    admin PUT repo/metadata/targets application/json "$work/targets.json"
}

# flip_byte FILE OFFSET: change one byte in place (always a different value)
flip_byte() {
  /usr/bin/python3 -c '
import sys
p, o = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
b[o] ^= 0x01
open(p, "wb").write(b)' "$1" "$2"
}
