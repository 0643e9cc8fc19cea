#!/usr/bin/env bash
# CRA lifecycle end to end on loopback: products with support periods,
# each unit's dates (one at a time and from a factory CSV, all or nothing),
# support ends computed per unit (leap days, extensions), refusals of bad
# dates with nothing stored, the support report as of a day, and the
# device's support end signed in its Director targets (which the device
# still verifies).
#   bash tests/cli/compliance.sh BUILD_DIR
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
jq_() { /usr/bin/python3 -c "import json,sys; d=json.load(open('$1')); print($2)"; }
W=(--dir ws)
# support DEVICE FIELD [report args]: a field of a device's row in the support report
support() {
  local dev=$1 field=$2
  shift 2
  "$uptake" report support "${W[@]}" --json "$@" >report.json 2>err.txt || { echo "report failed"; cat err.txt; }
  /usr/bin/python3 -c '
import json, sys
d = json.load(open("report.json"))
row = [x for x in d["devices"] if x["id"] == sys.argv[1]]
print(row[0].get(sys.argv[2], "") if row else "no-such-device")' "$dev" "$field"
}

start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws

# --- products
expect 0 "$uptake" product add gateway "${W[@]}" --hardware-id board-a --support-years 5 \
  --contact security@example.com
grep -q '"support_years":5' out.txt && ok || bad "product answer: $(cat out.txt)"
expect 3 "$uptake" product add gateway "${W[@]}" --hardware-id board-a --support-years 5 --contact x
grep -q "exists" err.txt && ok || bad "duplicate product not named"
expect 3 "$uptake" product add sensor "${W[@]}" --hardware-id board-b --support-years 4 --contact x
grep -q "at least 5" err.txt && ok || bad "a 4-year period not refused with the CRA's minimum"
expect 2 "$uptake" product add sensor "${W[@]}" --hardware-id board-b --contact x
expect 0 "$uptake" product add sensor "${W[@]}" --hardware-id board-b --hardware-id board-c \
  --support-years 8 --contact https://example.com/psirt
expect 0 "$uptake" product list "${W[@]}"
[ "$(jq_ out.txt 'len(d["products"])')" = 2 ] && ok || bad "product list: $(cat out.txt)"
expect 0 "$uptake" product show sensor "${W[@]}"
[ "$(jq_ out.txt 'd["hardware_ids"]')" = "['board-b', 'board-c']" ] && ok || bad "product show: $(cat out.txt)"
expect 3 "$uptake" product show nothing "${W[@]}"

# --- devices with their own dates: same product, different obligations
expect 0 "$uptake" device add dev-1 "${W[@]}" --out dev1 --product gateway \
  --manufactured 2025-01-10 --placed-on-market 2025-03-01
expect 0 "$uptake" device add dev-2 "${W[@]}" --out dev2 --product gateway \
  --manufactured 2020-11-01 --placed-on-market 2021-02-28
expect 0 "$uptake" device add dev-leap "${W[@]}" --out devleap --product gateway \
  --manufactured 2024-01-01 --placed-on-market 2024-02-29
[ "$(support dev-1 support_end)" = 2030-03-01 ] && ok || bad "dev-1 support end: $(support dev-1 support_end)"
[ "$(support dev-2 support_end)" = 2026-02-28 ] && ok || bad "dev-2 support end"
[ "$(support dev-leap support_end)" = 2029-03-01 ] && ok || bad "29 February + 5 years: $(support dev-leap support_end)"
[ "$(support dev-2 status --at 2026-12-01)" = ended ] && ok || bad "dev-2 not ended"
[ "$(support dev-2 status --at 2026-01-15 --within 90)" = ending ] && ok || bad "dev-2 not ending"
[ "$(support dev-2 status --at 2025-01-15 --within 90)" = in-support ] && ok || bad "dev-2 not in support"
[ "$(support dev-1 status --at 2026-12-01)" = in-support ] && ok || bad "dev-1 not in support"
[ "$(support dev-1 days_left --at 2030-02-28)" = 1 ] && ok || bad "days left"

# --- bad dates: refused, nothing stored
expect 3 "$uptake" device add dev-bad "${W[@]}" --out devbad --product gateway \
  --manufactured 2025-05-01 --placed-on-market 2025-04-01
