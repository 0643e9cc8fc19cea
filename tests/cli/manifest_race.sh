#!/usr/bin/env bash
# Concurrent manifest replay: the same signed manifest sent many times at
# once is accepted exactly once, and manifests with interleaved counters
# racing each other never leave the stored counter below an accepted one.
# Two uptake-server processes share one database (the counter check and
# the write must be one step in the database, not only in one process);
# every upload is real mutual TLS. Runs on SQLite, or on the database in
# $UPTAKE_TEST_DATABASE (tests/cli/postgres.sh runs it on PostgreSQL).
#   bash tests/cli/manifest_race.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
pid2=
trap 'stop_server; [ -n "$pid2" ] && kill "$pid2" 2>/dev/null && wait "$pid2" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
uptake=$build/uptake
device=$build/tests/test_device
flood=$here/../tools/manifest_flood.py

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
q() { "$@" >out.txt 2>err.txt || { echo "setup failed: $*"; cat err.txt; exit 1; }; }
counter() { # SERIAL: the stored report counter of dev-1's ECU
  curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/devices/dev-1" |
    /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print([e.get("report_counter", -1) for e in d["ecus"] if e["serial"] == sys.argv[1]][0])' "$1"
}

start_server || exit 1
# a second server process on the same database and data directory
cp "$work/server.conf" "$work/server2.conf"
"$build/uptake-server" --config "$work/server2.conf" --port-file "$work/port2" 2>"$work/server2.log" &
pid2=$!
for _ in $(seq 100); do [ -s "$work/port2" ] && break; sleep 0.1; done
[ -s "$work/port2" ] || { echo "second server did not start"; cat "$work/server2.log"; exit 1; }
url2=https://127.0.0.1:$(sed -n 1p "$work/port2")

printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
q "$uptake" device add dev-1 --dir ws --out dev1
D=(--dir dev --server "$url" --ca "$ca" --cert dev1.crt --key dev1.key)
q "$device" "${D[@]}" --root-director ws/metadata/director-root.json --root-image ws/metadata/root.json \
  --ecu prim:board-a --ecu sec:board-b init
F=(--url "$url" --url "$url2" --ca "$ca" --cert dev1.crt --key dev1.key)

# --- the same manifest 16 times at once, 8 rounds: accepted exactly once
for r in 1 2 3 4 5 6 7 8; do
  q "$device" "${D[@]}" --counter "$r" sign "m$r.json"
  files=()
  for _ in $(seq 16); do files+=("m$r.json"); done
  /usr/bin/python3 "$flood" "${F[@]}" "${files[@]}" >res.txt
  n200=$(grep -c ' 200$' res.txt)
  n409=$(grep -c ' 409$' res.txt)
  [ "$n200" = 1 ] && ok || bad "round $r: the same manifest accepted $n200 times"
  [ "$n409" = 15 ] && ok || { bad "round $r: $n409 replays refused with 409, not 15"; sort res.txt | uniq -c | head -5; }
  [ "$(counter prim)" = "$r" ] && ok || bad "round $r: stored counter $(counter prim)"
done

# --- interleaved counters, each manifest twice, in shuffled order: each
# accepted at most once, the highest always, and the stored counter is the
# highest accepted one (never below an accepted counter)
for base in 100 200 300; do
  files=()
  for c in $(seq $base $((base + 23))); do
    q "$device" "${D[@]}" --counter "$c" sign "i$c.json"
    files+=("i$c.json" "i$c.json")
  done
  mapfile -t files < <(printf '%s\n' "${files[@]}" | shuf)
  /usr/bin/python3 "$flood" "${F[@]}" "${files[@]}" >res.txt
  top=$((base + 23))
  dup=$(awk '$2 == 200 {print $1}' res.txt | sort | uniq -d | head -3)
  [ -z "$dup" ] && ok || bad "base $base: accepted twice: $dup"
  grep -q "^i$top.json 200$" res.txt && ok || bad "base $base: the highest counter $top was not accepted"
  other=$(awk '$2 != 200 && $2 != 409' res.txt | head -3)
  [ -z "$other" ] && ok || bad "base $base: unexpected answers: $other"
  [ "$(counter prim)" = "$top" ] && ok || bad "base $base: stored counter $(counter prim), not $top"
  [ "$(counter sec)" = "$top" ] && ok || bad "base $base: secondary's stored counter $(counter sec), not $top"
  # every accepted manifest is refused when sent again
  got=$(curl -s --cacert "$ca" --cert dev1.crt --key dev1.key -o /dev/null -w '%{http_code}' -X PUT \
    -H "Content-Type: application/json" --data-binary "@i$top.json" "$url2/director/manifest")
  [ "$got" = 409 ] && ok || bad "base $base: the accepted manifest accepted again: HTTP $got"
done

# --- a clean stop under load: the second server gets SIGTERM once the first of 48
# manifests sent at once to it is accepted (the rest on its writer threads,
# their connections suspended). It stops cleanly (exit 0, nothing left
# suspended), and every manifest it answered 200 is in the database: the
# stored counter is at least the highest one answered.
files=()
for c in $(seq 1000 1047); do
  q "$device" "${D[@]}" --counter "$c" sign "s$c.json"
  files+=("s$c.json")
done
/usr/bin/python3 "$flood" --url "$url2" --ca "$ca" --cert dev1.crt --key dev1.key "${files[@]}" >res.txt &
flood_pid=$!
# the stop comes once the first of them is accepted, while the rest are in flight
for _ in $(seq 200); do [ "$(counter prim)" -ge 1000 ] 2>/dev/null && break; sleep 0.05; done
kill -TERM "$pid2"
wait "$pid2"
rc=$?
pid2=
wait "$flood_pid"
[ "$rc" = 0 ] && ok || { bad "the second server's stop under load exited $rc"; tail -5 "$work/server2.log"; }
top=$(awk '$2 == 200 {sub(/^s/, "", $1); sub(/\.json$/, "", $1); print $1}' res.txt | sort -n | tail -1)
stored=$(counter prim)
if [ -n "$top" ]; then
  [ "$stored" -ge "$top" ] && ok || bad "manifest $top answered 200 before the stop, stored counter $stored"
else
  ok # the stop came before any answer: nothing acknowledged, nothing to find
fi
other=$(awk '$2 != 200 && $2 != 409 && $2 !~ /^(connect-failed|error)/' res.txt | head -3)
[ -z "$other" ] && ok || bad "answers during the stop: $other"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "--- server logs"; tail -n 20 "$work/server.log" "$work/server2.log"; false; }
