# uptake's dashboard tests: a small simulated fleet on a real server.
# Sourced by tests/ui/browser.sh with $build, $work, $here (tests/ui) set
# and the server started (serverlib.sh); each step that fails ends the
# test with its error. Afterwards:
#   products gw (board-a, 5 years) and legacy (board-b, 5 years, on the
#   market since 2020: out of support); fw-1.0, the security release
#   fw-1.1 and fw-1.2 with SBOMs; six test devices (libuptake, real keys,
#   signed reports): gw-1, gw-2 run fw-1.0 (vulnerable), gw-3 fw-1.1,
#   gw-4 fails its health check on fw-1.2 (a rollback alert), old-1 and
#   old-2 run legacy-1.0; the OSV fixtures imported, the openssl record
#   marked actively exploited; a running campaign of fw-1.2 over gw-1,
#   gw-2 and gw-3 (stage 1 done, stage 2 assigned), one of legacy-1.1 over
#   old-1 and old-2 waiting for approval; users alice (admin),
#   otto (operator) and vera (viewer).
fix=$here/../fixtures
uptake=$build/uptake
device=$build/tests/test_device
W=(--dir "$work/ws")
q() {
  "$@" >"$work/q.out" 2>"$work/q.err" || {
    echo "setup failed: $*"
    cat "$work/q.err"
    tail -5 "$work/server.log"
    exit 1
  }
}
py() { /usr/bin/python3 -c "$@"; }

printf '%s\n' "$token" >"$work/token"
q "$uptake" init --server "$url" --token-file "$work/token" --ca-file "$ca" --dir "$work/ws"
cp "$fix/sbom/debian-image.cdx.json" "$work/sbom10.json"
py '
import json, sys
d = json.load(open(sys.argv[1]))
c = d["components"][0]
c["version"] = "3.0.13-1~deb12u1"
c["purl"] = c["purl"].replace("3.0.11-1", "3.0.13-1")
json.dump(d, open(sys.argv[2], "w"))' "$work/sbom10.json" "$work/sbom11.json"
for f in fw10 fw11 fw12 legacy10; do head -c 20000 /dev/urandom >"$work/$f.bin"; done
q "$uptake" publish "$work/fw10.bin" "${W[@]}" --name fw --version 1.0 --hardware-id board-a \
  --release-counter 1 --sbom "$work/sbom10.json"
q "$uptake" publish "$work/fw11.bin" "${W[@]}" --name fw --version 1.1 --hardware-id board-a \
  --release-counter 2 --security --sbom "$work/sbom11.json"
q "$uptake" publish "$work/fw12.bin" "${W[@]}" --name fw --version 1.2 --hardware-id board-a \
  --release-counter 3 --sbom "$work/sbom11.json"
q "$uptake" publish "$work/legacy10.bin" "${W[@]}" --name legacy --version 1.0 \
  --hardware-id board-b --release-counter 1

q "$uptake" product add gw "${W[@]}" --hardware-id board-a --support-years 5 \
  --contact psirt@example.com
q "$uptake" product add legacy "${W[@]}" --hardware-id board-b --support-years 5 \
  --contact psirt@example.com
for i in 1 2 3 4; do
  q "$uptake" device add "gw-$i" "${W[@]}" --out "$work/gw-$i" --product gw \
    --manufactured 2026-01-02 --placed-on-market 2026-01-15
done
for i in 1 2; do
  q "$uptake" device add "old-$i" "${W[@]}" --out "$work/old-$i" --product legacy \
    --manufactured 2020-0$i-02 --placed-on-market 2020-0$i-15
