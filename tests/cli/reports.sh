#!/usr/bin/env bash
# Fleet reports from signed evidence, end to end on loopback: a security
# release published with `uptake publish --security` (custom.security,
# signed offline with the image) and recorded by the server; devices
# (libuptake test devices, real signatures) install, report, and one ECU
# reports an image the Image repository never published for its hardware;
# then the inventory (per hash: ECUs, devices, published or not), the
# patch status (who lacks the security release N days after it came out,
# where a higher release counter counts as patched) and the opt-out report
# (who turned automatic updates off, and since when; a forged manifest
# changes nothing) are asserted exactly, as JSON, CSV and table.
#   bash tests/cli/reports.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
trap 'stop_server; rm -rf "$work"' EXIT
cd "$work"
uptake=$build/uptake
device=$build/tests/test_device

. "$here/../support/testlib.sh"
py() { /usr/bin/python3 -c "$@"; }
W=(--dir ws)
sha() { sha256sum "$1" | cut -d' ' -f1; }

start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws

# --- releases: fw 1.0 (counter 1), the security fix fw 1.1 (counter 2), a
# later feature release fw 1.2 (counter 3), an application for board-b
for f in fw10 fw11 fw12 app1; do head -c 20000 /dev/urandom >$f.bin; done
q "$uptake" publish fw10.bin "${W[@]}" --name fw --version 1.0 --hardware-id board-a --release-counter 1
q "$uptake" publish app1.bin "${W[@]}" --name app --version 1.0 --hardware-id board-b
expect 0 "$uptake" publish fw11.bin "${W[@]}" --name fw --version 1.1 --hardware-id board-a \
  --release-counter 2 --security
grep -q "security update" out.txt && ok || bad "publish --security answer: $(cat out.txt)"
[ "$(py 'import json; print(json.load(open("ws/metadata/targets.json"))["signed"]["targets"]["fw-1.1"]["custom"].get("security"))')" = True ] &&
  ok || bad "custom.security not in the signed targets"
[ "$(py 'import json; print(json.load(open("ws/metadata/targets.json"))["signed"]["targets"]["fw-1.0"]["custom"].get("security"))')" = None ] &&
  ok || bad "an ordinary release marked security"
q "$uptake" publish fw12.bin "${W[@]}" --name fw --version 1.2 --hardware-id board-a --release-counter 3

# custom.security that is not a boolean: refused, nothing stored
py '
import json
d = json.load(open("ws/metadata/targets.json"))
d["signed"]["version"] += 1
d["signed"]["targets"]["fw-1.0"]["custom"]["security"] = "yes"
json.dump(d["signed"], open("bad.unsigned.json", "w"))'
q "$uptake" sign --key ws/keys/targets.pem --out bad.json bad.unsigned.json
got=$(curl -s --cacert "$ca" -o body.txt -w '%{http_code}' -X PUT -H "Authorization: Bearer $token" \
  -H "Content-Type: application/json" --data-binary @bad.json "$url/api/v1/repo/metadata/targets")
[ "$got" = 400 ] && grep -q "custom.security: not a boolean" body.txt && ok ||
  bad "custom.security \"yes\" accepted: HTTP $got $(head -c 300 body.txt)"

# --- four devices; dev-1 has a board-b secondary
for i in 1 2 3 4; do
  q "$uptake" device add dev-$i "${W[@]}" --out dev$i
done
R=(--root-director ws/metadata/director-root.json --root-image ws/metadata/root.json)
dev() { local i=$1; shift; "$device" --dir d$i --server "$url" --ca "$ca" --cert dev$i.crt --key dev$i.key "$@"; }
q dev 1 "${R[@]}" --ecu prim-1:board-a --ecu sec-1:board-b init
for i in 2 3 4; do q dev $i "${R[@]}" --ecu prim-$i:board-a init; done
# dev-5 registers, reports no image installed (the all-zero hash)
q "$uptake" device add dev-5 "${W[@]}" --out dev5
q dev 5 "${R[@]}" --ecu prim-5:board-a init
q dev 5 report

