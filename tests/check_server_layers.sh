#!/usr/bin/env bash
# uptake-server's files import each other in one direction only:
#   main.c -> http.c -> api.c, routes.c -> api_*.c -> devices.c, repo.c,
#   ca.c, config.c -> store_*.c -> log.c
# Only http.c knows libmicrohttpd; handlers and the layers below them never
# include the HTTP front end; nothing below the handlers includes api.h.
#   bash tests/check_server_layers.sh SRC_DIR
set -uo pipefail
cd "$1/src/server" || exit 2
fail=0
bad() { echo "FAIL: $*"; fail=1; }
for f in *.c *.h; do
  incs=$(grep -E '^#include' "$f")
  if grep -qE '<(microhttpd|gnutls/gnutls)\.h>' <<<"$incs" && [ "$f" != http.c ]; then
    bad "$f includes libmicrohttpd or GnuTLS (only http.c may)"
  fi
  case "$f" in
  main.c | http.c | http.h) ;;
  *) grep -q '"http.h"' <<<"$incs" && bad "$f includes http.h (only main.c may)" ;;
  esac
  case "$f" in
  main.c | http.c | http.h | api.c | api.h | routes.c | api_*.c) ;;
  *) grep -q '"api.h"' <<<"$incs" && bad "$f is below the handlers but includes api.h" ;;
  esac
  case "$f" in
  log.c | log.h)
    grep -E '^#include "' <<<"$incs" | grep -vq '"log.h"' && bad "$f includes more than log.h" ;;
  esac
  grep -q '"main' <<<"$incs" && bad "$f includes main"
done
# handlers call no libmicrohttpd function
for f in $(grep -l 'MHD_' api*.c routes.c); do bad "$f uses libmicrohttpd"; done
[ "$fail" -eq 0 ] && echo "server layers: ok"
exit "$fail"
