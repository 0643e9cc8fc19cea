#!/usr/bin/env bash
# CLI test: key generation for every key type, threshold signing one holder
# at a time and by merge, verification outcomes and exit codes (0 ok,
# 1 rejected, 2 usage, 3 input error), passphrase-protected keys, the
# aktualizr dialect, and that nothing is written when an operation fails.
#   bash tests/cli/sign_verify.sh BUILD_DIR
set -uo pipefail
build=$(cd "$1" && pwd)
uptake=$build/uptake
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
# expect RC CMD...: run CMD, compare its exit code
expect() {
  local want=$1 rc=0
  shift
  "$@" >out.txt 2>err.txt || rc=$?
  if [ "$rc" -eq "$want" ]; then ok; else
    bad "exit $rc, expected $want: $*"
    sed 's/^/  | /' out.txt err.txt
  fi
}
contains() { # FILE TEXT
  if grep -qF -- "$2" "$1"; then ok; else bad "$1 lacks '$2'"; sed 's/^/  | /' "$1"; fi
}

# --- keys
for t in ed25519 ecdsa rsa; do
  expect 0 "$uptake" key generate --type "$t" --out "k-$t"
  [ -f "k-$t.pem" ] && [ -f "k-$t.pub.json" ] && ok || bad "key files for $t"
  mode=$(stat -c %a "k-$t.pem")
  [ "$mode" = 600 ] && ok || bad "private key mode $mode, expected 600"
  expect 0 "$uptake" key id "k-$t.pub.json"
  id=$(cat out.txt)
  [[ "$id" =~ ^[0-9a-f]{64}$ ]] && ok || bad "key id '$id'"
done
expect 3 "$uptake" key generate --type ed25519 --out k-ed25519 # never overwrites
expect 2 "$uptake" key generate --type dsa --out k-dsa
[ ! -e k-dsa.pem ] && ok || bad "k-dsa.pem written after a usage error"
for r in root2 targets snapshot timestamp; do expect 0 "$uptake" key generate --out "$r"; done

# --- passphrase
export UPT_PASS=correct-horse
expect 0 "$uptake" key generate --out enc --passphrase-env UPT_PASS
contains enc.pem "ENCRYPTED"

# --- root, threshold 2 of 2, signed one holder at a time
expect 0 "$uptake" metadata root --root-key k-ed25519.pub.json --root-key k-rsa.pub.json \
  --threshold root=2 --targets-key targets.pub.json --targets-key k-ecdsa.pub.json \
  --snapshot-key snapshot.pub.json --timestamp-key timestamp.pub.json --out root.unsigned.json
expect 0 "$uptake" sign --key k-ed25519.pem --out root.1.json root.unsigned.json
# a root short of its threshold is not a trusted root (input error) ...
expect 3 "$uptake" verify --root root.1.json root.1.json
contains err.txt "threshold 1 of 2"
expect 0 "$uptake" sign --key k-rsa.pem --out root.json root.1.json
expect 0 "$uptake" verify --root root.json root.json
contains out.txt "OK"
# ... nor a valid new root (exit 1: rejected), here also for the version
expect 1 "$uptake" verify --root root.json root.1.json

# the same key signing twice never counts twice
expect 0 "$uptake" sign --key k-ed25519.pem --out root.twice.json root.1.json
expect 3 "$uptake" verify --root root.twice.json root.twice.json
contains err.txt "threshold 1 of 2"

# merge: two holders sign separate copies
expect 0 "$uptake" sign --key k-rsa.pem --out root.2.json root.unsigned.json
expect 0 "$uptake" sign --merge --out root.merged.json root.1.json root.2.json
expect 0 "$uptake" verify --root root.merged.json root.merged.json
# merge refuses copies of different content, and writes nothing
sed 's/"version":1/"version":2/' root.unsigned.json >root2.unsigned.json
expect 0 "$uptake" sign --key k-rsa.pem --out root.v2.json root2.unsigned.json
expect 3 "$uptake" sign --merge --out merged-bad.json root.1.json root.v2.json
[ ! -e merged-bad.json ] && ok || bad "merge wrote a file after refusing"

# a key that is not in the document's role cannot add a valid signature
expect 0 "$uptake" sign --key snapshot.pem --out root.extra.json root.1.json
expect 3 "$uptake" verify --root root.extra.json root.extra.json

# --- a target image, targets metadata with Uptane custom fields
head -c 100000 /dev/urandom >fw.bin
expect 0 "$uptake" metadata targets --target "fw-1.0=fw.bin,hwid=board-a,release-counter=3" \
  --out targets.unsigned.json
expect 0 "$uptake" sign --key targets.pem --out targets.json targets.unsigned.json
expect 0 "$uptake" verify --root root.json --target-file fw-1.0=fw.bin targets.json
expect 0 "$uptake" inspect targets.json
contains out.txt "fw-1.0"
contains out.txt "board-a"

