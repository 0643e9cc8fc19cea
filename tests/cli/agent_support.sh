#!/usr/bin/env bash
# uptake-agent and the device's CRA support end (Art. 13(19)), end to end
# on loopback with the real server: the Director signs each device's support
# end into its targets (signed.custom.support_end); the agent takes it only
# from the targets it just verified and shows it in `uptake-agent status`
# (lines and --json); its notify_dir hooks run with UPTAKE_EVENT
# (support-ending within support_notify_days, support-ended once the day has
# come), UPTAKE_SUPPORT_END and UPTAKE_SUPPORT_DAYS_LEFT, once per event and
# support end: again when the end is extended, again when a hook failed.
# Also the installation report the agent signs after a failed health check.
#   bash tests/cli/agent_support.sh BUILD_DIR
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
W=(--dir ws)
py() { /usr/bin/python3 -c "$@"; }
day() { date -u -d "$1" +%F; }
device_conf() { # ID MARKET-DATE [extra lines]
  mkdir -p "$1/notify.d"
  cat >"$1/notify.d/10-log" <<'H'
#!/bin/sh
echo "$UPTAKE_EVENT $UPTAKE_SUPPORT_END $UPTAKE_SUPPORT_DAYS_LEFT $UPTAKE_PRODUCT $UPTAKE_PRIMARY_SERIAL" >>"$(dirname "$0")/../hook.log"
H
  chmod +x "$1/notify.d/10-log"
  q "$uptake" device add "$1" "${W[@]}" --out "$1/cert" --product gateway \
    --manufactured "$(day "$2 - 30 days")" --placed-on-market "$2"
  cat >"$1/agent.conf" <<CONF
server = $url
ca = $ca
cert = $work/$1/cert.crt
key = $work/$1/cert.key
state_dir = $work/$1/state
director_root = $work/ws/metadata/director-root.json
image_root = $work/ws/metadata/root.json
primary_serial = $1-main
hardware_id = board-a
slot_a = $work/$1/a.img
slot_b = $work/$1/b.img
notify_dir = $work/$1/notify.d
support_notify_days = 30
${3:-}
CONF
}
status() { "$agent" --config "$1/agent.conf" status --json; }
field() { status "$1" | py "import json, sys; d = json.load(sys.stdin); print($2)"; }
# the support end the server computed for the device
server_end() {
  "$uptake" report support "${W[@]}" --json |
    py "import json, sys; print([d['support_end'] for d in json.load(sys.stdin)['devices'] if d['id'] == '$1'][0])"
}
days_to() { py "import datetime; print((datetime.date.fromisoformat('$1') - datetime.datetime.now(datetime.timezone.utc).date()).days)"; }
once() { "$agent" --config "$1/agent.conf" once >>agent.log 2>&1; }

start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
q "$uptake" product add gateway "${W[@]}" --hardware-id board-a --support-years 5 --contact security@example.com

# --- configuration
device_conf s0 "$(day 'today')" "support_notify_days = -1"
expect 2 "$agent" --config s0/agent.conf status
grep -q "bad value for support_notify_days" err.txt && ok || bad "support_notify_days -1: $(cat err.txt)"
device_conf s9 "$(day 'today')"
expect 2 "$agent" --config s9/agent.conf --json once
expect 2 "$agent" --config s9/agent.conf status extra

# --- support ending in 10 days: status before and after the Director said so
device_conf s1 "$(day 'today - 5 years + 10 days')"
end1=$(server_end s1)
[ "$(field s1 'd["support"]')" = "{'days_left': None, 'end': None, 'product': None, 'status': 'unknown'}" ] && ok ||
  bad "status before any cycle: $(status s1)"
once s1 && ok || bad "s1 cycle: $(tail -3 agent.log)"
want="{'days_left': $(days_to "$end1"), 'end': '$end1', 'product': 'gateway', 'status': 'ending'}"
[ "$(field s1 'd["support"]')" = "$want" ] && ok || bad "status: $(status s1), want $want"
[ "$(field s1 '(d["primary_serial"], d["hardware_id"], d["auto_update"], d["report_counter"] > 0, d["slot"], d["trial"], d["running"])')" = "('s1-main', 'board-a', True, True, 'a', False, None)" ] &&
  ok || bad "device state: $(status s1)"
[ "$(cat s1/hook.log)" = "support-ending $end1 $(days_to "$end1") gateway s1-main" ] && ok ||
  bad "hook: $(cat s1/hook.log 2>&1)"
