#!/usr/bin/env bash
# uptake-server when its PostgreSQL goes away and comes back: a throwaway
# PostgreSQL is stopped under a running server. Meanwhile the health check
# says the database is unavailable (503), device polls, manifests, unknown
# devices and the admin API get 503 (never 500, never a wrong 403 or 404,
# nothing written), and the server process stays up. When PostgreSQL is
# started again, the server's pool connects anew: health is 200 again and
# the same device polls and reports as before.
#   bash tests/cli/db_outage.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
. "$here/../support/pglib.sh"
. "$here/../support/testlib.sh"
trap 'stop_server; stop_postgres; rm -rf "$work"' EXIT
cd "$work"
uptake=$build/uptake
device=$build/tests/test_device

start_postgres || exit 1
create_database outage || exit 1
psql() { (cd / && pg_as "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U uptake -d outage -Atc "$1"); }
# every poll reads the database (no answers from memory), small pool
UPTAKE_TEST_DATABASE=$pg_uri_base/outage
server_extra_conf=$'director_cache_ms = 0\ndatabase_pool = 3'
start_server || exit 1
printf '%s\n' "$token" >token

# status METHOD URL [curl options...]: the HTTP status (body in body.txt)
status() {
  local m=$1 u=$2
  shift 2
  curl -s --cacert "$ca" -o body.txt -w '%{http_code}' -X "$m" "$@" "$u"
}
as_dev1=(--cert dev1.pem --key dev1.key)
as_dev2=(--cert dev2.pem --key dev2.key)
as_admin=(-H "Authorization: Bearer $token")

# --- a device that polls and reports while the database is there
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
head -c 50000 /dev/urandom >fw1.bin
q "$uptake" publish fw1.bin --dir ws --name fw --version 1.0 --hardware-id board-a
q "$uptake" device add dev-1 --dir ws --out dev1
q "$uptake" device add dev-2 --dir ws --out dev2
mv dev1.crt dev1.pem
mv dev2.crt dev2.pem
D=(--dir dev --server "$url" --ca "$ca" --cert dev1.pem --key dev1.key)
q "$device" "${D[@]}" --root-director ws/metadata/director-root.json \
  --root-image ws/metadata/root.json --ecu prim-1:board-a init
q "$uptake" assign fw-1.0 --dir ws --hardware-id board-a --device dev-1
expect 0 "$device" "${D[@]}" update
grep -q "installed fw-1.0 on prim-1" out.txt && ok || bad "fw-1.0 not installed before the outage"
expect 0 "$device" "${D[@]}" report
[ "$(status GET "$url/health")" = 200 ] && grep -q '"database":"ok"' body.txt && ok ||
  bad "health before the outage: $(cat body.txt)"
[ "$(status GET "$url/director/timestamp.json" "${as_dev1[@]}")" = 200 ] && ok ||
  bad "poll before the outage"
manifests_before=$(psql "SELECT count(*) FROM manifests")
[ "$manifests_before" -ge 1 ] && ok || bad "no manifest stored before the outage"

# --- the database goes away
pause_postgres || exit 1
got=$(status GET "$url/health")
[ "$got" = 503 ] && grep -q '"database":"unavailable"' body.txt && ok ||
  bad "health during the outage: HTTP $got $(cat body.txt)"
for f in timestamp.json targets.json snapshot.json; do
  got=$(status GET "$url/director/$f" "${as_dev1[@]}")
  [ "$got" = 503 ] && ok || bad "poll of $f during the outage: HTTP $got, expected 503"
done
grep -q "database unavailable" body.txt && ok || bad "no reason in the 503: $(cat body.txt)"
# a device not yet seen by this server: not "unknown device" (403)
got=$(status GET "$url/director/timestamp.json" "${as_dev2[@]}")
[ "$got" = 503 ] && ok || bad "a device first seen during the outage: HTTP $got, expected 503"
# a signed manifest is not acknowledged
expect 1 "$device" "${D[@]}" report
grep -q "503" err.txt && ok || bad "manifest during the outage: $(cat err.txt)"
got=$(status GET "$url/api/v1/devices/dev-1" "${as_admin[@]}")
[ "$got" = 503 ] && ok || bad "admin API during the outage: HTTP $got, expected 503"
got=$(status GET "$url/api/v1/devices" "${as_admin[@]}")
[ "$got" = 503 ] && ok || bad "device list during the outage: HTTP $got, expected 503"
kill -0 "$server_pid" 2>/dev/null && ok || bad "the server died with its database"

# --- the database returns: the server recovers without a restart
resume_postgres || exit 1
up=0
for _ in $(seq 120); do
  [ "$(status GET "$url/health")" = 200 ] && { up=1; break; }
  sleep 0.25
done
[ "$up" = 1 ] && grep -q '"database":"ok"' body.txt && ok || bad "health after the outage: $(cat body.txt)"
# every pooled connection (made before the outage) is connected anew:
# no request fails on a stale one
codes=""
for _ in $(seq 8); do
  codes="$codes $(status GET "$url/director/timestamp.json" "${as_dev1[@]}")"
done
[ "$codes" = "$(printf ' 200%.0s' $(seq 8))" ] && ok || bad "polls after the outage:$codes"
[ "$(status GET "$url/director/timestamp.json" "${as_dev2[@]}")" = 200 ] && ok ||
  bad "dev-2 after the outage: HTTP $(cat body.txt)"
[ "$(psql "SELECT count(*) FROM manifests")" = "$manifests_before" ] && ok ||
  bad "a manifest refused during the outage was stored"
expect 0 "$device" "${D[@]}" report
[ "$(psql "SELECT count(*) FROM manifests")" -gt "$manifests_before" ] && ok ||
  bad "a manifest after the outage was not stored"
expect 0 "$device" "${D[@]}" update
grep -q "installed" out.txt && bad "installed again after the outage" || ok
finish
