#!/usr/bin/env bash
# uptake-secondary over aktualizr's IP-Uptane protocol, driven by a test
# primary (tests/tools/ipu_primary: one request per TCP connection, as
# aktualizr's primary) with repositories from tests/tools/repo_scenarios.
# A good update (metadata of both repositories, the image in 1,024-byte
# chunks, install by file name, the signed report checked with Python's
# Ed25519 and a counter that only goes up, across restarts); then what must
# be refused, each with the slot untouched: a Director entry for another
# hardware id, a bad signature, a rollback, an image whose hash does not
# match or that is longer than signed, roots the secondary was not given,
# a frame longer than its bound, a length that lies, unknown tags, a
# primary that stops mid-image or a secondary killed mid-image (the
# previous image stays, the next update finishes). A/B slots through the
# agent's bootloader backends (simulated and GRUB): a healthy image
# committed, one that fails its health check rolled back and reported in
# the signed report's installation_result, not installed again; a kill
# mid-image with A/B slots; GRUB's reboot (exit 3) and the trial after it.
#   bash tests/cli/secondary.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
. "$here/../support/testlib.sh"
sec=$build/uptake-secondary
"$build/tests/repo_scenarios" scen || { echo "setup: repo_scenarios failed"; exit 1; }
img=scen/good/image/targets/fw-1.0

# start NAME SCENARIO [options]: a fresh secondary (state-NAME, NAME.slot)
# provisioned with SCENARIO's roots; sets $port and $pid
start() {
  local name=$1 s=$2
  shift 2
  rm -f "$name.port"
  "$sec" --state-dir "state-$name" --serial ecu-1 --hardware-id board-a --slot "$name.slot" \
    --director-root "scen/$s/director-root.json" --image-root "scen/$s/image-root.json" \
    --listen 127.0.0.1 --port 0 --port-file "$name.port" "$@" 2>>"$name.log" &
  pid=$!
  for _ in $(seq 100); do [ -s "$name.port" ] && break; sleep 0.1; done
  [ -s "$name.port" ] || { echo "setup: uptake-secondary $name did not start"; cat "$name.log"; exit 1; }
  port=$(cat "$name.port")
}
stop() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=; }
prim() { "$build/tests/ipu_primary" 127.0.0.1 "$port" "$@"; }
has() { grep -q -- "$1" "${2:-out.txt}" || bad "'$1' not in ${2:-out.txt}: $(head -c 400 "${2:-out.txt}")"; }
same() { cmp -s "$1" "$2" && ok || bad "$1 differs from $2"; }
field() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["signed"]
for k in sys.argv[2].split("."): d=d[k]
print(d)' "$@"; }

# ---- a good update ------------------------------------------------------------
start good good
expect 0 prim info
has "serial=ecu-1 hwid=board-a keytype=0 key="
key=$(sed -n 's/.* key=\([0-9a-f]*\)$/\1/p' out.txt)
[ ${#key} -eq 64 ] && ok || bad "the Ed25519 key is not 64 hex digits: $key"
expect 0 prim version
has "version=2"
expect 0 prim rootver director
has "rootver=1"
expect 0 prim update scen/good/director scen/good/image "$img" fw-1.0
has "putMetaResp2 result=0"
has "uploaded 4096 bytes in 4 chunks"
has "installResp2 result=0"
same good.slot "$img"
tail -1 out.txt >report.json
[ "$(field report.json installed_image.filepath)" = fw-1.0 ] && ok || bad "report: filepath"
want=$(sha256sum "$img" | cut -d' ' -f1)
[ "$(field report.json installed_image.fileinfo.hashes.sha256)" = "$want" ] && ok ||
  bad "report: sha256"
[ "$(field report.json installed_image.fileinfo.length)" = 4096 ] && ok || bad "report: length"
[ "$(field report.json report_counter)" = 1 ] && ok || bad "report: first counter"
# the report is signed by the key getInfo gave (checked with Python's Ed25519)
if /usr/bin/python3 - "$key" report.json <<'EOF'
import json, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
doc = json.load(open(sys.argv[2]))
canon = json.dumps(doc["signed"], sort_keys=True, separators=(",", ":")).encode()
sig = doc["signatures"][0]
Ed25519PublicKey.from_public_bytes(bytes.fromhex(sys.argv[1])).verify(bytes.fromhex(sig["sig"]), canon)
EOF
then ok; else bad "the report's signature does not verify with the ECU key"; fi
# the counter only goes up, also across a restart
expect 0 prim manifest
echo "$(cat out.txt)" >r2.json
[ "$(field r2.json report_counter)" = 2 ] && ok || bad "second counter"
stop
start good good
expect 0 prim manifest
cp out.txt r3.json
[ "$(field r3.json report_counter)" = 3 ] && ok || bad "counter after a restart"
[ "$(field r3.json installed_image.filepath)" = fw-1.0 ] && ok || bad "installed after a restart"
# the same assignment again: installed already, nothing pending
expect 0 prim putmeta scen/good/director scen/good/image
expect 1 prim install fw-1.0
has "no verified image"
stop

# aktualizr's Director: root and targets only
start akt good
expect 0 prim update --akt scen/good/director scen/good/image "$img" fw-1.0
same akt.slot "$img"
stop

# ---- refusals: metadata ---------------------------------------------------------
# a Director entry for another hardware id: refused, in the next report
start hw wrong-hardware
expect 1 prim putmeta scen/wrong-hardware/director scen/wrong-hardware/image
has "putMetaResp2 result=3"
has "board-x"
expect 1 prim upload "$img"
has "before verified metadata"
[ ! -e hw.slot ] && ok || bad "wrong hardware: something was installed"
expect 0 prim manifest
cp out.txt hw.json
case "$(field hw.json attacks_detected)" in
  UPT_ERR_HARDWARE_ID*) ok ;;
  *) bad "the report does not name the refusal: $(field hw.json attacks_detected)" ;;
