#!/usr/bin/env bash
# Two uptake-server processes on one PostgreSQL, behind HAProxy in TCP
# mode (mutual TLS reaches the servers; HAProxy checks GET /health), on
# loopback, sharing one images directory. Test devices and an agent poll
# and report through HAProxy.
#  - An assignment made through one server is seen at once by polls through
#    the other, although both answer polls from memory for minutes
#    (director_cache_ms): the change is announced through the database.
#  - A device's first polls, sent to both servers at once, are all answered
#    (its metadata is signed once, not twice with one version).
#  - A new alert is delivered to the webhook once, not once per server.
#  - One server is killed (SIGKILL) while devices report: every manifest
#    that was acknowledged is in the database, and the devices, the agent
#    and the admin API carry on through the other server.
#  - A third server joins and the Director's online keys are rotated
#    through it: the other server signs with the new keys from then on.
#   bash tests/cli/two_servers.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
. "$here/../support/pglib.sh"
. "$here/../support/testlib.sh"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  stop_postgres
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
uptake=$build/uptake
device=$build/tests/test_device
agent=$build/uptake-agent
command -v haproxy >/dev/null || { echo "haproxy is not installed (scripts/install-deps)"; exit 1; }
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start_postgres || exit 1
create_database fleet || exit 1
psql() { (cd / && pg_as "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U uptake -d fleet -Atc "$1"); }

# --- the webhook receiver
secret=two-servers-webhook-secret
/usr/bin/python3 "$here/../tools/webhook.py" "$secret" 0 hook.log hook.port &
pids+=($!)
for _ in $(seq 50); do [ -s hook.port ] && break; sleep 0.1; done
hook_port=$(cat hook.port)

# --- two servers: one database, one data directory (images, TLS CA)
start_one() { # NAME
  cat >"$1.conf" <<CONF
database = $pg_uri_base/fleet
data_dir = $work/data
port = 0
admin_token = $token
threads = 2
max_connections_per_ip = 0
director_cache_ms = 600000
alert_webhook = http://127.0.0.1:$hook_port/hook
alert_webhook_secret = $secret
CONF
  "$build/uptake-server" --config "$1.conf" --port-file "$1.port" 2>>"$1.log" &
  pids+=($!)
  eval "pid_$1=$!"
  for _ in $(seq 100); do [ -s "$1.port" ] && break; sleep 0.1; done
  [ -s "$1.port" ] || { echo "server $1 did not start"; cat "$1.log"; exit 1; }
  eval "url_$1=https://127.0.0.1:$(sed -n 1p "$1.port")"
}
start_one a # the first makes the CA and the online keys; the second uses them
start_one b
ca=$work/data/tls/ca.pem
cmp -s <(curl -sf --cacert "$ca" "$url_a/api/v1/director/online-keys" -H "Authorization: Bearer $token") \
  <(curl -sf --cacert "$ca" "$url_b/api/v1/director/online-keys" -H "Authorization: Bearer $token") &&
  ok || bad "the two servers sign with different online keys"

# --- HAProxy in front, TCP mode, health-checked
lb_port=$(free_port)
cat >haproxy.cfg <<CFG
global
  maxconn 2000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout check 5s
  retries 3
  option redispatch
frontend fleet
  bind 127.0.0.1:$lb_port
  default_backend servers
backend servers
  balance roundrobin
  option httpchk GET /health
  http-check expect status 200
  server a ${url_a#https://} check check-ssl verify none inter 500ms fall 3 rise 2
  server b ${url_b#https://} check check-ssl verify none inter 500ms fall 3 rise 2
CFG
# (a server slow to answer its checks on a loaded machine stays in: fall 3;
# connections to a dead one are sent to the other: redispatch)
haproxy -db -f haproxy.cfg >haproxy.log 2>&1 &
pids+=($!)
url=https://127.0.0.1:$lb_port
for _ in $(seq 100); do curl -sf --cacert "$ca" "$url/health" >/dev/null && break; sleep 0.1; done
curl -sf --cacert "$ca" "$url/health" >/dev/null && ok || { bad "HAProxy does not answer"; cat haproxy.log; }
sleep 1 # both servers up in HAProxy's checks
printf '%s\n' "$token" >token

# --- a fleet, set up through HAProxy
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
image() { { echo "image $1"; head -c 60000 /dev/urandom; } >"$1.bin"; }
image fw1
q "$uptake" publish fw1.bin --dir ws --name fw --version 1.0 --hardware-id board-a
n=4
for i in $(seq $n); do
  q "$uptake" device add "d$i" --dir ws --out "d$i"
  q "$device" --dir "dev$i" --server "$url" --ca "$ca" --cert "d$i.crt" --key "d$i.key" \
    --root-director ws/metadata/director-root.json --root-image ws/metadata/root.json \
    --ecu "prim-$i:board-a" --ecu "sec-$i:board-b" init
done
dev() { # I COMMAND...: test device I through HAProxy
  local i=$1
  shift
  "$device" --dir "dev$i" --server "$url" --ca "$ca" --cert "d$i.crt" --key "d$i.key" "$@"
}
q "$uptake" assign fw-1.0 --dir ws --hardware-id board-a $(for i in $(seq $n); do printf -- '--device d%s ' "$i"; done)
for i in $(seq $n); do
  expect 0 dev "$i" update
  grep -q "installed fw-1.0 on prim-$i" out.txt && ok || bad "d$i did not install fw-1.0"
done

# --- an agent through HAProxy
mkdir -p ag/health.d
q "$uptake" device add ag --dir ws --out ag/cert
cat >ag/agent.conf <<CONF
server = $url
ca = $ca
cert = $work/ag/cert.crt
key = $work/ag/cert.key
state_dir = $work/ag/state
director_root = $work/ws/metadata/director-root.json
image_root = $work/ws/metadata/root.json
primary_serial = ag-main
hardware_id = board-a
slot_a = $work/ag/a.img
slot_b = $work/ag/b.img
health_dir = $work/ag/health.d
boot_limit = 2
CONF
cycle() { # agent cycles with simulated reboots until it has nothing to do
  local rc
  for _ in 1 2 3 4 5 6; do
    rc=0
    "$agent" --config ag/agent.conf once >>agent.log 2>&1 || rc=$?
    [ "$rc" -eq 3 ] || return "$rc"
    "$agent" --config ag/agent.conf boot >>agent.log 2>&1
  done
  return 9
}
running() { # what the server says ECU 0 of device $1 runs
  curl -sf --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/devices/$1" |
    /usr/bin/python3 -c '
import json, sys
i = json.load(sys.stdin)["ecus"][0].get("installed")
print(i["name"] if i else "-")'
}
cycle && ok || { bad "the agent's first cycle"; tail -5 agent.log; }
q "$uptake" assign fw-1.0 --dir ws --hardware-id board-a --device ag
cycle && ok || { bad "the agent's fw-1.0 cycle"; tail -5 agent.log; }
[ "$(running ag)" = fw-1.0 ] && ok || bad "the agent runs $(running ag), not fw-1.0"

# --- an assignment through one server is seen through the other at once
poll() { # SERVER-URL I FILE: a poll of device I straight to one server
  curl -s --cacert "$ca" --cert "d$2.crt" --key "d$2.key" -o poll.json -w '%{http_code}' \
    "$1/director/$3"
}
image fw2
q "$uptake" publish fw2.bin --dir ws --name fw --version 2.0 --hardware-id board-a
assign_at() { # SERVER-URL TARGET DEVICE
  curl -sf --cacert "$ca" -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    --data-binary "{\"target\":\"$2\",\"hardware_id\":\"board-a\",\"devices\":[\"$3\"]}" \
    "$1/api/v1/assign" >/dev/null
}
seen_at() { # SERVER-URL I TARGET: within a generous deadline, polls of I there list TARGET
  for _ in $(seq 50); do
    [ "$(poll "$1" "$2" targets.json)" = 200 ] && grep -q "\"$3\"" poll.json && return 0
    sleep 0.2
  done
  return 1
}
for pair in "a b 1" "b a 2"; do
  set -- $pair
  from=$(eval echo "\$url_$1") to=$(eval echo "\$url_$2")
  # the other server answers from memory now
  [ "$(poll "$to" "$3" targets.json)" = 200 ] && grep -q '"fw-1.0"' poll.json &&
    ! grep -q '"fw-2.0"' poll.json && ok || bad "d$3 through $2 before the assignment"
  [ "$(poll "$to" "$3" timestamp.json)" = 200 ] && ok || bad "d$3 timestamp through $2"
  assign_at "$from" fw-2.0 "d$3" && ok || bad "assignment of fw-2.0 to d$3 through $1"
  seen_at "$to" "$3" fw-2.0 && ok || bad "an assignment through $1 is not seen through $2"
  expect 0 dev "$3" update
  grep -q "installed fw-2.0 on prim-$3" out.txt && ok || bad "d$3 did not install fw-2.0"
done

# --- new devices' first polls at both servers at once: each device's
# metadata is signed once, every poll answered
for j in 1 2 3 4 5 6; do
  q "$uptake" device add "n$j" --dir ws --out "n$j"
  q "$device" --dir "devn$j" --server "$url" --ca "$ca" --cert "n$j.crt" --key "n$j.key" \
    --root-director ws/metadata/director-root.json --root-image ws/metadata/root.json \
    --ecu "prim-n$j:board-a" init
done
for j in 1 2 3 4 5 6; do
  args=()
  for k in 1 2 3 4 5 6 7 8; do
    args+=(-o /dev/null "$([ $((k % 2)) = 0 ] && echo "$url_a" || echo "$url_b")/director/timestamp.json")
  done
  curl -s --no-progress-meter -Z --parallel-immediate --parallel-max 8 --cacert "$ca" --cert "n$j.crt" --key "n$j.key" \
    -w '%{http_code}\n' "${args[@]}" >"first.$j" &
done
wait_polls() { for _ in $(seq 300); do [ "$(cat first.* | wc -l)" -ge 48 ] && return; sleep 0.1; done; }
wait_polls
[ "$(cat first.* | sort -u)" = 200 ] && ok ||
  bad "concurrent first polls at both servers: $(sort first.* | uniq -c | tr '\n' ' ')"
[ "$(psql "SELECT count(*) FROM meta WHERE repo LIKE 'director/n_' AND role='timestamp'")" = 6 ] && ok ||
  bad "new devices' first timestamps signed more than once"

# --- an alert (a forged manifest) is delivered once, not once per server
expect 1 dev 1 forge
for _ in $(seq 100); do [ -s hook.log ] && break; sleep 0.1; done
sleep 3 # both servers' alert workers have had their turns
[ "$(wc -l <hook.log)" = 1 ] && ok || bad "the alert was delivered $(wc -l <hook.log) times"

# --- load: every device reports again and again through HAProxy; kill a
# server under it
rounds=16
for i in $(seq $n); do
  (
    for r in $(seq $rounds); do
      if dev "$i" report >/dev/null 2>"err.$i.$r"; then
        sha256sum <"dev$i/last-manifest.json" | cut -d' ' -f1 >>"acked.$i"
        echo ok >>"result.$i"
      else
        echo fail >>"result.$i"
      fi
      sleep 0.2
    done
  ) &
done
for _ in $(seq 200); do [ "$(cat acked.* 2>/dev/null | wc -l)" -ge $((n * 4)) ] && break; sleep 0.1; done
kill -9 "$pid_a"
wait "$pid_a" 2>/dev/null
for i in $(seq $n); do before[$i]=$(wc -l <"result.$i"); done
for _ in $(seq 600); do
  [ "$(cat result.* | wc -l)" -ge $((n * rounds)) ] && break
  sleep 0.1
done
[ "$(cat result.* | wc -l)" = $((n * rounds)) ] && ok || bad "the devices did not finish their rounds"
acked=$(cat acked.* | wc -l)
stored=$(psql "SELECT encode(sha256(body), 'hex') FROM manifests" | sort -u)
lost=0
for h in $(cat acked.*); do grep -qx "$h" <<<"$stored" || lost=$((lost + 1)); done
[ "$lost" = 0 ] && ok || bad "$lost of $acked acknowledged manifests are not in the database"
# after the kill each device carried on through server b: its last rounds
# were all acknowledged
for i in $(seq $n); do
  after=$(tail -n +$((before[i] + 1)) "result.$i" | tail -n 5)
  [ -n "$after" ] && ! grep -q fail <<<"$after" && ok ||
    bad "d$i after the kill: $(tr '\n' ' ' <"result.$i")"
done
[ "$acked" -ge $((n * (rounds - 3))) ] && ok || bad "only $acked of $((n * rounds)) reports acknowledged"
# the database's view matches the last acknowledged report of each device
for i in $(seq $n); do
  want=$(tail -1 "acked.$i")
  got=$(psql "SELECT encode(sha256(body), 'hex') FROM manifests WHERE device='d$i' ORDER BY id DESC LIMIT 1")
  [ "$want" = "$got" ] && ok || bad "d$i: the newest stored manifest is not its last acknowledged one"
done

# --- the fleet carries on through server b
[ "$(curl -s --cacert "$ca" -o /dev/null -w '%{http_code}' "$url_b/health")" = 200 ] && ok || bad "server b unhealthy"
image fw3
expect 0 "$uptake" publish fw3.bin --dir ws --name fw --version 3.0 --hardware-id board-a
expect 0 "$uptake" assign fw-3.0 --dir ws --hardware-id board-a --device d3 --device ag
expect 0 dev 3 update
grep -q "installed fw-3.0 on prim-3" out.txt && ok || bad "d3 did not install fw-3.0 after the kill"
expect 0 dev 3 report
[ "$(running d3)" = fw-3.0 ] && ok || bad "d3 runs $(running d3) after the kill"
cycle && ok || { bad "the agent's cycle after the kill"; tail -5 agent.log; }
[ "$(running ag)" = fw-3.0 ] && ok || bad "the agent runs $(running ag), not fw-3.0, after the kill"

# --- a server joins; the Director's online keys are rotated through it:
# server b signs with the new keys from then on
start_one c
ws_server() { # URL: the workspace talks to that server
  /usr/bin/python3 -c '
import json, sys
p = "ws/uptake-workspace.json"
d = json.load(open(p))
d["server"] = sys.argv[1]
json.dump(d, open(p, "w"))' "$1"
}
online_keys() { curl -sf --cacert "$ca" -H "Authorization: Bearer $token" "$1/api/v1/director/online-keys"; }
before_keys=$(online_keys "$url_b")
ws_server "$url_c"
expect 0 "$uptake" key rotate online --director --dir ws
ws_server "$url"
same=0
for _ in $(seq 50); do
  [ "$(online_keys "$url_b")" = "$(online_keys "$url_c")" ] && { same=1; break; }
  sleep 0.1
done
[ "$same" = 1 ] && [ "$(online_keys "$url_b")" != "$before_keys" ] && ok ||
  bad "server b did not take the online keys rotated through server c"
image fw4
expect 0 "$uptake" publish fw4.bin --dir ws --name fw --version 4.0 --hardware-id board-a
assign_at "$url_b" fw-4.0 d4 && ok || bad "assignment of fw-4.0 through b"
expect 0 "$device" --dir dev4 --server "$url_b" --ca "$ca" --cert d4.crt --key d4.key update
grep -q "installed fw-4.0 on prim-4" out.txt && ok || bad "d4 did not install fw-4.0 signed by server b with the rotated keys"
finish
