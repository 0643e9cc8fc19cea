#!/usr/bin/env bash
# The fleet reports streamed, on both store backends: a generated fleet
# (devices and ECUs written by SQL, as a factory import would) whose
# support, patch-status and opt-out reports are many times larger than what
# the server may hold for them; each report arrives whole (one valid JSON
# document, or CSV with one line per row, the same rows as the JSON) while
# the server's peak resident memory stays within a bound far below the
# report's size. On PostgreSQL, the database stopped in the middle of a
# report: the client sees a transfer cut off (the CLI exits non-zero, what
# it wrote is not a complete document), never a complete-looking answer;
# the server answers again once the database is back.
#   bash tests/cli/reports_stream.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
base=$(mktemp -d)
. "$here/../support/serverlib.sh"
. "$here/../support/pglib.sh"
reader_pid=
trap '[ -n "$reader_pid" ] && kill $reader_pid 2>/dev/null; stop_server; cd /; stop_postgres; rm -rf "$base"' EXIT
cd "$base"
. "$here/../support/testlib.sh"
uptake=$build/uptake
devices=${UPT_STREAM_DEVICES:-100000}
bound_kib=$((9 * 1024)) # the server's growth allowed, far below each report
# a fixed number of HTTP threads: each thread that serves its first request
# grows the resident set by its own stack pages and allocator caches (more
# under AddressSanitizer), a cost per thread, not per report, that would
# otherwise scale this measure with the machine's cores
server_extra_conf='threads = 4'

py() { /usr/bin/python3 -c "$@"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status"; }

# sql BACKEND STATEMENT: run on the scenario's database
sql() {
  if [ "$1" = sqlite ]; then
    /usr/bin/python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30); c.executescript(sys.argv[2]); c.commit()' "$work/db" "$2"
  else
    pg_as "$pg_bin/psql" -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U uptake -d "$db" -c "$2" >/dev/null
  fi
}

scenario() { # BACKEND
  local be=$1 W s0 s1
  work=$base/$be
  mkdir -p "$work"
  cd "$work"
  # under AddressSanitizer, freed memory waits in a quarantine (256 MiB by
  # default) before it is used again: a small one keeps the measure about
  # what the server holds
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1" start_server ||
    { bad "$be: server did not start"; return; }
  printf '%s\n' "$token" >token
  q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws
  W=(--dir ws)
  q "$uptake" product add gateway "${W[@]}" --hardware-id board-a --support-years 5 \
    --contact security@example.com
  { echo fw-2; head -c 4096 /dev/urandom; } >fw2.bin
  q "$uptake" publish fw2.bin "${W[@]}" --name fw --version 2 --hardware-id board-a --release-counter 2 --security
  # the fleet: every device of the product, a third with automatic updates
  # off, each with a board-a primary on an older (unpublished) image and a
  # board-b ECU
  sql "$be" "INSERT INTO devices (id, created, last_manifest, product, manufactured,
      placed_on_market, auto_update, auto_update_since)
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $devices)
    SELECT 'unit-' || i, 1700000000, 1700000000 + i, 'gateway', '2024-01-01', '2024-02-01',
      CASE WHEN i % 3 = 0 THEN 0 ELSE 1 END, CASE WHEN i % 3 = 0 THEN 1700000000 ELSE 0 END
    FROM n;
  INSERT INTO ecus (device, serial, hardware_id, keyid, public_key, is_primary, installed,
      installed_length, installed_sha256, report_counter, reported_at)
    SELECT id, id || '-main', 'board-a', 'k', '{}', 1, 'fw-1',
      1024, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 1, 1700000000
    FROM devices;
  INSERT INTO ecus (device, serial, hardware_id, keyid, public_key, is_primary, installed,
      installed_length, installed_sha256, report_counter, reported_at)
    SELECT id, id || '-io', 'board-b', 'k', '{}', 0, 'io-1',
      1024, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 1, 1700000000
    FROM devices;" || { bad "$be: the fleet was not generated"; stop_server; return; }

  # a small report first: what the server holds after it is its baseline
  q "$uptake" report inventory "${W[@]}" --json
  s0=$(hwm_kib)
  "$uptake" report support "${W[@]}" --json >support.json 2>err.txt &&
    py 'import json, sys
d = json.load(open("support.json"))
assert len(d["devices"]) == int(sys.argv[1]), len(d["devices"])
assert d["products"][0]["devices"] == int(sys.argv[1]), d["products"]
assert d["products"][0]["last_obligation_ends"] == "2029-02-01", d["products"]' "$devices" &&
    ok || { bad "$be: the support report is not whole"; tail -3 err.txt; }
  "$uptake" report support "${W[@]}" --csv >support.csv 2>err.txt &&
    [ "$(wc -l <support.csv)" -eq $((devices + 1)) ] &&
    grep -qx 'unit-7,gateway,2024-01-01,2024-02-01,2029-02-01,[a-z-]*,[0-9]*,1700000007,true' support.csv &&
    ok || { bad "$be: the support CSV is not whole: $(wc -l <support.csv) lines"; tail -3 err.txt; }
  "$uptake" report patch-status "${W[@]}" --days 0 --json >patch.json 2>err.txt &&
    py 'import json, sys
