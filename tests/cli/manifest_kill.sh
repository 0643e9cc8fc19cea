#!/usr/bin/env bash
# Group commit and a crash: devices upload signed manifests at once (their
# SQLite transactions share commits), the server is killed (SIGKILL) while
# they do; every manifest that was acknowledged is in the database, each
# device's newest stored manifest is its last acknowledged one or a later
# one, and the server started again on the database takes the devices'
# next manifests.
#   bash tests/cli/manifest_kill.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
trap 'stop_server; rm -rf "$work"' EXIT
cd "$work" || exit 1
fails=0
ok() { :; }
bad() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}
uptake=$build/uptake
device=$build/tests/test_device
q() { "$@" >/dev/null 2>&1 || bad "$*"; }
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 is needed"; exit 1; }

start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
n=6
for i in $(seq $n); do
  q "$uptake" device add "k$i" --dir ws --out "k$i"
  q "$device" --dir "dev$i" --server "$url" --ca "$ca" --cert "k$i.crt" --key "k$i.key" \
    --root-director ws/metadata/director-root.json --root-image ws/metadata/root.json \
    --ecu "prim-$i:board-a" --ecu "sec-$i:board-b" init
done
dev() { # I COMMAND...
  local i=$1
  shift
  "$device" --dir "dev$i" --server "$url" --ca "$ca" --cert "k$i.crt" --key "k$i.key" "$@"
}

# --- every device reports, all at once, until the server is gone
for i in $(seq $n); do
  (
    for _ in $(seq 150); do # fewer than the 200 kept per device
      dev "$i" report >/dev/null 2>&1 || break
      sha256sum <"dev$i/last-manifest.json" | cut -d' ' -f1 >>"acked.$i"
    done
    echo done >"done.$i"
  ) &
done
for _ in $(seq 600); do [ "$(cat acked.* 2>/dev/null | wc -l)" -ge $((n * 5)) ] && break; sleep 0.1; done
[ "$(cat acked.* 2>/dev/null | wc -l)" -ge $((n * 5)) ] && ok || bad "the devices' reports were not acknowledged"
kill -9 "$server_pid"
wait "$server_pid" 2>/dev/null
server_pid=
for _ in $(seq 600); do [ "$(cat done.* 2>/dev/null | wc -l)" = $n ] && break; sleep 0.1; done
[ "$(cat done.* 2>/dev/null | wc -l)" = $n ] && ok || bad "the devices did not stop after the kill"

acked=$(cat acked.* | wc -l)
stored=$(sqlite3 "$work/db" "SELECT lower(hex(body)) FROM manifests" | while read -r h; do
  printf '%s' "$h" | xxd -r -p | sha256sum | cut -d' ' -f1
done | sort -u)
lost=0
for h in $(cat acked.*); do grep -qx "$h" <<<"$stored" || lost=$((lost + 1)); done
[ "$lost" = 0 ] && ok || bad "$lost of $acked acknowledged manifests are not in the database"
for i in $(seq $n); do
  # the newest stored is the last acknowledged, or the one in flight at the kill
  got=$(sqlite3 "$work/db" "SELECT lower(hex(body)) FROM manifests WHERE device='k$i' ORDER BY rowid DESC LIMIT 1" |
    xxd -r -p | sha256sum | cut -d' ' -f1)
  want=$(tail -1 "acked.$i")
  [ "$got" = "$want" ] || [ "$got" = "$(sha256sum <"dev$i/last-manifest.json" | cut -d' ' -f1)" ] && ok ||
    bad "k$i: the newest stored manifest is neither its last acknowledged one nor the one in flight"
done

# --- the server comes back on the same database and takes the next ones
start_server || exit 1
for i in $(seq $n); do
  dev "$i" report >/dev/null 2>"err.$i" && ok || bad "k$i after the restart: $(cat "err.$i")"
done

if [ "$fails" = 0 ]; then
  echo "manifest_kill: ok ($acked manifests acknowledged before the kill, none lost)"
else
  echo "manifest_kill: $fails failed"
  exit 1
fi
