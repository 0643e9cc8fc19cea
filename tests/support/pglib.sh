# uptake tests: a throwaway PostgreSQL server on loopback. Source it; it
# needs $work. start_postgres sets $pg_uri_base (append a database name);
# stop_postgres stops it and removes its files. PostgreSQL refuses to run
# as root, so as root it runs as the postgres user.
pg_dir=
pg_port=
pg_as() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

start_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -x "$bin/initdb" ] || { echo "PostgreSQL is not installed (scripts/install-deps)"; return 1; }
  pg_bin=$bin
  pg_dir=$(mktemp -d /tmp/uptake-pg-XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres "$pg_dir"
  chmod 700 "$pg_dir"
  pg_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  pg_as "$bin/initdb" -D "$pg_dir/data" -A trust -U uptake >"$pg_dir/initdb.log" 2>&1 ||
    { cat "$pg_dir/initdb.log"; return 1; }
  pg_as "$bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
    -o "-h 127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off" start >/dev/null ||
    { cat "$pg_dir/server.log"; return 1; }
  pg_uri_base=postgresql://uptake@127.0.0.1:$pg_port
}

# create_database NAME
create_database() {
  pg_as "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U uptake "$1"
}

stop_postgres() {
  [ -n "$pg_dir" ] || return 0
  pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1
  rm -rf "$pg_dir"
  pg_dir=
}

# pause_postgres / resume_postgres: stop the server (its data kept) and
# start it again on the same port, as a database outage and its end.
pause_postgres() {
  pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null
}

resume_postgres() {
  pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
    -o "-h 127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off" start >/dev/null ||
    { cat "$pg_dir/server.log"; return 1; }
}
