#!/usr/bin/env bash
# SBOMs and vulnerability handling, end to end on loopback: three releases
# of a gateway image published with SBOMs (`uptake publish --sbom`: the
# SBOM's format, length, sha256 and sha512 signed offline with the image in
# custom.sbom, the SBOM uploaded and stored by content); libuptake test
# devices (real signatures) install them and report; OSV records (Debian
# source package matched through the purl's upstream qualifier, an npm
# SemVer range with a GIT range skipped, a withdrawn record, one for an
# ecosystem uptake cannot match) are imported in one transaction; then the
# vulnerability report per vulnerability and per device is asserted
# exactly, bad SBOMs and bad OSV records are refused naming the field and
# leave nothing behind, the release gate refuses an image whose SBOM
# matches an actively exploited vulnerability, and a device that installs
# the fix is clean once its signed report arrives.
#   bash tests/cli/vulns.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
fix=$here/../fixtures
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

# --- SBOM documents: both fixtures accepted; what uptake relies on refused
expect 0 "$uptake" sbom check "$fix/sbom/debian-image.cdx.json"
grep -q "cyclonedx-1.6, 4 components" out.txt && ok || bad "cdx check: $(cat out.txt err.txt)"
expect 0 "$uptake" sbom check "$fix/sbom/yocto-image.spdx.json"
grep -q "spdx-2.3, 3 components" out.txt && ok || bad "spdx check: $(cat out.txt err.txt)"
mutate() { # FIXTURE OUT PYTHON-STATEMENT-ON-d
  py "import json; d=json.load(open('$1')); $3; json.dump(d, open('$2', 'w'))"
}
C=$fix/sbom/debian-image.cdx.json S=$fix/sbom/yocto-image.spdx.json
refused() { # FILE WANTED-TEXT
  expect 3 "$uptake" sbom check "$1"
  grep -qF -- "$2" err.txt && ok || bad "$1: wanted '$2' in: $(cat err.txt)"
}
mutate "$C" b1.json 'del d["components"][1]["version"]'
refused b1.json "/components/1: component curl has no version"
mutate "$C" b2.json 'd["components"][2]["colour"] = "red"'
refused b2.json '/components/2: #/definitions/component/additionalProperties: unknown member "colour"'
mutate "$C" b3.json 'del d["components"][0]["type"]'
refused b3.json '/components/0: #/definitions/component/required: no "type"'
mutate "$C" b4.json 'd["components"][3]["type"] = "gadget"'
refused b4.json '/components/3/type: #/definitions/component/properties/type/enum'
mutate "$C" b5.json 'del d["components"][3]["purl"]'
refused b5.json "component lodash has neither a purl nor a CPE"
mutate "$C" b6.json 'd["specVersion"] = "1.2"'
refused b6.json "CycloneDX 1.2 is not supported"
mutate "$C" b7.json 'd["serialNumber"] = "3e671687"'
refused b7.json "#/properties/serialNumber/pattern"
mutate "$S" b8.json 'del d["packages"][2]["downloadLocation"]'
refused b8.json '/packages/2: #/properties/packages/items/required: no "downloadLocation"'
mutate "$S" b9.json 'del d["creationInfo"]["creators"]'
refused b9.json '#/properties/creationInfo/required: no "creators"'
mutate "$S" b10.json 'd["packages"][1]["externalRefs"][0]["referenceCategory"] = "NOPE"'
refused b10.json "/packages/1/externalRefs/0/referenceCategory"
mutate "$S" b11.json 'del d["packages"][3]["versionInfo"]'
refused b11.json "component zlib has no version"
mutate "$S" b13.json 'd["packages"][1]["flavour"] = "x"'
refused b13.json '/packages/1: #/properties/packages/items/additionalProperties: unknown member "flavour"'
mutate "$S" b14.json 'd["creationInfo"]["when"] = "x"'
refused b14.json '/creationInfo: #/properties/creationInfo/additionalProperties: unknown member "when"'
printf '{"bomFormat":"CycloneDX",' >b12.json
refused b12.json "b12.json"

# --- the BSI TR-03183-2 profile: field by field, warnings or (--strict) a refusal
tr() { # FILE [--strict]: exit code, then the findings without the prefix
  "$uptake" sbom check "$@" --profile tr-03183-2 >out.txt 2>err.txt
  echo "rc=$?"
  sed -n 's/^tr-03183-2: //p' out.txt
}
got=$(tr "$C")
want="rc=0
/metadata: SBOM creator: no manufacturer, supplier or author with an email address or URL (5.2.1)
/components/0 (libssl3): component creator: no manufacturer, supplier or author with an email address or URL (5.2.2)
/components/0 (libssl3): hash: no SHA-512 hash of the deployable component (5.2.2)
/components/1 (curl): component creator: no manufacturer, supplier or author with an email address or URL (5.2.2)
/components/1 (curl): licence: no licenses[] entry with an id, name or expression (5.2.2)
/components/1 (curl): hash: no SHA-512 hash of the deployable component (5.2.2)
/components/2 (zlib1g): component creator: no manufacturer, supplier or author with an email address or URL (5.2.2)
/components/2 (zlib1g): licence: no licenses[] entry with an id, name or expression (5.2.2)
/components/2 (zlib1g): hash: no SHA-512 hash of the deployable component (5.2.2)
/components/3 (lodash): component creator: no manufacturer, supplier or author with an email address or URL (5.2.2)
/components/3 (lodash): licence: no licenses[] entry with an id, name or expression (5.2.2)
/components/3 (lodash): dependencies: its bom-ref is not in dependencies[] (5.2.2)
12 findings (BSI TR-03183-2 v2.0.0, sections 4, 5.2.1, 5.2.2)"
[ "$got" = "$want" ] && ok || bad "tr-03183-2 cdx:
$got"
got=$(tr "$S")
want="rc=0
/creationInfo/creators: SBOM creator: no Organization or Person with an email address (5.2.1)
/packages/1 (busybox): component creator: no supplier or originator with an email address (5.2.2)
/packages/1 (busybox): hash: no SHA512 checksum of the deployable component (5.2.2)
/packages/2 (openssl): component creator: no supplier or originator with an email address (5.2.2)
/packages/2 (openssl): hash: no SHA512 checksum of the deployable component (5.2.2)
/packages/3 (zlib): component creator: no supplier or originator with an email address (5.2.2)
/packages/3 (zlib): hash: no SHA512 checksum of the deployable component (5.2.2)
7 findings (BSI TR-03183-2 v2.0.0, sections 4, 5.2.1, 5.2.2)"
[ "$got" = "$want" ] && ok || bad "tr-03183-2 spdx:
$got"
[ "$(tr "$S" --strict | head -1)" = "rc=3" ] && grep -q "refused by --strict: 7 findings of profile tr-03183-2" err.txt &&
  ok || bad "--strict: $(cat out.txt err.txt)"
