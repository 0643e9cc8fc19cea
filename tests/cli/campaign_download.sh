#!/usr/bin/env bash
# A download-only campaign end to end with real uptake-agent processes (A/B
# slots, health checks, Uptane full verification, signed manifests) on
# loopback, on SQLite and on a throwaway PostgreSQL: the Director signs
# custom.uptake.download_only into each device's targets; every agent
# downloads and verifies the image into its inactive slot and does not
# switch, and says DOWNLOADED in its signed installation report; the stages
# count downloads; nothing counts as succeeded. `uptake campaign install`
# drops the marker: the agents install what they hold (without fetching it
# again), one fails its health check and rolls back, and the success count
# is exactly the devices whose signed version reports show the image.
# Also: a product whose security fast path is off keeps the soak time and
# the maintenance window of a security campaign (fixed clock), while the
# campaign's own option cannot turn the fast path on against it.
#   bash tests/cli/campaign_download.sh BUILD_DIR [sqlite|postgresql]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
only=${2:-}
top=$(mktemp -d)
. "$here/../support/serverlib.sh"
. "$here/../support/pglib.sh"
trap 'stop_server; cd /; stop_postgres; [ -n "${KEEP:-}" ] && echo "kept $top" || rm -rf "$top"' EXIT
cd "$top"
. "$here/../support/testlib.sh"
uptake=$build/uptake
agent=$build/uptake-agent
device=$build/tests/test_device
W=(--dir ws)
AGENTS=(a1 a2 a3 a4)

api() { curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/$1"; }
# camp ID EXPR: EXPR over campaign ID's view (d), stages as s[1..]
camp() {
  api "campaigns/$1" >camp.json
  /usr/bin/python3 -c "
import json
d = json.load(open('camp.json'))
s = {x['stage']: x for x in d.get('stages', [])}
print(($2))"
}
check() { # ID EXPR WANT WHAT
  local got
  for _ in $(seq 150); do
    got=$(camp "$1" "$2")
    [ "$got" = "$3" ] && { ok; return; }
    sleep 0.2
  done
  bad "$4: $got, expected $3"
  camp "$1" "d['status'], d['reason'], [(x['stage'], x['state'], x['counts']) for x in d['stages']], d['log'][-5:]" | head -c 1500
  echo
}
# how many ECUs the inventory (verified signed version reports) shows running IMAGE's hash
running() {
  api devices | /usr/bin/python3 -c "
import json, sys
d = json.load(sys.stdin)
print(sum(1 for x in d['devices'] for e in x['ecus']
          if e.get('installed', {}).get('sha256') == sys.argv[1]))" "$1"
}
agent_conf() { # ID
  local a=$1
  mkdir -p "$a/health.d"
  printf '#!/bin/sh\n! grep -q BROKEN "$UPTAKE_SLOT_PATH" && [ ! -e "%s/unhealthy" ]\n' "$PWD/$a" >"$a/health.d/check"
  chmod +x "$a/health.d/check"
  cat >"$a/agent.conf" <<CONF
server = $url
ca = $ca
cert = $PWD/$a/cert.crt
key = $PWD/$a/cert.key
state_dir = $PWD/$a/state
director_root = $PWD/ws/metadata/director-root.json
image_root = $PWD/ws/metadata/root.json
primary_serial = $a-main
hardware_id = board-a
slot_a = $PWD/$a/a.img
slot_b = $PWD/$a/b.img
health_dir = $PWD/$a/health.d
boot_limit = 2
CONF
}
# cycle ID: agent cycles with simulated reboots until it has nothing to do;
# the number of reboots in ID/reboots
cycle() {
  local rc n=0
  for _ in 1 2 3 4 5 6; do
    rc=0
    "$agent" --config "$1/agent.conf" once >>"$1/agent.log" 2>&1 || rc=$?
    if [ "$rc" -ne 3 ]; then
      echo "$n" >"$1/reboots"
      return "$rc"
    fi
    n=$((n + 1))
    "$agent" --config "$1/agent.conf" boot >>"$1/agent.log" 2>&1
  done
  return 9
}
cycles() { # ID...
  for a in "$@"; do
    cycle "$a" || bad "$a: cycle exit $?: $(tail -3 "$a/agent.log")"
  done
}
# the Director's targets as the device gets them (mutual TLS)
director_targets() { # ID
  curl -s --cacert "$ca" --cert "$1/cert.crt" --key "$1/cert.key" "$url/director/targets.json"
}

scenario() {
  work=$(mktemp -d "$top/run-XXXXXX")
  cd "$work" || return 1
  clock=$work/clock
  export UPTAKE_TEST_CLOCK_FILE=$clock
  T0=1796144400 # 2026-12-01 17:00 UTC
  echo "$T0" >"$clock"
  start_server || return 1
  printf '%s\n' "$token" >token
  q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
  q "$uptake" product add gw "${W[@]}" --hardware-id board-a --support-years 5 --contact psirt@example.com
  q "$uptake" product add strict "${W[@]}" --hardware-id board-a --support-years 5 --contact psirt@example.com
  head -c 30000 /dev/urandom >fw2.bin
  q "$uptake" publish fw2.bin "${W[@]}" --name fw --version 2.0 --hardware-id board-a --release-counter 2
  fw2=$(sha256sum fw2.bin | cut -c1-64)
  for a in "${AGENTS[@]}"; do
    mkdir -p "$a"
    q "$uptake" device add "$a" "${W[@]}" --out "$a/cert" --product gw
    agent_conf "$a"
  done
  cycles "${AGENTS[@]}" # provisioned, the ECUs registered, nothing installed yet
  touch a4/unhealthy    # a4's new image will fail its health check

  # --- bad input: download_only must be a boolean
  expect 0 curl -s -o body.txt -w '%{http_code}' --cacert "$ca" -H "Authorization: Bearer $token" \
    -H "Content-Type: application/json" --data-binary \
    '{"name":"x","targets":{"board-a":"fw-2.0"},"filter":{"product":"gw"},"download_only":"yes"}' \
    "$url/api/v1/campaigns"
  [ "$(cat out.txt)" = 400 ] && grep -q "download_only must be true or false" body.txt && ok ||
    bad "download_only \"yes\": HTTP $(cat out.txt) $(cat body.txt)"
  expect 2 "$uptake" campaign install "${W[@]}"

  # --- the download-only campaign: two stages of two devices
  expect 0 "$uptake" campaign create pre "${W[@]}" --target board-a=fw-2.0 --product gw \
    --stage 2:success=100:error=50 --stage 100%:success=50:error=60 --download-only --json
  id=$(/usr/bin/python3 -c "import json; print(json.load(open('out.txt'))['id'])")
  [ "$(camp "$id" "d['download_only'], d['released']")" = "(True, 0)" ] && ok || bad "not download only: $(cat camp.json)"
  expect 3 "$uptake" campaign install "$id" "${W[@]}"
  grep -q "start or resume it first" err.txt && ok || bad "install before start: $(cat err.txt)"
  expect 0 "$uptake" campaign start "$id" "${W[@]}"
  check "$id" "s[1]['counts']['assigned'], s[2]['counts']['pending']" "(2, 2)" "stage 1 assigned"
  # the marker is in the Director's signed targets, next to the correlation id
  director_targets a1 >t1.json
  /usr/bin/python3 -c "
import json, sys
t = json.load(open('t1.json'))['signed']['targets']['fw-2.0']['custom']
sys.exit(t.get('uptake') != {'download_only': True} or not t.get('correlationId'))" &&
    ok || bad "no signed download_only marker: $(head -c 800 t1.json)"
  cycles a1 a2
  for a in a1 a2; do
    grep -q "is download only: downloading into slot b, not installing" "$a/agent.log" && ok ||
      bad "$a did not download only: $(tail -5 "$a/agent.log")"
    cmp -s fw2.bin "$a/b.img" && ok || bad "$a: slot b does not hold the verified image"
    [ "$(cat "$a/reboots")" = 0 ] && ok || bad "$a rebooted into the image (it only downloads)"
  done
  # stage 1 counts downloads: stage 2 begins; nothing succeeded
  check "$id" "s[1]['counts']['downloaded'], s[2]['counts']['assigned'], d['totals']['succeeded']" "(2, 2, 0)" "stage 1 downloaded"
  [ "$(running "$fw2")" = 0 ] && ok || bad "a download-only device reports the image running"
  # a cycle more: the image is not fetched again, nothing installed
  cycle a1
  tail -4 a1/agent.log | grep -q "downloaded, waits for the Director to release its install" && ok ||
    bad "a1 again: $(tail -4 a1/agent.log)"
  # the emergency stop withdraws every assignment (the downloads too) and
  # goes back to stage 1; resume assigns it again under new correlation
  # ids: the agents report their downloads again, without fetching them
  expect 0 "$uptake" campaign stop "$id" "${W[@]}"
  check "$id" "d['status'], d['stage'], s[1]['counts']['pending'], s[2]['counts']['pending']" \
    "('stopped', 1, 2, 2)" "stopped: every assignment withdrawn"
  director_targets a1 >t0.json
  /usr/bin/python3 -c "import json, sys; sys.exit('fw-2.0' in json.load(open('t0.json'))['signed']['targets'])" &&
    ok || bad "a withdrawn download is still in the Director's targets"
  expect 0 "$uptake" campaign resume "$id" "${W[@]}"
  check "$id" "d['status'], s[1]['counts']['assigned'], s[2]['counts']['pending']" "('running', 2, 2)" "resumed: stage 1 assigned again"
  director_targets a1 >t1b.json
  /usr/bin/python3 -c "
import json, sys
t = json.load(open('t1.json'))['signed']['targets']['fw-2.0']['custom']
u = json.load(open('t1b.json'))['signed']['targets']['fw-2.0']['custom']
sys.exit(u.get('uptake') != {'download_only': True} or u['correlationId'] == t['correlationId'])" &&
    ok || bad "resumed: no new correlation id with the marker: $(head -c 800 t1b.json)"
  mv t1b.json t1.json
  cycles a1 a2
  check "$id" "s[1]['counts']['downloaded'], s[2]['counts']['assigned']" "(2, 2)" "downloads reported again after resume"
  [ "$(grep -c 'downloaded and verified: not installed' a1/agent.log)" = 2 ] &&
    tail -4 a1/agent.log | grep -q "slot b holds fw-2.0 already (downloaded before)" && ok ||
    bad "a1 after resume: $(tail -5 a1/agent.log)"
  cycles a3 a4
  check "$id" "d['status'], d['totals']['downloaded'], d['totals']['succeeded'], 'installs wait' in d['reason']" \
    "('running', 4, 0, True)" "every stage downloaded, waiting for install"
  [ "$(running "$fw2")" = 0 ] && ok || bad "the image runs before the release"
  expect 0 "$uptake" campaign show "$id" "${W[@]}"
  grep -q "stage 2  threshold_met .*(2 downloaded, not installed)" out.txt && ok || bad "show: $(cat out.txt)"

  # --- the release: the marker is dropped, the devices install at once
  expect 0 "$uptake" campaign install "$id" "${W[@]}"
  expect 3 "$uptake" campaign install "$id" "${W[@]}"
  grep -q "released already" err.txt && ok || bad "second install: $(cat err.txt)"
  director_targets a1 >t2.json
  /usr/bin/python3 -c "
import json, sys
t = json.load(open('t1.json'))['signed']['targets']['fw-2.0']['custom']
u = json.load(open('t2.json'))['signed']['targets']['fw-2.0']['custom']
sys.exit('uptake' in u or u.get('correlationId') != t.get('correlationId'))" &&
    ok || bad "the release kept the marker or changed the correlation id: $(head -c 800 t2.json)"
  # still nothing succeeded: only signed version reports count
  check "$id" "d['totals']['succeeded'], d['totals']['downloaded']" "(0, 4)" "released, nothing reported yet"
  cycles a1 a2 a3 a4
  for a in a1 a2 a3 a4; do
    grep -q "slot b holds fw-2.0 already (downloaded before)" "$a/agent.log" && ok ||
      bad "$a fetched the image again: $(grep -i download "$a/agent.log" | tail -3)"
  done
  grep -q "failed its health checks: back to slot" a4/agent.log && ok || bad "a4 did not roll back"
  check "$id" "d['totals']['succeeded'], d['totals']['rolled_back'], d['totals']['downloaded']" "(3, 1, 0)" "installed after the release"
  got=$(running "$fw2")
  [ "$got" = 3 ] && ok || bad "$got devices run fw-2.0, expected 3"
  check "$id" "d['totals']['succeeded']" "$got" "success count vs signed reports"
  check "$id" "[x['text'] for x in d['log'] if 'released' in x['text'] or x['text'] == 'finished']" \
    "['installs released (download only until now)', 'finished']" "release and finish in the log"
  check "$id" "[x['text'] for x in d['log'] if x['text'].startswith('stage ') and not 'threshold' in x['text']]" \
    "['stage 1 started', 'stage 2 started', 'stage 2 continued', 'stage 2: installs']" "each stage started once"

  # --- the product's security fast path off: soak and window kept
  head -c 31000 /dev/urandom >fw3.bin
  q "$uptake" publish fw3.bin "${W[@]}" --name fw --version 2.1 --hardware-id board-a --release-counter 3 --security
  expect 0 "$uptake" product set strict "${W[@]}" --security-fast-path off
  grep -q '"security_fast_path":false' out.txt && ok || bad "product set: $(cat out.txt)"
  expect 2 "$uptake" product set strict "${W[@]}" --security-fast-path maybe
  expect 0 "$uptake" product show gw "${W[@]}"
  grep -q '"security_fast_path":true' out.txt && ok || bad "default fast path: $(cat out.txt)"
  for a in a1 a2; do q "$uptake" device set "$a" "${W[@]}" --product strict; done
  # 19:00 UTC; the window is 10:00-11:00
  sec='{"name":"sec","targets":{"board-a":"fw-2.1"},"devices":["a1","a2","a3"],
    "window":{"start":"10:00","end":"11:00"},"security_fast_path":true,
    "stages":[{"count":1,"success":100,"soak":3600},{"percent":100}]}'
  echo $((T0 + 7200)) >"$clock"
  curl -s -o body.txt --cacert "$ca" -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    --data-binary "$sec" "$url/api/v1/campaigns"
  sid=$(/usr/bin/python3 -c "import json; print(json.load(open('body.txt'))['id'])")
  expect 0 "$uptake" campaign start "$sid" "${W[@]}"
  sleep 2
  # a1 (strict) waits for its window: the fast path is off for its product
  check "$sid" "s[1]['counts']['pending'], d['security']" "(1, True)" "strict product: window kept"
  echo $((T0 + 61200)) >"$clock" # 10:00 UTC the next day
  check "$sid" "s[1]['counts']['assigned']" "1" "strict product: assigned in its window"
  cycles a1
  check "$sid" "s[1]['succeeded'], d['stage']" "(1, 1)" "stage 1 done, soaking"
  sleep 2
  check "$sid" "d['stage'], s[2]['counts']['pending'], 'soaks until' in d['reason']" "(1, 2, True)" "strict product: soak kept"
  # a3's product (gw) allows the fast path: in stage 2 it would not wait;
  # the soak ends on the fixed clock
  echo $((T0 + 61200 + 3700)) >"$clock"
  check "$sid" "d['stage'], s[2]['counts']['assigned'], s[2]['counts']['pending']" "(2, 1, 1)" \
    "stage 2 after the soak: a3 (fast path) assigned, a2 (strict) outside its window"
  stop_server
  if grep -h -A12 "Sanitizer\|runtime error" "$work"/server*.log; then bad "sanitizer report"; else ok; fi
  cd "$top"
}

on_both_backends download