# tampered image: same length, one byte differs
cp fw.bin fw.bad
/usr/bin/python3 -c 'import sys; b = bytearray(open("fw.bad", "rb").read()); b[5000] ^= 1; open("fw.bad", "wb").write(b)'
expect 1 "$uptake" verify --root root.json --target-file fw-1.0=fw.bad targets.json
# truncated image
head -c 99999 fw.bin >fw.short
expect 1 "$uptake" verify --root root.json --target-file fw-1.0=fw.short targets.json

# tampered targets: change the length in signed
sed 's/"length":100000/"length":100001/' targets.json >targets.tampered.json
cmp -s targets.json targets.tampered.json && bad "sed did not tamper" || ok
expect 1 "$uptake" verify --root root.json targets.tampered.json
# targets signed by the wrong key
expect 0 "$uptake" sign --key snapshot.pem --out targets.wrong.json targets.unsigned.json
expect 1 "$uptake" verify --root root.json targets.wrong.json

# --- snapshot and timestamp
expect 0 "$uptake" metadata snapshot --meta targets.json --out snapshot.unsigned.json
expect 0 "$uptake" sign --key snapshot.pem --out snapshot.json snapshot.unsigned.json
expect 0 "$uptake" verify --root root.json snapshot.json
expect 0 "$uptake" metadata timestamp --meta snapshot.json --out timestamp.unsigned.json
expect 0 "$uptake" sign --key timestamp.pem --out timestamp.json timestamp.unsigned.json
expect 0 "$uptake" verify --root root.json timestamp.json

# --- expiry
expect 0 "$uptake" metadata timestamp --meta snapshot.json --expires 2020-01-01T00:00:00Z \
  --out ts-old.unsigned.json
expect 0 "$uptake" sign --key timestamp.pem --out ts-old.json ts-old.unsigned.json
expect 1 "$uptake" verify --root root.json ts-old.json
contains out.txt "expired"
expect 0 "$uptake" verify --root root.json --at 2019-06-01T00:00:00Z ts-old.json

# --- passphrase-protected key: right, wrong, missing
expect 0 "$uptake" metadata root --root-key enc.pub.json --targets-key targets.pub.json \
  --snapshot-key snapshot.pub.json --timestamp-key timestamp.pub.json --out encroot.unsigned.json
expect 0 "$uptake" sign --key enc.pem --passphrase-env UPT_PASS --out encroot.json encroot.unsigned.json
expect 0 "$uptake" verify --root encroot.json encroot.json
export UPT_WRONG=wrong
expect 3 "$uptake" sign --key enc.pem --passphrase-env UPT_WRONG --out encroot.w.json encroot.unsigned.json
[ ! -e encroot.w.json ] && ok || bad "wrote output with a wrong passphrase"

# --- aktualizr dialect: capitalised _type, base64 signatures with a method,
# key objects ED25519/RSA without scheme (converted from the TUF key files)
expect 0 "$uptake" metadata root --dialect aktualizr --root-key k-ed25519.pub.json \
  --root-key k-rsa.pub.json --threshold root=2 --targets-key targets.pub.json \
  --snapshot-key snapshot.pub.json --timestamp-key timestamp.pub.json --out akroot.unsigned.json
contains akroot.unsigned.json '"keytype":"ED25519"'
contains akroot.unsigned.json '"keytype":"RSA"'
expect 0 "$uptake" sign --key k-ed25519.pem --key k-rsa.pem --out akroot.json akroot.unsigned.json
contains akroot.json '"method":"rsassa-pss"'
expect 0 "$uptake" verify --root akroot.json akroot.json
# ECDSA has no aktualizr spelling
expect 3 "$uptake" metadata root --dialect aktualizr --root-key k-ecdsa.pub.json \
  --targets-key targets.pub.json --snapshot-key snapshot.pub.json \
  --timestamp-key timestamp.pub.json --out akbad.json
[ ! -e akbad.json ] && ok || bad "wrote akbad.json"
expect 0 "$uptake" metadata targets --dialect aktualizr \
  --target "fw-1.0=fw.bin,hwid=board-a,ecu=ecu-1:board-a" --out akt.unsigned.json
contains akt.unsigned.json '"_type":"Targets"'
expect 0 "$uptake" sign --key targets.pem --out akt.json akt.unsigned.json
contains akt.json '"method":"ed25519"'
expect 0 "$uptake" verify --root akroot.json --target-file fw-1.0=fw.bin akt.json
expect 1 "$uptake" verify --root akroot.json --target-file fw-1.0=fw.bad akt.json

# --- input and usage errors
expect 2 "$uptake"
expect 2 "$uptake" frobnicate
expect 2 "$uptake" verify root.json
expect 2 "$uptake" sign --frob x root.unsigned.json
expect 3 "$uptake" verify --root missing.json root.json
expect 3 "$uptake" verify --root root.json missing.json
printf '{"signed":' >trunc.json
expect 1 "$uptake" verify --root root.json trunc.json
contains out.txt "REJECTED"
expect 3 "$uptake" inspect trunc.json
expect 0 "$uptake" --help
for c in key metadata sign verify inspect; do expect 0 "$uptake" "$c" --help; done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
