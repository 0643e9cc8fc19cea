#!/usr/bin/env bash
# The man pages (docs/man/*.scd) and the default configuration files
# (dist/*.conf) keep up with the programs: every CLI command has its page,
# every option a program's --help names is in its page (uptake-secondary's too), every server key in
# `uptake-server --help` and every agent key in docs/agent.md's table is in
# the man page and in the default configuration file.
#   check_man.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1 src=$2
man=$src/docs/man
fail=0
bad() { echo "man: $*"; fail=1; }
# in PAGE's text (without scdoc's escapes): has PAGE [-w] STRING
# (not a pipe into grep -q: with pipefail its early exit reads as a miss)
has() {
  local text
  text=$(sed 's/\\//g' "$man/$1.scd")
  shift
  grep -qF "$@" <<<"$text"
}
options() { grep -oE -- '--[a-z][a-z-]+' | sort -u; }

commands=$("$build/uptake" --help 2>&1 | sed -n '/^commands:/,/^$/p' | awk 'NF>1 {print $1}' | grep -v commands:)
[ -n "$commands" ] || bad "no commands in 'uptake --help'"
for c in $commands; do
  [ -f "$man/uptake-$c.1.scd" ] || { bad "no page docs/man/uptake-$c.1.scd for 'uptake $c'"; continue; }
  has uptake.1 "*$c*" || bad "uptake.1 does not list '$c'"
  help=$("$build/uptake" "$c" --help 2>&1)
  [ "$c" = key ] && help+=$("$build/uptake" key rotate --help 2>&1)
  for o in $(options <<<"$help"); do
    has "uptake-$c.1" -- "$o" || bad "uptake-$c.1 lacks $o (from 'uptake $c --help')"
  done
done
for o in $(options < <("$build/uptake-tuf-client" --help 2>&1)); do
  has uptake-tuf-client.1 -- "$o" || bad "uptake-tuf-client.1 lacks $o"
done
for o in $(options < <("$build/uptake-agent" --help 2>&1; "$build/uptake-agent" check --help 2>&1)); do
  has uptake-agent.8 -- "$o" || bad "uptake-agent.8 lacks $o"
done
if [ -x "$build/uptake-secondary" ]; then
  for o in $(options < <("$build/uptake-secondary" --help 2>&1)); do
    has uptake-secondary.8 -- "$o" || bad "uptake-secondary.8 lacks $o"
  done
fi
for o in $(options < <("$build/uptake-server" --help 2>&1 | sed -n '1,/^$/p')); do
  has uptake-server.8 -- "$o" || bad "uptake-server.8 lacks $o"
done

server_keys=$("$build/uptake-server" --help 2>&1 | sed -n 's/^  \([a-z_][a-z_]*\)  .*/\1/p')
[ "$(wc -w <<<"$server_keys")" -ge 10 ] || bad "too few keys in 'uptake-server --help': $server_keys"
for k in $server_keys; do
  has uptake-server.8 -w "$k" || bad "uptake-server.8 lacks the key $k"
  grep -qE "^#?$k( |$)" "$src/dist/uptake-server.conf" || bad "dist/uptake-server.conf lacks the key $k"
done
agent_keys=$(sed -n '/^## Configuration/,/^## /p' "$src/docs/agent.md" | grep '^| `' |
  cut -d'|' -f2 | grep -oE '`[a-z_]+`' | tr -d '`' | sort -u)
[ "$(wc -w <<<"$agent_keys")" -ge 10 ] || bad "too few keys in docs/agent.md's table: $agent_keys"
for k in $agent_keys; do
  has uptake-agent.8 -w "$k" || bad "uptake-agent.8 lacks the key $k"
  grep -qE "^#?$k( |$)" "$src/dist/uptake-agent.conf" || bad "dist/uptake-agent.conf lacks the key $k"
done
[ "$fail" -eq 0 ] || { echo "man: FAILED"; exit 1; }
echo "man: $(wc -w <<<"$commands") commands, $(wc -w <<<"$server_keys") server keys, $(wc -w <<<"$agent_keys") agent keys: all in the pages and configuration files"
