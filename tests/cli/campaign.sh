#!/usr/bin/env bash
# Update campaigns end to end on loopback, over a simulated fleet of 51
# devices (test devices built on libuptake: real keys, Uptane full
# verification, signed manifests), on SQLite and on a throwaway
# PostgreSQL: stages that start on their success threshold (after a soak
# time on a fixed clock), a pause on an error threshold (devices that fail
# their health check and roll back, one that reports software the Image
# repository never published), resume, a server restart in between, the
# emergency stop and cancel (updated devices stay, the rest withdrawn),
# approval before each stage, a maintenance window in each device's local
# time, the security fast path (no soak, no window), a new device joining,
# bad input refused with nothing stored, and the success count equal to
# the devices whose signed version reports show the image. On PostgreSQL
# a second server process on the same database evaluates the same
# campaigns: every stage starts once.
#   bash tests/cli/campaign.sh BUILD_DIR [sqlite|postgresql]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
only=${2:-}
top=$(mktemp -d)
. "$here/../support/serverlib.sh"
. "$here/../support/pglib.sh"
server2_pid=
trap 'stop_server; [ -n "$server2_pid" ] && kill $server2_pid 2>/dev/null; stop_postgres; rm -rf "$top"' EXIT
uptake=$build/uptake
device=$build/tests/test_device
. "$here/../support/testlib.sh"
# a setup step failed: the test ends, with the server's last words
q() {
  "$@" >/dev/null 2>err.txt || {
    echo "setup failed: $*"
    cat err.txt
    tail -5 "$work/server.log" 2>/dev/null
    exit 1
  }
}

# api STATUS METHOD PATH [BODY]: admin API call (answer in body.txt)
api() {
  local want=$1 method=$2 path=$3 got
  shift 3
  got=$(curl -s --cacert "$ca" -o body.txt -w '%{http_code}' -X "$method" \
    -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    ${1:+--data-binary "$1"} "$url/api/v1/$path")
  if [ "$got" = "$want" ]; then ok; else
    bad "$method $path: HTTP $got, expected $want"
    head -c 400 body.txt | sed 's/^/  | /'
    echo
  fi
}
jget() { /usr/bin/python3 -c "import json,sys; d=json.load(open('body.txt')); print($1)"; }
# camp ID EXPR: evaluate EXPR over campaign ID's view (d), stages as s[1..]
camp() {
  curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/campaigns/$1" >camp.json
  /usr/bin/python3 -c "
import json
d = json.load(open('camp.json'))
s = {x['stage']: x for x in d.get('stages', [])}
print(($2))"
}
# wait_for ID EXPR WANT: until camp ID EXPR prints WANT (generous deadline)
wait_for() {
  for _ in $(seq 100); do
    [ "$(camp "$1" "$2")" = "$3" ] && return 0
    sleep 0.2
  done
  return 1
}
check() { # ID EXPR WANT WHAT
  if wait_for "$1" "$2" "$3"; then ok; else
    bad "$4: $(camp "$1" "$2"), expected $3"
    camp "$1" "d['status'], d['reason'], [(x['stage'], x['state'], x['counts']) for x in d['stages']], d['log'][-4:]" | head -c 1500
    echo
  fi
}
n2() { printf '%02d' "$((10#$1))"; }
D() { local n; n=$(n2 "$1"); echo --dir "d$n" --server "$url" --ca "$ca" --cert "d$n.crt" --key "d$n.key"; }
# the device updates (--fail-health: it rolls back and says so in an
# installation report for its campaign's correlation id) and reports
dev_update() { # N [fail]
  local n cid
  n=$(n2 "$1")
  if [ "${2:-}" = fail ]; then
    q "$device" $(D "$n") --fail-health update
    cid=$(curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/devices/dev-$n" |
      /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['assignments'][0]['correlation_id'])")
    q "$device" $(D "$n") --install-report "$cid:false" report
  else
    q "$device" $(D "$n") update
    q "$device" $(D "$n") report
  fi
}
set_clock() { echo "$1" >"$clock"; }
# how many ECUs of board-a the inventory (signed version reports) shows
# running IMAGE's hash
running() {
  curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/devices" |
    /usr/bin/python3 -c "
import json, sys
d = json.load(sys.stdin)
print(sum(1 for x in d['devices'] for e in x['ecus']
          if e.get('installed', {}).get('sha256') == sys.argv[1]))" "$1"
}

