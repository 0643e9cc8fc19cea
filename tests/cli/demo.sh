#!/usr/bin/env bash
# The demo (scripts/demo) on this build: every step's own checks hold (the
# demo exits non-zero naming the first that does not), and it ends with its
# summary.
set -u
build=$(cd "${1:?usage: demo.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT
cd "$top"
. "$here/../support/testlib.sh"
rc=0
TMPDIR=$top UPTAKE_DEMO_BUILD=$build "$here/../../scripts/demo" >demo.log 2>&1 || rc=$?
if [ "$rc" = 0 ]; then ok; else
  bad "scripts/demo exited $rc"
  tail -15 demo.log
fi
grep -q "nothing left running" demo.log && ok || bad "the demo's summary is missing"
grep -q "cleared by the fix once the device's signed report arrived" demo.log && ok ||
  bad "the vulnerability step did not finish"
finish