esac
stop

# a bad signature (the Director's timestamp)
start sig bad-signature
expect 1 prim putmeta scen/bad-signature/director scen/bad-signature/image
has "putMetaResp2 result=3"
has "timestamp"
stop

# a rollback: the Director at version 2, then at version 1
start rb rollback/new
expect 0 prim update scen/rollback/new/director scen/rollback/new/image "$img" fw-1.0
expect 1 prim putmeta scen/rollback/old/director scen/rollback/old/image
has "putMetaResp2 result=3"
grep -qi "rollback\|version 1" out.txt && ok || bad "rollback not named: $(cat out.txt)"
same rb.slot "$img"
stop

# roots: the secondary trusts only the chain from the roots it was given
start rot rotated
expect 0 prim rootver director
has "rootver=1"
expect 1 prim putroot director scen/rotated/foreign-2.root.json
has "putRootResp result=3"
expect 1 prim putroot director scen/good/director/root.json
has "not the next"
expect 0 prim rootver director
has "rootver=1"
expect 0 prim putroot director scen/rotated/director/2.root.json
expect 0 prim rootver director
has "rootver=2"
expect 1 prim putroot director scen/rotated/director/2.root.json
expect 0 prim update scen/rotated/director scen/rotated/image "$img" fw-1.0
stop
# the rotation inside putMetaReq2 (the new root in the collection)
start rot2 rotated
expect 0 prim putmeta scen/rotated/director scen/rotated/image
expect 0 prim rootver director
has "rootver=2"
stop
# without provisioned roots it does not start (no first root over the wire)
expect 1 "$sec" --state-dir state-none --serial ecu-1 --hardware-id board-a --slot none.slot \
  --listen 127.0.0.1 --port 0
grep -q "no trusted director root" err.txt && ok || bad "no root: $(cat err.txt)"
# another repository's metadata for a secondary provisioned with good's roots
start other good
expect 1 prim putmeta scen/tampered/director scen/tampered/image
has "putMetaResp2 result=3"
stop

# ---- refusals: the image ------------------------------------------------------
# a hash that does not match: the bytes are refused at install
start tam tampered
printf 'previous image' >tam.slot
expect 0 prim putmeta scen/tampered/director scen/tampered/image
expect 0 prim upload scen/tampered/image/targets/fw-1.0
expect 1 prim install fw-1.0
has "installResp2 result=3"
has "do not match"
[ "$(cat tam.slot)" = "previous image" ] && ok || bad "tampered: the previous image changed"
[ ! -e tam.slot.part ] && ok || bad "tampered: the part file was kept"
expect 0 prim manifest
cp out.txt tam.json
case "$(field tam.json attacks_detected)" in
  UPT_ERR_HASH_MISMATCH*) ok ;;
  *) bad "hash mismatch not reported: $(field tam.json attacks_detected)" ;;
esac
stop

# longer than the signed length: refused while it streams
start big oversized
expect 0 prim putmeta scen/oversized/director scen/oversized/image
expect 1 prim upload scen/oversized/image/targets/fw-1.0
has "uploadDataResp result=5"
has "more than the 4096 bytes"
expect 1 prim install fw-1.0
[ ! -e big.slot ] && ok || bad "oversized: something was installed"
stop

# an install of another name than the verified one
start name good
expect 0 prim putmeta scen/good/director scen/good/image
expect 0 prim upload "$img"
expect 1 prim install fw-2.0
has "not the verified image"
expect 0 prim install fw-1.0
stop