# a second server process on the same PostgreSQL database: its periodic
# evaluation races the first one's for every campaign
start_second() {
  printf 'database = %s\ndata_dir = %s/data2\nport = 0\nadmin_token = %s\n' \
    "$UPTAKE_TEST_DATABASE" "$work" "$token" >"$work/server2.conf"
  "$build/uptake-server" --config "$work/server2.conf" --port-file "$work/port2" \
    2>"$work/server2.log" &
  server2_pid=$!
  for _ in $(seq 100); do [ -s "$work/port2" ] && break; sleep 0.1; done
  [ -s "$work/port2" ] || { echo "second server did not start"; cat "$work/server2.log"; return 1; }
}

scenario() {
  work=$(mktemp -d "$top/run-XXXXXX")
  cd "$work"
  clock=$work/clock
  export UPTAKE_TEST_CLOCK_FILE=$clock
  T0=1796144400 # 2026-12-01 17:00 UTC
  set_clock $T0
  start_server || return 1
  [ -n "${UPTAKE_TEST_DATABASE:-}" ] && { start_second || return 1; }
  printf '%s\n' "$token" >token
  q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
  head -c 20000 /dev/urandom >fw1.bin
  head -c 21000 /dev/urandom >fw2.bin
  head -c 22000 /dev/urandom >fw3.bin
  head -c 5000 /dev/urandom >app1.bin
  q "$uptake" publish fw1.bin --dir ws --name fw --version 1.0 --hardware-id board-a --release-counter 1
  q "$uptake" publish fw2.bin --dir ws --name fw --version 2.0 --hardware-id board-a --release-counter 2
  q "$uptake" publish fw3.bin --dir ws --name fw --version 2.1 --hardware-id board-a --release-counter 3 --security
  q "$uptake" publish app1.bin --dir ws --name app --version 1.0 --hardware-id board-b
  fw1=$(sha256sum fw1.bin | cut -c1-64)
  fw2=$(sha256sum fw2.bin | cut -c1-64)
  fw3=$(sha256sum fw3.bin | cut -c1-64)
  # --- the fleet: 50 devices running fw-1.0 (dev-01..05 with a second ECU)
  for i in $(seq 50); do
    n=$(n2 "$i")
    q "$uptake" device add "dev-$n" --dir ws --out "d$n"
    ecus=(--ecu "p$n:board-a")
    [ "$i" -le 5 ] && ecus+=(--ecu "s$n:board-b")
    q "$device" $(D "$n") --root-director ws/metadata/director-root.json \
      --root-image ws/metadata/root.json "${ecus[@]}" init
    q "$device" $(D "$n") --installed "p$n:fw-1.0:$fw1:20000" report
  done
  tag() { # TAG OFFSET FIRST LAST
    for i in $(seq "$3" "$4"); do
      "$uptake" device set "dev-$(n2 "$i")" --dir ws --tags "$1,fleet" --utc-offset "$2" >/dev/null ||
        bad "tagging dev-$i"
    done
  }
  tag wave 0 1 30
  tag stopme 0 31 36
  tag approve 0 37 41
  tag night 0 42 43
  tag night 600 44 46
  tag sec 0 47 50
  [ "$(running "$fw1")" = 50 ] && ok || bad "fleet: $(running "$fw1") devices run fw-1.0"
  expect 0 "$uptake" device set dev-01 --dir ws --tags wave,fleet
  grep -q '"tags":\["wave","fleet"\],"utc_offset":0' out.txt && ok || bad "device tags: $(cat out.txt)"
  expect 3 "$uptake" device set dev-01 --dir ws --tags "a b"
  expect 2 "$uptake" device set dev-01 --dir ws --utc-offset 900
  expect 2 "$uptake" device add dev-99 --dir ws --tags x

  # --- bad input: clear 4xx, nothing stored
  api 400 POST campaigns '{"name":"x","targets":{"board-a":"fw-2.0"},"filter":{"colour":"red"}}'
  grep -q "unknown member 'colour'" body.txt && ok || bad "unknown filter not named"
  api 400 POST campaigns '{"name":"x","targets":{"board-a":"fw-2.0"},"filter":{"tags":["wave"]},"devices":["dev-01"]}'
  grep -q "not both" body.txt && ok || bad "devices and filter together not refused"
  api 400 POST campaigns '{"name":"x","targets":{"board-a":"fw-2.0"},"filter":{"hardware_id":"board-b"}}'
  grep -q "contradictory" body.txt && ok || bad "contradictory filter: $(cat body.txt)"
  api 400 POST campaigns '{"name":"x","targets":{"board-a":"fw-1.0"},"filter":{"installed":"fw-1.0"}}'
  grep -q "nothing to update" body.txt && ok || bad "installed = target not refused"
  api 400 POST campaigns '{"name":"x","targets":{"board-a":"fw-2.0"},"filter":{"tags":["wave"]},"stages":[{"percent":10,"success":101}]}'
  grep -q "success must be an integer from 0 to 100" body.txt && ok || bad "success 101: $(cat body.txt)"
  api 400 POST campaigns '{"name":"x","targets":{"board-a":"fw-2.0"},"filter":{"tags":["wave"]},"stages":[{"percent":10,"error":-1}]}'
  api 400 POST campaigns '{"name":"x","targets":{"board-a":"fw-2.0"},"filter":{"tags":["wave"]},"stages":[{"percent":0}]}'
  api 404 POST campaigns '{"name":"x","targets":{"board-a":"fw-9.9"},"filter":{"tags":["wave"]}}'
  grep -q "fw-9.9: not in the Image repository" body.txt && ok || bad "unknown target: $(cat body.txt)"
  api 400 POST campaigns '{"name":"x","targets":{"board-b":"fw-2.0"},"filter":{"tags":["wave"]}}'
  grep -q "UPT_ERR_HARDWARE_ID" body.txt && ok || bad "target for the wrong hardware: $(cat body.txt)"
  api 400 POST campaigns '{"name":"x","targets":{"board-a":"fw-2.0","board-b":"app-1.0"},"filter":{"tags":["sec"]}}'
  grep -q "no device in the campaign has an ECU of hardware id board-b" body.txt && ok ||
    bad "hardware id no device has: $(cat body.txt)"
  api 400 POST campaigns '{"name":"x","targets":{"board-a":"fw-2.0"},"filter":{"tags":["nobody"]}}'
  api 404 POST campaigns '{"name":"x","targets":{"board-a":"fw-2.0"},"devices":["dev-01","ghost"]}'
  api 400 POST campaigns '{"name":"x","targets":{"board-a":"fw-2.0"},"devices":["dev-01","dev-01"]}'
  api 400 POST campaigns '{"name":"x","targets":{"board-a":"fw-2.0"},"filter":{"tags":["wave"]},"window":{"start":"25:00","end":"03:00"}}'
  api 400 POST campaigns '{"name":"x","targets":{"board-a":"fw-2.0"},"filter":{"tags":["wave"]},"stages":[{"count":30},{"count":5}]}'
  grep -q "stages\[1\] would have no devices" body.txt && ok || bad "empty stage: $(cat body.txt)"
  api 400 POST campaigns '{"name":"x","targets":{"board-a":"fw-2.0"},"filter":{"tags":["wave"]},"download_only":1}'
  grep -q "download_only must be true or false" body.txt && ok || bad "download_only 1: $(cat body.txt)"
  api 400 POST campaigns '{"name":"x","targets":{"board-a":"fw-2.0"},"filter":{"tags":["wave"]'
  api 200 GET campaigns
  [ "$(jget 'len(d["campaigns"])')" = 0 ] && ok || bad "a refused campaign was stored"
  curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/devices/dev-01" >dev01.json
  grep -q '"assignments":\[\]' dev01.json && ok || bad "a refused campaign assigned something"

  # --- C1: three stages over the 30 "wave" devices
  api 201 POST campaigns '{"name":"fw-2.0 wave","targets":{"board-a":"fw-2.0"},
    "filter":{"tags":["wave"],"installed":"fw-1.0"},
    "stages":[{"count":5,"success":80,"error":30},{"count":10,"success":80,"error":20,"soak":3600},
              {"percent":100,"success":90,"error":50}]}'
  c1=$(jget 'd["id"]')
  [ "$(jget '[x["ecus"] for x in d["stages"]]')" = "[5, 10, 15]" ] && ok || bad "C1 stages: $(jget 'd["stages"]')"
  [ "$(jget 'd["status"]')" = created ] && ok || bad "C1 not created"
  # an ECU is in one active campaign at most: nothing of a second is stored
  api 409 POST campaigns '{"name":"dup","targets":{"board-a":"fw-2.0"},"devices":["dev-31","dev-03"]}'
  grep -q "device dev-03 ECU p03 is already in active campaign $c1" body.txt && ok || bad "overlap: $(cat body.txt)"
  api 200 GET campaigns
  [ "$(jget 'len(d["campaigns"])')" = 1 ] && ok || bad "an overlapping campaign was stored"
  api 200 POST "campaigns/$c1/start" '{}'
  check "$c1" "s[1]['counts']['assigned'], s[2]['counts']['pending'], s[3]['counts']['pending']" "(5, 10, 15)" "C1 stage 1 assigned"
  api 409 POST "campaigns/$c1/start" '{}'
  # stage 1: four succeed, dev-05 fails its health check and rolls back
  for i in 1 2 3; do dev_update "$i"; done
  check "$c1" "s[1]['succeeded'], d['stage'], s[2]['counts']['assigned']" "(3, 1, 0)" "C1 below its success threshold"
  dev_update 4
  check "$c1" "s[1]['succeeded'], d['stage'], s[2]['counts']['assigned']" "(4, 2, 10)" "C1 stage 2 on the success threshold"
  dev_update 5 fail
  check "$c1" "s[1]['counts']['rolled_back'], s[1]['counts']['assigned']" "(1, 0)" "C1 dev-05 rolled back"
  # stage 2: two roll back: 2 of 10 = the error threshold: paused
  dev_update 6 fail
  check "$c1" "d['status']" "running" "C1 after one failure"
  dev_update 7 fail
  check "$c1" "d['status'], 'error threshold 20%' in d['reason']" "('paused', True)" "C1 paused on its error threshold"
  # paused: ECUs assigned go on, nothing new is assigned
  for i in $(seq 8 15); do dev_update "$i"; done
  check "$c1" "s[2]['succeeded'], s[3]['counts']['pending']" "(8, 15)" "C1 paused, stage 2 done"
  # the state survives a restart
  stop_server
  start_server || return 1
  /usr/bin/python3 -c '
