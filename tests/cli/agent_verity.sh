#!/usr/bin/env bash
# dm-verity slots on loopback (the emulated device boots them in
# tests/boot/boot.sh): `uptake publish --verity` appends the hash tree that
# veritysetup builds and signs custom.verity with the image (checked by
# `veritysetup verify`); the agent rebuilds the tree from the slot's data
# before it switches. Refused, nothing switched, the reason in the signed
# report (an alert on the server): a root hash that is not the tree's, a
# target without custom.verity on a device with `verity = required`, a
# U-Boot environment store the boot script cannot read (a value it does not
# know, no copy whose CRC verifies). An image of partial blocks is refused
# by publish.
#   bash tests/cli/agent_verity.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
trap 'stop_server; rm -rf "$work"' EXIT
cd "$work"
. "$here/../support/testlib.sh"
uptake=$build/uptake
agent=$build/uptake-agent
command -v veritysetup >/dev/null || { echo "FAIL: veritysetup missing (scripts/install-deps)"; exit 1; }

cycle() {
  local rc
  for _ in 1 2 3 4; do
    rc=0
    "$agent" --config d1/agent.conf once >>agent.log 2>&1 || rc=$?
    [ "$rc" -eq 3 ] || return "$rc"
    "$agent" --config d1/agent.conf boot >>agent.log 2>&1
  done
  return 9
}
running() {
  "$uptake" device show d1 --dir ws | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
i = d["ecus"][0].get("installed")
print(i["name"] if i else "-", d["alerts"])'
}
verity_of() { # TARGET FIELD: from the workspace's signed targets
  /usr/bin/python3 -c '
import json, sys
t = json.load(open("ws/metadata/targets.json"))["signed"]["targets"][sys.argv[1]]
print(t["custom"]["verity"][sys.argv[2]])' "$1" "$2"
}

start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
mkdir -p d1/health.d
q "$uptake" device add d1 --dir ws --out d1/cert
cat >d1/agent.conf <<CONF
server = $url
ca = $ca
cert = $work/d1/cert.crt
key = $work/d1/cert.key
state_dir = $work/d1/state
director_root = $work/ws/metadata/director-root.json
image_root = $work/ws/metadata/root.json
primary_serial = d1-main
hardware_id = board-a
slot_a = $work/d1/a.img
slot_b = $work/d1/b.img
health_dir = $work/d1/health.d
verity = required
CONF
cycle && ok || bad "first cycle"

# --- publish --verity: the tree veritysetup verifies, signed with the image
head -c $((4096 * 300)) /dev/urandom >v1.fs
expect 0 "$uptake" publish v1.fs --dir ws --name fw --version 1.0 --hardware-id board-a --verity
grep -q "published fw-1.0 (dm-verity)" out.txt && ok || bad "publish --verity: $(cat out.txt)"
[ "$(verity_of fw-1.0 data_blocks) $(verity_of fw-1.0 hash_offset)" = "300 1228800" ] && ok ||
  bad "custom.verity: data_blocks $(verity_of fw-1.0 data_blocks) hash_offset $(verity_of fw-1.0 hash_offset)"