# ---- refusals: frames -----------------------------------------------------------
start frames good --max-message 65536 --timeout 2
# a frame longer than its bound: 16 MiB announced
expect 3 prim raw ae8401000000
has "closed"
grep -q "more than the bound of 65536" frames.log && ok || bad "oversized frame: $(tail -2 frames.log)"
# a length that lies: 16 bytes announced, 2 sent, the connection held open
expect 3 prim raw a0103000 10
has "closed"
grep -q "timed out after 4 of 18 bytes" frames.log && ok || bad "short frame: $(tail -2 frames.log)"
# a length that lies inside: the hash claims 9 bytes of its 3
expect 3 prim raw a8053003040978
grep -q "runs past" frames.log && ok || bad "inner length: $(tail -2 frames.log)"
# an indefinite length, an unknown tag, a byte after the body, an answer
expect 3 prim raw a08030000000
grep -q "indefinite" frames.log && ok || bad "indefinite: $(tail -2 frames.log)"
expect 3 prim raw b7023000
grep -q "not the tag of a known message" frames.log && ok || bad "unknown tag: $(tail -2 frames.log)"
expect 3 prim raw a003300000
grep -q "bytes after the message body" frames.log && ok || bad "trailing: $(tail -2 frames.log)"
expect 3 prim raw b00730050a01000400
grep -q "installResp2 is not a request" frames.log && ok || bad "answer as request: $(tail -2 frames.log)"
# and it still serves the next primary
expect 0 prim raw a0023000
has "answer getInfoResp"
stop

# ---- a primary that stops mid-image, a secondary killed mid-image ------------
start mid good
printf 'previous image' >mid.slot
expect 0 prim putmeta scen/good/director scen/good/image
expect 0 prim upload "$img" 2
has "stopped after 2 chunks"
[ "$(cat mid.slot)" = "previous image" ] && ok || bad "mid-image: the previous image changed"
expect 1 prim install fw-1.0
has "incomplete (2048 of 4096 bytes)"
[ "$(cat mid.slot)" = "previous image" ] && ok || bad "mid-image: install changed the slot"
# killed mid-image
expect 0 prim putmeta scen/good/director scen/good/image
expect 0 prim upload "$img" 3
kill -9 "$pid"
wait "$pid" 2>/dev/null
pid=
[ "$(cat mid.slot)" = "previous image" ] && ok || bad "killed: the previous image changed"
start mid good
expect 1 prim install fw-1.0
[ "$(cat mid.slot)" = "previous image" ] && ok || bad "restart: the previous image changed"
# the next update finishes
expect 0 prim update scen/good/director scen/good/image "$img" fw-1.0
same mid.slot "$img"
stop

# ---- A/B slots: the agent's bootloader backends ----------------------------------
mkdir -p health-ok health-bad
printf '#!/bin/sh\n[ -s "$UPTAKE_SLOT_PATH" ] && echo "$UPTAKE_SLOT $UPTAKE_IMAGE" >>"%s/health.ran"\n' \
  "$work" >health-ok/10-check
printf '#!/bin/sh\necho "$UPTAKE_SLOT $UPTAKE_IMAGE" >>"%s/health.ran"; exit 1\n' "$work" >health-bad/10-check
chmod +x health-ok/10-check health-bad/10-check
benv() { grep "^$1=" "${2:-state-$name/bootenv}" 2>/dev/null | cut -d= -f2; }
# a healthy image: into slot b, tried, committed, reported
name=abok
start abok good --slot-b abok.slot-b --health-dir health-ok
expect 0 prim update scen/good/director scen/good/image "$img" fw-1.0
has "installResp2 result=0"
same abok.slot-b "$img"
[ ! -e abok.slot ] && ok || bad "A/B: slot a was written"
[ "$(benv active) $(benv upgrade_available)" = "b 0" ] && ok || bad "A/B: bootenv $(cat state-abok/bootenv)"
grep -q "^b fw-1.0$" health.ran && ok || bad "A/B: the health check did not run on slot b"
tail -1 out.txt >abok.json
[ "$(field abok.json installed_image.filepath)" = fw-1.0 ] && ok || bad "A/B: report filepath"
[ "$(field abok.json installation_result.code) $(field abok.json installation_result.success)" = "OK True" ] &&
  ok || bad "A/B: installation_result $(cat abok.json)"