done
R=(--root-director "$work/ws/metadata/director-root.json" --root-image "$work/ws/metadata/root.json")
dev() {
  local d=$1
  shift
  "$device" --dir "$work/d-$d" --server "$url" --ca "$ca" --cert "$work/$d.crt" \
    --key "$work/$d.key" "$@"
}
for d in gw-1 gw-2 gw-3 gw-4; do q dev "$d" "${R[@]}" --ecu "$d-main:board-a" init; done
for d in old-1 old-2; do q dev "$d" "${R[@]}" --ecu "$d-main:board-b" init; done
q "$uptake" assign fw-1.0 "${W[@]}" --hardware-id board-a --device gw-1 --device gw-2 --device gw-4
q "$uptake" assign fw-1.1 "${W[@]}" --hardware-id board-a --device gw-3
q "$uptake" assign legacy-1.0 "${W[@]}" --hardware-id board-b --device old-1 --device old-2
for d in gw-1 gw-2 gw-3 gw-4 old-1 old-2; do
  q dev "$d" update
  q dev "$d" report
done
# gw-4: fw-1.2 fails its health check, it rolls back and says so
q "$uptake" assign fw-1.2 "${W[@]}" --hardware-id board-a --device gw-4
q dev gw-4 --fail-health update
corr=$("$uptake" device show gw-4 "${W[@]}" |
  py 'import json,sys; print(json.load(sys.stdin)["assignments"][0]["correlation_id"])')
q dev gw-4 --install-report "$corr:false" report

q "$uptake" vuln import "$fix/osv" "${W[@]}"

"$uptake" campaign create "fw-1.2 rollout" "${W[@]}" --target board-a=fw-1.2 \
  --device gw-1 --device gw-2 --device gw-3 --stage 1:success=100:error=50 \
  --stage 100%:success=100:error=50 --json >"$work/campaign.json" 2>"$work/q.err" ||
  { echo "setup failed: campaign create"; cat "$work/q.err"; exit 1; }
campaign=$(py 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/campaign.json")
q "$uptake" campaign start "$campaign" "${W[@]}"
# stage 1's device installs it and proves it in its signed report; stage 2
# starts (the server's evaluation: waited for, with a generous deadline)
stage1=$(curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/campaigns/$campaign?members=1" |
  py 'import json,sys; print(*[m["device"] for m in json.load(sys.stdin)["members"] if m["stage"] == 1])')
[ -n "$stage1" ] || { echo "setup failed: no device in stage 1"; exit 1; }
q dev "$stage1" update
q dev "$stage1" report
stage2=
for _ in $(seq 300); do
  stage2=$(curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/campaigns/$campaign" |
    py 'import json,sys; d=json.load(sys.stdin); print(d["stages"][0]["succeeded"], d["stages"][1]["state"])')
  [ "$stage2" = "1 active" ] && break
  sleep 0.2
done
[ "$stage2" = "1 active" ] || { echo "setup failed: stage 2 did not start ($stage2)"; exit 1; }

# a second campaign, of legacy-1.1 over old-1 and old-2, that waits for
# approval before its only stage (the operator approves it from the page,
# then cancels it)
head -c 20000 /dev/urandom >"$work/legacy11.bin"
q "$uptake" publish "$work/legacy11.bin" "${W[@]}" --name legacy --version 1.1 \
  --hardware-id board-b --release-counter 2
"$uptake" campaign create "legacy-1.1 approval" "${W[@]}" --target board-b=legacy-1.1 \
  --device old-1 --device old-2 --stage 100%:success=100:error=50 --approval \
  --json >"$work/campaign2.json" 2>"$work/q.err" ||
  { echo "setup failed: campaign create (approval)"; cat "$work/q.err"; exit 1; }
campaign2=$(py 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/campaign2.json")
q "$uptake" campaign start "$campaign2" "${W[@]}"

echo 'alice admin password' | q "$uptake" user add alice --role admin --password-stdin "${W[@]}"
echo 'otto operator password' | q "$uptake" user add otto --role operator --password-stdin "${W[@]}"
echo 'vera viewer password' | q "$uptake" user add vera --role viewer --password-stdin "${W[@]}"
# the manufacturer knows the openssl record is actively exploited: Article 14's clocks run
q "$uptake" vuln exploited DEBIAN-CVE-2026-0101 --aware-at now "${W[@]}"