d = json.load(open("patch.json"))
r = d["releases"]
assert len(r) == 1 and r[0]["target"] == "fw-2" and r[0]["ecus"] == int(sys.argv[1]), r[0]["ecus"]
assert len(r[0]["lacking"]) == int(sys.argv[1]) and r[0]["patched"] == 0
assert {x["hardware_id"] for x in r[0]["lacking"]} == {"board-a"}' "$devices" &&
    ok || { bad "$be: the patch-status report is not whole"; tail -3 err.txt; }
  "$uptake" report patch-status "${W[@]}" --days 0 --csv >patch.csv 2>err.txt &&
    [ "$(grep -c '^fw-2,' patch.csv)" -eq "$devices" ] && ok ||
    { bad "$be: the patch-status CSV is not whole"; tail -3 err.txt; }
  "$uptake" report opt-out "${W[@]}" --json >optout.json 2>err.txt &&
    py 'import json, sys
d = json.load(open("optout.json"))
n = int(sys.argv[1])
assert d["opted_out"] == n // 3 == len(d["devices"]) and d["devices_total"] == n, (d["opted_out"], d["devices_total"])' "$devices" &&
    ok || { bad "$be: the opt-out report is not whole"; tail -3 err.txt; }
  "$uptake" report opt-out "${W[@]}" --csv >optout.csv 2>err.txt &&
    [ "$(wc -l <optout.csv)" -eq $((devices / 3 + 1)) ] && ok ||
    { bad "$be: the opt-out CSV is not whole"; tail -3 err.txt; }
  "$uptake" report inventory "${W[@]}" --json >inv.json 2>err.txt &&
    py 'import json, sys
d = json.load(open("inv.json"))
n = int(sys.argv[1])
got = {(i["sha256"][0], i["hardware_id"]): (i["ecus"], i["devices"], i["published"]) for i in d["images"]}
assert got == {("a", "board-a"): (n, n, False), ("b", "board-b"): (n, n, False)}, got
assert d["ecus"] == 2 * n and d["unpublished_images"] == 2' "$devices" &&
    ok || { bad "$be: the inventory is wrong"; tail -3 err.txt; }
  # each report is many times the server's growth
  s1=$(hwm_kib)
  for f in support.json patch.json patch.csv; do
    [ "$(stat -c %s $f)" -gt $((2 * bound_kib * 1024)) ] && ok ||
      bad "$be: $f ($(stat -c %s $f) bytes) is not larger than 2 x the bound: use more devices"
  done
  [ $((s1 - s0)) -lt "$bound_kib" ] && ok ||
    bad "$be: the server's peak memory grew by $((s1 - s0)) KiB during the reports (bound $bound_kib KiB)"
  echo "$be: peak memory $s0 -> $s1 KiB; support.json $(stat -c %s support.json) bytes"

  if [ "$be" = postgresql ]; then
    # --- the database stops in the middle of a report: a reader that
    # takes the first bytes, then waits (the rest queues up in the pipe, the
    # sockets and the server: the report is not done)
    rm -f started go
    { "$uptake" report patch-status "${W[@]}" --days 0 --json 2>cut.err; echo $? >cut.rc; } |
      /usr/bin/python3 -c 'import os, sys, time
head = sys.stdin.buffer.read(4096)
open("started", "wb").write(head)
while not os.path.exists("go"):
    time.sleep(0.1)
open("cut.json", "wb").write(head + sys.stdin.buffer.read())' &
    reader_pid=$!
    for _ in $(seq 600); do [ -s started ] && break; sleep 0.1; done
    [ -s started ] && ok || bad "the report did not start"
    pause_postgres
    touch go
    wait "$reader_pid"
    reader_pid=
    [ "$(cat cut.rc)" != 0 ] && ok || bad "a report cut off by the database exited 0"
    grep -q "report" cut.err && ok || bad "no error for the cut report: $(cat cut.err)"
    head -c 40 cut.json | grep -q '^{"at":' && ok || bad "the report had not started: $(head -c 80 cut.json)"
    py 'import json; json.load(open("cut.json"))' 2>/dev/null && bad "the cut report is a complete document" || ok
    grep -q "answer cut off" "$work/server.log" && ok || bad "the server did not log the cut answer"
    resume_postgres
    local back=0
    for _ in $(seq 300); do
      "$uptake" report opt-out "${W[@]}" --json >again.json 2>/dev/null &&
        py 'import json; json.load(open("again.json"))' 2>/dev/null && { back=1; break; }
      sleep 0.2
    done
    [ "$back" = 1 ] && ok || bad "the server did not answer reports again after the database came back"
  fi
  stop_server
  cd "$base"
}

scenario sqlite
if start_postgres; then
  db=stream
  create_database "$db" || bad "createdb"
  UPTAKE_TEST_DATABASE=$pg_uri_base/$db scenario postgresql
else
  bad "PostgreSQL is not installed: the PostgreSQL half did not run"
fi
finish