grep -q "before manufactured" err.txt && ok || bad "market before manufacture not named: $(cat err.txt)"
expect 3 "$uptake" device show dev-bad "${W[@]}"
[ ! -e devbad.crt ] && ok || bad "a refused device got a certificate"
expect 3 "$uptake" device add dev-bad "${W[@]}" --out devbad --product gateway \
  --manufactured 2025-01-01 --placed-on-market 2099-01-01
grep -q "in the future" err.txt && ok || bad "a market date in the future not refused"
expect 3 "$uptake" device add dev-bad "${W[@]}" --out devbad --product gateway \
  --manufactured 2025-02-30 --placed-on-market 2025-03-01
grep -q "not a date" err.txt && ok || bad "30 February accepted"
expect 3 "$uptake" device add dev-bad "${W[@]}" --out devbad --product gateway \
  --manufactured 2025-1-01
expect 3 "$uptake" device add dev-bad "${W[@]}" --out devbad --product nothing \
  --manufactured 2025-01-01
grep -q "product nothing" err.txt && ok || bad "unknown product not named"
expect 3 "$uptake" device add dev-bad "${W[@]}" --out devbad --placed-on-market 2025-01-01
expect 3 "$uptake" device show dev-bad "${W[@]}"

# --- a later end per unit, never an earlier one
expect 3 "$uptake" device set dev-1 "${W[@]}" --support-end 2029-12-31
grep -q "before 2030-03-01" err.txt && ok || bad "an earlier end not refused: $(cat err.txt)"
[ "$(support dev-1 support_end)" = 2030-03-01 ] && ok || bad "a refused end changed dev-1"
expect 0 "$uptake" device set dev-1 "${W[@]}" --support-end 2031-06-30
[ "$(support dev-1 support_end)" = 2031-06-30 ] && ok || bad "dev-1's own end not in force"
[ "$(support dev-1 support_end_set)" = True ] && ok || bad "dev-1's own end not flagged"
expect 3 "$uptake" device set ghost "${W[@]}" --product gateway
expect 2 "$uptake" device set dev-1 "${W[@]}"
# extending the product's period moves every unit's minimum; shortening is refused
expect 3 "$uptake" product set gateway "${W[@]}" --support-years 4
expect 3 "$uptake" product set gateway "${W[@]}" --support-years 5 --contact ''
expect 0 "$uptake" product set gateway "${W[@]}" --support-years 7
[ "$(support dev-1 support_end)" = 2032-03-01 ] && ok || bad "extension below dev-1's own end"
[ "$(support dev-2 support_end)" = 2028-02-28 ] && ok || bad "extension not applied to dev-2"

# --- the device learns its support end, signed by the Director
curl -s --cacert "$ca" --cert dev1.crt --key dev1.key "$url/director/targets.json" >targets.json
[ "$(jq_ targets.json 'd["signed"]["custom"]["support_end"]')" = 2032-03-01 ] && ok ||
  bad "Director targets lack the support end: $(head -c 300 targets.json)"
[ "$(jq_ targets.json 'd["signed"]["custom"]["product"]')" = gateway ] && ok || bad "no product in targets"
expect 0 "$device" --dir dev --server "$url" --ca "$ca" --cert dev1.crt --key dev1.key \
  --root-director ws/metadata/director-root.json --root-image ws/metadata/root.json \
  --ecu prim-1:board-a init
expect 0 "$device" --dir dev --server "$url" --ca "$ca" --cert dev1.crt --key dev1.key update
/usr/bin/python3 - targets.json <<'PY' && ok || bad "Director targets signature does not verify with securesystemslib"
import json, sys
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import SSlibKey
from securesystemslib.signer._signature import Signature
doc = json.load(open(sys.argv[1]))
root = json.load(open("ws/metadata/director-root.json"))["signed"]
role = root["roles"]["targets"]
good = 0
for s in doc["signatures"]:
    if s["keyid"] in role["keyids"]:
        key = SSlibKey.from_dict(s["keyid"], dict(root["keys"][s["keyid"]]))
        key.verify_signature(Signature(s["keyid"], s["sig"]), encode_canonical(doc["signed"]).encode())
        good += 1
sys.exit(0 if good >= role["threshold"] else 1)
PY

# polls are answered from memory, and a change shows at once
ts() { curl -s --cacert "$ca" --cert dev1.crt --key dev1.key "$url/director/timestamp.json" |
  /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["signed"]["version"])'; }
