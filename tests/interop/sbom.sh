#!/usr/bin/env bash
# uptake's CycloneDX SBOM fixtures (and the fuzz seeds) judged by the
# CycloneDX project's validator from the npm registry: every one that
# upt_sbom_parse accepts is valid per the official schema, and the
# documents it refuses for a schema reason are invalid per the official
# schema too (the two agree both ways).
#   bash tests/interop/sbom.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
js=$build/interop-sbom
if ! cmp -s "$here/sbom/package-lock.json" "$js/package-lock.json" 2>/dev/null ||
  [ ! -d "$js/node_modules/@cyclonedx/cyclonedx-library" ]; then
  rm -rf "$js"
  mkdir -p "$js"
  cp "$here/sbom/package.json" "$here/sbom/package-lock.json" "$js/"
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error) || { echo "npm ci failed"; exit 1; }
fi
cp "$here/sbom/check.mjs" "$js/"
cd "$work"
fail=0
fx=$here/../fixtures/sbom
valid=("$fx/debian-image.cdx.json" "$here/../../fuzz/corpus/sbom/nested14.json" "$here/../../fuzz/corpus/sbom/minimal15.json")
for f in "${valid[@]}"; do
  "$build/uptake" sbom check "$f" >/dev/null || { echo "FAIL: uptake refuses $f"; fail=1; }
done
node "$js/check.mjs" valid "${valid[@]}" || fail=1
# refused by uptake for a schema reason: the official schema refuses them too
mut() { /usr/bin/python3 -c "import json; d=json.load(open('$fx/debian-image.cdx.json')); $2; json.dump(d, open('$1', 'w'))"; }
mut x1.json 'd["components"][2]["colour"] = "red"'
mut x2.json 'del d["components"][0]["type"]'
mut x3.json 'd["components"][3]["type"] = "gadget"'
mut x4.json 'd["serialNumber"] = "3e671687"'
mut x5.json 'd["extra"] = 1'
mut x6.json 'del d["components"][1]["name"]'
mut x7.json 'd["version"] = 0'
mut x8.json 'd["specVersion"] = "1.4"; d["metadata"]["tools"] = {"components": []}; del d["$schema"]'
for f in x*.json; do
  "$build/uptake" sbom check "$f" >/dev/null 2>&1 && { echo "FAIL: uptake accepts $f"; fail=1; }
done
node "$js/check.mjs" invalid x*.json || fail=1
[ "$fail" -eq 0 ] && echo "sbom interop: ok"
exit "$fail"
