#!/usr/bin/env bash
# uptake-agent check: one Uptane full verification, nothing installed.
# Against repositories made by the test generator (tests/tools/repo_scenarios,
# served over plain HTTP on loopback): success, then each attack with its
# code, repository and role (--json), and nothing kept of a refused image;
# the trusted state carries over between calls (a rollback across calls).
# Against the real server over mutual TLS: the assigned image verifies and
# downloads. Usage errors exit 2.
#   bash tests/cli/agent_check.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
http=
trap '[ -n "$http" ] && kill "$http" 2>/dev/null; stop_server; rm -rf "$work"' EXIT
cd "$work"
agent=$build/uptake-agent
uptake=$build/uptake

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

"$build/tests/repo_scenarios" scen || { echo "setup: repo_scenarios failed"; exit 1; }
/usr/bin/python3 "$here/../tools/serve_dir.py" scen http.port &
http=$!
for _ in $(seq 50); do [ -s http.port ] && break; sleep 0.1; done
base=http://127.0.0.1:$(cat http.port)

# check SCENARIO [METADATA_DIR] [extra args]: sets $rc and $out
check() {
  local s=$1 md=${2:-md-$1}
  shift 2 2>/dev/null || shift
  rc=0
  out=$("$agent" check --director "$base/$s/director" --image-repo "$base/$s/image" \
    --ecu ecu-1 --hardware-id board-a --metadata-dir "$md" \
    --director-root "scen/${root:-$s}/director-root.json" \
    --image-root "scen/${root:-$s}/image-root.json" "$@" 2>err.txt) || rc=$?
}
field() { # the JSON field $1 of $out
  printf '%s' "$out" | /usr/bin/python3 -c 'import json, sys; v = json.load(sys.stdin)[sys.argv[1]]; print("null" if v is None else v)' "$1"
}

# --- success: verified, downloaded, exactly the generator's image
check good md-good --download dl-good --json
[ "$rc" -eq 0 ] && [ "$(field ok)" = True ] && [ "$(field target)" = fw-1.0 ] && ok ||
  { bad "good: exit $rc: $out"; cat err.txt; }
cmp -s dl-good/fw-1.0 scen/good/image/targets/fw-1.0 && ok || bad "good: the download differs"
[ "$(field sha256)" = "$(sha256sum dl-good/fw-1.0 | cut -c1-64)" ] && [ "$(field length)" = 4096 ] && ok ||
  bad "good: length or sha256 in the answer"
[ -s md-good/director/timestamp.json ] && [ -s md-good/image/targets.json ] && ok ||
  bad "good: the trusted metadata was not kept"
# a second call trusts what the first stored (no roots needed)
rc=0
"$agent" check --director "$base/good/director" --image-repo "$base/good/image" --ecu ecu-1 \
  --hardware-id board-a --metadata-dir md-good >plain.txt 2>err.txt || rc=$?
[ "$rc" -eq 0 ] && grep -q "^ok: ECU ecu-1: fw-1.0 (4096 bytes, sha256 [0-9a-f]\{64\}) verified" plain.txt && ok ||
  { bad "good again without roots: exit $rc"; cat plain.txt err.txt; }

# --- each attack: the code, the repository and role, exit 1
expect() { # SCENARIO CODE REPOSITORY ROLE WORD [extra args]
  local s=$1 code=$2 repo=$3 role=$4 word=$5
  shift 5
  check "$s" "md-$s" --json "$@"
  if [ "$rc" -eq 1 ] && [ "$(field ok)" = False ] && [ "$(field code)" = "$code" ] &&
    [ "$(field repository)" = "$repo" ] && [ "$(field role)" = "$role" ] &&
    field message | grep -q -- "$word"; then ok; else
    bad "$s: exit $rc, expected $code ($repo $role, '$word'): $out"; cat err.txt
  fi
}
expect expired UPT_ERR_EXPIRED director targets "expired"
expect bad-signature UPT_ERR_THRESHOLD director timestamp "threshold 0 of 1"
expect threshold UPT_ERR_THRESHOLD image targets "threshold 1 of 2"
expect wrong-hardware UPT_ERR_HARDWARE_ID director targets "board-x"
expect mismatched UPT_ERR_IMAGE_MISMATCH null null "differ"
expect oversized UPT_ERR_TOO_LARGE image targets "more than 4096 bytes" --download dl-oversized
expect tampered UPT_ERR_HASH_MISMATCH image targets "hashes do not match" --download dl-tampered
[ -z "$(find dl-oversized dl-tampered -type f 2>/dev/null)" ] && [ -d dl-tampered ] && ok || bad "a refused image was kept"
[ "$(field target)" = fw-1.0 ] && ok || bad "the refused target is not named"
# a refused check keeps no Director targets that failed the device checks
[ ! -e md-wrong-hardware/director/targets.json ] && ok || bad "refused Director targets were stored"

