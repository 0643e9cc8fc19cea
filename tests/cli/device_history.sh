#!/usr/bin/env bash
# The read-only evidence behind the dashboard, on SQLite and PostgreSQL:
# a device's kept verified manifests (GET /api/v1/devices/ID/manifests:
# newest first, each ECU report's signed image hash, and whether the
# server accepted that ECU's report: a forged secondary report in an
# accepted manifest is not), and a security release's adoption over time
# (GET /api/v1/reports/adoption: a point each time the number of ECUs
# running it or a later release changed, from accepted reports only, its
# last point equal to the patch-status report).
#   bash tests/cli/device_history.sh BUILD_DIR [sqlite|postgresql]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
only=${2:-}
top=$(mktemp -d)
. "$here/../support/serverlib.sh"
. "$here/../support/pglib.sh"
trap 'stop_server; stop_postgres; rm -rf "$top"' EXIT
uptake=$build/uptake
device=$build/tests/test_device
. "$here/../support/testlib.sh"
py() { /usr/bin/python3 -c "$@"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
get() { # PATH: the answer in got.json, the status printed
  curl -s --cacert "$ca" -o got.json -w '%{http_code}' -H "Authorization: Bearer $token" "$url/api/v1/$1"
}

scenario() {
  work=$(mktemp -d -p "$top")
  cd "$work"
  start_server || return 1
  printf '%s\n' "$token" >token
  W=(--dir ws)
  q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
  for f in fw10 fw11 sub10; do head -c 20000 /dev/urandom >$f.bin; done
  q "$uptake" publish fw10.bin "${W[@]}" --name fw --version 1.0 --hardware-id board-a --release-counter 1
  q "$uptake" publish fw11.bin "${W[@]}" --name fw --version 1.1 --hardware-id board-a --release-counter 2 --security
  q "$uptake" publish sub10.bin "${W[@]}" --name sub --version 1.0 --hardware-id board-s --release-counter 1
  q "$uptake" device add dev-1 "${W[@]}" --out dev1
  q "$uptake" device add dev-2 "${W[@]}" --out dev2
  R=(--root-director ws/metadata/director-root.json --root-image ws/metadata/root.json)
  dev() { local i=$1; shift; "$device" --dir d$i --server "$url" --ca "$ca" --cert dev$i.crt --key dev$i.key "$@"; }
  q dev 1 "${R[@]}" --ecu d1-main:board-a --ecu d1-sub:board-s init
  q dev 2 "${R[@]}" --ecu d2-main:board-a init
  q "$uptake" assign fw-1.0 "${W[@]}" --hardware-id board-a --device dev-1 --device dev-2
  q "$uptake" assign sub-1.0 "${W[@]}" --hardware-id board-s --device dev-1
  for i in 1 2; do q dev $i update; q dev $i report; done
  q "$uptake" assign fw-1.1 "${W[@]}" --hardware-id board-a --device dev-1
  q dev 1 update
  q dev 1 report
  # dev-1's next manifest: the primary's report good, the secondary's forged
  dev 1 forge-secondary >/dev/null 2>&1
  # the next report in a later second than dev-1's (points are per second)
  t=$(date +%s)
  while [ "$(date +%s)" -le "$t" ]; do sleep 0.1; done
  q "$uptake" assign fw-1.1 "${W[@]}" --hardware-id board-a --device dev-2
  q dev 2 update
  q dev 2 report

  # --- the history of dev-1: newest first, hashes as signed, acceptance
  [ "$(get devices/dev-1/manifests)" = 200 ] && ok || bad "manifests of dev-1: $(cat got.json)"
  got=$(py '
import json, sys
d = json.load(open("got.json"))
m = d["manifests"]
rec = [x["received"] for x in m]
print(d["device"], len(m), rec == sorted(rec, reverse=True))
newest = {r["ecu"]: r for r in m[0]["reports"]}
print(newest["d1-main"]["image"], newest["d1-main"]["sha256"] == sys.argv[1], newest["d1-main"]["accepted"])
print(newest["d1-sub"]["accepted"])
# every report of the older manifests was accepted; the hashes are what ran
print(all(r["accepted"] for x in m[1:] for r in x["reports"]))
print(sorted({r["sha256"] for x in m for r in x["reports"] if r["ecu"] == "d1-main"} - {"0" * 64}) == sorted([sys.argv[1], sys.argv[2]]))
print(all(len(x["sha256"]) == 64 for x in m))' "$(sha fw11.bin)" "$(sha fw10.bin)")
  want="dev-1 3 True
fw-1.1 True True
False
True
True
True"
  [ "$got" = "$want" ] && ok || bad "dev-1's history:
$got
expected:
$want"
  [ "$(get devices/ghost/manifests)" = 404 ] && ok || bad "unknown device: $(cat got.json)"
  [ "$(curl -s --cacert "$ca" -o /dev/null -w '%{http_code}' "$url/api/v1/devices/dev-1/manifests")" = 401 ] &&
    ok || bad "history without a credential"

  # --- adoption of fw-1.1: one ECU, then two; equal to patch-status
  [ "$(get reports/adoption)" = 200 ] && ok || bad "adoption: $(cat got.json)"
  cp got.json adoption.json
  [ "$(get 'reports/patch-status?days=0')" = 200 ] && ok || bad "patch-status: $(cat got.json)"
  got=$(py '
import json
a = json.load(open("adoption.json"))
p = json.load(open("got.json"))
r = a["releases"]
print([x["target"] for x in r], r[0]["ecus"], [x["patched"] for x in r[0]["points"]], r[0]["patched"])
at = [x["at"] for x in r[0]["points"]]
print(at == sorted(at), at[0] >= r[0]["published"])
print(r[0]["patched"] == p["releases"][0]["patched"], r[0]["ecus"] == p["releases"][0]["ecus"])')
  want="['fw-1.1'] 2 [1, 2] 2
True True
True True"
  [ "$got" = "$want" ] && ok || bad "adoption:
$got
expected:
$want"
  stop_server
  cd "$top"
}

on_both_backends history
