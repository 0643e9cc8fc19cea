#!/usr/bin/env bash
# The CRA evidence of a fleet, end to end on loopback, on SQLite and then on
# PostgreSQL: 22 devices (12 real uptake-agent processes with A/B slots and
# health checks, 10 libuptake test devices with a secondary each, all with
# real signatures) of one product, with their own market dates, go through
# updates (fw-1.0, then the security release fw-1.1), a broken image whose
# health check fails and rolls back, a secondary reporting an image never
# published, a downgrade by a forged-but-validly-signed report (a
# compromised ECU key), an attack report, a replayed manifest, a manifest
# without a registered ECU, automatic updates turned off, and a device that
# goes silent. Then every report (support, inventory, patch-status,
# opt-out) and every alert is asserted exactly, the agents' support status
# and notify hooks too, and a webhook receiver on loopback, which refuses the
# first deliveries and is down for a while (across server restarts), got
# each alert exactly once with a valid signature.
#   bash tests/cli/fleet_evidence.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
base=$(mktemp -d)
hook_pid=
. "$here/../support/serverlib.sh"
. "$here/../support/pglib.sh"
work=$base
trap '[ -n "$hook_pid" ] && kill $hook_pid 2>/dev/null; stop_server; cd /; stop_postgres; rm -rf "$base"' EXIT
cd "$base"
. "$here/../support/testlib.sh"
uptake=$build/uptake
agent=$build/uptake-agent
device=$build/tests/test_device
secret=fleet-evidence-hmac-secret-42
W=(--dir ws)
AGENTS=(a01 a02 a03 a04 a05 a06 a07 a08 a09 a10 a11 a12)
TDEVS=(t01 t02 t03 t04 t05 t06 t07 t08 t09 t10)