sha=$(/usr/bin/python3 -c '
import json
print(json.load(open("ws/metadata/targets.json"))["signed"]["targets"]["fw-1.0"]["hashes"]["sha256"])')
target=$work/data/images/$sha
[ "$(stat -c %s "$target")" -gt 1228800 ] && cmp -s -n 1228800 v1.fs "$target" && ok ||
  bad "the published target is not the image followed by its tree"
expect 0 veritysetup verify --no-superblock --hash-offset=1228800 --data-blocks=300 \
  "$target" "$target" "$(verity_of fw-1.0 root_hash)" --salt="$(verity_of fw-1.0 salt)"
q "$uptake" assign fw-1.0 --dir ws --hardware-id board-a --device d1
cycle && ok || bad "v1 cycle"
grep -q "slot b: the dm-verity hash tree matches the signed root hash" agent.log && ok ||
  bad "the agent did not check v1's tree"
[ "$(running)" = "fw-1.0 0" ] && ok || bad "after v1: $(running)"
cmp -s d1/b.img "$target" && ok || bad "slot b does not hold v1 with its tree"

# --- a signed root hash that is not the tree's (a veritysetup that lies)
mkdir -p fakebin
cat >fakebin/veritysetup <<'EOF'
#!/bin/sh
/usr/sbin/veritysetup "$@" | sed 's/^Root hash:.*/Root hash:      00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff/'
EOF
chmod +x fakebin/veritysetup
[ -x /usr/sbin/veritysetup ] || sed -i "s|/usr/sbin/veritysetup|$(command -v veritysetup)|" fakebin/veritysetup
head -c $((4096 * 20)) /dev/urandom >v2.fs
PATH=$work/fakebin:$PATH q "$uptake" publish v2.fs --dir ws --name fw --version 2.0 --hardware-id board-a --verity
q "$uptake" assign fw-2.0 --dir ws --hardware-id board-a --device d1
rc=0
"$agent" --config d1/agent.conf once >>agent.log 2>&1 || rc=$?
[ "$rc" -eq 1 ] && ok || bad "a wrong root hash: agent exit $rc"
grep -q "install refused: fw-2.0: $work/d1/a.img: verity: the slot's data does not have the signed root hash" agent.log &&
  ok || bad "a wrong root hash not refused by name"
grep -q "bootloader set to try slot a" agent.log && bad "the boot was switched to the bad slot" || ok
[ "$(running)" = "fw-1.0 1" ] && ok || bad "a wrong root hash is not in the report: $(running)"
"$agent" --config d1/agent.conf once >>agent.log 2>&1
grep -q "not installing fw-2.0 again" agent.log && ok || bad "the refused image was tried again"

# --- verity = required: a target without custom.verity is refused
head -c 50000 /dev/urandom >v3.fs
q "$uptake" publish v3.fs --dir ws --name fw --version 3.0 --hardware-id board-a
q "$uptake" assign fw-3.0 --dir ws --hardware-id board-a --device d1
rc=0
"$agent" --config d1/agent.conf once >>agent.log 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "fw-3.0: no custom.verity, and this device requires dm-verity slots" agent.log &&
  ok || bad "a target without custom.verity not refused ($rc)"
[ ! -e d1/a.img.part ] && ! grep -q "installing fw-3.0" agent.log && ok ||
  bad "the target without custom.verity was downloaded"
[ "$(running)" = "fw-1.0 2" ] && ok || bad "the refusal is not in the report: $(running)"

# --- a U-Boot store the boot script cannot read (dist/uptake-boot.cmd
# boots slot a and saves nothing): nothing installed or switched, the
# reason in the signed report
mkdir -p d2/health.d
q "$uptake" device add d2 --dir ws --out d2/cert
sed -e "s|/d1/|/d2/|g" -e "s|d1-main|d2-main|" -e "/^verity/d" d1/agent.conf >d2/agent.conf
printf 'bootloader = uboot\nuboot_config = %s/d2/fw_env.config\nboot_limit = 2\n' "$work" >>d2/agent.conf
printf '%s/d2/env.img 0x0 0x4000\n%s/d2/env.img 0x4000 0x4000\n' "$work" "$work" >d2/fw_env.config
printf 'uptake_slot=c\nuptake_prev=a\nupgrade_available=0\nbootcount=0\n' >d2/env.txt
mkenvimage -r -s 0x4000 -o d2/env.img d2/env.txt && truncate -s 32K d2/env.img
cp d2/env.img d2/env.before
d2_alerts() {
  "$uptake" device show d2 --dir ws | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["alerts"])'
}
rc=0
"$agent" --config d2/agent.conf once >d2.log 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "FIELD_VALUE: $work/d2/fw_env.config: boot environment: uptake_slot: bad value 'c'" d2.log &&
  ok || { bad "a store with uptake_slot=c: exit $rc"; cat d2.log; }
cmp -s d2/env.img d2/env.before && [ ! -e d2/b.img ] && ! grep -q "installing fw-1.0" d2.log && ok ||
  bad "a store the script cannot read: something was installed or switched"
grep -q "report sent: d2-main" d2.log && [ "$(d2_alerts)" = 1 ] && ok ||
  bad "a store with uptake_slot=c is not in the signed report (alerts $(d2_alerts))"
q "$uptake" assign fw-1.0 --dir ws --hardware-id board-a --device d2
rc=0
"$agent" --config d2/agent.conf once >d2.log 2>&1 || rc=$?
[ "$rc" -eq 1 ] && cmp -s d2/env.img d2/env.before && [ ! -e d2/b.img ] &&
  ! grep -q "installing fw-1.0" d2.log && ok ||
  bad "a store with uptake_slot=c and an update assigned: something was installed or switched"
# both copies torn (no CRC verifies)
alerts=$(d2_alerts)
printf 'XXXX' | dd of=d2/env.img bs=1 seek=100 conv=notrunc 2>/dev/null
printf 'XXXX' | dd of=d2/env.img bs=1 seek=$((0x4000 + 100)) conv=notrunc 2>/dev/null
cp d2/env.img d2/env.before
rc=0
"$agent" --config d2/agent.conf once >d2.log 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "IO: $work/d2/fw_env.config: cannot open the U-Boot environment" d2.log &&
  ok || { bad "a store without a copy that verifies: exit $rc"; cat d2.log; }
cmp -s d2/env.img d2/env.before && [ ! -e d2/b.img ] && ! grep -q "installing fw-1.0" d2.log && ok ||
  bad "a store that does not verify: something was installed or switched"
[ "$(d2_alerts)" -gt "$alerts" ] && ok ||
  bad "a store that does not verify is not in the signed report (alerts $alerts, then $(d2_alerts))"

# --- bad input to publish
head -c 5000 /dev/urandom >odd.fs
expect 3 "$uptake" publish odd.fs --dir ws --name fw --version 9.0 --hardware-id board-a --verity
grep -q "odd.fs: --verity needs an image of whole 4096-byte blocks (5000 bytes)" err.txt && ok ||
  bad "partial blocks: $(cat err.txt)"
printf 'verity = sometimes\n' >>d1/agent.conf
expect 2 "$agent" --config d1/agent.conf once
finish
