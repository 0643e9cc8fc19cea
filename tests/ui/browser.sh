#!/usr/bin/env bash
# The dashboard end to end in a real browser: Debian's chromium, headless,
# driven by playwright-core (pinned in tests/ui/package-lock.json), against
# a real uptake-server on loopback with a simulated fleet of libuptake test
# devices (tests/ui/fleet.sh). tests/ui/browser.mjs says what is checked.
# Screenshots of every page land in BUILD_DIR/tests/ui-artifacts/.
# No chromium, no built dashboard, no npm: the test FAILS (it never skips).
#   bash tests/ui/browser.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
. "$here/../support/serverlib.sh"
trap 'stop_server; rm -rf "$work"' EXIT

chromium=${UPTAKE_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "FAIL: $chromium missing (scripts/install-deps installs chromium)"; exit 1; }
[ -s "$build/ui/index.html" ] && [ -s "$build/ui/assets/app.js" ] ||
  { echo "FAIL: the dashboard is not built in $build/ui (ui/build $build/ui)"; exit 1; }

# the test's packages, installed once per build directory from the lock file
js=$build/tests/ui-js
if ! cmp -s "$here/package-lock.json" "$js/package-lock.json" 2>/dev/null ||
  [ ! -d "$js/node_modules/playwright-core" ]; then
  rm -rf "$js"
  mkdir -p "$js"
  cp "$here/package.json" "$here/package-lock.json" "$js/"
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error) || { echo "FAIL: npm ci failed"; exit 1; }
fi
cp "$here/browser.mjs" "$js/"

server_extra_conf="ui_dir = $build/ui"
start_server || exit 1
# the plain-HTTP repository listener never serves the dashboard
plain=$(curl -s -o /dev/null -w '%{http_code}' "$repo_url/ui/")
[ "$plain" = 404 ] || { echo "FAIL: GET /ui/ without TLS: HTTP $plain, expected 404"; exit 1; }
. "$here/fleet.sh"

out=$build/tests/ui-artifacts
rm -rf "$out"
mkdir -p "$out"
NODE_EXTRA_CA_CERTS=$ca UPTAKE_URL=$url UPTAKE_TOKEN=$token UPTAKE_CHROMIUM=$chromium \
  UPTAKE_ARTIFACTS=$out UPTAKE_CAMPAIGN=$campaign UPTAKE_CAMPAIGN2=$campaign2 UPTAKE_PROFILE=$work/chromium \
  node "$js/browser.mjs"
rc=$?
[ "$rc" -ne 0 ] && { echo "--- server log (last 30 lines)"; tail -30 "$work/server.log"; }
exit "$rc"
