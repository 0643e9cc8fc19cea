#!/usr/bin/env bash
# The IP-Uptane wire encoding checked by a DER parser that is not uptake's:
# OpenSSL's generic `openssl asn1parse -inform DER` (context tags shown as
# cont [ n ]). Every one of the 23 message types, encoded by libuptake's
# codec (tests/tools/ipu_der), must parse as one well-formed element with
# exactly the tag, nesting and value structure written out below from the
# schema (aktualizr's AKIpUptaneMes: [n] EXPLICIT around the message's
# SEQUENCE; UTF8String, OCTET STRING, ENUMERATED, INTEGER, SEQUENCE OF),
# every length in DER's shortest form. The other way round, DER that
# OpenSSL writes from a description (`openssl asn1parse -genconf`) decodes
# in libuptake's codec to the fields written in that description, and what
# the schema does not allow (an extra field, an IMPLICIT tag, a BOOLEAN for
# an ENUMERATED) is refused.
#   bash tests/cli/ipu_openssl.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
. "$here/../support/testlib.sh"
tool=$build/tests/ipu_der

mkdir der
expect 0 "$tool" encode der
[ "$(ls der | wc -l)" -eq 23 ] && ok || bad "not 23 messages encoded: $(ls der | wc -l)"

# ---- uptake's DER, read by OpenSSL -------------------------------------------------
for f in der/*.der; do
  openssl asn1parse -inform DER -in "$f" >"${f%.der}.txt" 2>"${f%.der}.err" ||
    bad "openssl does not parse $f: $(cat "${f%.der}.err")"
done
# Each message as DEPTH TYPE [VALUE] lines, as asn1parse names them
# (ENUMERATED and INTEGER values in hex, OCTET STRINGs as text or a hex dump).
/usr/bin/python3 - der <<'PY' && ok || bad "the structure OpenSSL reads is not the schema's"
import os, re, sys
d = sys.argv[1]
S, O, E, I, U = "SEQUENCE", "OCTET STRING", "ENUMERATED", "INTEGER", "UTF8STRING"
def msg(n, *fields):
    return [(0, "cont [ %d ]" % n, None), (1, S, None)] + list(fields)
def f(t, v=None, depth=2):
    return (depth, t, v)
manifest = '{"signed":{"pad":"' + "x" * (320 - 21) + '"}}'
root = '{"signed":{"pad":"' + "y" * (140 - 21) + '"}}'
want = {
    "getInfoReq": msg(0),
    "getInfoResp": msg(1, f(U, "ecu-1"), f(U, "board-\u00e4"), f(E, "00"), f(O, "abcd")),
    "manifestReq": msg(2),
    "manifestResp": msg(3, f(O, manifest)),
    "putMetaReq": msg(4, f(S), f(O, "ir", 3), f(O, "it", 3), f(O, "is", 3), f(O, "ig", 3),
                      f(S), f(O, "dr", 3), f(O, "dg", 3)),
    "putMetaResp": msg(5, f(E, "01")),
    "sendFirmwareReq": msg(6, f(O, "fw")),
    "sendFirmwareResp": msg(7, f(E, "00")),
    "installReq": msg(8, f(O, "fw-1.0")),
    "installResp": msg(9, f(E, "04")),
    "uploadDataReq": msg(10, f(O, "[HEX DUMP]:000102FF")),
    "uploadDataResp": msg(11, f(E, "05"), f(O, "short")),
    "downloadOstreeRevReq": msg(12, f(O, "cred")),
    "downloadOstreeRevResp": msg(13, f(E, "-01"), f(O, "")),
    "putMetaReq2": msg(14, f(S), f(S, None, 3), f(O, "root", 4), f(O, "{}", 4),
                       f(S, None, 3), f(O, "targets", 4), f(O, '{"a":1}', 4),
                       f(S), f(S, None, 3), f(O, "root", 4), f(O, "{}", 4)),
    "putMetaResp2": msg(15, f(E, "03"), f(O, "bad sig")),
    "installResp2": msg(16, f(E, "15"), f(O, "")),
    "versionReq": msg(17, f(I, "02")),
    "versionResp": msg(18, f(I, "02")),
    "rootVerReq": msg(19, f(E, "01")),
    "rootVerResp": msg(20, f(I, "012C")),
    "putRootReq": msg(21, f(E, "00"), f(O, root)),
    "putRootResp": msg(22, f(E, "00"), f(O, "ok")),
}
line_re = re.compile(r"^\s*(\d+):d=(\d+)\s+hl=(\d+)\s+l=\s*(\d+|inf)\s+(prim|cons):\s+(.*?)\s*(?::(.*))?$")
failed = False
for name, exp in want.items():
    size = os.path.getsize(os.path.join(d, name + ".der"))
    got, problems = [], []
    for line in open(os.path.join(d, name + ".txt"), encoding="utf-8"):
        m = line_re.match(line.rstrip("\n"))
        if not m:
            problems.append("unparsed line %r" % line)
            continue
        off, depth, hl, l, form, typ, val = m.groups()
        if typ.endswith("[HEX DUMP]"):
            typ, val = typ[:-len("[HEX DUMP]")].rstrip(), "[HEX DUMP]:" + val
        if l == "inf":
            problems.append("indefinite length at %s" % off)
            continue
        l, hl = int(l), int(hl)
        # DER: the shortest length form
        short = 2 if l < 128 else 2 + (l.bit_length() + 7) // 8
        if hl != short:
            problems.append("length at %s not in its shortest form (hl=%d for l=%d)" % (off, hl, l))
        if int(depth) == 0 and (int(off) != 0 or hl + l != size):
            problems.append("not one element covering the file (offset %s, %d of %d bytes)" % (off, hl + l, size))
        cons = form == "cons"
        if cons != (typ == S or typ.startswith("cont")):
            problems.append("%s is %s" % (typ, form))
        got.append((int(depth), typ, val if not cons else None))
    # an empty OCTET STRING shows no value
    exp = [(a, b, None if c == "" else c) for a, b, c in exp]
    if got != exp:
        problems.append("structure\n  got  %s\n  want %s" % (got, exp))
    if problems:
        failed = True
        print("%s: %s" % (name, "; ".join(problems)))
sys.exit(1 if failed else 0)
PY

# ---- OpenSSL's DER, read by uptake ---------------------------------------------------
# hex TEXT: TEXT as hex digits (OpenSSL's configuration syntax drops quotes,
# so JSON goes in as FORMAT:HEX)
hex() { printf %s "$1" | od -An -v -tx1 | tr -d ' \n'; }
# gen NAME: DER from the description NAME.cnf (written by OpenSSL)
gen() { openssl asn1parse -genconf "$1.cnf" -out "$1.der" -noout >/dev/null 2>"$1.err" || bad "openssl -genconf $1: $(cat "$1.err")"; }
# decodes NAME: uptake's codec reads NAME.der as the lines on stdin
decodes() {
  cat >"$1.want"
  "$tool" decode "$1.der" >"$1.got" 2>&1
  diff -u "$1.want" "$1.got" >"$1.diff" && ok || { bad "$1: uptake's decoding differs"; cat "$1.diff"; }
}
# refused NAME PATTERN: uptake's codec refuses NAME.der
refused() {
  rc=0; "$tool" decode "$1.der" >"$1.got" 2>&1 || rc=$?
  [ "$rc" -eq 1 ] && grep -q -- "$2" "$1.got" && ok || bad "$1: not refused with '$2': $(cat "$1.got")"
}

cat >info.cnf <<'EOF'
asn1 = EXPLICIT:1C,SEQUENCE:m
[m]
serial = UTF8String:ecu-openssl
hwid = UTF8String:hub-7
keytype = ENUMERATED:1
key = OCTETSTRING:-----BEGIN PUBLIC KEY-----
EOF
gen info
decodes info <<'EOF'
type=getInfoResp
ecuSerial=ecu-openssl
hwId=hub-7
keyType=1
key=-----BEGIN PUBLIC KEY-----
EOF

cat >version.cnf <<'EOF'
asn1 = EXPLICIT:17C,SEQUENCE:m
[m]
version = INTEGER:2
EOF
gen version
decodes version <<'EOF'
type=versionReq
version=2
EOF

cat >rootver.cnf <<'EOF'
asn1 = EXPLICIT:20C,SEQUENCE:m
[m]
version = INTEGER:70000
EOF
gen rootver
decodes rootver <<'EOF'
type=rootVerResp
version=70000
EOF

cat >meta2.cnf <<EOF
asn1 = EXPLICIT:14C,SEQUENCE:m
[m]
image = SEQUENCE:image
director = SEQUENCE:director
[image]
a = SEQUENCE:iroot
b = SEQUENCE:itargets
[director]
a = SEQUENCE:droot
[iroot]
role = OCTETSTRING:root
json = FORMAT:HEX,OCTETSTRING:$(hex '{"signed":{"_type":"root"}}')
[itargets]
role = OCTETSTRING:targets
json = FORMAT:HEX,OCTETSTRING:$(hex '{"signed":{"_type":"targets"}}')
[droot]
role = OCTETSTRING:root
json = FORMAT:HEX,OCTETSTRING:$(hex '{"d":1}')
EOF
gen meta2
decodes meta2 <<'EOF'
type=putMetaReq2
imageRepo.count=2
imageRepo.0.role=root
imageRepo.0.json={"signed":{"_type":"root"}}
imageRepo.1.role=targets
imageRepo.1.json={"signed":{"_type":"targets"}}
directorRepo.count=1
directorRepo.0.role=root
directorRepo.0.json={"d":1}
EOF

cat >upload.cnf <<'EOF'
asn1 = EXPLICIT:10C,SEQUENCE:m
[m]
data = FORMAT:HEX,OCTETSTRING:00ff10
EOF
gen upload
decodes upload <<'EOF'
type=uploadDataReq
data=hex:00ff10
EOF

cat >install2.cnf <<'EOF'
asn1 = EXPLICIT:16C,SEQUENCE:m
[m]
result = ENUMERATED:4
description = OCTETSTRING:no space left
EOF
gen install2
decodes install2 <<'EOF'
type=installResp2
result=4
description=no space left
EOF

cat >putroot.cnf <<EOF
asn1 = EXPLICIT:21C,SEQUENCE:m
[m]
repotype = ENUMERATED:1
json = FORMAT:HEX,OCTETSTRING:$(hex '{"signed":{"version":2}}')
EOF
gen putroot
decodes putroot <<'EOF'
type=putRootReq
repotype=1
json={"signed":{"version":2}}
EOF

# what the schema does not allow, written by OpenSSL: refused
cat >extra.cnf <<'EOF'
asn1 = EXPLICIT:17C,SEQUENCE:m
[m]
version = INTEGER:2
more = INTEGER:3
EOF
gen extra
refused extra UPT_ERR_DECODE
cat >implicit.cnf <<'EOF'
asn1 = IMPLICIT:17C,SEQUENCE:m
[m]
version = INTEGER:2
EOF
gen implicit
refused implicit UPT_ERR
cat >boolean.cnf <<'EOF'
asn1 = EXPLICIT:19C,SEQUENCE:m
[m]
repotype = BOOLEAN:TRUE
EOF
gen boolean
refused boolean UPT_ERR_DECODE
cat >tag23.cnf <<'EOF'
asn1 = EXPLICIT:23C,SEQUENCE:m
[m]
version = INTEGER:2
EOF
gen tag23
refused tag23 UPT_ERR_UNSUPPORTED
finish
