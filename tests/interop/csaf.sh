#!/usr/bin/env bash
# The CSAF 2.0 documents uptake writes (uptake advisory: security
# advisories) and the VEX fixture it reads, validated by BSI's validator
# from the npm registry (@secvisogram/csaf-validator-lib: the strict schema
# and every mandatory test): an advisory with a fix published, one with a
# VEX-cleared image, and none about a record that concerns no published image.
#   bash tests/interop/csaf.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
trap 'stop_server; rm -rf "$work"' EXIT
js=$build/interop-csaf
if ! cmp -s "$here/csaf/package-lock.json" "$js/package-lock.json" 2>/dev/null ||
  [ ! -d "$js/node_modules/@secvisogram/csaf-validator-lib" ]; then
  rm -rf "$js"
  mkdir -p "$js"
  cp "$here/csaf/package.json" "$here/csaf/package-lock.json" "$js/"
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error) || { echo "npm ci failed"; exit 1; }
fi
cp "$here/csaf/check.mjs" "$js/"
fx=$here/../fixtures
cd "$work"
uptake=$build/uptake
q() { "$@" >/dev/null 2>err.txt || { echo "setup failed: $*"; cat err.txt; exit 1; }; }
start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
W=(--dir ws)
/usr/bin/python3 -c "
import json
d = json.load(open('$fx/sbom/debian-image.cdx.json'))
c = d['components'][0]; c['version'] = '3.0.13-1~deb12u1'; c['purl'] = c['purl'].replace('3.0.11-1', '3.0.13-1')
json.dump(d, open('sbom11.json', 'w'))"
for f in fw10 fw11; do head -c 1000 /dev/urandom >$f.bin; done
q "$uptake" product add gw "${W[@]}" --hardware-id board-a --support-years 5 --contact psirt@example.com
q "$uptake" publish fw10.bin "${W[@]}" --name fw --version 1.0 --hardware-id board-a --release-counter 1 \
  --sbom "$fx/sbom/debian-image.cdx.json"
q "$uptake" publish fw11.bin "${W[@]}" --name fw --version 1.1 --hardware-id board-a --release-counter 2 \
  --sbom sbom11.json
q "$uptake" vuln import "$fx/osv" "${W[@]}"
q "$uptake" vuln vex "$fx/vex/gateway-vex.json" "${W[@]}"
A=(--publisher "Example Devices GmbH" --namespace https://devices.example.com)
q "$uptake" advisory DEBIAN-CVE-2026-0101 "${W[@]}" --out fixed.json "${A[@]}"
q "$uptake" advisory GHSA-35jh-r3h4-6jhm "${W[@]}" --out vexed.json "${A[@]}"
"$uptake" advisory DEBIAN-CVE-2026-0202 "${W[@]}" --out none.json "${A[@]}" 2>err.txt &&
  { echo "FAIL: an advisory about a record that concerns no image"; exit 1; }
grep -q "concerns no published image" err.txt || { echo "FAIL: $(cat err.txt)"; exit 1; }
/usr/bin/python3 -c '
import json
f, v = json.load(open("fixed.json")), json.load(open("vexed.json"))
assert f["vulnerabilities"][0]["remediations"][0]["category"] == "vendor_fix", f
assert v["vulnerabilities"][0]["product_status"]["known_not_affected"], v' ||
  { echo "FAIL: the advisories do not say what the server knows"; exit 1; }
node "$js/check.mjs" fixed.json vexed.json "$fx/vex/gateway-vex.json"
