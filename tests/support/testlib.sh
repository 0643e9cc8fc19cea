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

# on_both_backends DB: run the test's `scenario` function on SQLite, then on
# a throwaway PostgreSQL (pglib.sh) in database DB, or on the one that
# $only names; the test's exit code. The test sets $top (its work directory).
on_both_backends() {
  local rc=0
  if [ -z "${only:-}" ] || [ "$only" = sqlite ]; then
    unset UPTAKE_TEST_DATABASE
    echo "--- SQLite"
    scenario || rc=1
  fi
  if [ -z "${only:-}" ] || [ "$only" = postgresql ]; then
    echo "--- PostgreSQL"
    cd / # the postgres user may not enter the test's directory
    start_postgres || exit 1
    create_database "$1" || exit 1
    cd "$top"
    export UPTAKE_TEST_DATABASE=$pg_uri_base/$1
    scenario || rc=1
  fi
  finish && [ "$rc" = 0 ]
}