day() { date -u -d "$1" +%F; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
# pycheck WHAT CODE: Python (with json, and same(got, want)) that exits 1 on a mismatch
pycheck() {
  if /usr/bin/python3 -c "
import json, sys
def same(got, want):
    if got != want:
        print('got: ', got)
        print('want:', want)
        sys.exit(1)
$2" >py.txt 2>&1; then ok; else bad "$1: $(head -c 3000 py.txt)"; fi
}
api() { curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/$1"; }
start_hook() { # FAIL [PORT]
  rm -f hook.port
  /usr/bin/python3 "$here/../tools/webhook.py" "$secret" "$1" hook.log hook.port "${2:-0}" &
  hook_pid=$!
  for _ in $(seq 600); do [ -s hook.port ] && break; sleep 0.1; done
  [ -s hook.port ] || { echo "the webhook receiver did not start"; exit 1; }
}
stop_hook() { kill "$hook_pid" 2>/dev/null; wait "$hook_pid" 2>/dev/null; hook_pid=; }

agent_conf() { # ID
  local a=$1
  mkdir -p "$a/health.d" "$a/notify.d"
  printf '#!/bin/sh\n! grep -q BROKEN "$UPTAKE_SLOT_PATH"\n' >"$a/health.d/check"
  printf '#!/bin/sh\necho "$UPTAKE_EVENT $UPTAKE_SUPPORT_END" >>"$(dirname "$0")/../notified.log"\n' >"$a/notify.d/log"
  chmod +x "$a/health.d/check" "$a/notify.d/log"
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
notify_dir = $PWD/$a/notify.d
boot_limit = 2
CONF
  [ "$a" = a02 ] && echo "auto_update = false" >>"$a/agent.conf"
}
# cycle ID: agent cycles with simulated reboots until it has nothing to do
cycle() {
  local rc
  for _ in 1 2 3 4 5 6; do
    rc=0
    "$agent" --config "$1/agent.conf" once >>"$1/agent.log" 2>&1 || rc=$?
    [ "$rc" -eq 3 ] || return "$rc"
    "$agent" --config "$1/agent.conf" boot >>"$1/agent.log" 2>&1
  done
  return 9
}
cycles() { # ID...: in parallel
  local pids=()
  for a in "$@"; do
    (cycle "$a"; echo $? >"$a/rc") &
    pids+=($!)
  done
  wait "${pids[@]}" # not the webhook receiver
  for a in "$@"; do [ "$(cat "$a/rc")" = 0 ] || bad "$a: cycle exit $(cat "$a/rc"): $(tail -3 "$a/agent.log")"; done
}
tdev() { local t=$1; shift; "$device" --dir "$t/d" --server "$url" --ca "$ca" --cert "$t/cert.crt" --key "$t/cert.key" "$@"; }
msha() { printf 'manifest sha256:%s' "$(sha "$1/d/last-manifest.json")"; }

# restart: the server again (a new port), the workspace pointed at it
restart() {
  stop_server
  cat server.log >>server.all.log
  start_server || exit 1
  /usr/bin/python3 -c '
import json, sys
p = "ws/uptake-workspace.json"
w = json.load(open(p))
w["server"] = sys.argv[1]
json.dump(w, open(p, "w"))' "$url"
}

scenario() { # BACKEND
  local b=$1 t a hook_port
  work=$base/$b
  mkdir -p "$work"
  cd "$work" || exit 1
  echo "--- $b"
  start_hook 3
  hook_port=$(cat hook.port)
  hook_conf="alert_webhook = http://127.0.0.1:$hook_port/hook
alert_webhook_secret = $secret"
  server_extra_conf=$hook_conf
  start_server || exit 1
  printf '%s\n' "$token" >token
  q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
  q "$uptake" product add gateway "${W[@]}" --hardware-id board-a --support-years 5 --contact psirt@example.com

  # --- releases
  for f in fw10 fw11 app10; do head -c 4000 /dev/urandom >$f.bin; done
  { echo BROKEN; head -c 4000 /dev/urandom; } >fw12.bin
  q "$uptake" publish fw10.bin "${W[@]}" --name fw --version 1.0 --hardware-id board-a --release-counter 1
  q "$uptake" publish app10.bin "${W[@]}" --name app --version 1.0 --hardware-id board-b

  # --- the fleet: market dates decide each unit's support end
  declare -gA market=()
  for d in "${AGENTS[@]}" "${TDEVS[@]}"; do market[$d]=$(day 'today - 1 year'); done
  market[a01]=$(day 'today - 5 years + 30 days') # ending within 90 days
  market[a03]=$(day 'today - 5 years - 10 days') # ended
  market[t01]=$(day 'today - 5 years + 60 days') # ending
  for d in "${AGENTS[@]}" "${TDEVS[@]}"; do
    mkdir -p "$d"
    if [ "$d" = t10 ]; then # no product, no dates: support unknown
      q "$uptake" device add "$d" "${W[@]}" --out "$d/cert"
    else
      q "$uptake" device add "$d" "${W[@]}" --out "$d/cert" --product gateway \
        --manufactured "$(day "${market[$d]} - 20 days")" --placed-on-market "${market[$d]}"
    fi
  done
  # one unit's support runs longer than its product's (a per-unit end)
  q "$uptake" device set t03 "${W[@]}" --support-end "$(day 'today + 10 years')"
  for a in "${AGENTS[@]}"; do agent_conf "$a"; done
  cycles "${AGENTS[@]}"
  for t in "${TDEVS[@]}"; do
    n=${t#t}
    q tdev "$t" --root-director ws/metadata/director-root.json --root-image ws/metadata/root.json \
      --ecu "$t-p:board-a" --ecu "$t-s:board-b" init
    q tdev "$t" report
  done
  t10_at=$(date +%s) # t10 never reports again

  # --- fw-1.0 for every board-a ECU, app-1.0 for every secondary
  all=()
  for d in "${AGENTS[@]}" "${TDEVS[@]}"; do all+=(--device "$d"); done
  q "$uptake" assign fw-1.0 "${W[@]}" --hardware-id board-a "${all[@]}"
  tall=()
  for t in "${TDEVS[@]}"; do tall+=(--device "$t"); done
  q "$uptake" assign app-1.0 "${W[@]}" --hardware-id board-b "${tall[@]}"
  cycles "${AGENTS[@]}"
  for t in "${TDEVS[@]:0:9}"; do q tdev "$t" update; q tdev "$t" report; done

  # --- the security release fw-1.1 for a01-a08 and t01-t05
  q "$uptake" publish fw11.bin "${W[@]}" --name fw --version 1.1 --hardware-id board-a --release-counter 2 --security
  some=()
  for d in a01 a02 a03 a04 a05 a06 a07 a08 t01 t02 t03 t04 t05; do some+=(--device "$d"); done
  q "$uptake" assign fw-1.1 "${W[@]}" --hardware-id board-a "${some[@]}"
  cycles a01 a02 a03 a04 a05 a06 a07 a08
  for t in t01 t02 t03 t04 t05; do q tdev "$t" update; q tdev "$t" report; done

  # --- a broken image on a09: its health check fails, back to fw-1.0
  q "$uptake" publish fw12.bin "${W[@]}" --name fw --version 1.2 --hardware-id board-a --release-counter 3
  q "$uptake" assign fw-1.2 "${W[@]}" --hardware-id board-a --device a09
  cycles a09
  grep -q "failed its health checks: back to slot" a09/agent.log && ok || bad "a09 did not roll back"

  # the receiver is down for a while
  stop_hook

  # --- t06's secondary reports an image never published (its own key signs it)
  evil=$(head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1)
  q tdev t06 --set "t06-s=backdoor:4096:$evil" report
  ev_t06="$(msha t06); runs sha256:$evil"
  # --- t02's primary key is compromised: a validly signed report of fw-1.0
  q tdev t02 --set "t02-p=fw-1.0:4000:$(sha fw10.bin)" report
  ev_t02="$(msha t02); runs sha256:$(sha fw10.bin); before sha256:$(sha fw11.bin)"
  # --- t07 reports an attack
  q tdev t07 --attack "ROLLBACK_ATTACK: targets version 3 below 5" report
  ev_t07=$(msha t07)
  # --- t08's last manifest replayed: refused
  expect 1 tdev t08 replay
  ev_t08=$(msha t08)
  # --- t09's manifest leaves its secondary out
  q tdev t09 --omit t09-s report
  ev_t09=$(msha t09)

  # back, and it refuses its first two deliveries: the retries are certain
  # whatever the worker managed to send before it went away
  start_hook 2 "$hook_port"

  # --- the final round: everyone but t10 reports; t04 turns automatic updates off
  # (t10's age then exceeds everyone else's by 40 s: the silence check
  # below has half of it to run, however slowly the restarted server starts)
  [ $(($(date +%s) - t10_at)) -ge 40 ] || sleep $((40 - ($(date +%s) - t10_at)))
  final_at=$(date +%s)
  cycles "${AGENTS[@]}"
  for t in "${TDEVS[@]:0:9}"; do
    if [ "$t" = t04 ]; then q tdev "$t" --auto-update false report; else q tdev "$t" report; fi
  done

  # --- t10 is silent: the server restarts with silent_after between t10's
  # age and everyone else's (the worker checks at its start)
  now=$(date +%s)
  silent=$((now - final_at + (final_at - t10_at) / 2))
  server_extra_conf="$hook_conf
silent_after = $silent"
  restart
  seen=0
  for _ in $(seq 240); do
    [ "$(api 'alerts?kind=silent' | /usr/bin/python3 -c 'import json, sys; print(len(json.load(sys.stdin)["alerts"]))' 2>/dev/null)" != 0 ] &&
      { seen=1; break; }
    sleep 0.25
  done
  [ "$seen" = 1 ] || bad "no silent alert within 60 s of the restart"
  server_extra_conf=$hook_conf
  restart

  # --- alerts, exactly
  api alerts >alerts.json
  pycheck "alerts" "
a = json.load(open('alerts.json'))['alerts']
same(sorted((x['kind'], x['device'], x['ecu'], x['count'], x['open']) for x in a), sorted([
    ('rollback', 'a09', 'a09-main', 1, True),
    ('unknown-software', 't06', 't06-s', 1, True),
    ('downgrade', 't02', 't02-p', 1, True),
    ('attack-reported', 't07', 't07-p', 1, True),
    ('manifest-refused', 't08', '', 1, True),
    ('ecu-missing', 't09', 't09-s', 1, True),
    ('silent', 't10', '', 1, True)]))
ev = {x['kind']: x['evidence'] for x in a}
same(ev['unknown-software'], '$ev_t06')
same(ev['downgrade'], '$ev_t02')
same(ev['attack-reported'], '$ev_t07')
same(ev['manifest-refused'], '$ev_t08')
same(ev['ecu-missing'], '$ev_t09')
same(ev['silent'], '')
same(ev['rollback'].startswith('manifest sha256:') and ev['rollback'].split('; ')[1:],
     ['runs sha256:$(sha fw10.bin)', ev['rollback'].split('; ')[2]])
same(ev['rollback'].split('; ')[2].startswith('assignment urn:uptake:assignment:'), True)
msg = {x['kind']: x['message'] for x in a}
same('ROLLBACK_ATTACK' in msg['attack-reported'], True)
same('from fw-1.1 (release 2) to fw-1.0 (release 1)' in msg['downgrade'], True)
same('fw-1.2' in msg['rollback'], True)
"
  # the rollback's assignment is a09's fw-1.2, as the installation report says
  api devices/a09 >a09.json
  pycheck "a09's installation report" "
d = json.load(open('a09.json'))
a = json.load(open('alerts.json'))['alerts']
cid = [x['correlation_id'] for x in d['assignments'] if x['target'] == 'fw-1.2'][0]
same([x['evidence'].endswith('assignment ' + cid) for x in a if x['kind'] == 'rollback'], [True])
same([(r['success'], r['correlation_id'] == cid) for r in d['installation_reports'] if r['correlation_id'] == cid], [(False, True)])
"

  # --- the support report
  "$uptake" report support "${W[@]}" --json >support.json
  want=""
  for d in "${AGENTS[@]}" "${TDEVS[@]}"; do
    if [ "$d" = t10 ]; then end=""; elif [ "$d" = t03 ]; then end=$(day 'today + 10 years'); else end=$(day "${market[$d]} + 5 years"); fi
    want+="$d $end|"
  done
  pycheck "support report" "
import datetime
s = json.load(open('support.json'))
today = datetime.datetime.now(datetime.timezone.utc).date()
ends = dict(x.split(' ') for x in '$want'.rstrip('|').split('|'))
want = []
for d, end in sorted(ends.items()):
    if not end:
        want.append((d, '', '', 'unknown', None, d not in ('t04',) and d != 'a02'))
        continue
    left = (datetime.date.fromisoformat(end) - today).days
    st = 'ended' if left <= 0 else 'ending' if left <= 90 else 'in-support'
    want.append((d, 'gateway', end, st, max(left, 0), d not in ('a02', 't04')))
same(sorted((x['id'], x['product'], x['support_end'], x['status'], x.get('days_left'), x['auto_update']) for x in s['devices']), want)
same([x['id'] for x in s['devices'] if x['status'] == 'ending'], ['a01', 't01'])
same([x['id'] for x in s['devices'] if x['status'] == 'ended'], ['a03'])
same([x['id'] for x in s['devices'] if x['last_manifest'] == 0], [])
same([(p['name'], p['support_years'], p['devices'], p['devices_dated'], p['last_obligation_ends']) for p in s['products']],
     [('gateway', 5, 21, 21, '$(day 'today + 10 years')')])
"
  expect 0 "$uptake" report support "${W[@]}"
  grep -q "^a03 .*ended" out.txt && ok || bad "support table: $(head -5 out.txt)"

  # --- the agents know their support end, signed, and told their users once
  pycheck "a01's status" "
import subprocess
d = json.loads(subprocess.run(['$agent', '--config', 'a01/agent.conf', 'status', '--json'], capture_output=True, check=True).stdout)
same((d['support']['end'], d['support']['status'], d['running']['name']), ('$(day "${market[a01]} + 5 years")', 'ending', 'fw-1.1'))
"
  [ "$(cat a01/notified.log)" = "support-ending $(day "${market[a01]} + 5 years")" ] && ok || bad "a01's hook: $(cat a01/notified.log 2>&1)"
  [ "$(cat a03/notified.log)" = "support-ended $(day "${market[a03]} + 5 years")" ] && ok || bad "a03's hook: $(cat a03/notified.log 2>&1)"
  n=0
  for a in "${AGENTS[@]}"; do [ -e "$a/notified.log" ] && n=$((n + 1)); done
  [ "$n" = 2 ] && ok || bad "$n agents notified, not 2"

  # --- the inventory
  "$uptake" report inventory "${W[@]}" --json >inventory.json
  pycheck "inventory" "
i = json.load(open('inventory.json'))
same(sorted((x['sha256'], x['hardware_id'], x['installed'], x['ecus'], x['devices'], x['published'], x['target']) for x in i['images']), sorted([
    ('$(sha fw11.bin)', 'board-a', 'fw-1.1', 11, 11, True, 'fw-1.1'),
    ('$(sha fw10.bin)', 'board-a', 'fw-1.0', 9, 9, True, 'fw-1.0'),
    ('$(sha app10.bin)', 'board-b', 'app-1.0', 8, 8, True, 'app-1.0'),
    ('$evil', 'board-b', 'backdoor', 1, 1, False, None)]))
same((i['ecus'], i['no_image_ecus'], i['unpublished_images']), (32, 3, 1))
"

  # --- patch status of the security release
  "$uptake" report patch-status "${W[@]}" --days 0 --json >patch.json
  pycheck "patch-status" "
p = json.load(open('patch.json'))
same([(r['target'], r['release_counter'], r['overdue'], r['ecus'], r['patched']) for r in p['releases']], [('fw-1.1', 2, True, 22, 11)])
same(sorted((l['device'], l['ecu'], l['installed']) for l in p['releases'][0]['lacking']), sorted(
    [('a02', 'a02-main', '')] + [(a, a + '-main', 'fw-1.0') for a in ('a09', 'a10', 'a11', 'a12')] +
    [(t, t + '-p', 'fw-1.0') for t in ('t02', 't06', 't07', 't08', 't09')] + [('t10', 't10-p', '')]))
"

  # --- opt-out: from the signed manifests
  "$uptake" report opt-out "${W[@]}" --json >optout.json
  pycheck "opt-out" "
o = json.load(open('optout.json'))
same(sorted((d['id'], d['product'], d['since'] > 0) for d in o['devices']), [('a02', 'gateway', True), ('t04', 'gateway', True)])
same((o['opted_out'], o['devices_total']), (2, 22))
"

  # --- the webhook got each alert exactly once, signed
  for _ in $(seq 240); do [ "$(wc -l <hook.log 2>/dev/null || echo 0)" -ge 7 ] && break; sleep 0.5; done
  sleep 1
  pycheck "webhook deliveries" "
rows = [json.loads(l) for l in open('hook.log')]
a = json.load(open('alerts.json'))['alerts']
same(sorted(r['id'] for r in rows), sorted(x['id'] for x in a))
same(sorted((r['kind'], r['device'], r['ecu']) for r in rows), sorted((x['kind'], x['device'], x['ecu']) for x in a))
"
  [ ! -e hook.log.bad ] && ok || bad "a delivery with a bad signature"
  cat server.log >>server.all.log
  grep -q "did not take it" server.all.log && ok || bad "no refused delivery was retried"
  stop_server
  stop_hook
  cd "$base" || exit 1
}

scenario sqlite
cd / # PostgreSQL's tools may run as another user, who cannot enter $base
if start_postgres; then
  create_database fleet || bad "createdb"
  cd "$base" || exit 1
  UPTAKE_TEST_DATABASE=$pg_uri_base/fleet scenario postgresql
  unset UPTAKE_TEST_DATABASE
else
  bad "PostgreSQL did not start"
fi
finish