stop
# after a restart (a boot) it still runs slot b
start abok good --slot-b abok.slot-b --health-dir health-ok
expect 0 prim manifest
cp out.txt abok2.json
[ "$(field abok2.json installed_image.filepath)" = fw-1.0 ] && ok || bad "A/B: after a boot"
stop
# an image that fails its health check: the previous slot is back, the
# failure in the signed report, and it is not installed again
name=abbad
start abbad good --slot-b abbad.slot-b --health-dir health-bad
printf 'previous image' >abbad.slot
expect 1 prim update scen/good/director scen/good/image "$img" fw-1.0
has "installResp2 result=4"
has "fw-1.0 failed its health checks: rolled back to the previous image (slot a)"
[ "$(benv active) $(benv upgrade_available)" = "a 0" ] && ok || bad "rollback: bootenv $(cat state-abbad/bootenv)"
[ "$(cat abbad.slot)" = "previous image" ] && ok || bad "rollback: slot a changed"
tail -1 out.txt >abbad.json
[ "$(field abbad.json installed_image.filepath)" = none ] && ok || bad "rollback: the report does not show the previous image"
[ "$(field abbad.json installation_result.code) $(field abbad.json installation_result.success)" = \
  "HEALTH_CHECK_FAILED False" ] && ok || bad "rollback: installation_result $(cat abbad.json)"
case "$(field abbad.json installation_result.description)" in
  *"rolled back"*) ok ;; *) bad "rollback: description $(field abbad.json installation_result.description)" ;;
esac
expect 1 prim update scen/good/director scen/good/image "$img" fw-1.0
has "fw-1.0 failed on this ECU before: not installed again"
stop
# killed mid-image with A/B slots: both slots as they were, finished next time
name=abmid
start abmid good --slot-b abmid.slot-b --health-dir health-ok
printf 'previous image' >abmid.slot
expect 0 prim putmeta scen/good/director scen/good/image
expect 0 prim upload "$img" 3
kill -9 "$pid"
wait "$pid" 2>/dev/null
pid=
[ "$(cat abmid.slot)" = "previous image" ] && [ ! -e abmid.slot-b ] && ok ||
  bad "A/B killed mid-image: a slot changed"
start abmid good --slot-b abmid.slot-b --health-dir health-ok
expect 1 prim install fw-1.0
[ "$(benv active)" != b ] && ok || bad "A/B killed mid-image: switched to slot b"
expect 0 prim update scen/good/director scen/good/image "$img" fw-1.0
same abmid.slot-b "$img"
[ "$(cat abmid.slot)" = "previous image" ] && ok || bad "A/B: slot a changed"
stop
# GRUB: the install answers NEED_COMPLETION and the daemon exits 3 (the
# ECU reboots); the trial runs when it starts again
name=abgrub
start abgrub good --slot-b abgrub.slot-b --health-dir health-bad --bootloader grub --grub-env abgrub.env
expect 0 prim putmeta scen/good/director scen/good/image
expect 0 prim upload "$img"
expect 1 prim install fw-1.0
has "installResp2 result=21"
rc=0; wait "$pid" || rc=$?
pid=
[ "$rc" -eq 3 ] && ok || bad "GRUB: the daemon exited $rc after the install, not 3"
[ "$(benv uptake_slot abgrub.env) $(benv upgrade_available abgrub.env)" = "b 1" ] && ok ||
  bad "GRUB: grubenv $(head -c 200 abgrub.env)"
[ "$(stat -c %s abgrub.env)" = 1024 ] && ok || bad "GRUB: the environment block is not 1024 bytes"
# the boot: the health check fails, back to slot a, exit 3 again
rc=0
"$sec" --state-dir state-abgrub --serial ecu-1 --hardware-id board-a --slot abgrub.slot \
  --slot-b abgrub.slot-b --health-dir health-bad --bootloader grub --grub-env abgrub.env \
  --listen 127.0.0.1 --port 0 2>>abgrub.log || rc=$?
[ "$rc" -eq 3 ] && ok || bad "GRUB: the failed trial exited $rc, not 3"
[ "$(benv uptake_slot abgrub.env) $(benv upgrade_available abgrub.env)" = "a 0" ] && ok ||
  bad "GRUB: grubenv after the failed trial $(head -c 200 abgrub.env)"
start abgrub good --slot-b abgrub.slot-b --health-dir health-bad --bootloader grub --grub-env abgrub.env
expect 0 prim manifest
cp out.txt abgrub.json
[ "$(field abgrub.json installation_result.code)" = HEALTH_CHECK_FAILED ] && ok ||
  bad "GRUB: installation_result $(cat abgrub.json)"
stop
expect 2 "$sec" --state-dir x --serial s --hardware-id h --slot f --health-dir d
has "need A/B slots" err.txt
expect 2 "$sec" --state-dir x --serial s --hardware-id h --slot f --slot-b g --bootloader uboot
has "needs --uboot-config" err.txt
expect 2 "$sec" --state-dir x --serial s --hardware-id h --slot f --slot-b g --bootloader lilo

# ---- usage ---------------------------------------------------------------------
expect 2 "$sec" --state-dir x
expect 2 "$sec" --state-dir x --serial s --hardware-id h --slot f --port 70000
expect 0 "$sec" --help
has "--max-message"
finish