# --- rollback across calls: version 2 trusted, then version 1 served
root=rollback/new check rollback/new md-rollback --json
[ "$rc" -eq 0 ] && ok || { bad "rollback/new: exit $rc: $out"; cat err.txt; }
root=rollback/new check rollback/old md-rollback --json
[ "$rc" -eq 1 ] && [ "$(field code)" = UPT_ERR_ROLLBACK ] && [ "$(field repository)" = director ] &&
  [ "$(field role)" = timestamp ] && ok || bad "rollback: exit $rc: $out"
# plain output: the code and the message on stderr
root=rollback/new check rollback/old md-rollback
[ "$rc" -eq 1 ] && grep -q "^uptake-agent check: UPT_ERR_ROLLBACK: director timestamp.json: version 1" err.txt && ok ||
  { bad "rollback, plain: exit $rc"; cat err.txt; }

# --- usage
"$agent" check --director x 2>/dev/null; [ $? -eq 2 ] && ok || bad "missing options: not a usage error"
"$agent" check --help | grep -q -- "--metadata-dir" && ok || bad "check --help"
rc=0
"$agent" check --director "$base/good/director" --image-repo "$base/good/image" --ecu ecu-1 \
  --hardware-id board-a --metadata-dir md-none 2>err.txt || rc=$?
[ "$rc" -eq 1 ] && grep -q "give --director-root" err.txt && ok || bad "no root: exit $rc"

# --- the real server, over mutual TLS with the device's certificate
start_server || exit 1
printf '%s\n' "$token" >token
"$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws >/dev/null 2>&1 &&
  "$uptake" device add dev1 --dir ws --out dev1 >/dev/null 2>&1 || { echo "setup failed"; exit 1; }
{ echo "image v1"; head -c 50000 /dev/urandom; } >v1.bin
# the device registers its ECU the way the agent does (its first cycle)
cat >agent.conf <<CONF
server = $url
ca = $ca
cert = $work/dev1.crt
key = $work/dev1.key
state_dir = $work/state
director_root = $work/ws/metadata/director-root.json
image_root = $work/ws/metadata/root.json
primary_serial = dev1-main
hardware_id = board-a
slot_a = $work/a.img
slot_b = $work/b.img
CONF
"$agent" --config agent.conf once >agent.log 2>&1 || { echo "setup: agent cycle"; cat agent.log; exit 1; }
"$uptake" publish v1.bin --dir ws --name fw --version 1.0 --hardware-id board-a >/dev/null 2>&1 &&
  "$uptake" assign fw-1.0 --dir ws --hardware-id board-a --device dev1 >/dev/null 2>&1 ||
  { echo "setup: publish"; exit 1; }
rc=0
out=$("$agent" check --director "$url/director" --image-repo "$url/repo" --ecu dev1-main \
  --hardware-id board-a --metadata-dir md-server --director-root ws/metadata/director-root.json \
  --image-root ws/metadata/root.json --ca "$ca" --cert dev1.crt --key dev1.key \
  --download dl-server --json 2>err.txt) || rc=$?
[ "$rc" -eq 0 ] && [ "$(field target)" = fw-1.0 ] && cmp -s dl-server/fw-1.0 v1.bin && ok ||
  { bad "the real server: exit $rc: $out"; cat err.txt; }
rc=0
out=$("$agent" check --director "$url/director" --image-repo "$url/repo" --ecu dev1-main \
  --hardware-id board-b --metadata-dir md-server --ca "$ca" --cert dev1.crt --key dev1.key \
  --json 2>err.txt) || rc=$?
[ "$rc" -eq 1 ] && [ "$(field code)" = UPT_ERR_HARDWARE_ID ] && ok ||
  { bad "the real server, wrong hardware id: exit $rc: $out"; cat err.txt; }

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
