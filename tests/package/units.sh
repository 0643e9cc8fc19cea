#!/usr/bin/env bash
# The systemd units as packaged: `systemd-analyze verify` passes on both
# with nothing to say (it exits 0 on unknown keys and bad values, so any
# message fails the test), their programs and man pages exist in the
# packages, and `systemd-analyze security` rates their sandboxes at most
# 2.0 (server) and 4.0 (agent) on its 0-10 exposure scale.
#   tests/package/units.sh DEB_DIR
set -uo pipefail
debs=$(realpath "$1")
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

for p in uptake-server uptake-agent; do
  f=$(ls "$debs/${p}_"*.deb 2>/dev/null | head -1)
  [ -n "$f" ] || { echo "units: no ${p}_*.deb in $debs (scripts/package)"; exit 1; }
  dpkg-deb -x "$f" "$t/root"
done
mkdir "$t/units"
# verify checks that ExecStart's program exists: point it at the packaged one.
for u in uptake-server uptake-agent; do
  src=$t/root/lib/systemd/system/$u.service
  [ -f "$src" ] && ok || { bad "$u.service is not in its package"; continue; }
  sed "s|/usr/bin/|$t/root/usr/bin/|g" "$src" >"$t/units/$u.service"
done
out=$(MANPATH=$t/root/usr/share/man systemd-analyze verify "$t"/units/*.service 2>&1)
rc=$?
[ "$rc" -eq 0 ] && [ -z "$out" ] && ok || bad "systemd-analyze verify (exit $rc): $out"

# threshold: the exposure level times 10
for spec in uptake-server:20 uptake-agent:40; do
  u=${spec%%:*} max=${spec##*:}
  level=$(systemd-analyze security --offline=true "$t/units/$u.service" 2>&1 | tail -1)
  echo "units: $level"
  systemd-analyze security --offline=true --threshold="$max" "$t/units/$u.service" >/dev/null 2>&1 &&
    ok || bad "$u.service: $level, above $((max / 10)).$((max % 10))"
done
grep -q '^User=uptake-server$' "$t/units/uptake-server.service" && ok || bad "the server does not run as uptake-server"
grep -q '^ProtectSystem=strict$' "$t/units/uptake-server.service" && ok || bad "server: ProtectSystem is not strict"
grep -q '^u uptake-server ' "$t/root/usr/lib/sysusers.d/uptake-server.conf" && ok ||
  bad "no sysusers line for uptake-server"

echo "units: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
