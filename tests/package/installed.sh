#!/usr/bin/env bash
# The installed system: a throw-away Debian 12 chroot made with debootstrap
# from Debian's package registry, uptake's packages installed in it with
# apt-get (so their dependencies must be right), the server started as its
# unit would start it (its user, its state and runtime directories, its
# ExecStart line), the demo's flow against the installed binaries (v1 -> v2
# installed and proven, v3 refused by its health check and rolled back), the
# unit's start-up errors (port taken, missing configuration, no state
# directory), libuptake-dev used through pkg-config and find_package, and the
# packages purged without leaving a file behind. Needs root.
#   tests/package/installed.sh DEB_DIR [WORK_DIR]   (WORK_DIR: build-chroot)
#   tests/package/installed.sh --prepare [WORK_DIR]  (only debootstrap the base,
#                                                   e.g. while the build runs)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prepare=0
[ "${1:-}" = --prepare ] && prepare=1
debs=$(realpath -m "$1")
work=$(realpath -m "${2:-$here/../../build-chroot}")
root=$work/root
suite=bookworm
mirror=${UPTAKE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
server_pid=
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
die() { echo "installed: $*"; exit 1; }
inroot() { chroot "$root" "$@"; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap is missing (scripts/install-deps)"
[ "$prepare" -eq 1 ] || for p in uptake-server uptake-agent uptake libuptake0 libuptake-dev; do
  ls "$debs/${p}_"*.deb >/dev/null 2>&1 || die "no ${p}_*.deb in $debs (scripts/package)"
done

cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  mountpoint -q "$root/proc" && umount "$root/proc"
  true
}
trap cleanup EXIT

# ---- 1. a fresh chroot ----------------------------------------------------------
# The debootstrapped base is kept in WORK_DIR/base for a day (only there:
# nothing is cached outside the build folder); each run works on a copy.
cleanup
mkdir -p "$work"
rm -rf "$root" "$work"/*.log
base=$work/base
if [ -z "$(find "$base/.done" -mmin -1440 2>/dev/null)" ]; then
  rm -rf "$base"
  echo "installed: debootstrap $suite (minbase) into $base"
  debootstrap --variant=minbase "$suite" "$base" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log"; die "debootstrap failed (log: $work/debootstrap.log)"; }
  touch "$base/.done"
fi
if [ "$prepare" -eq 1 ]; then
  echo "installed: the base system is ready in $base"
  exit 0
fi
cp -a "$base" "$root"
rm -f "$root/.done"
mount -t proc proc "$root/proc"
# No services start inside the chroot (there is no init in it).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf"

# ---- 2. install the packages with apt-get: dependencies from the registry ------------
mkdir -p "$root/tmp/debs"
pkgs=()
for p in uptake-server uptake-agent uptake libuptake0 libuptake-dev; do
  f=$(ls "$debs/${p}_"*.deb | head -1)
  cp "$f" "$root/tmp/debs/"
  pkgs+=("/tmp/debs/$(basename "$f")")
done
export DEBIAN_FRONTEND=noninteractive
inroot apt-get update -qq >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; die "apt-get update failed"; }
if inroot apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >>"$work/apt.log" 2>&1; then
  ok
else
  tail -30 "$work/apt.log"
  die "apt-get install of the packages failed (log: $work/apt.log)"
fi
for p in uptake-server uptake-agent uptake libuptake0 libuptake-dev; do
  st=$(inroot dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)
  [ "$st" = "ii " ] && ok || bad "$p is '$st' after install, not 'ii'"
done
# What each package owns, to check the purge later.
inroot dpkg -L uptake-server uptake-agent uptake libuptake0 libuptake-dev >"$work/files.txt"

inroot getent passwd uptake-server >/dev/null && ok || bad "no uptake-server user after install"
tok=$root/etc/uptake/server-admin-token
# (names resolved inside the chroot: its users are not the host's)
[ "$(inroot stat -c '%a %U %G' /etc/uptake/server-admin-token 2>/dev/null)" = "640 root uptake-server" ] &&
  ok || bad "admin token: $(inroot stat -c '%a %U %G' /etc/uptake/server-admin-token 2>&1)"
[ "$(wc -c <"$tok")" -ge 40 ] && ok || bad "admin token is too short"
for f in /usr/bin/uptake-server /usr/bin/uptake-agent /usr/bin/uptake-secondary /usr/bin/uptake /usr/bin/uptake-tuf-client \
  /etc/uptake/server.conf /etc/uptake/agent.conf /lib/systemd/system/uptake-server.service \
  /lib/systemd/system/uptake-agent.service /usr/lib/sysusers.d/uptake-server.conf \
  /usr/share/man/man8/uptake-server.8.gz /usr/share/man/man1/uptake-publish.1.gz; do
  [ -e "$root$f" ] && ok || bad "$f is not installed"
done
inroot uptake-agent --help >/dev/null 2>&1; [ $? -eq 0 ] && ok || bad "uptake-agent --help fails"
inroot uptake-secondary --help >/dev/null 2>&1; [ $? -eq 0 ] && ok || bad "uptake-secondary --help fails"

# ---- 3. the server as its unit starts it ----------------------------------------------
unit=$root/lib/systemd/system/uptake-server.service
ukey() { sed -n "s/^$1=//p" "$unit" | tail -1; }
user=$(ukey User) group=$(ukey Group) umask_=$(ukey UMask)
state=/var/lib/$(ukey StateDirectory) runtime=/run/$(ukey RuntimeDirectory)
read -r -a exec_start <<<"$(ukey ExecStart)"
[ "$user" = uptake-server ] && [ "${exec_start[0]}" = /usr/bin/uptake-server ] && ok ||
  bad "unexpected unit: User=$user ExecStart=${exec_start[*]}"
# StateDirectory= and RuntimeDirectory=: made by systemd, owned by the user.
start_dirs() {
  install -d -m "$(ukey StateDirectoryMode)" "$root$state"
  install -d -m "$(ukey RuntimeDirectoryMode)" "$root$runtime"
  inroot chown "$user:$group" "$state" "$runtime"
}
# start LOG: runs ExecStart as User/Group with UMask, in the background
start_server() {
  rm -f "$root$runtime/ports"
  (umask "$umask_" && exec chroot --userspec="$user:$group" "$root" "${exec_start[@]}") \
    >"$1" 2>&1 &
  server_pid=$!
}
# run_once LOG: runs ExecStart to its exit; prints the exit code
run_once() {
  local rc=0
  (umask "$umask_" && exec timeout 60 chroot --userspec="$user:$group" "$root" \
    "${exec_start[@]}") >"$1" 2>&1 || rc=$?
  echo "$rc"
}
conf=$root/etc/uptake/server.conf
grep -q '^port = 8443$' "$conf" && ok || bad "server.conf: no 'port = 8443' default"

# Bad input first. A configuration that is missing:
start_dirs
mv "$conf" "$conf.away"
rc=$(run_once "$work/noconf.log")
[ "$rc" -ne 0 ] && grep -q 'server.conf' "$work/noconf.log" && ok ||
  bad "missing configuration: exit $rc, log: $(cat "$work/noconf.log")"
mv "$conf.away" "$conf"
# A port that is taken:
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$work/busy.port" &
busy_pid=$!
for _ in $(seq 50); do [ -s "$work/busy.port" ] && break; sleep 0.1; done
busy=$(cat "$work/busy.port")
sed -i "s/^port = .*/port = $busy/" "$conf"
rc=$(run_once "$work/busy.log")
kill "$busy_pid" 2>/dev/null; wait "$busy_pid" 2>/dev/null
[ "$rc" -eq 1 ] && grep -q "cannot listen on 127.0.0.1 (port $busy" "$work/busy.log" && ok ||
  bad "port taken: exit $rc, log: $(cat "$work/busy.log")"
# The state directory missing (nothing made it):
rm -rf "${root:?}$state"
rc=$(run_once "$work/nostate.log")
[ "$rc" -ne 0 ] && grep -q "$state" "$work/nostate.log" && ok ||
  bad "no state directory: exit $rc, log: $(cat "$work/nostate.log")"
[ ! -e "$root$state" ] && ok || bad "the server made $state without being given it"

# Now for real, on a free port (the operator's edit of the conffile).
sed -i "s/^port = .*/port = 0/" "$conf"
start_dirs
start_server "$work/server.log"
for _ in $(seq 150); do [ -s "$root$runtime/ports" ] && break; sleep 0.1; done
[ -s "$root$runtime/ports" ] || die "the installed server did not start: $(cat "$work/server.log")"
url=https://127.0.0.1:$(head -1 "$root$runtime/ports")
ok
# the dashboard the package installed, served from the default ui_dir
page=$(curl -s --cacert "$root$state/tls/ca.pem" "$url/ui/")
grep -q 'src="assets/app.js"' <<<"$page" && ok || bad "the dashboard is not served at /ui/: $page"
[ "$(curl -s --cacert "$root$state/tls/ca.pem" -o /dev/null -w '%{http_code}' "$url/ui/assets/app.js")" = 200 ] &&
  ok || bad "the dashboard's script is not served"
[ "$(inroot stat -c %U "$state/uptake.db")" = uptake-server ] && ok ||
  bad "the database is not the server user's"
[ "$(stat -c %a "$root$state/uptake.db")" = 640 ] && ok ||
  bad "the database is mode $(stat -c %a "$root$state/uptake.db"), not 640 (UMask=$umask_)"

# ---- 4. the demo's flow with the installed CLI and agent ------------------------------
d=/root/demo
mkdir -p "$root$d/device/health.d"
cp "$root$state/tls/ca.pem" "$root$d/server-ca.pem"
step() { echo "installed: $*"; }
q() { inroot "$@" >>"$work/demo.log" 2>&1 || { tail -20 "$work/demo.log"; die "failed: $*"; }; }
step "uptake init, device add"
q uptake init --server "$url" --token-file /etc/uptake/server-admin-token \
  --ca-file "$d/server-ca.pem" --root-keys 3 --root-threshold 2 --dir "$d/fleet"
q uptake device add dev-0001 --dir "$d/fleet" --out "$d/device/dev-0001"
cat >"$root$d/device/health.d/10-image-boots" <<'EOF'
#!/bin/sh
! grep -q BROKEN "$UPTAKE_SLOT_PATH"
EOF
chmod +x "$root$d/device/health.d/10-image-boots"
cat >"$root$d/device/agent.conf" <<EOF
server = $url
ca = $d/device/dev-0001-ca.crt
cert = $d/device/dev-0001.crt
key = $d/device/dev-0001.key
state_dir = $d/device/state
director_root = $d/fleet/metadata/director-root.json
image_root = $d/fleet/metadata/root.json
primary_serial = dev-0001-main
hardware_id = demo-board
install = ab
slot_a = $d/device/slot-a.img
slot_b = $d/device/slot-b.img
bootloader = sim
boot_limit = 3
health_dir = $d/device/health.d
EOF
run_device() {
  local rc
  for _ in 1 2 3 4 5 6; do
    rc=0
    inroot uptake-agent --config "$d/device/agent.conf" once >>"$work/agent.log" 2>&1 || rc=$?
    [ "$rc" -eq 3 ] || return "$rc"
    inroot uptake-agent --config "$d/device/agent.conf" boot >>"$work/agent.log" 2>&1
  done
  return 9
}
running() {
  inroot uptake device show dev-0001 --dir "$d/fleet" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
i = d["ecus"][0].get("installed")
print(i["name"] if i else "-")'
}
run_device && ok || bad "the first agent cycle failed: $(tail -5 "$work/agent.log")"
for v in 1 2 3; do
  step "publish and assign v$v"
  { if [ "$v" = 3 ]; then echo "firmware v3 BROKEN"; else echo "firmware v$v"; fi
    head -c 100000 /dev/urandom; } >"$root$d/fw-$v.bin"
  q uptake publish "$d/fw-$v.bin" --dir "$d/fleet" --name fw --version "$v.0" \
    --hardware-id demo-board --release-counter "$v"
  q uptake assign "fw-$v.0" --dir "$d/fleet" --hardware-id demo-board --device dev-0001
  run_device || bad "agent cycle for v$v failed: $(tail -5 "$work/agent.log")"
  want=fw-$v.0
  [ "$v" = 3 ] && want=fw-2.0
  got=$(running)
  [ "$got" = "$want" ] && ok || bad "after v$v the server shows '$got' running, not $want"
done
{ cmp -s "$root$d/device/slot-a.img" "$root$d/fw-2.bin" ||
  cmp -s "$root$d/device/slot-b.img" "$root$d/fw-2.bin"; } && ok || bad "neither slot holds v2's bytes"

# SIGTERM stops it cleanly (exit 0), as systemctl stop does.
kill -TERM "$server_pid"
rc=0
wait "$server_pid" || rc=$?
server_pid=
[ "$rc" -eq 0 ] && ok || bad "the server exited $rc on SIGTERM"

# ---- 5. libuptake-dev: pkg-config and find_package(uptake) ---------------------------
cat >"$work/consumer.c" <<'EOF'
#include <uptake/common.h>
#include <stdio.h>
int main(void)
{
	printf("%s\n", upt_err_name(UPT_ERR_THRESHOLD));
	return 0;
}
EOF
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
pc=$(PKG_CONFIG_SYSROOT_DIR="$root" PKG_CONFIG_LIBDIR="$root/usr/lib/$multiarch/pkgconfig" \
  pkg-config --cflags --libs uptake) || bad "pkg-config does not find uptake.pc"
# shellcheck disable=SC2086
if cc -o "$root/tmp/consumer-pc" "$work/consumer.c" $pc 2>"$work/cc.log"; then
  [ "$(inroot /tmp/consumer-pc)" = UPT_ERR_THRESHOLD ] && ok ||
    bad "a program linked through pkg-config does not run against libuptake.so.0"
  readelf -d "$root/tmp/consumer-pc" | grep -q 'NEEDED.*libuptake.so.0' && ok ||
    bad "the pkg-config program does not need libuptake.so.0"
else
  bad "cc with 'pkg-config uptake' failed: $(cat "$work/cc.log")"
fi
mkdir -p "$work/cmake-consumer"
cp "$work/consumer.c" "$work/cmake-consumer/"
cat >"$work/cmake-consumer/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.25)
project(consumer C)
find_package(uptake 0.1 REQUIRED)
add_executable(consumer consumer.c)
target_link_libraries(consumer PRIVATE uptake::uptake)
add_executable(consumer_static consumer.c)
target_link_libraries(consumer_static PRIVATE uptake::uptake_static)
EOF
if cmake -S "$work/cmake-consumer" -B "$work/cmake-consumer/build" \
  -DCMAKE_PREFIX_PATH="$root/usr" >"$work/cmake.log" 2>&1 &&
  cmake --build "$work/cmake-consumer/build" >>"$work/cmake.log" 2>&1; then
  cp "$work/cmake-consumer/build/consumer" "$work/cmake-consumer/build/consumer_static" "$root/tmp/"
  [ "$(inroot /tmp/consumer)" = UPT_ERR_THRESHOLD ] && ok || bad "find_package(uptake): uptake::uptake"
  [ "$(inroot /tmp/consumer_static)" = UPT_ERR_THRESHOLD ] && ok ||
    bad "find_package(uptake): uptake::uptake_static"
  readelf -d "$root/tmp/consumer_static" | grep -q 'libuptake' &&
    bad "uptake::uptake_static links libuptake.so" || ok
else
  bad "find_package(uptake) failed: $(tail -20 "$work/cmake.log")"
fi
rm -f "$root"/tmp/consumer*

# ---- 6. purge: nothing of the packages is left -----------------------------------------
if inroot apt-get purge -y -qq uptake-server uptake-agent uptake libuptake0 libuptake-dev \
  >>"$work/apt.log" 2>&1; then ok; else tail -20 "$work/apt.log"; bad "apt-get purge failed"; fi
for p in uptake-server uptake-agent uptake libuptake0 libuptake-dev; do
  inroot dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^i' &&
    bad "$p is still installed after purge" || ok
done
left=0
while read -r f; do
  [ -d "$root$f" ] && continue # shared directories (/usr/bin, ...) stay
  if [ -e "$root$f" ] || [ -L "$root$f" ]; then echo "left after purge: $f"; left=1; fi
done <"$work/files.txt"
[ "$left" -eq 0 ] && ok || bad "files of the packages are left after purge"
for f in /etc/uptake /var/lib/uptake-server; do
  [ ! -e "$root$f" ] && ok || bad "$f is left after purge: $(ls -la "$root$f")"
done

echo "installed: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