v1=$(ts)
[ "$(ts)" = "$v1" ] && ok || bad "an unchanged poll changed the timestamp"
expect 0 "$uptake" device set dev-1 "${W[@]}" --support-end 2033-01-01
v2=$(ts)
[ "$v2" -gt "$v1" ] && ok || bad "the timestamp did not move after a change: $v1 -> $v2"
curl -s --cacert "$ca" --cert dev1.crt --key dev1.key "$url/director/targets.json" >targets.json
[ "$(jq_ targets.json 'd["signed"]["custom"]["support_end"]')" = 2033-01-01 ] && ok ||
  bad "a cached targets.json after a change"

# --- a factory's CSV: all or nothing, the bad line named
for d in 3 4 5; do q "$uptake" device add "dev-$d" "${W[@]}" --out "dev$d"; done
cat >bad.csv <<'CSV'
device,product,manufactured,placed_on_market
dev-3,sensor,2025-06-01,2025-07-01
dev-4,sensor,2025-06-02,2025-07-02
dev-5,sensor,2025-06-03,2099-07-03
CSV
expect 3 "$uptake" device import bad.csv "${W[@]}"
grep -q "bad.csv line 4" err.txt && grep -q "in the future" err.txt && ok ||
  bad "the bad line not named: $(cat err.txt)"
[ "$(support dev-3 product)" = "" ] && ok || bad "a refused import changed dev-3"
printf 'device,product\ndev-3,sensor\ndev-3,gateway\n' >dup.csv
expect 3 "$uptake" device import dup.csv "${W[@]}"
grep -q "dup.csv line 3" err.txt && ok || bad "a duplicate device not named by line: $(cat err.txt)"
printf 'device,colour\ndev-3,red\n' >col.csv
expect 3 "$uptake" device import col.csv "${W[@]}"
grep -q "unknown column 'colour'" err.txt && ok || bad "unknown column accepted"
printf 'device,product\n"dev-3,sensor\n' >quote.csv
expect 3 "$uptake" device import quote.csv "${W[@]}"
grep -q "quote.csv: line 2: a quote is not closed" err.txt && ok || bad "open quote: $(cat err.txt)"
printf 'device,product\ndev-9,sensor\n' >ghost.csv
expect 3 "$uptake" device import ghost.csv "${W[@]}"
grep -q "line 2" err.txt && grep -q "dev-9" err.txt && ok || bad "unknown device not named: $(cat err.txt)"
printf 'placed_on_market,device,manufactured,product,support_end\r\n2025-07-01,dev-3,2025-06-01,sensor,\r\n"2025-07-02",dev-4,2025-06-02,sensor,2034-01-01\r\n\r\n2025-07-03,"dev-5",2025-06-03,sensor,\r\n' >good.csv
expect 0 "$uptake" device import good.csv "${W[@]}"
grep -q "3 devices" out.txt && ok || bad "import answer: $(cat out.txt)"
[ "$(support dev-3 support_end)" = 2033-07-01 ] && ok || bad "dev-3 after import: $(support dev-3 support_end)"
[ "$(support dev-4 support_end)" = 2034-01-01 ] && ok || bad "dev-4's own end from the CSV"

# --- the report's other forms, and its product view
expect 0 "$uptake" report support "${W[@]}" --at 2029-01-01
grep -q "^dev-2 .*ended" <(grep dev-2 out.txt) && ok || bad "table: $(cat out.txt)"
grep -q "^dev-1 .*in-support" <(grep dev-1 out.txt) && ok || bad "table: $(cat out.txt)"
expect 0 "$uptake" report support "${W[@]}" --csv
head -1 out.txt | grep -q '^device,product,manufactured,placed_on_market,support_end,status' && ok ||
  bad "csv header: $(head -1 out.txt)"
[ "$(grep -c '^dev-' out.txt)" = 6 ] && ok || bad "csv rows: $(cat out.txt)"
"$uptake" report support "${W[@]}" --json >report.json
[ "$(jq_ report.json '[p["last_obligation_ends"] for p in d["products"] if p["name"]=="gateway"][0]')" = 2033-01-01 ] &&
  ok || bad "gateway's last obligation: $(cat report.json)"
[ "$(jq_ report.json '[p["last_obligation_ends"] for p in d["products"] if p["name"]=="sensor"][0]')" = 2034-01-01 ] &&
  ok || bad "sensor's last obligation"
expect 2 "$uptake" report support "${W[@]}" --json --csv
expect 2 "$uptake" report support "${W[@]}" --within -1
expect 3 "$uptake" report support "${W[@]}" --at 2026-13-01

finish