# complete documents: no findings, --strict passes
H='"'$(printf %0128d 0 | tr 0 a)'"'
mutate "$C" full.cdx.json '
d["metadata"]["manufacturer"] = {"name": "Example Devices GmbH", "url": ["https://devices.example.com"]}
for c in d["components"]:
    c["supplier"] = {"name": "Debian", "contact": [{"email": "debian-security@lists.debian.org"}]}
    c["licenses"] = [{"license": {"id": "MIT"}}]
    c["hashes"] = [{"alg": "SHA-512", "content": '"$H"'}]
d["dependencies"].append({"ref": "pkg:npm/lodash@4.17.20", "dependsOn": []})'
mutate "$S" full.spdx.json '
d["creationInfo"]["creators"].append("Organization: Example Devices GmbH (psirt@devices.example.com)")
for p in d["packages"][1:]:
    p["supplier"] = "Organization: OpenEmbedded (security@lists.openembedded.org)"
    p["checksums"] = [{"algorithm": "SHA512", "checksumValue": '"$H"'}]'
for f in full.cdx.json full.spdx.json; do
  [ "$(tr $f --strict)" = "rc=0
0 findings (BSI TR-03183-2 v2.0.0, sections 4, 5.2.1, 5.2.2)" ] && ok || bad "complete $f: $(cat out.txt err.txt)"
done
# one field taken away at a time: exactly that finding
one() { # FILE-IN PYTHON WANTED
  mutate "$1" one.json "$2"
  got=$(tr one.json --strict)
  [ "$got" = "rc=3
$3
1 finding (BSI TR-03183-2 v2.0.0, sections 4, 5.2.1, 5.2.2)" ] && ok || bad "$2: $got"
}
one full.cdx.json 'del d["metadata"]["timestamp"]' "/metadata/timestamp: timestamp: missing (5.2.1)"
one full.cdx.json 'd["metadata"]["manufacturer"]["url"] = []' "/metadata: SBOM creator: no manufacturer, supplier or author with an email address or URL (5.2.1)"
one full.cdx.json 'd["specVersion"] = "1.4"; d["$schema"] = "http://cyclonedx.org/schema/bom-1.4.schema.json"; d["metadata"]["tools"] = [{"vendor": "anchore", "name": "syft", "version": "1.4.1"}]; del d["metadata"]["manufacturer"]; d["metadata"]["authors"] = [{"name": "A", "email": "a@example.com"}]' "/specVersion: format: CycloneDX before 1.5 (the TR asks for 1.5 or later) (4)"
one full.cdx.json 'del d["components"][2]["supplier"]' "/components/2 (zlib1g): component creator: no manufacturer, supplier or author with an email address or URL (5.2.2)"
one full.cdx.json 'd["components"][1]["licenses"] = []' "/components/1 (curl): licence: no licenses[] entry with an id, name or expression (5.2.2)"
one full.cdx.json 'd["components"][0]["hashes"][0]["alg"] = "SHA-256"' "/components/0 (libssl3): hash: no SHA-512 hash of the deployable component (5.2.2)"
one full.cdx.json 'd["dependencies"].pop()' "/components/3 (lodash): dependencies: its bom-ref is not in dependencies[] (5.2.2)"
one full.spdx.json 'del d["creationInfo"]["creators"][2]' "/creationInfo/creators: SBOM creator: no Organization or Person with an email address (5.2.1)"
one full.spdx.json 'd["packages"][3]["supplier"] = "Organization: OpenEmbedded ()"' "/packages/3 (zlib): component creator: no supplier or originator with an email address (5.2.2)"
one full.spdx.json 'd["packages"][2]["licenseDeclared"] = "NOASSERTION"' "/packages/2 (openssl): licence: neither licenseConcluded nor licenseDeclared (other than NOASSERTION, NONE) (5.2.2)"
one full.spdx.json 'd["packages"][1]["checksums"][0]["algorithm"] = "SHA256"' "/packages/1 (busybox): hash: no SHA512 checksum of the deployable component (5.2.2)"
one full.spdx.json 'd["relationships"] = d["relationships"][:3]' "/packages/3 (zlib): dependencies: its SPDXID is in no DEPENDS_ON, CONTAINS or other dependency relationship (5.2.2)"
expect 2 "$uptake" sbom check "$C" --profile nist
expect 2 "$uptake" sbom check "$C" --strict

# --- three releases with SBOMs: fw 1.1 fixes openssl, fw 1.2 also lodash
cp "$C" sbom10.json
mutate "$C" sbom11.json 'c=d["components"][0]; c["version"]="3.0.13-1~deb12u1"; c["purl"]=c["purl"].replace("3.0.11-1", "3.0.13-1")'
mutate sbom11.json sbom12.json 'c=d["components"][3]; c["version"]="4.17.21"; c["purl"]="pkg:npm/lodash@4.17.21"'
for f in fw10 fw11 fw12 fw13; do head -c 20000 /dev/urandom >$f.bin; done
expect 0 "$uptake" publish fw10.bin "${W[@]}" --name fw --version 1.0 --hardware-id board-a \
  --release-counter 1 --sbom sbom10.json
grep -q "sbom sbom10.json: cyclonedx-1.6, 4 components, sha256 $(sha sbom10.json)" out.txt && ok ||
  bad "publish --sbom: $(cat out.txt err.txt)"
q "$uptake" publish fw11.bin "${W[@]}" --name fw --version 1.1 --hardware-id board-a \
  --release-counter 2 --security --sbom sbom11.json
q "$uptake" publish fw12.bin "${W[@]}" --name fw --version 1.2 --hardware-id board-a \
  --release-counter 3 --sbom sbom12.json
got=$(py '
import json, hashlib
t = json.load(open("ws/metadata/targets.json"))["signed"]["targets"]
for n, f in (("fw-1.0", "sbom10.json"), ("fw-1.1", "sbom11.json"), ("fw-1.2", "sbom12.json")):
    b = open(f, "rb").read()
    want = {"format": "cyclonedx-1.6", "length": len(b), "sha256": hashlib.sha256(b).hexdigest(), "sha512": hashlib.sha512(b).hexdigest()}
    print(n, t[n]["custom"]["sbom"] == want)')
[ "$got" = "fw-1.0 True
fw-1.1 True
fw-1.2 True" ] && ok || bad "custom.sbom in the signed targets: $got"
# the targets key signed custom.sbom: the signature covers it (securesystemslib checks)
py '
import json, sys
from securesystemslib.formats import encode_canonical
from securesystemslib.keys import verify_signature
root = json.load(open("ws/metadata/root.json"))["signed"]
t = json.load(open("ws/metadata/targets.json"))
keys = root["keys"]; role = root["roles"]["targets"]
good = sum(1 for s in t["signatures"] if s["keyid"] in role["keyids"] and
           verify_signature(dict(keys[s["keyid"]], keyid=s["keyid"]), s, encode_canonical(t["signed"]).encode()))
sys.exit(0 if good >= role["threshold"] else 1)' && ok || bad "targets signature over custom.sbom does not verify"

# the stored SBOM is the uploaded one, by content
expect 0 "$uptake" sbom show fw-1.1 "${W[@]}"
cmp -s out.txt sbom11.json && ok || bad "sbom show fw-1.1 differs from what was published"
expect 0 "$uptake" sbom components fw-1.0 "${W[@]}" --json
[ "$(py 'import json,sys; d=json.load(sys.stdin); print(d["format"], [(c["name"], c["version"]) for c in d["components"]])' <out.txt)" = \
  "cyclonedx-1.6 [('libssl3', '3.0.11-1~deb12u1'), ('curl', '7.88.1-10+deb12u4'), ('zlib1g', '1:1.2.13.dfsg-1'), ('lodash', '4.17.20')]" ] &&
  ok || bad "components --json: $(cat out.txt)"
expect 0 "$uptake" sbom components fw-1.2 "${W[@]}"
grep -q "^lodash  *4.17.21  *pkg:npm/lodash@4.17.21$" out.txt && grep -q "4 components (cyclonedx-1.6)" out.txt &&
  ok || bad "components table: $(cat out.txt)"
expect 3 "$uptake" sbom show fw-9.9 "${W[@]}"
grep -q "no target fw-9.9" err.txt && ok || bad "unknown target: $(cat err.txt)"
# an SBOM whose body is not the hash it is put under: refused
hdr=(-H "Authorization: Bearer $token" -H "Content-Type: application/json")
got=$(curl -s --cacert "$ca" -o body.txt -w '%{http_code}' -X PUT "${hdr[@]}" --data-binary @sbom10.json \
  "$url/api/v1/sboms/$(sha sbom11.json)")
[ "$got" = 400 ] && grep -q "sha256 is" body.txt && ok || bad "sbom under a wrong hash: HTTP $got $(cat body.txt)"
got=$(curl -s --cacert "$ca" -o body.txt -w '%{http_code}' -X PUT "${hdr[@]}" --data-binary @b3.json \
  "$url/api/v1/sboms/$(sha b3.json)")
[ "$got" = 400 ] && grep -q "required" body.txt && ok || bad "invalid sbom stored: HTTP $got $(cat body.txt)"
# a custom.sbom that is not {format, length, sha256, sha512}: targets refused
py '
import json
d = json.load(open("ws/metadata/targets.json"))
d["signed"]["version"] += 1
d["signed"]["targets"]["fw-1.0"]["custom"]["sbom"]["sha256"] = "XYZ"
json.dump(d["signed"], open("bad.unsigned.json", "w"))'
q "$uptake" sign --key ws/keys/targets.pem --out bad.json bad.unsigned.json
got=$(curl -s --cacert "$ca" -o body.txt -w '%{http_code}' -X PUT "${hdr[@]}" --data-binary @bad.json \
  "$url/api/v1/repo/metadata/targets")
[ "$got" = 400 ] && grep -q "custom.sbom" body.txt && ok || bad "bad custom.sbom accepted: HTTP $got $(cat body.txt)"

# --- the fleet: dev-1 and dev-4 run fw-1.0, dev-2 fw-1.1, dev-3 fw-1.2;
# dev-1..3 are in support (product gw, on the market), dev-4 has no dates
q "$uptake" product add gw "${W[@]}" --hardware-id board-a --support-years 5 --contact psirt@example.com
for i in 1 2 3; do q "$uptake" device add dev-$i "${W[@]}" --out dev$i --product gw --manufactured 2026-01-02 --placed-on-market 2026-01-15; done
q "$uptake" device add dev-4 "${W[@]}" --out dev4
R=(--root-director ws/metadata/director-root.json --root-image ws/metadata/root.json)
dev() { local i=$1; shift; "$device" --dir d$i --server "$url" --ca "$ca" --cert dev$i.crt --key dev$i.key "$@"; }
for i in 1 2 3 4; do q dev $i "${R[@]}" --ecu prim-$i:board-a init; done
q "$uptake" assign fw-1.0 "${W[@]}" --hardware-id board-a --device dev-1 --device dev-4
q "$uptake" assign fw-1.1 "${W[@]}" --hardware-id board-a --device dev-2
q "$uptake" assign fw-1.2 "${W[@]}" --hardware-id board-a --device dev-3
for i in 1 2 3 4; do q dev $i update; q dev $i report; done

# --- OSV import: a directory (files of one record and of an array)
expect 0 "$uptake" vuln import "$fix/osv" "${W[@]}"
grep -q "imported 3 of 5 records; skipped: 1 withdrawn, 1 with no package uptake can match; 1 GIT ranges skipped" out.txt &&
  ok || bad "import counts: $(cat out.txt err.txt)"

report() { "$uptake" report vulns "${W[@]}" --json >rv.json && py '
import json
d = json.load(open("rv.json"))
for v in d["vulnerabilities"]:
    fx = v["fixed_in"]["target"] if v["fixed_in"] else "-"
    print(v["id"], v["severity"][:8], [i["target"] for i in v["images"]], v["devices"], v["devices_in_support"], fx)
for x in d["devices"]:
    print(" ", x["id"], x["in_support"], x["open"])'; }
# incremental matching (rows updated as records, SBOMs and reports
# arrive) must agree with a full rematch from scratch
same_as_full() { # WHAT
  "$uptake" report vulns "${W[@]}" --json >inc.json 2>err.txt &&
    "$uptake" vuln rematch "${W[@]}" >rm.txt 2>>err.txt &&
    "$uptake" report vulns "${W[@]}" --json >full.json 2>>err.txt || { bad "$1: $(cat err.txt)"; return; }
  grep -q "^rematched [0-9]* SBOMs against [0-9]* records: [0-9]* matching rows$" rm.txt &&
    py 'import json, sys
a, b = (json.load(open(f)) for f in ("inc.json", "full.json"))
a.pop("at"); b.pop("at")  # the report time
sys.exit(a != b)' && ok || bad "$1: incremental matching differs from a full rematch: $(cat rm.txt)
$(diff inc.json full.json | head -5)"
}
grep -q "^matching rows updated: 3$" out.txt && ok || bad "rows updated by the OSV import: $(cat out.txt)"
same_as_full "after the OSV import"
got=$(report)
want="DEBIAN-CVE-2026-0101 CVSS:3.1 ['fw-1.0'] 2 1 fw-1.1
GHSA-35jh-r3h4-6jhm HIGH ['fw-1.0', 'fw-1.1'] 3 2 fw-1.2
  dev-1 True ['DEBIAN-CVE-2026-0101', 'GHSA-35jh-r3h4-6jhm']
  dev-2 True ['GHSA-35jh-r3h4-6jhm']
  dev-4 False ['DEBIAN-CVE-2026-0101', 'GHSA-35jh-r3h4-6jhm']"
[ "$got" = "$want" ] && ok || bad "vulnerability report:
$got
want:
$want"
expect 0 "$uptake" report vulns "${W[@]}" --csv
[ "$(cat out.txt)" = "device,in_support,vulnerability
dev-1,true,DEBIAN-CVE-2026-0101
dev-1,true,GHSA-35jh-r3h4-6jhm
dev-2,true,GHSA-35jh-r3h4-6jhm
dev-4,false,DEBIAN-CVE-2026-0101
dev-4,false,GHSA-35jh-r3h4-6jhm" ] && ok || bad "csv: $(cat out.txt)"
expect 0 "$uptake" report vulns "${W[@]}"
grep -q "^GHSA-35jh-r3h4-6jhm  *HIGH  *3  *2 fw-1.2  *fw-1.0,fw-1.1" out.txt && grep -q "^dev-4  *out  *DEBIAN" out.txt &&
  ok || bad "table: $(cat out.txt)"
expect 0 "$uptake" vuln show DEBIAN-CVE-2026-0101 "${W[@]}"
grep -q "image fw-1.0 .*: libssl3@3.0.11-1~deb12u1" out.txt && grep -q "fixed in fw-1.1" out.txt &&
  grep -q "devices running an affected image: 2 (1 in support)" out.txt && grep -q "^    dev-4$" out.txt &&
  ok || bad "vuln show: $(cat out.txt)"
expect 0 "$uptake" vuln show DEBIAN-CVE-2026-0101 "${W[@]}" --json
[ "$(py 'import json,sys; d=json.load(sys.stdin); print(d["aliases"], d["affected_devices"], d["record"]["affected"][0]["key"])' <out.txt)" = \
  "['CVE-2026-0101'] ['dev-1', 'dev-4'] deb/debian/openssl" ] && ok || bad "vuln show --json: $(cat out.txt)"
expect 3 "$uptake" vuln show CVE-1999-0000 "${W[@]}"
grep -q "not imported" err.txt && ok || bad "unknown id: $(cat err.txt)"

# --- bad records: the import is refused naming record and field, nothing
# of it is stored (a good record in the same import included)
mkdir bad1 bad2 bad3
cp "$fix/osv/GHSA-lodash.json" bad1/a.json
py 'import json; r=json.load(open("'"$fix"'/osv/DEBIAN-CVE-2026-0101.json")); r["id"]="DEBIAN-NEW-1"; json.dump(r, open("bad1/a.json","w"))'
py 'import json; r=json.load(open("'"$fix"'/osv/DEBIAN-CVE-2026-0101.json")); r["id"]="DEBIAN-BAD"; r["affected"][0]["ranges"][0]["events"][1]["fixed"]="not a version"; json.dump(r, open("bad1/b.json","w"))'
expect 3 "$uptake" vuln import bad1 "${W[@]}"
grep -qF 'bad1/b.json (DEBIAN-BAD): affected[0].ranges[0].events[1].fixed: ' err.txt &&
  grep -qF 'not a version\" is not a debian version' err.txt &&
  ok || bad "bad version: $(cat err.txt)"
expect 3 "$uptake" vuln show DEBIAN-NEW-1 "${W[@]}"
grep -q "not imported" err.txt && ok || bad "half an import stored: $(cat out.txt err.txt)"
py 'import json; r=json.load(open("'"$fix"'/osv/GHSA-lodash.json")); r["affected"][0]["ranges"][0]["type"]="FOO"; json.dump(r, open("bad2/c.json","w"))'
expect 3 "$uptake" vuln import bad2/c.json "${W[@]}"
grep -qF 'bad2/c.json (GHSA-35jh-r3h4-6jhm): affected[0].ranges[0].type: \"FOO\" is not SEMVER, ECOSYSTEM or GIT' err.txt && ok || bad "range type: $(cat err.txt)"
py 'import json; r=json.load(open("'"$fix"'/osv/GHSA-lodash.json")); r["modified"]="yesterday"; json.dump(r, open("bad3/d.json","w"))'
expect 3 "$uptake" vuln import bad3 "${W[@]}"
grep -qF "bad3/d.json (GHSA-35jh-r3h4-6jhm): modified: missing or not an RFC 3339 time" err.txt && ok || bad "modified: $(cat err.txt)"
[ "$(report)" = "$want" ] && ok || bad "a refused import changed the report: $(report)"

# --- the release gate: fw 1.3 reuses fw 1.0's vulnerable SBOM
expect 0 "$uptake" publish fw13.bin "${W[@]}" --name fw --version 1.3-rc --hardware-id board-a \
  --release-counter 4 --sbom sbom10.json --gate
grep -q "warning: fw-1.3-rc: DEBIAN-CVE-2026-0101 (CVSS:3.1/.*) affects libssl3@3.0.11-1~deb12u1$" err.txt &&
  grep -q "GHSA-35jh-r3h4-6jhm (HIGH) affects lodash@4.17.20$" err.txt && ok ||
  bad "warnings without exploitation: $(cat err.txt)"
expect 0 "$uptake" vuln exploited DEBIAN-CVE-2026-0101 --aware-at 2026-11-20T10:00:00Z "${W[@]}"
expect 3 "$uptake" vuln exploited CVE-1999-0000 --aware-at now "${W[@]}"
targets_before=$(sha ws/metadata/targets.json)
expect 3 "$uptake" publish fw13.bin "${W[@]}" --name fw --version 1.3 --hardware-id board-a \
  --release-counter 4 --sbom sbom10.json --gate
grep -q "DEBIAN-CVE-2026-0101 .*ACTIVELY EXPLOITED, no VEX statement" err.txt &&
  grep -q "refused by --gate: its SBOM matches 1 actively exploited vulnerability without a VEX statement" err.txt &&
  ok || bad "gate: $(cat err.txt)"
[ "$(sha ws/metadata/targets.json)" = "$targets_before" ] && ok || bad "the gate let targets change"
curl -s --cacert "$ca" "$url/repo/targets.json" | grep -q '"fw-1.3"' && bad "fw-1.3 published despite the gate" || ok
# without --gate: a warning, and the release goes out
expect 0 "$uptake" publish fw13.bin "${W[@]}" --name fw --version 1.3 --hardware-id board-a \
  --release-counter 4 --sbom sbom10.json
grep -q "ACTIVELY EXPLOITED" err.txt && grep -q "published fw-1.3" out.txt && ok || bad "no-gate publish: $(cat out.txt err.txt)"
# the fixed SBOM passes the gate
expect 0 "$uptake" publish fw12.bin "${W[@]}" --name fw --version 1.2.1 --hardware-id board-a \
  --release-counter 5 --sbom sbom12.json --gate
[ ! -s err.txt ] && ok || bad "a clean SBOM warned: $(cat err.txt)"
expect 2 "$uptake" publish fw12.bin "${W[@]}" --name fw --version 1.2.2 --hardware-id board-a --gate

# --- the fix: dev-1 installs fw-1.2; clean once its signed report arrives
q "$uptake" assign fw-1.2 "${W[@]}" --hardware-id board-a --device dev-1
q dev 1 update
py 'import json; d=json.load(open("rv.json")); print([x["id"] for x in d["devices"]])' | grep -q dev-1 && ok || bad "dev-1 clean before its report"
q dev 1 report
same_as_full "after dev-1's signed report"
got=$(report)
want="DEBIAN-CVE-2026-0101 CVSS:3.1 ['fw-1.0', 'fw-1.3', 'fw-1.3-rc'] 1 0 fw-1.1
GHSA-35jh-r3h4-6jhm HIGH ['fw-1.0', 'fw-1.1', 'fw-1.3', 'fw-1.3-rc'] 2 1 fw-1.2
  dev-2 True ['GHSA-35jh-r3h4-6jhm']
  dev-4 False ['DEBIAN-CVE-2026-0101', 'GHSA-35jh-r3h4-6jhm']"
[ "$got" = "$want" ] && ok || bad "after dev-1's fix:
$got
want:
$want"
# a forged report (bad signature) claiming the fix changes nothing
expect 1 dev 4 forge
[ "$(report)" = "$want" ] && ok || bad "a forged manifest cleaned dev-4: $(report)"

# --- VEX (CSAF 2.0): lodash not affected in fw-1.1 (a flag); the gw1 build
# of libssl3 not affected (an impact statement), by purl
expect 0 "$uptake" vuln vex "$fix/vex/gateway-vex.json" "${W[@]}"
grep -q "vex EXD-VEX-2026-0007: 6 statements (known_not_affected, fixed); 1 product statuses of other kinds ignored" out.txt &&
  ok || bad "vex import: $(cat out.txt err.txt)"
got=$(report)
want="DEBIAN-CVE-2026-0101 CVSS:3.1 ['fw-1.0', 'fw-1.3', 'fw-1.3-rc'] 1 0 fw-1.1
GHSA-35jh-r3h4-6jhm HIGH ['fw-1.0', 'fw-1.3', 'fw-1.3-rc'] 1 0 fw-1.2
  dev-4 False ['DEBIAN-CVE-2026-0101', 'GHSA-35jh-r3h4-6jhm']"
[ "$got" = "$want" ] && ok || bad "after VEX:
$got
want:
$want"
[ "$(py 'import json; d=json.load(open("rv.json")); g=[v for v in d["vulnerabilities"] if v["id"].startswith("GHSA")][0]; print(g["not_affected"][0]["target"], g["not_affected"][0]["vex"]["justification"], g["not_affected"][0]["vex"]["document"])')" = \
  "fw-1.1 vulnerable_code_not_present EXD-VEX-2026-0007" ] && ok || bad "not_affected: $(cat rv.json)"
# the gate honours VEX: the gw1 build passes though the record is exploited
mutate sbom10.json sbom14.json 'c=d["components"][0]; c["version"]="3.0.11-1~deb12u1+gw1"; c["purl"]=c["purl"].replace("deb12u1?", "deb12u1+gw1?")'
expect 0 "$uptake" publish fw13.bin "${W[@]}" --name fw --version 1.4 --hardware-id board-a \
  --release-counter 6 --sbom sbom14.json --gate
grep -q "DEBIAN-CVE-2026-0101 .*affects libssl3@3.0.11-1~deb12u1+gw1; VEX: known_not_affected, impact_statement$" err.txt &&
  grep -q "published fw-1.4" out.txt && ok || bad "gate with VEX: $(cat out.txt err.txt)"
same_as_full "after a new SBOM (fw-1.4)"
[ "$(report | head -1)" = "DEBIAN-CVE-2026-0101 CVSS:3.1 ['fw-1.0', 'fw-1.3', 'fw-1.3-rc'] 1 0 fw-1.1" ] && ok ||
  bad "fw-1.4 matched despite VEX: $(report)"
want=$(report)
# refused: a product that is neither a published target nor a purl; no
# justification; not a VEX document. Nothing of them is stored.
py 'import json; d=json.load(open("'"$fix"'/vex/gateway-vex.json")); d["document"]["tracking"]["id"]="X-1"; d["product_tree"]["branches"][0]["branches"][0]["branches"][0]["product"]["name"]="fw-7.7"; json.dump(d, open("v1.json","w"))'
expect 3 "$uptake" vuln vex v1.json "${W[@]}"
grep -q "product GW-FW-1.1 (fw-7.7) is neither a published target nor a purl" err.txt && ok || bad "unknown product: $(cat err.txt)"
py 'import json; d=json.load(open("'"$fix"'/vex/gateway-vex.json")); d["document"]["tracking"]["id"]="X-2"; del d["vulnerabilities"][0]["flags"]; json.dump(d, open("v2.json","w"))'
expect 3 "$uptake" vuln vex v2.json "${W[@]}"
grep -q "known_not_affected GW-FW-1.1 has no justification" err.txt && ok || bad "no justification: $(cat err.txt)"
py 'import json; d=json.load(open("'"$fix"'/vex/gateway-vex.json")); d["document"]["category"]="csaf_base"; json.dump(d, open("v3.json","w"))'
expect 3 "$uptake" vuln vex v3.json "${W[@]}"
grep -q "not a CSAF 2.0 VEX document" err.txt && ok || bad "not vex: $(cat err.txt)"
[ "$(report)" = "$want" ] && ok || bad "a refused VEX changed the report: $(report)"

# --- CRA Art. 14 clocks, on a fixed clock (--at): aware at 2026-11-20 10:00
art14() { "$uptake" report art14 "${W[@]}" --json "$@" >a14.json && py '
import json
d = json.load(open("a14.json"))
for v in d["vulnerabilities"]:
    c = {x["stage"]: x for x in v["clocks"]}
    print(v["id"], v["aware_at"], v["fixed_in"], v["devices_affected"])
    for s in ("early", "notification", "final"):
        x = c[s]
        due = x["due"] - (v["fix_available_at"] if s == "final" else v["aware_at"])
        print(" ", s, due, x["status"], x["reported_at"])'; }
got=$(art14 --at 2026-11-21T09:00:00Z)
want="DEBIAN-CVE-2026-0101 1795168800 fw-1.1 ['dev-4']
  early 86400 due 0
  notification 259200 due 0
  final 1209600 due 0"
[ "$got" = "$want" ] && ok || bad "art14 at 09:00 next day:
$got
want:
$want"
got=$(art14 --at 2026-11-21T11:00:00Z)
[ "$(echo "$got" | sed -n 2p)" = "  early 86400 overdue 0" ] && ok || bad "early warning not overdue after 25 h: $got"
expect 0 "$uptake" vuln reported DEBIAN-CVE-2026-0101 --stage early --at 2026-11-21T10:30:00Z "${W[@]}"
expect 0 "$uptake" vuln reported DEBIAN-CVE-2026-0101 --stage notification --at 2026-11-22T08:00:00Z "${W[@]}"
got=$(art14 --at 2026-11-25T00:00:00Z)
want="DEBIAN-CVE-2026-0101 1795168800 fw-1.1 ['dev-4']
  early 86400 done-late 1795257000
  notification 259200 done 1795334400
  final 1209600 due 0"
[ "$got" = "$want" ] && ok || bad "art14 after two reports:
$got
want:
$want"
expect 2 "$uptake" vuln reported DEBIAN-CVE-2026-0101 --stage later "${W[@]}"
expect 3 "$uptake" vuln reported CVE-1999-0000 --stage early "${W[@]}"
expect 0 "$uptake" report art14 "${W[@]}" --at 2026-11-25T00:00:00Z
grep -q "^  early  *due 2026-11-21T10:00:00Z  *done-late" out.txt && grep -q "devices still running an affected image: 1 dev-4" out.txt &&
  ok || bad "art14 table: $(cat out.txt)"

# --- the CSAF 2.0 advisory once the fix is out (validated with BSI's
# validator in tests/interop/csaf.sh)
expect 0 "$uptake" advisory DEBIAN-CVE-2026-0101 "${W[@]}" --out adv.json --publisher "Example Devices GmbH" \
  --namespace https://devices.example.com
got=$(py '
import json
d = json.load(open("adv.json"))
names = {}
def walk(bs):
    for b in bs:
        if "product" in b: names[b["product"]["product_id"]] = b["name"]
        walk(b.get("branches", []))
walk(d["product_tree"]["branches"])
v = d["vulnerabilities"][0]
ps = v["product_status"]
print(d["document"]["category"], d["document"]["tracking"]["id"], v["cve"])
print(sorted(names[p] for p in ps["known_affected"]), [names[p] for p in ps["fixed"]], sorted(names[p] for p in ps.get("known_not_affected", [])))
r = v["remediations"][0]
print(r["category"], r["details"], sorted(names[p] for p in r["product_ids"]))')
want="csaf_security_advisory DEBIAN-CVE-2026-0101 CVE-2026-0101
['fw-1.0', 'fw-1.3', 'fw-1.3-rc'] ['fw-1.1'] []
vendor_fix Install fw-1.1 (or a later release). ['fw-1.0', 'fw-1.3', 'fw-1.3-rc']"
[ "$got" = "$want" ] && ok || bad "advisory:
$got
want:
$want"
expect 3 "$uptake" advisory DEBIAN-CVE-2026-0101 "${W[@]}" --out adv2.json --publisher X --namespace ftp://x
[ ! -e adv2.json ] && grep -q "namespace: an http(s) URL" err.txt && ok || bad "bad namespace: $(cat err.txt)"
expect 2 "$uptake" advisory DEBIAN-CVE-2026-0101 "${W[@]}" --out adv2.json


# --- NVD CVE JSON 2.0, matched by CPE: a Yocto image (create-spdx names its
# recipes by CPE, part *) with its kernel, in two releases, openssl 3.1.4
# then 3.1.5; and an application image (openssl 3.1.4, no kernel)
mutate "$S" ysbom10.json '
d["packages"].append({"SPDXID": "SPDXRef-Recipe-linux-yocto", "name": "linux-yocto", "versionInfo": "6.1.38+git",
  "downloadLocation": "git://git.yoctoproject.org/linux-yocto.git", "licenseDeclared": "GPL-2.0-only",
  "supplier": "Organization: OpenEmbedded ()", "externalRefs": [{"referenceCategory": "SECURITY",
  "referenceType": "cpe23Type", "referenceLocator": "cpe:2.3:*:linux:linux_kernel:6.1.38:*:*:*:*:*:*:*"}]})
d["relationships"].append({"spdxElementId": d["packages"][0]["SPDXID"], "relationshipType": "CONTAINS", "relatedSpdxElement": "SPDXRef-Recipe-linux-yocto"})'
mutate ysbom10.json ysbom11.json 'p=d["packages"][2]; p["versionInfo"]="3.1.5"; r=p["externalRefs"]; r[0]["referenceLocator"]=r[0]["referenceLocator"].replace("3.1.4","3.1.5"); r[1]["referenceLocator"]=r[1]["referenceLocator"].replace("3.1.4","3.1.5")'
expect 0 "$uptake" sbom check ysbom10.json
grep -q "spdx-2.3, 4 components" out.txt && ok || bad "yocto sbom with its kernel: $(cat out.txt err.txt)"
head -c 20000 /dev/urandom >y10.bin
head -c 20000 /dev/urandom >y11.bin
head -c 20000 /dev/urandom >app10.bin
q "$uptake" publish y10.bin "${W[@]}" --name yocto --version 1.0 --hardware-id board-y --release-counter 1 --sbom ysbom10.json
q "$uptake" publish y11.bin "${W[@]}" --name yocto --version 1.1 --hardware-id board-y --release-counter 2 --sbom ysbom11.json
for i in 5 6; do
  q "$uptake" device add dev-$i "${W[@]}" --out dev$i
  q dev $i "${R[@]}" --ecu prim-$i:board-y init
done
q "$uptake" assign yocto-1.0 "${W[@]}" --hardware-id board-y --device dev-5
q "$uptake" assign yocto-1.1 "${W[@]}" --hardware-id board-y --device dev-6
for i in 5 6; do q dev $i update; q dev $i report; done
N=$fix/nvd/nvdcve-2.0-yocto.json
expect 0 "$uptake" vuln import "$N" "${W[@]}"
grep -q "imported 3 of 5 records; skipped: 1 withdrawn, 1 with no package uptake can match; 0 GIT ranges skipped" out.txt &&
  grep -q "NVD records: 5; cpeMatch platform conditions (evaluated per SBOM): 1" out.txt &&
  grep -q "^matching rows updated: 3$" out.txt &&
  ok || bad "nvd import counts: $(cat out.txt err.txt)"
# CVE-2026-20001 is "openssl 3.1.0 up to 3.1.5 running on Linux" (an AND
# configuration with a platform node, vulnerable false): the application
# image, published after the import (its rows made from the stored
# records), has openssl 3.1.4 but no kernel, so it is not affected
expect 0 "$uptake" publish app10.bin "${W[@]}" --name appfs --version 1.0 --hardware-id board-y --release-counter 1 --sbom "$S"
grep -q "warning: appfs-1.0: CVE-2026-20002 (HIGH) affects busybox@1.36.1$" err.txt && ! grep -q "CVE-2026-20001" err.txt &&
  ok || bad "the gate's matching of an image without the platform: $(cat out.txt err.txt)"
same_as_full "after the application image's SBOM"
show() { "$uptake" vuln show "$1" "${W[@]}" --json | py '
import json, sys
d = json.load(sys.stdin)
print(d["id"], d["severity"], [(i["target"], [c["name"] + "@" + c["version"] for c in i["components"]]) for i in d["images"]],
      d["affected_devices"], d["fixed_in"]["target"] if d["fixed_in"] else "-")'; }
got="$(show CVE-2026-20001); $(show CVE-2026-20002); $(show CVE-2026-20003)"
want="CVE-2026-20001 HIGH [('yocto-1.0', ['openssl@3.1.4'])] ['dev-5'] yocto-1.1; CVE-2026-20002 HIGH [('appfs-1.0', ['busybox@1.36.1']), ('yocto-1.0', ['busybox@1.36.1']), ('yocto-1.1', ['busybox@1.36.1'])] ['dev-5', 'dev-6'] -; CVE-2026-20003  [] [] -"
[ "$got" = "$want" ] && ok || bad "nvd matching:
$got
want:
$want"
expect 0 "$uptake" vuln show CVE-2026-20004 "${W[@]}"
grep -q "^  withdrawn$" out.txt && ok || bad "rejected record not withdrawn: $(cat out.txt)"
# strict: an unknown member where uptake reads, a bad CPE, a bad version;
# a good record in the same import is not stored either
nvdbad() { # OUT PYTHON-STATEMENT-ON-c (the first record's cve)
  py "import json; d=json.load(open('$N')); d['vulnerabilities'][2]['cve']['id']='CVE-2026-29999'; c=d['vulnerabilities'][0]['cve']; m=c['configurations'][0]['nodes'][0]['cpeMatch'][0]; $2; json.dump(d, open('$1', 'w'))"
}
nvdbad n1.json 'm["versionEnd"]="3.1.5"'
expect 3 "$uptake" vuln import n1.json "${W[@]}"
grep -qF 'n1.json[0] (CVE-2026-20001): configurations[0].nodes[0].cpeMatch[0]: unknown member \"versionEnd\"' err.txt &&
  ok || bad "unknown cpeMatch member: $(cat err.txt)"
nvdbad n2.json 'm["criteria"]="cpe:2.3:a:openssl:open ssl:*:*:*:*:*:*:*:*"'
expect 3 "$uptake" vuln import n2.json "${W[@]}"
grep -qF 'n2.json[0] (CVE-2026-20001): configurations[0].nodes[0].cpeMatch[0].criteria: product: an unescaped special character' err.txt &&
  ok || bad "bad CPE: $(cat err.txt)"
nvdbad n3.json 'm["criteria"]="cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*"'
expect 3 "$uptake" vuln import n3.json "${W[@]}"
grep -qF 'criteria: other: fewer than 11 attributes' err.txt &&
  ok || bad "short CPE: $(cat err.txt)"
nvdbad n4.json 'm["versionEndExcluding"]="3.1 5"'
expect 3 "$uptake" vuln import n4.json "${W[@]}"
grep -qF 'cpeMatch[0].versionEndExcluding: not a version' err.txt && ok || bad "bad version: $(cat err.txt)"
nvdbad n5.json 'c["configurations"][0]["nodes"][0]["operator"]="XOR"'
expect 3 "$uptake" vuln import n5.json "${W[@]}"
grep -qF 'configurations[0].nodes[0].operator: not \"AND\" or \"OR\"' err.txt && ok || bad "bad operator: $(cat err.txt)"
nvdbad n6.json 'c["lastModified"]="11/10/2026"'
expect 3 "$uptake" vuln import n6.json "${W[@]}"
grep -qF 'n6.json[0] (CVE-2026-20001): lastModified: missing or not an NVD time' err.txt && ok || bad "bad time: $(cat err.txt)"
nvdbad n7.json 'd["version"]="1.1"'
expect 3 "$uptake" vuln import n7.json "${W[@]}"
grep -qF 'n7.json: format/version: not an NVD CVE JSON 2.0 document' err.txt && ok || bad "bad version: $(cat err.txt)"
expect 3 "$uptake" vuln show CVE-2026-29999 "${W[@]}"
grep -q "not imported" err.txt && ok || bad "half an NVD import stored: $(cat out.txt err.txt)"
# the fix: dev-5 installs yocto-1.1; clean of CVE-2026-20001 once it reports
q "$uptake" assign yocto-1.1 "${W[@]}" --hardware-id board-y --device dev-5
q dev 5 update
q dev 5 report
[ "$(show CVE-2026-20001)" = "CVE-2026-20001 HIGH [('yocto-1.0', ['openssl@3.1.4'])] [] yocto-1.1" ] && ok ||
  bad "after dev-5's fix: $(show CVE-2026-20001)"
same_as_full "after the NVD import and dev-5's report"

# --- RPM versions by rpm's rules (librpm): a Red Hat OSV record fixed in
# openssl 1:1.1.1g-15.el8_3; an image with 1:1.1.1-8.el8 is affected (rpm
# compares the release on its own: 1.1.1 < 1.1.1g; the generic rule reads
# "1.1.1-8" as above "1.1.1g"), one with 1:1.1.1k-7.el8_6 is not (its epoch
# from the purl's epoch qualifier)
rpmsbom() { # OUT VERSION-RELEASE
  mutate "$C" "$1" '
d["metadata"]["component"]["name"] = "rhel-gw"
d["components"] = [{"bom-ref": "openssl", "type": "library", "name": "openssl", "version": "1:'"$2"'",
  "purl": "pkg:rpm/redhat/openssl@'"$2"'?arch=x86_64&epoch=1&distro=rhel-8"}]
d["dependencies"] = [{"ref": "rhel-gw", "dependsOn": ["openssl"]}, {"ref": "openssl", "dependsOn": []}]'
}
rpmsbom rh10.json 1.1.1-8.el8
rpmsbom rh11.json 1.1.1k-7.el8_6
head -c 20000 /dev/urandom >rh10.bin
head -c 20000 /dev/urandom >rh11.bin
q "$uptake" publish rh10.bin "${W[@]}" --name rh --version 1.0 --hardware-id board-r --release-counter 1 --sbom rh10.json
q "$uptake" publish rh11.bin "${W[@]}" --name rh --version 1.1 --hardware-id board-r --release-counter 2 --sbom rh11.json
py 'import json; json.dump({"schema_version": "1.6.0", "id": "RHSA-2021:1024", "modified": "2021-03-30T12:00:00Z",
  "aliases": ["CVE-2021-3450"], "summary": "openssl: CA certificate check bypass with X509_V_FLAG_X509_STRICT",
  "affected": [{"package": {"ecosystem": "Red Hat:enterprise_linux:8::baseos", "name": "openssl",
    "purl": "pkg:rpm/redhat/openssl"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.1.1g-15.el8_3"}]}]}]},
  open("rhsa.json", "w"))'
expect 0 "$uptake" vuln import rhsa.json "${W[@]}"
grep -q "imported 1 of 1 records" out.txt && ok || bad "rpm record import: $(cat out.txt err.txt)"
[ "$(show RHSA-2021:1024)" = "RHSA-2021:1024  [('rh-1.0', ['openssl@1:1.1.1-8.el8'])] [] rh-1.1" ] && ok ||
  bad "rpm matching: $(show RHSA-2021:1024)"
expect 0 "$uptake" vuln show RHSA-2021:1024 "${W[@]}" --json
[ "$(py 'import json,sys; d=json.load(sys.stdin); print(d["record"]["affected"][0]["ranges"][0]["scheme"])' <out.txt)" = rpm ] &&
  ok || bad "rpm scheme: $(cat out.txt)"
# a bad RPM version is refused naming the field
py 'import json; r=json.load(open("rhsa.json")); r["id"]="RHSA-BAD"; r["affected"][0]["ranges"][0]["events"][1]["fixed"]="1:1.1.1g-"; json.dump(r, open("rhbad.json","w"))'
expect 3 "$uptake" vuln import rhbad.json "${W[@]}"
grep -qF 'rhbad.json (RHSA-BAD): affected[0].ranges[0].events[1].fixed: \"1:1.1.1g-\" is not a rpm version' err.txt &&
  ok || bad "bad rpm version: $(cat err.txt)"
same_as_full "after the RPM record"


# --- a per-ecosystem OSV export (all.zip): read in memory, one transaction;
# bounded and strict about what an export holds
py '
import json, zipfile
fix = "'"$fix"'/osv/"
a = json.load(open(fix + "GHSA-lodash.json")); a["id"] = "GHSA-zip1-zip1-zip1"
b = json.load(open(fix + "DEBIAN-CVE-2026-0101.json")); b["id"] = "DEBIAN-ZIP-2"
def mk(name, entries, method=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(name, "w", method) as z:
        for n, data, *attr in entries:
            if attr:
                i = zipfile.ZipInfo(n); i.create_system = 3; i.external_attr = attr[0] << 16
                z.writestr(i, data)
            else:
                z.writestr(n, data)
good = [("npm/", ""), ("npm/GHSA-zip1-zip1-zip1.json", json.dumps(a)), ("DEBIAN-ZIP-2.json", json.dumps(b))]
mk("all.zip", good)
bad = dict(b, id="DEBIAN-ZIP-BAD"); bad["affected"][0]["ranges"][0]["events"][1]["fixed"] = "not a version"
mk("z-badrec.zip", good + [("DEBIAN-ZIP-BAD.json", json.dumps(bad))])
mk("z-readme.zip", good + [("README.md", "hello")])
mk("z-link.zip", good + [("x.json", "/etc/passwd", 0o120777)])
mk("z-big.zip", [("big.json", "[" + " " * 9000000 + "]")])
mk("z-total.zip", [("a%d.json" % i, "[" + " " * 6000000 + "]") for i in range(3)])
mk("z-bzip2.zip", good, zipfile.ZIP_BZIP2)
mk("z-enc.zip", good, zipfile.ZIP_STORED)
d = bytearray(open("z-enc.zip", "rb").read())
for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
    i = d.find(sig)
    while i >= 0:
        d[i + off] |= 1
        i = d.find(sig, i + 4)
open("z-enc.zip", "wb").write(d)
open("z-trunc.zip", "wb").write(open("all.zip", "rb").read()[:-30])'
zipbad() { # ZIP WANTED
  expect 3 "$uptake" vuln import "$1" "${W[@]}"
  grep -qF -- "$2" err.txt && ok || bad "$1: wanted '$2' in: $(cat err.txt)"
}
zipbad z-badrec.zip 'z-badrec.zip:DEBIAN-ZIP-BAD.json (DEBIAN-ZIP-BAD): affected[0].ranges[0].events[1].fixed'
zipbad z-readme.zip 'z-readme.zip:README.md: not a *.json record'
zipbad z-link.zip 'z-link.zip:x.json: not a regular file'
zipbad z-big.zip 'z-big.zip:big.json: more than 8388608 bytes'
zipbad z-total.zip 'z-total.zip: the entries hold more than 16777216 bytes'
zipbad z-bzip2.zip 'compressed other than stored or deflated'
zipbad z-enc.zip 'z-enc.zip:npm/GHSA-zip1-zip1-zip1.json: encrypted'
zipbad z-trunc.zip 'z-trunc.zip: not a zip archive libzip can read'
expect 3 "$uptake" vuln show DEBIAN-ZIP-2 "${W[@]}"
grep -q "not imported" err.txt && ok || bad "a refused zip stored records: $(cat out.txt err.txt)"
expect 0 "$uptake" vuln import all.zip "${W[@]}"
grep -q "imported 2 of 2 records; skipped: 0 withdrawn, 0 with no package uptake can match; 1 GIT ranges skipped" out.txt &&
  ok || bad "zip import: $(cat out.txt err.txt)"
expect 0 "$uptake" vuln show DEBIAN-ZIP-2 "${W[@]}" --json
grep -q '"id":"DEBIAN-ZIP-2"' out.txt && ok || bad "zip record not stored: $(cat out.txt)"
same_as_full "after the zip import"

# --- an id with the characters a PostgreSQL array literal quotes ('"', '\',
# ',', braces, a space, NULL): its matching rows (written in batches) are
# the same as those of the same record under a plain id
py 'import json
r = json.load(open("'"$fix"'/osv/GHSA-lodash.json"))
for i, id in enumerate(("GHSA-q\"u\\o,t{e} NULL", "GHSA-PLAIN-COPY")):
    r["id"] = id
    r["aliases"] = []
    json.dump(r, open("odd%d.json" % i, "w"))'
expect 0 "$uptake" vuln import odd0.json "${W[@]}"
expect 0 "$uptake" vuln import odd1.json "${W[@]}"
grep -q "^matching rows updated: [1-9]" out.txt && ok || bad "odd-id import: $(cat out.txt err.txt)"
"$uptake" report vulns "${W[@]}" --json >rv.json && py '
import json, sys
d = json.load(open("rv.json"))
v = {x["id"]: ([i["target"] for i in x["images"]], x["devices"]) for x in d["vulnerabilities"]}
odd, plain = v.get("GHSA-q\"u\\o,t{e} NULL"), v.get("GHSA-PLAIN-COPY")
print(odd, plain)
sys.exit(not plain or not plain[0] or odd != plain)' >odd.txt && ok ||
  bad "the odd id's rows differ from the plain one's: $(cat odd.txt)"
same_as_full "after the odd ids"

# --- one import naming an id twice: the later record is the one kept, and
# only its rows (none here: it names a version no image has) remain
py 'import json
r = json.load(open("'"$fix"'/osv/GHSA-lodash.json"))
r["id"] = "GHSA-TWICE"
r["aliases"] = []
later = json.loads(json.dumps(r))
later["affected"][0]["ranges"] = []
later["affected"][0]["versions"] = ["0.0.0-none"]
json.dump([r, later], open("twice.json", "w"))'
expect 0 "$uptake" vuln import twice.json "${W[@]}"
"$uptake" report vulns "${W[@]}" --json >rv.json && py '
import json, sys
d = json.load(open("rv.json"))
v = [[i["target"] for i in x["images"]] for x in d["vulnerabilities"] if x["id"] == "GHSA-TWICE"]
print(v)
sys.exit(v not in ([], [[]]))' >twice.txt && ok ||
  bad "an id imported twice kept the earlier record's rows: $(cat twice.txt)"
same_as_full "after an id imported twice"

finish