import json, sys
p = "ws/uptake-workspace.json"
w = json.load(open(p))
w["server"] = sys.argv[1]
json.dump(w, open(p, "w"))' "$url"
  check "$c1" "d['status'], d['stage']" "('paused', 2)" "C1 after a restart"
  api 200 POST "campaigns/$c1/resume" '{}'
  # success threshold met on resume, then the soak time (fixed clock)
  check "$c1" "d['status'], s[2]['state'], s[3]['counts']['pending']" "('running', 'threshold_met', 15)" "C1 soaking"
  set_clock $((T0 + 3000))
  sleep 2
  check "$c1" "s[3]['counts']['pending']" "15" "C1 before its soak ended"
  set_clock $((T0 + 3700))
  check "$c1" "d['stage'], s[3]['counts']['assigned']" "(3, 15)" "C1 stage 3 after the soak"
  # stage 3: dev-16 reports an image the Image repository never published
  q "$device" $(D 16) --installed "p16:evil-1.0:$(printf 'e%.0s' $(seq 64)):666" report
  # an installation report saying success is not success: the signed
  # version report of the image is
  cid=$(curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/devices/dev-17" |
    /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['assignments'][0]['correlation_id'])")
  q "$device" $(D 17) --install-report "$cid:true" report
  check "$c1" "s[3]['counts']['awaiting_reboot'], s[3]['succeeded']" "(1, 0)" "C1 dev-17 awaiting reboot"
  for i in $(seq 17 30); do dev_update "$i"; done
  check "$c1" "d['status'], s[3]['succeeded'], s[3]['failed']" "('finished', 14, 1)" "C1 finished"
  curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/alerts?kind=unknown-software" >al.json
  /usr/bin/python3 -c "import json; a=json.load(open('al.json'))['alerts']; exit(not any(x['device']=='dev-16' for x in a))" &&
    ok || bad "no unknown-software alert for dev-16: $(cat al.json)"
  # succeeded: exactly the devices whose signed reports show fw-2.0
  got=$(running "$fw2")
  check "$c1" "d['totals']['succeeded']" "$got" "C1 success count vs signed reports ($got)"
  [ "$got" = 26 ] && ok || bad "$got devices run fw-2.0, expected 26"

  # --- C2: emergency stop, then cancel: updated devices stay, the rest withdrawn
  api 201 POST campaigns '{"name":"stop","targets":{"board-a":"fw-2.0"},"filter":{"tags":["stopme"]},
    "stages":[{"count":3,"success":100},{"percent":100}]}'
  c2=$(jget 'd["id"]')
  api 200 POST "campaigns/$c2/start" '{}'
  check "$c2" "s[1]['counts']['assigned']" "3" "C2 stage 1"
  dev_update 31
  expect 0 "$uptake" campaign stop "$c2" --dir ws
  check "$c2" "d['status'], s[1]['counts']['pending'], s[1]['succeeded']" "('stopped', 2, 1)" "C2 stopped"
  expect 0 "$device" $(D 32) update
  grep -q "installed" out.txt && bad "a stopped campaign's image was installed" || ok
  api 200 POST "campaigns/$c2/resume" '{}'
  check "$c2" "s[1]['counts']['assigned']" "2" "C2 resumed: reassigned"
  expect 0 "$uptake" campaign cancel "$c2" --dir ws
  check "$c2" "d['status'], s[1]['succeeded'], d['totals']['cancelled']" "('cancelled', 1, 5)" "C2 cancelled"
  expect 0 "$device" $(D 33) update
  grep -q "installed" out.txt && bad "a cancelled campaign's image was installed" || ok
  api 409 POST "campaigns/$c2/resume" '{}'
  expect 3 "$uptake" campaign resume "$c2" --dir ws
  grep -q "is cancelled" err.txt && ok || bad "resume of a cancelled campaign: $(cat err.txt)"
  [ "$(running "$fw2")" = 27 ] && ok || bad "cancel changed updated devices"
  # the ECUs are free again
  api 201 POST campaigns '{"name":"again","targets":{"board-a":"fw-2.0"},"devices":["dev-32"]}'
  api 200 POST "campaigns/$(jget 'd["id"]')/cancel" '{}'

  # --- C3: approval before each stage (with the CLI)
  expect 0 "$uptake" campaign create approve --dir ws --target board-a=fw-2.0 --tag approve \
    --stage 2:success=100 --stage 100% --approval --json
  c3=$(/usr/bin/python3 -c "import json; print(json.load(open('out.txt'))['id'])")
  expect 0 "$uptake" campaign start "$c3" --dir ws
  check "$c3" "d['status'], s[1]['state'], s[1]['counts']['assigned']" "('running', 'awaiting_approval', 0)" "C3 waits for approval"
  expect 0 "$uptake" campaign approve "$c3" --stage 1 --dir ws
  check "$c3" "s[1]['counts']['assigned']" "2" "C3 stage 1 approved"
  dev_update 37
  dev_update 38
  check "$c3" "d['stage'], s[2]['state'], s[2]['counts']['assigned']" "(2, 'awaiting_approval', 0)" "C3 stage 2 waits"
  expect 0 "$uptake" campaign approve "$c3" --dir ws
  check "$c3" "s[2]['counts']['assigned']" "3" "C3 stage 2 approved"
  expect 3 "$uptake" campaign approve "$c3" --stage 9 --dir ws
  grep -q "stage must be an integer from 1 to 2" err.txt && ok || bad "approve --stage 9: $(cat err.txt)"
  expect 2 "$uptake" campaign approve "$c3" --stage x --dir ws
  expect 2 "$uptake" campaign create nothing --dir ws --tag approve
  expect 2 "$uptake" campaign create x --dir ws --target board-a=fw-2.0 --tag t --stage 10%:colour=1
  expect 3 "$uptake" campaign create x --dir ws --target board-a=fw-2.0 --tag approve --stage 10%:error=101
  grep -q "error must be an integer from 0 to 100" err.txt && ok || bad "CLI error 101: $(cat err.txt)"
  expect 2 "$uptake" campaign show --dir ws
  # show: per-stage counts; a progress bar on a terminal only
  expect 0 "$uptake" campaign show "$c1" --dir ws
  grep -q "campaign $c1 \"fw-2.0 wave\": finished, stage 3 of 3" out.txt && ok || bad "show: $(head -2 out.txt)"
  grep -q "stage 1  done .* 5 ECUs  4 ok, 1 failed, 0 in progress, 0 pending" out.txt && ok ||
    bad "show stage 1: $(cat out.txt)"
  grep -q '\[' out.txt && bad "a progress bar without a terminal" || ok
  script -qec "$uptake campaign show $c1 --dir ws" /dev/null >tty.txt 2>&1
  grep -q "stage 2  done .*\[#*x*\.*\]  8 ok, 2 failed" tty.txt && ok || bad "no progress bar on a terminal: $(cat tty.txt)"
  expect 0 timeout 20 "$uptake" campaign show "$c1" --dir ws --watch --json
  [ "$(/usr/bin/python3 -c "import json; print(json.load(open('out.txt'))['status'])")" = finished ] && ok ||
    bad "show --watch of a finished campaign"
  expect 0 "$uptake" campaign list --dir ws
  [ "$(grep -c '^campaign ' out.txt)" = 4 ] && ok || bad "campaign list: $(cat out.txt)"

  # --- C4: a maintenance window in the devices' local time (fixed clock)
  set_clock $((T0 + 7200)) # 19:00 UTC: 05:00 at UTC+10
  api 201 POST campaigns '{"name":"night","targets":{"board-a":"fw-2.0"},"filter":{"tags":["night"]},
    "window":{"start":"04:00","end":"06:00"}}'
  c4=$(jget 'd["id"]')
  api 200 POST "campaigns/$c4/start" '{}'
  check "$c4" "s[1]['counts']['assigned'], s[1]['counts']['pending']" "(3, 2)" "C4 window open at UTC+10 only"
  sleep 2
  check "$c4" "s[1]['counts']['pending']" "2" "C4 outside the window"
  set_clock $((T0 + 39600)) # 04:00 UTC the next day
  check "$c4" "s[1]['counts']['assigned']" "5" "C4 window open at UTC"

  # --- C5: a security release: no window, no soak
  api 201 POST campaigns '{"name":"sec","targets":{"board-a":"fw-2.1"},"filter":{"tags":["sec"]},
    "window":{"start":"10:00","end":"11:00"},"join_new":true,
    "stages":[{"count":2,"success":100,"soak":86400},{"percent":100}]}'
  c5=$(jget 'd["id"]')
  [ "$(jget 'd["security"]')" = True ] && ok || bad "C5 not a security campaign"
  api 200 POST "campaigns/$c5/start" '{}'
  check "$c5" "s[1]['counts']['assigned']" "2" "C5 outside the window: assigned (fast path)"
  dev_update 47
  dev_update 48
  check "$c5" "d['stage'], s[2]['counts']['assigned']" "(2, 2)" "C5 stage 2 without soak"
  # a new device matching the filter joins
  q "$uptake" device add dev-51 --dir ws --out d51
  q "$device" $(D 51) --root-director ws/metadata/director-root.json --root-image ws/metadata/root.json \
    --ecu p51:board-a init
  q "$device" $(D 51) --installed "p51:fw-1.0:$fw1:20000" report
  tag sec 0 51 51
  check "$c5" "s[2]['ecus'], s[2]['counts']['assigned']" "(3, 3)" "C5: a new device joined"
  for i in 49 50 51; do dev_update "$i"; done
  check "$c5" "d['status'], d['totals']['succeeded']" "('finished', 5)" "C5 finished"
  [ "$(running "$fw3")" = 5 ] && ok || bad "fw-2.1 runs on $(running "$fw3")"
  # the patch-status report shows the security campaign's progress
  curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/reports/patch-status" >ps.json
  [ "$(/usr/bin/python3 -c "
import json
r = [x for x in json.load(open('ps.json'))['releases'] if x['target'] == 'fw-2.1'][0]
print([(c['name'], c['status'], c['ecus'], c['succeeded']) for c in r['campaigns']])")" = "[('sec', 'finished', 5, 5)]" ] &&
    ok || bad "patch-status campaigns: $(head -c 600 ps.json)"
  # every stage started once (on PostgreSQL with two servers evaluating)
  for c in $c1 $c2 $c3 $c4 $c5; do
    camp "$c" "[x['text'] for x in d['log'] if x['text'].endswith(' started') and x['text'].startswith('stage')]" >started.txt
    /usr/bin/python3 -c "import ast,sys; l=ast.literal_eval(open('started.txt').read()); sys.exit(len(l) != len(set(l)))" &&
      ok || bad "campaign $c: a stage started twice: $(cat started.txt)"
  done
  api 200 GET campaigns
  [ "$(jget 'len(d["campaigns"])')" = 6 ] && ok || bad "campaign list: $(jget 'len(d["campaigns"])')"
  stop_server
  if [ -n "$server2_pid" ]; then
    kill "$server2_pid" 2>/dev/null && wait "$server2_pid" 2>/dev/null
    server2_pid=
  fi
  # (built with sanitizers, a server's report would be in its log)
  if grep -h -A12 "Sanitizer\|runtime error" "$work"/server*.log; then bad "sanitizer report"; else ok; fi
  cd "$top"
}

on_both_backends campaign