expect 0 "$agent" --config s1/agent.conf status
grep -q "^support end     $end1 (gateway): ending, $(days_to "$end1") days left" out.txt && ok || bad "status lines: $(cat out.txt)"
grep -q "^notified        support-ending $end1" out.txt && ok || bad "status lines, notified: $(cat out.txt)"
# once per event and support end
once s1
once s1
[ "$(wc -l <s1/hook.log)" = 1 ] && ok || bad "the hook ran again: $(cat s1/hook.log)"
# the manufacturer extends this unit's support: signed anew, told again
end1b=$(day "$end1 + 10 days")
q "$uptake" device set s1 "${W[@]}" --support-end "$end1b"
once s1
[ "$(tail -1 s1/hook.log)" = "support-ending $end1b $(days_to "$end1b") gateway s1-main" ] && ok ||
  bad "after the extension: $(cat s1/hook.log)"
[ "$(field s1 '(d["support"]["end"], d["notified"])')" = "('$end1b', ['support-ending $end1', 'support-ending $end1b'])" ] && ok ||
  bad "status after the extension: $(status s1)"

# --- support ended three days ago
device_conf s2 "$(day 'today - 5 years - 3 days')"
end2=$(server_end s2)
once s2
[ "$(field s2 '(d["support"]["status"], d["support"]["days_left"])')" = "('ended', $(days_to "$end2"))" ] && ok ||
  bad "ended: $(status s2)"
[ "$(cat s2/hook.log)" = "support-ended $end2 $(days_to "$end2") gateway s2-main" ] && ok || bad "ended hook: $(cat s2/hook.log 2>&1)"
expect 0 "$agent" --config s2/agent.conf status
grep -q "^support end     $end2 (gateway): ended" out.txt && ok || bad "status lines: $(cat out.txt)"

# --- in support for years: nothing to tell
device_conf s3 "$(day 'today - 1 year')"
once s3
[ "$(field s3 'd["support"]["status"]')" = in-support ] && ok || bad "in support: $(status s3)"
[ ! -e s3/hook.log ] && ok || bad "a hook ran for a device in support: $(cat s3/hook.log)"

# --- a failing hook: not remembered, run again next cycle
device_conf s4 "$(day 'today - 5 years + 5 days')"
cat >s4/notify.d/20-flaky <<'H'
#!/bin/sh
d=$(dirname "$0")/..
[ -e "$d/flaky.ok" ] && exit 0
touch "$d/flaky.ok"
exit 1
H
chmod +x s4/notify.d/20-flaky
once s4
once s4
once s4
[ "$(wc -l <s4/hook.log)" = 2 ] && ok || bad "with a failing hook: $(cat s4/hook.log)"
grep -q "notify hook 20-flaky failed (1): support-ending tried again next cycle" agent.log && ok ||
  bad "the failing hook was not logged"

# --- a product with no support end known: no custom in the targets, unknown
mkdir -p s5
q "$uptake" device add s5 "${W[@]}" --out s5/cert
sed "s/s9/s5/g" s9/agent.conf >s5/agent.conf
once s5
[ "$(field s5 'd["support"]["status"]')" = unknown ] && ok || bad "no product: $(status s5)"

# --- a failed health check is reported in a signed installation report
# with the assignment's correlation id: a rollback alert on the server
mkdir -p s3/health.d
printf '#!/bin/sh\n! grep -q BROKEN "$UPTAKE_SLOT_PATH"\n' >s3/health.d/check
chmod +x s3/health.d/check
echo "health_dir = $work/s3/health.d" >>s3/agent.conf
{ echo "BROKEN"; head -c 1000 /dev/urandom; } >bad.bin
q "$uptake" publish bad.bin "${W[@]}" --name fw --version 9.9 --hardware-id board-a
q "$uptake" assign fw-9.9 "${W[@]}" --hardware-id board-a --device s3
rc=0; once s3 || rc=$?
[ "$rc" = 3 ] && ok || bad "install: exit $rc"
q "$agent" --config s3/agent.conf boot
rc=0; once s3 || rc=$?
[ "$rc" = 3 ] && ok || bad "failed trial: exit $rc"
[ ! -e s3/state/install.result ] && ok || bad "the install result was not taken by the server"
curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/devices/s3" >s3.json
[ "$(py 'import json; d=json.load(open("s3.json")); r=d["installation_reports"][0]; print(r["success"], r["correlation_id"] == d["assignments"][0]["correlation_id"], r["report"]["report"]["result"]["code"])')" = "False True HEALTH_CHECK_FAILED" ] &&
  ok || bad "installation report: $(head -c 600 s3.json)"
curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/alerts?kind=rollback" >al.json
[ "$(py 'import json; print([(a["device"], a["ecu"], a["count"]) for a in json.load(open("al.json"))["alerts"]])')" = "[('s3', 's3-main', 1)]" ] &&
  ok || bad "rollback alert: $(cat al.json)"

finish
