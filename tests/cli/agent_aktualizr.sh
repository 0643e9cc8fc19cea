#!/usr/bin/env bash
# uptake-agent with repositories in aktualizr's dialect: it verifies and
# installs, and its signed manifests are spelt as aktualizr spells them
# (the report counter a string of digits, signatures with a method and in
# base64), which the server accepts and inventories. In the TUF dialect the
# counter stays an integer.
#   bash tests/cli/agent_aktualizr.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
trap 'stop_server; rm -rf "$work"' EXIT
cd "$work"
uptake=$build/uptake
agent=$build/uptake-agent

. "$here/../support/testlib.sh"
cycle() {
  local rc
  for _ in 1 2 3 4; do
    rc=0
    "$agent" --config "$1" once >>agent.log 2>&1 || rc=$?
    [ "$rc" -eq 3 ] || return "$rc"
    "$agent" --config "$1" boot >>agent.log 2>&1
  done
  return 9
}
# the newest manifest the server kept of device $1, as stored (SQLite)
last_manifest() {
  sqlite3 "$work/db" "SELECT body FROM manifests WHERE device='$1' ORDER BY rowid DESC LIMIT 1" >m.json
}
check_dialect() { # DEVICE WANT(str|int)
  last_manifest "$1"
  /usr/bin/python3 - "$2" <<'PY'
import json, sys
m = json.load(open("m.json"))
(serial, rep), = m["signed"]["ecu_version_manifests"].items()
c = rep["signed"]["report_counter"]
want = sys.argv[1]
ok = isinstance(c, str) and c.isdigit() if want == "str" else isinstance(c, int)
sig = m["signatures"][0]
ok = ok and (("method" in sig) == (want == "str"))
sys.exit(0 if ok else 1)
PY
}
run_device() { # DIALECT-DIR DEVICE
  mkdir -p "$2/health.d"
  q "$uptake" device add "$2" --dir "$1" --out "$2/cert"
  cat >"$2/agent.conf" <<CONF
server = $url
ca = $ca
cert = $work/$2/cert.crt
key = $work/$2/cert.key
state_dir = $work/$2/state
director_root = $work/$1/metadata/director-root.json
image_root = $work/$1/metadata/root.json
primary_serial = $2-main
hardware_id = board-a
slot_a = $work/$2/a.img
slot_b = $work/$2/b.img
health_dir = $work/$2/health.d
CONF
  { echo "image of $2"; head -c 50000 /dev/urandom; } >"$2.bin"
  q "$uptake" publish "$2.bin" --dir "$1" --name "fw-$2" --version 1 --hardware-id board-a
  cycle "$2/agent.conf" # registers, reports
  q "$uptake" assign "fw-$2-1" --dir "$1" --hardware-id board-a --device "$2"
  cycle "$2/agent.conf" && ok || bad "$2: the agent did not finish: $(tail -5 agent.log)"
}

start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir akt --dialect aktualizr
run_device akt dev-a
cmp -s "dev-a/$(ls dev-a | grep -E '^[ab]\.img$' | head -1)" dev-a.bin 2>/dev/null ||
  cmp -s dev-a/a.img dev-a.bin || cmp -s dev-a/b.img dev-a.bin && ok || bad "dev-a image not installed"
"$uptake" device show dev-a --dir akt >show.json
/usr/bin/python3 -c '
import json
d = json.load(open("show.json"))
e = d["ecus"][0]
assert e["installed"]["name"] == "fw-dev-a-1", e
assert d["alerts"] == 0, d' && ok || bad "the server did not inventory dev-a: $(cat show.json)"
check_dialect dev-a str && ok || bad "aktualizr-dialect manifest: $(head -c 400 m.json)"
stop_server

# the TUF dialect, on a fresh server: integers as before
rm -rf data db*
start_server || exit 1
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir tuf
run_device tuf dev-t
check_dialect dev-t int && ok || bad "TUF-dialect manifest: $(head -c 400 m.json)"

finish
