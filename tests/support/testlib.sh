# uptake tests: the checks every shell test uses. Source it after cd'ing
# into the test's work directory.
#   ok / bad MESSAGE       count a passed / failed check
#   expect RC COMMAND...   run COMMAND (stdout in out.txt, stderr in err.txt)
#                          and check its exit code
#   q COMMAND...           a setup step that must succeed (else the test ends)
#   finish                 print the counts; the test's exit code
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
expect() {
  local want=$1 rc=0
  shift
  "$@" >out.txt 2>err.txt || rc=$?
  if [ "$rc" -eq "$want" ]; then ok; else
    bad "exit $rc, expected $want: $*"
    sed 's/^/  | /' out.txt err.txt | tail -6
  fi
}
q() { "$@" >/dev/null 2>err.txt || { echo "setup failed: $*"; cat err.txt; exit 1; }; }
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