q "$uptake" assign fw-1.0 "${W[@]}" --hardware-id board-a --device dev-1 --device dev-2 --device dev-3
q "$uptake" assign app-1.0 "${W[@]}" --ecu sec-1 --device dev-1
q "$uptake" assign fw-1.2 "${W[@]}" --hardware-id board-a --device dev-4
for i in 1 2 3 4; do q dev $i update; q dev $i report; done
q "$uptake" assign fw-1.1 "${W[@]}" --hardware-id board-a --device dev-1
q dev 1 update
q dev 1 report
# dev-3's primary reports, validly signed, an image published for board-b
# only: never published for its own hardware
awk -v s="$(sha app1.bin)" '$1 == "prim-3" { $3 = "app-1.0"; $4 = 20000; $5 = s } { print }' d3/state >d3/state.new &&
  mv d3/state.new d3/state
q dev 3 report

# --- inventory
expect 0 "$uptake" report inventory "${W[@]}" --json
cp out.txt inv.json
want=$(LC_ALL=C sort <<W
$(sha app1.bin) board-a app-1.0 1 1 False None
$(sha app1.bin) board-b app-1.0 1 1 True app-1.0
$(sha fw10.bin) board-a fw-1.0 1 1 True fw-1.0
$(sha fw11.bin) board-a fw-1.1 1 1 True fw-1.1
$(sha fw12.bin) board-a fw-1.2 1 1 True fw-1.2
W
)
got=$(py '
import json
d = json.load(open("inv.json"))
rows = sorted((i["sha256"], i["hardware_id"], i["installed"], i["ecus"], i["devices"], i["published"], i["target"]) for i in d["images"])
print("\n".join(" ".join(str(x) for x in r) for r in rows))')
[ "$got" = "$want" ] && ok || bad "inventory images:
$got
want:
$want"
[ "$(py 'import json; d=json.load(open("inv.json")); print(d["ecus"], d["no_image_ecus"], d["unpublished_images"])')" = "6 1 1" ] &&
  ok || bad "inventory totals: $(cat inv.json)"
# two ECUs of one device running one image count one device
q "$uptake" device add dev-6 "${W[@]}" --out dev6
q dev 6 "${R[@]}" --ecu prim-6:board-a --ecu aux-6:board-a init
q "$uptake" assign fw-1.0 "${W[@]}" --hardware-id board-a --device dev-6
q dev 6 update
q dev 6 report
"$uptake" report inventory "${W[@]}" --json >inv.json
[ "$(py "import json; d=json.load(open('inv.json')); print([(i['ecus'], i['devices']) for i in d['images'] if i['sha256']=='$(sha fw10.bin)'])")" = "[(3, 2)]" ] &&
  ok || bad "fw-1.0 on dev-2 and two ECUs of dev-6: $(cat inv.json)"
expect 0 "$uptake" report inventory "${W[@]}"
grep "$(sha app1.bin) board-a" out.txt | grep -q UNPUBLISHED && ok || bad "table: $(cat out.txt)"
grep -q "1 images never published" out.txt && ok || bad "table summary: $(tail -2 out.txt)"
expect 0 "$uptake" report inventory "${W[@]}" --csv
[ "$(head -1 out.txt)" = "sha256,hardware_id,installed,ecus,devices,published,target" ] && ok || bad "csv header"
grep -qx "$(sha app1.bin),board-a,app-1.0,1,1,false," out.txt && ok || bad "csv: $(cat out.txt)"

# --- patch status: fw-1.1 is the security release for board-a. dev-1 runs
# it, dev-4 runs fw-1.2 (higher counter): patched. dev-2 (fw-1.0), dev-3
# (an unpublished image), dev-5 (nothing) and dev-6 (two ECUs) lack it.
expect 0 "$uptake" report patch-status "${W[@]}" --days 0 --json
cp out.txt ps.json
got=$(py '
import json
d = json.load(open("ps.json"))
for r in d["releases"]:
    print(r["target"], r["hardware_ids"], r["release_counter"], r["overdue"], r["ecus"], r["patched"])
    for l in r["lacking"]:
        print(" ", l["device"], l["ecu"], l["installed"] or "-", l["missing_days"])')
want="fw-1.1 ['board-a'] 2 True 7 2
  dev-2 prim-2 fw-1.0 0
  dev-3 prim-3 app-1.0 0
  dev-5 prim-5 - 0
  dev-6 aux-6 fw-1.0 0
  dev-6 prim-6 fw-1.0 0"
[ "$got" = "$want" ] && ok || bad "patch status:
$got
want:
$want"
[ "$(py 'import json; d=json.load(open("ps.json")); r=d["releases"][0]; print(r["due"] == r["published"] and d["days"] == 0)')" = True ] &&
  ok || bad "due time: $(head -c 400 ps.json)"
# 30 days after publication it is not due yet: nobody is listed
expect 0 "$uptake" report patch-status "${W[@]}" --days 30 --json
[ "$(py 'import json,sys; r=json.load(sys.stdin)["releases"][0]; print(r["overdue"], r["lacking"], r["due"]-r["published"])' <out.txt)" = "False [] 2592000" ] &&
  ok || bad "--days 30: $(cat out.txt)"
expect 0 "$uptake" report patch-status "${W[@]}" --days 0
grep -q "fw-1.1 .*2 of 7 ECUs" out.txt && grep -q "lacking: dev-5 .*no image" out.txt && ok ||
  bad "table: $(cat out.txt)"
expect 0 "$uptake" report patch-status "${W[@]}" --days 0 --csv
[ "$(grep -c '^fw-1.1,' out.txt)" = 5 ] && ok || bad "csv rows: $(cat out.txt)"
expect 2 "$uptake" report patch-status "${W[@]}" --days -1
expect 2 "$uptake" report inventory "${W[@]}" --days 3
got=$(curl -s --cacert "$ca" -o body.txt -w '%{http_code}' -H "Authorization: Bearer $token" \
  "$url/api/v1/reports/patch-status?days=x")
[ "$got" = 400 ] && grep -q "days" body.txt && ok || bad "days=x: HTTP $got"

# --- opt-out: dev-2 turns automatic updates off
expect 0 "$uptake" report opt-out "${W[@]}" --json
[ "$(py 'import json,sys; print(json.load(sys.stdin)["devices"])' <out.txt)" = "[]" ] && ok || bad "opt-out before: $(cat out.txt)"
q dev 2 --auto-update false report
oo() { "$uptake" report opt-out "${W[@]}" --json | py 'import json,sys; d=json.load(sys.stdin); print(" ".join("%s:%d:%d" % (x["id"], x["since"], x["last_manifest"]) for x in d["devices"]), d["opted_out"], d["devices_total"])'; }
first=$(oo)
case "$first" in "dev-2:"*" 1 6") ok ;; *) bad "opt-out: $first" ;; esac
since=$(echo "$first" | cut -d: -f2)
last=$(echo "$first" | cut -d: -f3 | cut -d' ' -f1)
[ "$since" = "$last" ] && ok || bad "since is not the manifest that turned it off: $first"
sleep 1.1
q dev 2 --auto-update false report
again=$(oo)
[ "$(echo "$again" | cut -d: -f2)" = "$since" ] && [ "$(echo "$again" | cut -d: -f3 | cut -d' ' -f1)" -gt "$last" ] &&
  ok || bad "a second off manifest moved since: $first -> $again"
# a forged manifest saying off (bad signature) changes nothing
expect 1 dev 4 --auto-update false forge
[ "$(oo)" = "$again" ] && ok || bad "a forged manifest opted dev-4 out: $(oo)"
expect 0 "$uptake" report opt-out "${W[@]}"
grep -q "^dev-2 " out.txt && grep -q "1 of 6 devices opted out" out.txt && ok || bad "table: $(cat out.txt)"
expect 0 "$uptake" report opt-out "${W[@]}" --csv
[ "$(head -1 out.txt)" = "device,product,since,last_manifest" ] && [ "$(grep -c '^dev-2,' out.txt)" = 1 ] &&
  ok || bad "csv: $(cat out.txt)"
# back on: off the list; off again: since moves to that manifest
sleep 1.1
q dev 2 --auto-update true report
[ "$(oo)" = " 0 6" ] && ok || bad "auto update on again still listed: $(oo)"
sleep 1.1
q dev 2 --auto-update false report
[ "$(oo | cut -d: -f2)" -gt "$since" ] && ok || bad "since did not move after on/off: $(oo)"

finish
