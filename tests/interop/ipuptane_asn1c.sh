#!/usr/bin/env bash
# Interoperability: uptake's IP-Uptane DER against asn1c, the compiler
# aktualizr builds its codec with (Debian's asn1c, with aktualizr's flags),
# from aktualizr's schema (tests/interop/ipuptane/ipuptane_message.asn1).
# Every message uptake encodes is decoded by asn1c and encoded again to the
# same bytes, with the fields asn1c reads checked in its XML form. Messages
# asn1c encodes from XML are decoded by uptake to the same fields. BER that
# asn1c accepts (an indefinite length, an unknown extension) uptake refuses.
#   bash tests/interop/ipuptane_asn1c.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
. "$here/../support/testlib.sh"
command -v asn1c >/dev/null || { echo "asn1c is missing: run scripts/install-deps"; exit 1; }
codec=$build/tests/ipu_codec

# asn1c's codec for the schema, and its converter (asn1c's sample program)
mkdir gen
(cd gen && asn1c -fskeletons-copy -fnative-types -pdu=all \
  "$here/ipuptane/ipuptane_message.asn1" >/dev/null 2>&1) || { echo "setup: asn1c failed"; exit 1; }
rm -f gen/converter-example.c
(cd gen && cc -w -DPDU=AKIpUptaneMes -I. -o ../conv ./*.c) || { echo "setup: cc failed"; exit 1; }

# ---- uptake encodes, asn1c decodes and encodes again ------------------------------
mkdir s
q "$codec" samples s
n=0
for f in s/*.der; do
  name=$(basename "$f" .der)
  n=$((n + 1))
  if ./conv -iber -oder "$f" >re.der 2>err.txt && cmp -s re.der "$f"; then ok; else
    bad "asn1c does not re-encode uptake's $name to the same bytes: $(head -2 err.txt)"
  fi
  ./conv -iber -oxer "$f" >"$name.xer" 2>/dev/null
  grep -q "<$name>" "$name.xer" && ok || bad "asn1c reads $name as: $(head -3 "$name.xer")"
done
[ "$n" -eq 23 ] && ok || bad "$n samples, expected 23"
xer_has() { grep -q -- "$2" "$1.xer" && ok || bad "$1: '$2' not in asn1c's reading: $(tr -d '\n' <"$1.xer" | head -c 300)"; }
xer_has getInfoResp "<ecuSerial>ecu-1</ecuSerial>"
xer_has getInfoResp "<hwId>motor-ctl</hwId>"
xer_has getInfoResp "<keyType><ed25519/></keyType>"
xer_has versionReq "<version>2</version>"
xer_has rootVerResp "<version>300</version>"
xer_has rootVerReq "<repotype><image/></repotype>"
xer_has installReq "<hash>66 77 2D 31 2E 30 2E 62 69 6E</hash>"
xer_has installResp2 "<result><unknown/></result>"
xer_has putMetaResp2 "<result><validationFailed/></result>"
xer_has installResp "<result><needCompletion/></result>"
xer_has putMetaResp "<result><failure/></result>"
xer_has putMetaReq2 "<role>74 61 72 67 65 74 73</role>"
xer_has putMetaReq2 "<directorRepo>"

# ---- asn1c encodes, uptake decodes --------------------------------------------
# from_xer NAME XML: asn1c's DER of XML in NAME.der
from_xer() {
  printf '%s' "$2" >"$1.xml"
  ./conv -ixer -oder "$1.xml" >"$1.der" 2>err.txt || bad "asn1c cannot encode $1: $(head -2 err.txt)"
}
# dumped NAME LINE...: uptake decodes NAME.der to exactly these lines
dumped() {
  local name=$1
  shift
  "$codec" dump "$name.der" >got.txt
  printf '%s\n' "$@" >want.txt
  cmp -s got.txt want.txt && ok || bad "uptake decodes asn1c's $name as: $(tr '\n' '|' <got.txt)"
}
from_xer info '<AKIpUptaneMes><getInfoResp><ecuSerial>sec-2</ecuSerial><hwId>modem</hwId><keyType><rsa2048/></keyType><key>2D 2D 2D</key></getInfoResp></AKIpUptaneMes>'
dumped info type=getInfoResp ecuSerial=sec-2 hwId=modem keyType=1 key=---
from_xer meta '<AKIpUptaneMes><putMetaReq2><imageRepo><collection><AKMetaJson><role>72 6F 6F 74</role><json>7B 7D</json></AKMetaJson><AKMetaJson><role>74 69 6D 65 73 74 61 6D 70</role><json>5B 5D</json></AKMetaJson></collection></imageRepo><directorRepo><collection></collection></directorRepo></putMetaReq2></AKIpUptaneMes>'
dumped meta type=putMetaReq2 'imageRepo[0].role=root' 'imageRepo[0].json={}' \
  'imageRepo[1].role=timestamp' 'imageRepo[1].json=[]'
from_xer resp '<AKIpUptaneMes><installResp2><result><unknown/></result><description>6E 6F</description></installResp2></AKIpUptaneMes>'
dumped resp type=installResp2 result=-1 description=no
from_xer rootver '<AKIpUptaneMes><rootVerResp><version>0</version></rootVerResp></AKIpUptaneMes>'
dumped rootver type=rootVerResp version=0
from_xer bigver '<AKIpUptaneMes><versionResp><version>-129</version></versionResp></AKIpUptaneMes>'
dumped bigver type=versionResp version=-129
from_xer putroot '<AKIpUptaneMes><putRootReq><repotype><director/></repotype><json>7B 7D</json></putRootReq></AKIpUptaneMes>'
dumped putroot type=putRootReq repotype=0 'json={}'
from_xer chunk "<AKIpUptaneMes><uploadDataReq><data>$(head -c 1024 /dev/zero | od -An -v -tx1 | tr -s ' \n' ' ')</data></uploadDataReq></AKIpUptaneMes>"
"$codec" dump chunk.der >got.txt
grep -q "^value=hex:0000" got.txt && [ "$(stat -c %s chunk.der)" -eq 1036 ] && ok ||
  bad "a 1,024-byte chunk from asn1c: $(head -c 80 got.txt), $(stat -c %s chunk.der) bytes"

# ---- BER that asn1c takes and uptake refuses ----------------------------------
printf '\xa0\x80\x30\x80\x00\x00\x00\x00' >indef.der
./conv -iber -oxer indef.der >indef.xer 2>/dev/null && grep -q '<getInfoReq' indef.xer && ok ||
  bad "asn1c no longer reads an indefinite length (the test assumes it does)"
expect 1 "$codec" dump indef.der
grep -q indefinite out.txt && ok || bad "indefinite length: $(cat out.txt)"
# installReq with a [0] after its hash, as a later schema version might add
printf '\xa8\x08\x30\x06\x04\x01\x78\x80\x01\x00' >ext.der
./conv -iber -oxer ext.der >ext.xer 2>/dev/null && grep -q '<hash>78</hash>' ext.xer && ok ||
  bad "asn1c no longer skips an unknown extension (the test assumes it does)"
expect 1 "$codec" dump ext.der
grep -q extension out.txt && ok || bad "extension: $(cat out.txt)"
finish
