#!/usr/bin/env bash
# Users, roles, API tokens, dashboard sessions and the audit log, on
# loopback: each role can do what it may and the server refuses the rest
# (403, not only hidden by a page); passwords are checked without telling
# a wrong name from a wrong password, failed logins are rate-limited;
# sessions are HttpOnly, Secure, SameSite=Strict cookies that the server
# chooses (a cookie the client names is never adopted), every
# state-changing request through one repeats its CSRF token; logout and
# removing a user end their sessions and tokens; every state-changing or
# refused admin request and every login lands in the append-only audit log.
#   bash tests/cli/users.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
trap 'stop_server; rm -rf "$work"' EXIT
cd "$work"
uptake=$build/uptake
. "$here/../support/testlib.sh"
W=(--dir ws)

start_server || exit 1
printf '%s\n' "$token" >token
q "$uptake" init --server "$url" --token-file token --ca-file "$ca" --dir ws

# status METHOD PATH [CURL-ARGS...]: the HTTP status of one admin request
status() {
  local m=$1 p=$2
  shift 2
  curl -s -o resp.json -w '%{http_code}' --cacert "$ca" -X "$m" "$@" "$url/api/v1/$p"
}
# as TOKEN METHOD PATH [BODY]
as() {
  local t=$1 m=$2 p=$3
  if [ $# -gt 3 ]; then
    status "$m" "$p" -H "Authorization: Bearer $t" -H 'Content-Type: application/json' --data-binary "$4"
  else status "$m" "$p" -H "Authorization: Bearer $t"; fi
}
field() { /usr/bin/python3 -c "import json,sys; print(json.load(open('resp.json'))$1)"; }

# --- users and their roles, from the CLI with the admin token
echo 'correct horse battery staple' | q "$uptake" user add vera --role viewer --password-stdin "${W[@]}"
echo 'operator password 123' | q "$uptake" user add otto --role operator --password-stdin "${W[@]}"
q "$uptake" user add rita --role release-manager "${W[@]}"
q "$uptake" user add adam --role admin "${W[@]}"
expect 0 "$uptake" user list "${W[@]}"
grep -q '^vera  *viewer  *yes' out.txt && grep -q '^rita  *release-manager  *no' out.txt && ok ||
  bad "user list: $(cat out.txt)"
expect 0 "$uptake" user list --json "${W[@]}"
grep -q pw_hash out.txt && bad "the list shows password hashes" || ok
grep -q argon2 out.txt && bad "the list shows password hashes" || ok
# bad input: role, name, short password, duplicate, unknown user
expect 3 "$uptake" user add eve --role root "${W[@]}"
grep -q "role: viewer, operator" err.txt && ok || bad "unknown role: $(cat err.txt)"
expect 3 "$uptake" user add "Eve/1" --role viewer "${W[@]}"
echo short | expect 3 "$uptake" user add eve --role viewer --password-stdin "${W[@]}"
grep -q "password: 12 to 256 bytes" err.txt && ok || bad "short password: $(cat err.txt)"
expect 3 "$uptake" user add vera --role admin "${W[@]}"
grep -q "exists already" err.txt && ok || bad "duplicate user: $(cat err.txt)"
expect 3 "$uptake" user token nobody "${W[@]}"
expect 2 "$uptake" user add eve "${W[@]}"
expect 0 "$uptake" user list "${W[@]}"
grep -q '^eve' out.txt && bad "a refused user was stored" || ok
[ "$(as "$token" POST users '{"name":"x1","role":"viewer","extra":1}')" = 400 ] && ok ||
  bad "unknown member accepted: $(cat resp.json)"

# --- API tokens: each role's reach, refused by the server
tok() { "$uptake" user token "$1" "${W[@]}" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'; }
tv=$(tok vera) to=$(tok otto) tr=$(tok rita) ta=$(tok adam)
[[ $tv == upt_* ]] && [ ${#tv} = 68 ] && ok || bad "token shape: $tv"
[ "$(as "$tv" GET devices)" = 200 ] && ok || bad "viewer cannot read devices: $(cat resp.json)"
[ "$(as "$tv" GET alerts)" = 200 ] && ok || bad "viewer cannot read alerts"
[ "$(as "$tv" POST devices '{"id":"dev-v"}')" = 403 ] && ok || bad "viewer added a device: $(cat resp.json)"
grep -q "role viewer may not do this (it needs operate)" resp.json && ok || bad "403 message: $(cat resp.json)"
[ "$(as "$tv" GET users)" = 403 ] && ok || bad "viewer listed users"
[ "$(as "$to" POST devices '{"id":"dev-o"}')" = 200 ] && ok || bad "operator cannot add a device: $(cat resp.json)"
[ "$(as "$to" PUT repo/metadata/targets '{}')" = 403 ] && ok || bad "operator uploaded metadata"
[ "$(as "$to" POST repo/online-keys/rotate)" = 403 ] && ok || bad "operator rotated keys"
[ "$(as "$to" POST users '{"name":"o2","role":"admin"}')" = 403 ] && ok || bad "operator made an admin"
# a release manager reaches the upload (its body is then judged: 400), not devices
code=$(as "$tr" PUT repo/metadata/targets '{}')
[ "$code" != 403 ] && [ "$code" != 401 ] && ok || bad "release manager refused an upload: $code"
[ "$(as "$tr" POST devices '{"id":"dev-r"}')" = 403 ] && ok || bad "release manager added a device"
[ "$(as "$ta" GET users)" = 200 ] && ok || bad "admin cannot list users"
[ "$(as "upt_$(printf '%064d' 0)" GET devices)" = 401 ] && ok || bad "an unknown token passed"
[ "$(as "not-a-token" GET devices)" = 401 ] && ok || bad "a malformed token passed"
# the CLI works with a user's token in its workspace
printf '%s\n' "$tv" >ws/viewer.token
cp -r ws wsv && sed -i "s|\"token_file\":\"[^\"]*\"|\"token_file\":\"$work/ws/viewer.token\"|" wsv/uptake-workspace.json
expect 0 "$uptake" alerts list --dir wsv
expect 3 "$uptake" user list --dir wsv
grep -q "HTTP 403" err.txt && ok || bad "viewer's CLI: $(cat err.txt)"
# a role change takes effect on the next request
q "$uptake" user set vera --role operator "${W[@]}"
[ "$(as "$tv" POST devices '{"id":"dev-v2"}')" = 200 ] && ok || bad "role change not seen: $(cat resp.json)"
q "$uptake" user set vera --role viewer "${W[@]}"
[ "$(as "$tv" POST devices '{"id":"dev-v3"}')" = 403 ] && ok || bad "role change back not seen"

# --- dashboard sessions
login() { # USER PASSWORD [CURL-ARGS...]
  local u=$1 p=$2
  shift 2
  curl -s -D headers.txt -o resp.json -w '%{http_code}' --cacert "$ca" -X POST "$@" \
    -H 'Content-Type: application/json' --data-binary "{\"user\":\"$u\",\"password\":\"$p\"}" \
    "$url/api/v1/session"
}
[ "$(login otto 'wrong password 1')" = 401 ] && ok || bad "wrong password: $(cat resp.json)"
cp resp.json wrong_pw.json
[ "$(login nobody 'wrong password 1')" = 401 ] && ok || bad "unknown user"
/usr/bin/python3 -c "import json; a=json.load(open('wrong_pw.json')); b=json.load(open('resp.json')); exit(a!=b)" && ok ||
  bad "a wrong name and a wrong password answer differently"
[ "$(login rita 'any password 123')" = 401 ] && ok || bad "a user without a password logged in"
[ "$(login otto 'operator password 123' -b "uptake_session=$(printf '%064d' 7)")" = 200 ] && ok ||
  bad "login: $(cat resp.json)"
cookie=$(sed -n 's/^[Ss]et-[Cc]ookie: uptake_session=\([0-9a-f]*\);.*/\1/p' headers.txt | tr -d '\r')
grep -i '^set-cookie:' headers.txt | grep -q 'HttpOnly; Secure; SameSite=Strict' && ok ||
  bad "cookie flags: $(grep -i set-cookie headers.txt)"
[ ${#cookie} = 64 ] && [ "$cookie" != "$(printf '%064d' 7)" ] && ok || bad "session fixation: cookie $cookie"
csrf=$(field '["csrf"]')
[ "$(field '["role"]')" = operator ] && ok || bad "login answer: $(cat resp.json)"
S=(-b "uptake_session=$cookie")
[ "$(status GET session "${S[@]}")" = 200 ] && [ "$(field '["csrf"]')" = "$csrf" ] && ok ||
  bad "session show: $(cat resp.json)"
[ "$(status GET devices "${S[@]}")" = 200 ] && ok || bad "session cannot read"
J=(-H 'Content-Type: application/json' --data-binary '{"id":"dev-s1"}')
[ "$(status POST devices "${S[@]}" "${J[@]}")" = 403 ] && ok || bad "no CSRF token accepted"
grep -q "CSRF token missing or wrong" resp.json && ok || bad "CSRF message: $(cat resp.json)"
# the right token with its last digit changed
wrong=${csrf%?}$([ "${csrf: -1}" = 0 ] && echo 1 || echo 0)
[ "$(status POST devices "${S[@]}" -H "X-CSRF-Token: $wrong" "${J[@]}")" = 403 ] && ok || bad "a wrong CSRF token accepted"
[ "$(status POST devices "${S[@]}" -H "X-CSRF-Token: $csrf" "${J[@]}")" = 200 ] && ok ||
  bad "session with CSRF refused: $(cat resp.json)"
[ "$(status GET devices -b "uptake_session=$(printf '%064d' 7)")" = 401 ] && ok || bad "a made-up session passed"
# a viewer's session is refused by role, with a right CSRF token
[ "$(login vera 'correct horse battery staple')" = 200 ] && ok || bad "viewer login"
vcookie=$(sed -n 's/^[Ss]et-[Cc]ookie: uptake_session=\([0-9a-f]*\);.*/\1/p' headers.txt | tr -d '\r')
vcsrf=$(field '["csrf"]')
[ "$(status POST devices -b "uptake_session=$vcookie" -H "X-CSRF-Token: $vcsrf" "${J[@]}")" = 403 ] && ok ||
  bad "viewer session added a device"
# login only over TLS: the plain repository listener does not serve it
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data-binary '{"user":"otto","password":"operator password 123"}' "$repo_url/api/v1/session")
[ "$code" = 404 ] && ok || bad "login over plain HTTP: $code"
# logout ends the session
[ "$(status DELETE session "${S[@]}" -H "X-CSRF-Token: $csrf")" = 200 ] && ok || bad "logout: $(cat resp.json)"
[ "$(status GET devices "${S[@]}")" = 401 ] && ok || bad "a logged-out session still works"
[ "$(as "$to" DELETE session)" = 400 ] && ok || bad "logout with a token: $(cat resp.json)"

# --- failed logins are rate-limited, per user name
for i in 1 2 3 4 5; do login adam "wrong password $i" >/dev/null; done
[ "$(login adam 'still wrong 123')" = 429 ] && ok || bad "no rate limit: $(cat resp.json)"
grep -qi '^retry-after: [0-9]' headers.txt && ok || bad "no Retry-After"

# --- passwd, removal
echo 'a new operator password' | q "$uptake" user passwd otto "${W[@]}"
[ "$(login otto 'operator password 123')" = 401 ] && ok || bad "the old password still works"
[ "$(login otto 'a new operator password')" = 200 ] && ok || bad "the new password fails"
ocookie=$(sed -n 's/^[Ss]et-[Cc]ookie: uptake_session=\([0-9a-f]*\);.*/\1/p' headers.txt | tr -d '\r')
expect 0 "$uptake" user remove otto "${W[@]}"
[ "$(as "$to" GET devices)" = 401 ] && ok || bad "a removed user's token works"
[ "$(status GET devices -b "uptake_session=$ocookie")" = 401 ] && ok || bad "a removed user's session works"
expect 3 "$uptake" user remove otto "${W[@]}"

# --- and per client address, whatever the name (30 failures)
for i in $(seq 30); do login "guess$i" 'wrong password 1' >/dev/null; done
[ "$(login vera 'correct horse battery staple')" = 429 ] && ok || bad "no per-address rate limit: $(cat resp.json)"

# --- the audit log
expect 0 "$uptake" audit --jsonl "${W[@]}"
cp out.txt audit.jsonl
check_audit() { /usr/bin/python3 -c "
import json
a=[json.loads(l) for l in open('audit.jsonl')]
print(any($1 for e in a))"; }
[ "$(check_audit 'e["actor"]=="vera" and e["status"]==403 and e["path"]=="/api/v1/devices" and e["method"]=="POST"')" = True ] && ok ||
  bad "the viewer's refused request is not in the audit log"
[ "$(check_audit 'e["actor"]=="otto" and e["role"]=="operator" and e["status"]==200 and e["method"]=="POST" and e["path"]=="/api/v1/devices"')" = True ] && ok ||
  bad "the operator's change is not in the audit log"
[ "$(check_audit 'e["actor"]=="nobody" and e["path"]=="/api/v1/session" and e["status"]==401')" = True ] && ok ||
  bad "a failed login is not in the audit log"
[ "$(check_audit 'e["actor"]=="adam" and e["status"]==429')" = True ] && ok || bad "a rate-limited login is not in the audit log"
[ "$(check_audit 'e["actor"]=="admin-token" and e["path"]=="/api/v1/users/otto" and e["method"]=="DELETE"')" = True ] && ok ||
  bad "the removal is not in the audit log"
[ "$(check_audit 'e["remote"]=="127.0.0.1"')" = True ] && ok || bad "no client address in the audit log"
[ "$(check_audit '"password" in json.dumps(e) and "staple" in json.dumps(e)')" = False ] && ok ||
  bad "a password reached the audit log"
[ "$(check_audit 'e["method"]=="GET" and e["status"]==200')" = False ] && ok || bad "reads are audited"
expect 0 "$uptake" audit "${W[@]}"
grep -q 'vera .* 403 .*POST /api/v1/devices' out.txt && ok || bad "audit table: $(head -5 out.txt)"
expect 2 "$uptake" audit --json --jsonl "${W[@]}"
# append-only: the database itself refuses to change or delete entries
if [ -n "${UPTAKE_TEST_PSQL:-}" ]; then
  $UPTAKE_TEST_PSQL "UPDATE audit_log SET actor='x'" >/dev/null 2>&1 && bad "audit UPDATE accepted" || ok
  $UPTAKE_TEST_PSQL "DELETE FROM audit_log" >/dev/null 2>&1 && bad "audit DELETE accepted" || ok
  n=$($UPTAKE_TEST_PSQL "SELECT count(*) FROM audit_log WHERE actor='x'")
else
  sqlite3 db "UPDATE audit_log SET actor='x'" >/dev/null 2>&1 && bad "audit UPDATE accepted" || ok
  sqlite3 db "DELETE FROM audit_log" >/dev/null 2>&1 && bad "audit DELETE accepted" || ok
  n=$(sqlite3 db "SELECT count(*) FROM audit_log WHERE actor='x'")
fi
[ "$n" = 0 ] && ok || bad "the audit log was changed"
# no secret is stored in the clear
if [ -z "${UPTAKE_TEST_PSQL:-}" ]; then
  sqlite3 db "SELECT digest FROM api_tokens" | grep -q "${tv#upt_}" && bad "a token stored in the clear" || ok
  sqlite3 db "SELECT pw_hash FROM users WHERE name='vera'" | grep -q '^\$argon2id\$' && ok || bad "password not Argon2id"
fi
finish
