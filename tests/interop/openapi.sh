#!/usr/bin/env bash
# docs/openapi.yaml against the real server, with validators from the npm
# registry: the document is valid OpenAPI 3.1; it lists exactly the
# endpoints of the route table (uptake-server --routes), with the same
# callers; and real answers of a running server, successes and refusals of
# every endpoint, validate against the document's schemas.
#   bash tests/interop/openapi.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
trap 'stop_server; rm -rf "$work"' EXIT

# the validators, installed once per build directory from the lock file
js=$build/interop-openapi
if ! cmp -s "$here/openapi/package-lock.json" "$js/package-lock.json" 2>/dev/null ||
  [ ! -d "$js/node_modules/ajv" ]; then
  rm -rf "$js"
  mkdir -p "$js"
  cp "$here/openapi/package.json" "$here/openapi/package-lock.json" "$js/"
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error) || { echo "npm ci failed"; exit 1; }
fi
cp "$here/openapi/check.mjs" "$js/"

cd "$work"
uptake=$build/uptake
device=$build/tests/test_device
q() { "$@" >/dev/null 2>err.txt || { echo "setup failed: $*"; cat err.txt; exit 1; }; }
n=0
# call TEMPLATE METHOD PATH [curl args...]: one real answer, recorded
call() {
  local template=$1 method=$2 path=$3 status type
  shift 3
  n=$((n + 1))
  : >"answer.$n" # curl writes no file for an empty body
  status=$(curl -s --cacert "$ca" -o "answer.$n" -w '%{http_code} %{content_type}' \
    -X "$method" "$@" "$url$path")
  type=${status#* }
  status=${status%% *}
  /usr/bin/python3 -c '
import json, os, sys
m, t, s, ty, b = sys.argv[1:6]
print(json.dumps({"method": m, "template": t, "status": int(s), "type": ty, "body": b,
                  "size": os.path.getsize(b)}))' "$method" "$template" "$status" "$type" \
    "$work/answer.$n" >>answers.jsonl
}
A=(-H "Authorization: Bearer $token")
J=(-H "Content-Type: application/json")
O=(-H "Content-Type: application/octet-stream")
DEV=(--cert dev1.crt --key dev1.key)

# the dashboard's files: a stand-in for the built ui/ in ui_dir
mkdir -p "$work/ui/assets"
printf '<!doctype html><title>uptake</title>\n' >"$work/ui/index.html"
printf 'export {};\n' >"$work/ui/assets/app.js"
server_extra_conf="ui_dir = $work/ui"
start_server || exit 1
"$build/uptake-server" --routes >routes.txt || { echo "uptake-server --routes failed"; exit 1; }
printf '%s\n' "$token" >token
head -c 30000 /dev/urandom >fw1.bin

# public
call /health GET /health
# the dashboard's files (TLS only)
call /ui GET /ui
call /ui/ GET /ui/
etag=$(curl -s --cacert "$ca" -o /dev/null -D - "$url/ui/assets/app.js" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
call '/ui/{file+}' GET /ui/assets/app.js
call '/ui/{file+}' GET /ui/assets/app.js -H "If-None-Match: $etag"
call '/ui/{file+}' GET /ui/assets/nothing.js
call '/ui/{file+}' GET /ui/.hidden.js
call '/repo/{file}' GET /repo/root.json # 404 before the first root
call '/repo/targets/{name+}' GET /repo/targets/nothing.bin
# keys and roots
call /api/v1/repo/online-keys GET /api/v1/repo/online-keys "${A[@]}"
call /api/v1/repo/online-keys GET /api/v1/repo/online-keys
call /api/v1/director/online-keys GET '/api/v1/director/online-keys?dialect=aktualizr' "${A[@]}"
call /api/v1/repo/root PUT /api/v1/repo/root "${A[@]}" "${J[@]}" --data-binary '{"signed":'
call /api/v1/repo/root PUT /api/v1/repo/root "${A[@]}" "${O[@]}" --data-binary '{}'
call /api/v1/director/root PUT /api/v1/director/root "${A[@]}" "${J[@]}" --data-binary '{}'
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
call /api/v1/repo/root PUT /api/v1/repo/root "${A[@]}" "${J[@]}" --data-binary @ws/metadata/root.json
call '/repo/{file}' GET /repo/root.json
call '/repo/{file}' GET /repo/1.root.json
call '/repo/{file}' GET /repo/2.root.json
call '/repo/{file}' GET /repo/timestamp.json
# images and targets
call '/api/v1/images/{name+}' PUT /api/v1/images/boards/a/raw.bin "${A[@]}" "${O[@]}" --data-binary @fw1.bin
call '/api/v1/images/{name+}' PUT /api/v1/images/boards/a/raw.bin "${A[@]}" "${J[@]}" --data-binary @fw1.bin
call '/api/v1/images/{name+}' PUT '/api/v1/images/a/../b' "${A[@]}" "${O[@]}" --data-binary @fw1.bin --path-as-is
call '/api/v1/repo/metadata/{role+}' PUT /api/v1/repo/metadata/targets "${A[@]}" "${J[@]}" --data-binary '[]'
q "$uptake" publish fw1.bin --dir ws --name fw --version 1.0 --hardware-id board-a --release-counter 1
call '/api/v1/repo/metadata/{role+}' PUT /api/v1/repo/metadata/targets "${A[@]}" "${J[@]}" \
  --data-binary @ws/metadata/targets.json
call '/repo/targets/{name+}' GET /repo/targets/fw-1.0 -H 'Range: bytes=0-99'
call '/repo/targets/{name+}' GET /repo/targets/fw-1.0
call '/repo/targets/{name+}' GET /repo/targets/fw-1.0 -H 'Range: bytes=999999-'
call /api/v1/repo/online-keys/rotate POST /api/v1/repo/online-keys/rotate "${A[@]}"
call /api/v1/director/online-keys/rotate POST /api/v1/director/online-keys/rotate "${A[@]}" \
  --data-binary 'x'
# devices
call /api/v1/devices POST /api/v1/devices "${A[@]}" "${J[@]}" --data-binary '{"id":"bad/id"}'
call /api/v1/devices POST /api/v1/devices "${A[@]}" "${J[@]}" --data-binary '{"id":"dev-9"}'
q "$uptake" device add dev-1 --dir ws --out dev1
call /api/v1/devices GET /api/v1/devices "${A[@]}"
call '/api/v1/devices/{id}' GET /api/v1/devices/dev-1 "${A[@]}"
call '/api/v1/devices/{id}' GET /api/v1/devices/ghost "${A[@]}"
call /api/v1/fleet-credentials POST /api/v1/fleet-credentials "${A[@]}" "${J[@]}" --data-binary '{"name":"factory"}'
call /api/v1/fleet-credentials POST /api/v1/fleet-credentials "${A[@]}" "${J[@]}" --data-binary '{}'
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
open("fleet.crt", "w").write(d["certificate"]); open("fleet.key", "w").write(d["key"])' "answer.$((n - 1))"
# the device side
call '/director/{file}' GET /director/targets.json
call /director/ecus POST /director/ecus "${DEV[@]}" "${J[@]}" --data-binary '{"ecus":[]}'
q "$device" --dir dev --server "$url" --ca "$ca" --cert dev1.crt --key dev1.key \
  --root-director ws/metadata/director-root.json --root-image ws/metadata/root.json \
  --ecu prim-1:board-a init
call /director/ecus POST /director/ecus "${DEV[@]}" -H 'Content-Type: text/plain' --data-binary '{}'
call /api/v1/assign POST /api/v1/assign "${A[@]}" "${J[@]}" \
  --data-binary '{"target":"fw-1.0","hardware_id":"board-a","devices":["dev-1"]}'
call /api/v1/assign POST /api/v1/assign "${A[@]}" "${J[@]}" \
  --data-binary '{"target":"nothing","hardware_id":"board-a","devices":["dev-1"]}'
call '/director/{file}' GET /director/root.json "${DEV[@]}"
call '/director/{file}' GET /director/targets.json "${DEV[@]}"
call '/director/{file}' GET /director/timestamp.json "${DEV[@]}"
call '/director/{file}' GET /director/9.root.json "${DEV[@]}"
q "$device" --dir dev --server "$url" --ca "$ca" --cert dev1.crt --key dev1.key update
q "$device" --dir dev --server "$url" --ca "$ca" --cert dev1.crt --key dev1.key sign
call /director/manifest PUT /director/manifest "${DEV[@]}" "${J[@]}" --data-binary @dev/last-manifest.json
call /director/manifest PUT /director/manifest "${DEV[@]}" "${J[@]}" --data-binary @dev/last-manifest.json
call /director/manifest PUT /director/manifest --cert fleet.crt --key fleet.key "${J[@]}" --data-binary '{}'
call '/api/v1/devices/{id}' GET /api/v1/devices/dev-1 "${A[@]}"
call '/api/v1/devices/{id}/manifests' GET /api/v1/devices/dev-1/manifests "${A[@]}"
call '/api/v1/devices/{id}/manifests' GET /api/v1/devices/ghost/manifests "${A[@]}"
call /core/installed PUT /core/installed "${DEV[@]}" "${J[@]}" --data-binary '[{"name":"busybox"}]'
call /system_info PUT /system_info "${DEV[@]}" "${J[@]}" --data-binary '{"product":"board-a"}'
call /system_info PUT /system_info "${DEV[@]}" "${J[@]}" --data-binary '{"product":'
call /system_info/network PUT /system_info/network "${DEV[@]}" "${J[@]}" --data-binary '{"hostname":"d"}'
call /system_info/config POST /system_info/config "${DEV[@]}" -H 'Content-Type: application/toml' \
  --data-binary $'[uptane]\npolling_sec = 10'
call /events POST /events "${DEV[@]}" "${J[@]}" --data-binary '[{"eventType":{"id":"DownloadComplete"}}]'
call /events POST /events "${J[@]}" --data-binary '[]'
call /devices POST /devices --cert fleet.crt --key fleet.key "${J[@]}" --data-binary '{"deviceId":"dev-5"}'
call /devices POST /devices --cert fleet.crt --key fleet.key "${J[@]}" --data-binary '{"deviceId":"dev-5"}'
call /devices POST /devices "${DEV[@]}" "${J[@]}" --data-binary '{"deviceId":"dev-6"}'
# CRA lifecycle
call /api/v1/products POST /api/v1/products "${A[@]}" "${J[@]}" \
  --data-binary '{"name":"gw","hardware_ids":["board-a"],"support_years":5,"contact":"psirt@example.com"}'
call /api/v1/products POST /api/v1/products "${A[@]}" "${J[@]}" \
  --data-binary '{"name":"gw2","hardware_ids":["board-a"],"support_years":3,"contact":"x"}'
call /api/v1/products GET /api/v1/products "${A[@]}"
call '/api/v1/products/{name}' GET /api/v1/products/gw "${A[@]}"
call '/api/v1/products/{name}' GET /api/v1/products/none "${A[@]}"
call '/api/v1/products/{name}' PUT /api/v1/products/gw "${A[@]}" "${J[@]}" --data-binary '{"support_years":6}'
call '/api/v1/products/{name}' PUT /api/v1/products/gw "${A[@]}" "${J[@]}" --data-binary '{"support_years":5}'
call '/api/v1/devices/{id}' PATCH /api/v1/devices/dev-1 "${A[@]}" "${J[@]}" \
  --data-binary '{"product":"gw","manufactured":"2025-01-01","placed_on_market":"2025-02-01"}'
call '/api/v1/devices/{id}' PATCH /api/v1/devices/dev-1 "${A[@]}" "${J[@]}" --data-binary '{"support_end":"2026-01-01"}'
call /api/v1/device-lifecycle POST /api/v1/device-lifecycle "${A[@]}" "${J[@]}" \
  --data-binary '[{"device":"dev-9","product":"gw","manufactured":"2025-01-01"}]'
call /api/v1/device-lifecycle POST /api/v1/device-lifecycle "${A[@]}" "${J[@]}" \
  --data-binary '[{"device":"dev-9","colour":"red"}]'
call /api/v1/reports/support GET '/api/v1/reports/support?within=30&at=2026-06-01' "${A[@]}"
call /api/v1/reports/support GET '/api/v1/reports/support?at=yesterday' "${A[@]}"
call '/api/v1/devices/{id}' PATCH /api/v1/devices/dev-1 "${A[@]}" "${J[@]}" \
  --data-binary '{"tags":["eu","lab"],"utc_offset":60}'
call '/api/v1/devices/{id}' PATCH /api/v1/devices/dev-1 "${A[@]}" "${J[@]}" --data-binary '{"utc_offset":9999}'
# campaigns
call /api/v1/campaigns POST /api/v1/campaigns "${A[@]}" "${J[@]}" \
  --data-binary '{"name":"c","targets":{"board-a":"fw-1.0"},"filter":{"colour":"red"}}'
call /api/v1/campaigns POST /api/v1/campaigns "${A[@]}" "${J[@]}" \
  --data-binary '{"name":"c","targets":{"board-a":"nothing"},"devices":["dev-1"]}'
call /api/v1/campaigns POST /api/v1/campaigns "${A[@]}" "${J[@]}" \
  --data-binary '{"name":"c","targets":{"board-a":"fw-1.0"},"filter":{"tags":["eu"]},"stages":[{"percent":100,"success":90,"error":20}],"approval":true,"window":{"start":"01:00","end":"05:00"}}'
call /api/v1/campaigns POST /api/v1/campaigns "${A[@]}" "${J[@]}" \
  --data-binary '{"name":"c2","targets":{"board-a":"fw-1.0"},"devices":["dev-1"]}'
call /api/v1/campaigns GET /api/v1/campaigns "${A[@]}"
call '/api/v1/campaigns/{id}/{action}' POST /api/v1/campaigns/1/start "${A[@]}" "${J[@]}" --data-binary '{}'
call '/api/v1/campaigns/{id}/{action}' POST /api/v1/campaigns/1/start "${A[@]}" "${J[@]}" --data-binary '{}'
call '/api/v1/campaigns/{id}/{action}' POST /api/v1/campaigns/1/approve "${A[@]}" "${J[@]}" --data-binary '{"stage":1}'
call '/api/v1/campaigns/{id}/{action}' POST /api/v1/campaigns/1/fly "${A[@]}" "${J[@]}" --data-binary '{}'
call '/api/v1/campaigns/{id}' GET '/api/v1/campaigns/1?members=1' "${A[@]}"
call '/api/v1/campaigns/{id}' GET /api/v1/campaigns/99 "${A[@]}"
call '/api/v1/campaigns/{id}/{action}' POST /api/v1/campaigns/1/cancel "${A[@]}" "${J[@]}" --data-binary '{}'
call /api/v1/alerts GET '/api/v1/alerts?open=1' "${A[@]}"
call /api/v1/alerts GET '/api/v1/alerts?since=x' "${A[@]}"
call '/api/v1/alerts/{id}/ack' POST /api/v1/alerts/1/ack "${A[@]}" "${J[@]}" --data-binary '{"by":"alice"}'
call '/api/v1/alerts/{id}/ack' POST /api/v1/alerts/1/ack "${A[@]}" "${J[@]}" --data-binary '{}'
# fleet reports: a security release dev-1 lacks, dev-1 opting out
head -c 30001 /dev/urandom >fw2.bin
q "$uptake" publish fw2.bin --dir ws --name fw --version 1.1 --hardware-id board-a --release-counter 2 \
  --security
q "$device" --dir dev --server "$url" --ca "$ca" --cert dev1.crt --key dev1.key --auto-update false report
call /api/v1/reports/inventory GET /api/v1/reports/inventory "${A[@]}"
call /api/v1/reports/inventory GET /api/v1/reports/inventory
call /api/v1/reports/patch-status GET '/api/v1/reports/patch-status?days=0' "${A[@]}"
call /api/v1/reports/patch-status GET /api/v1/reports/patch-status "${A[@]}"
call /api/v1/reports/patch-status GET '/api/v1/reports/patch-status?days=x' "${A[@]}"
call /api/v1/reports/opt-out GET /api/v1/reports/opt-out "${A[@]}"
/usr/bin/python3 -c '
import json, sys
inv, ps, oo = (json.load(open("answer.%d" % (int(sys.argv[1]) - k))) for k in (5, 3, 0))
assert [i["target"] for i in inv["images"]] == ["fw-1.0"], inv
assert [l["device"] for l in ps["releases"][0]["lacking"]] == ["dev-1"], ps
assert [d["id"] for d in oo["devices"]] == ["dev-1"], oo' "$n" ||
  { echo "FAIL: the fleet reports do not say what the fleet did"; exit 1; }
call /api/v1/reports/adoption GET /api/v1/reports/adoption "${A[@]}"
call /api/v1/reports/adoption GET /api/v1/reports/adoption
# users, tokens, sessions, the audit log
call /api/v1/users POST /api/v1/users "${A[@]}" "${J[@]}" --data-binary '{"name":"vera","role":"viewer","password":"correct horse battery"}'
call /api/v1/users POST /api/v1/users "${A[@]}" "${J[@]}" --data-binary '{"name":"vera","role":"viewer"}'
call /api/v1/users POST /api/v1/users "${A[@]}" "${J[@]}" --data-binary '{"name":"x","role":"root"}'
call /api/v1/users GET /api/v1/users "${A[@]}"
call '/api/v1/users/{name}' PATCH /api/v1/users/vera "${A[@]}" "${J[@]}" --data-binary '{"role":"operator"}'
call '/api/v1/users/{name}' PATCH /api/v1/users/nobody "${A[@]}" "${J[@]}" --data-binary '{"role":"operator"}'
call '/api/v1/users/{name}/tokens' POST /api/v1/users/vera/tokens "${A[@]}"
vt=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "answer.$n")
call /api/v1/users GET /api/v1/users -H "Authorization: Bearer $vt"
call /api/v1/session GET /api/v1/session -H "Authorization: Bearer $vt"
call /api/v1/session POST /api/v1/session "${J[@]}" --data-binary '{"user":"vera","password":"wrong wrong wrong"}'
call /api/v1/session POST /api/v1/session "${J[@]}" --data-binary '{"user":"vera","password":"correct horse battery"}'
call /api/v1/session POST /api/v1/session "${J[@]}" --data-binary '{"user":"vera"}'
call /api/v1/audit GET /api/v1/audit "${A[@]}"
call /api/v1/audit GET '/api/v1/audit?format=jsonl' "${A[@]}"
call /api/v1/audit GET '/api/v1/audit?since=x' "${A[@]}"
call /api/v1/session DELETE /api/v1/session -H "Authorization: Bearer $vt"
call '/api/v1/users/{name}' DELETE /api/v1/users/vera "${A[@]}"
call '/api/v1/users/{name}' DELETE /api/v1/users/vera "${A[@]}"
# SBOMs and vulnerabilities
fx=$here/../fixtures
sb=$(sha256sum "$fx/sbom/debian-image.cdx.json" | cut -d' ' -f1)
call '/api/v1/sboms/{sha256}' PUT "/api/v1/sboms/$sb" "${A[@]}" "${J[@]}" --data-binary @"$fx/sbom/debian-image.cdx.json"
call '/api/v1/sboms/{sha256}' PUT "/api/v1/sboms/$sb" "${A[@]}" "${J[@]}" --data-binary '{"bomFormat":"CycloneDX"}'
call '/api/v1/sboms/{sha256}' GET "/api/v1/sboms/$sb" "${A[@]}"
call '/api/v1/sboms/{sha256}' GET "/api/v1/sboms/0000000000000000000000000000000000000000000000000000000000000000" "${A[@]}"
call '/api/v1/sboms/{sha256}/components' GET "/api/v1/sboms/$sb/components" "${A[@]}"
call /api/v1/vulns/import POST /api/v1/vulns/import "${A[@]}" "${J[@]}" \
  --data-binary "{\"records\":[{\"source\":\"a.json\",\"record\":$(cat "$fx/osv/GHSA-lodash.json")}]}"
call /api/v1/vulns/import POST /api/v1/vulns/import "${A[@]}" "${J[@]}" --data-binary '{"records":[{"source":"b","record":{"id":"X"}}]}'
call '/api/v1/sboms/{sha256}/vulns' GET "/api/v1/sboms/$sb/vulns" "${A[@]}"
call '/api/v1/vulns/{id}' GET /api/v1/vulns/GHSA-35jh-r3h4-6jhm "${A[@]}"
call '/api/v1/vulns/{id}' GET /api/v1/vulns/NONE-1 "${A[@]}"
call '/api/v1/vulns/{id}/exploited' POST /api/v1/vulns/GHSA-35jh-r3h4-6jhm/exploited "${A[@]}" "${J[@]}" --data-binary '{"aware_at":1790000000}'
call '/api/v1/vulns/{id}/exploited' POST /api/v1/vulns/GHSA-35jh-r3h4-6jhm/exploited "${A[@]}" "${J[@]}" --data-binary '{"aware_at":"x"}'
call /api/v1/reports/vulns GET /api/v1/reports/vulns "${A[@]}"
call /api/v1/vex POST /api/v1/vex "${A[@]}" "${J[@]}" --data-binary '{"document":{"category":"csaf_base"}}'
call /api/v1/vex POST /api/v1/vex "${A[@]}" "${J[@]}" --data-binary \
  '{"document":{"category":"csaf_vex","csaf_version":"2.0","tracking":{"id":"V-1"}},"product_tree":{"full_product_names":[{"product_id":"P","name":"l","product_identification_helper":{"purl":"pkg:npm/lodash@4.17.20"}}]},"vulnerabilities":[{"cve":"CVE-2021-23337","product_status":{"known_not_affected":["P"]},"flags":[{"label":"vulnerable_code_not_present","product_ids":["P"]}]}]}'
call '/api/v1/vulns/{id}/reported' POST /api/v1/vulns/GHSA-35jh-r3h4-6jhm/reported "${A[@]}" "${J[@]}" --data-binary '{"stage":"early","at":1790003600}'
call '/api/v1/vulns/{id}/reported' POST /api/v1/vulns/GHSA-35jh-r3h4-6jhm/reported "${A[@]}" "${J[@]}" --data-binary '{"stage":"late","at":1}'
call /api/v1/reports/art14 GET '/api/v1/reports/art14?at=1790100000' "${A[@]}"
call '/api/v1/vulns/{id}/advisory' GET '/api/v1/vulns/GHSA-35jh-r3h4-6jhm/advisory?publisher=P&namespace=x' "${A[@]}"
call '/api/v1/vulns/{id}/advisory' GET '/api/v1/vulns/NONE-1/advisory?publisher=P&namespace=https://p.example' "${A[@]}"
call /api/v1/reports/art14 GET '/api/v1/reports/art14?at=x' "${A[@]}"
call '/api/v1/sboms/{sha256}/vulns' GET "/api/v1/sboms/$sb/vulns?target=fw-9" "${A[@]}"
/usr/bin/python3 -c '
import json, sys
sv = json.load(open("answer.%d" % (int(sys.argv[1]) - 14)))
assert [v["id"] for v in sv["vulnerabilities"]] == ["GHSA-35jh-r3h4-6jhm"], sv
sv = json.load(open("answer.%d" % int(sys.argv[1])))
assert sv["vulnerabilities"][0]["vex"]["status"] == "known_not_affected", sv' "$n" ||
  { echo "FAIL: the SBOM does not match the lodash record"; exit 1; }
call /api/v1/vulns/rematch POST /api/v1/vulns/rematch "${A[@]}" "${J[@]}" --data-binary '{}'
call /health GET /health

node "$js/check.mjs" "$here/../../docs/openapi.yaml" routes.txt answers.jsonl
