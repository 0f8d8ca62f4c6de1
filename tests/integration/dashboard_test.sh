#!/usr/bin/env bash
# The dashboard in headless Chromium: three `meridian serve` nodes (three
# sites) and one HTTP backend per site on loopback, as in
# cluster_health_test.sh. tests/integration/dashboard/dashboard_test.mjs
# (playwright-core driving Debian's /usr/bin/chromium) opens the first
# node's dashboard, waits for the sites and endpoints, drains the first
# site's endpoint with the token through the page and waits for its row to
# show it; this script then checks with dig that every node answers the
# second site. Then the page restores it and every node must answer the
# first site again; then a wrong token, the explain box, the page of a node
# whose reads need the token (sin-1, restarted with
# admin.require_token_for_reads: the page asks for the token, refuses a
# wrong one, shows the node with the right one) and a phone-sized screen.
# Screenshots go to ARTIFACT_DIR (their paths are printed).
#
#   dashboard_test.sh MERIDIAN_BINARY SOURCE_DIR ARTIFACT_DIR
#
# Needs node, chromium and playwright-core (scripts/install-deps.sh installs
# them); without them it skips (exit 77), and fails under CI=true.
source "$(dirname "$0")/test_lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
MERIDIAN=$1
ARTIFACTS=$3
BROWSER_DIR=$(cd "$(dirname "$0")/dashboard" && pwd)
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

missing=()
command -v node >/dev/null 2>&1 || missing+=("node (Node.js)")
[ -x "$CHROMIUM" ] || missing+=("$CHROMIUM (Debian package chromium)")
[ -f "$BROWSER_DIR/node_modules/playwright-core/package.json" ] ||
  missing+=("playwright-core (npm ci in tests/integration/dashboard)")
if [ ${#missing[@]} -ne 0 ]; then
  if [ "${CI:-}" == true ]; then
    echo "FAIL: missing ${missing[*]}: scripts/install-deps.sh installs them" >&2
    exit 1
  fi
  echo "SKIP: the browser test needs ${missing[*]}: scripts/install-deps.sh installs them"
  exit 77
fi
require_tool jq
require_tool dig
require_tool curl
# A browser that died must fail a check here, not kill this script.
trap '' PIPE

WORK=$(mktemp -d)
declare -A pid admin dns
backend_pid=()
browser_pid=""
cleanup() {
  [ -z "$browser_pid" ] || kill "$browser_pid" 2>/dev/null || true
  for p in "${pid[@]}" "${backend_pid[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  stop_store_peers
  wait 2>/dev/null
  if [ "$failures" -ne 0 ]; then tail -n 40 "$WORK"/*.log >&2; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

names=(fra-1 iad-1 sin-1)
sites=(eu-central us-east ap-southeast)
coordinates=("50.1, lon: 8.7" "39.0, lon: -77.5" "1.3, lon: 103.8")
ZONE=dashboard.test
make_pki "${names[@]}"
start_three_site_cluster

every_node_answers 192.0.2.1 20 >/dev/null && pass || { fail "the nodes never all answered the first site"; exit 1; }
# sin-1 serves its reads to token holders only; its page still loads.
kill "${pid[sin-1]}"
wait "${pid[sin-1]}" 2>/dev/null || true
sed -i 's/^admin: { \(.*\) }$/admin: { \1, require_token_for_reads: true }/' "$WORK/sin-1.yaml"
start_node sin-1
every_node_answers 192.0.2.1 30 >/dev/null && pass || { fail "sin-1 did not come back"; exit 1; }
guarded=http://${admin[sin-1]}
expect_eq "sin-1: reads need the token" "$(curl -s -o /dev/null -w '%{http_code}' "$guarded/api/v1/status")" 401
expect_eq "sin-1: its page does not" "$(curl -s -o /dev/null -w '%{http_code}' "$guarded/")" 200
# Some queries, so the query-rate panel has something to draw (20 s at most).
( for _ in $(seq 1 100); do for name in "${names[@]}"; do answer "$name" >/dev/null; done; sleep 0.2; done ) &
backend_pid+=($!)

# The page is served from memory with its policy; the API it reads is there.
ui=http://${admin[fra-1]}
expect_eq "GET / is the page" "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$ui/")" "200 text/html; charset=utf-8"
expect_match "GET / has the policy" "$(curl -sI "$ui/" | tr -d '\r')" "^Content-Security-Policy: default-src 'self'"
expect_eq "no such asset" "$(curl -s -o /dev/null -w '%{http_code}' "$ui/assets/nothing.js")" 404
expect_eq "overrides only by POST with the token" \
  "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"site":"eu-central","state":"drain"}' "$ui/api/v1/overrides")" 401

# The browser, step by step: it says when the page shows the drain, this
# script asks DNS and tells it to go on.
mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS"/*.png
mkfifo "$WORK/to-browser" "$WORK/from-browser"
CHROMIUM=$CHROMIUM node "$BROWSER_DIR/dashboard_test.mjs" --url "$ui/" --token-file "$WORK/token" --out "$ARTIFACTS" \
  --endpoint 192.0.2.1 --sites "$(IFS=,; echo "${sites[*]}")" --endpoints 192.0.2.1,192.0.2.2,192.0.2.3 \
  --service www.dashboard.test --client 198.51.100.7 --guarded-url "$guarded/" <"$WORK/to-browser" >"$WORK/from-browser" &
browser_pid=$!
exec 7>"$WORK/to-browser" 8<"$WORK/from-browser"
# next_step EXPECTED: the browser's next line (120 s at most).
next_step() {
  local line=""
  read -r -t 120 line <&8 || true
  if [ "$line" == "$1" ]; then pass; return 0; fi
  fail "the browser said '${line:-nothing}', expected '$1'"
  return 1
}

if next_step "STEP drained"; then
  if took=$(every_node_answers 192.0.2.2 5); then
    pass
    echo "after the drain in the page, every node answered the second site within ${took} ms"
  else
    fail "after the drain in the page, not every node answered 192.0.2.2 (fra-1 $(answer fra-1), iad-1 $(answer iad-1), sin-1 $(answer sin-1))"
  fi
  expect_match "the override, as the CLI sees it" \
    "$("$MERIDIAN" overrides --admin "${admin[sin-1]}" --token-file "$WORK/token")" \
    "endpoint 192.0.2.1 +drain .*dashboard-test +browser test"
  echo continue >&7 || true
  if next_step "STEP restored"; then
    if took=$(every_node_answers 192.0.2.1 5); then
      pass
      echo "after the restore in the page, every node answered the first site again within ${took} ms"
    else
      fail "after the restore in the page, not every node came back to 192.0.2.1"
    fi
    expect_eq "no override is left" "$("$MERIDIAN" overrides --json --admin "${admin[iad-1]}" | jq -c .overrides)" "[]"
    echo continue >&7 || true
    next_step DONE || true
  fi
fi
exec 7>&-
wait "$browser_pid" && pass || fail "the browser test failed (its output is above)"
browser_pid=""
exec 8<&-

# The page changed nothing else, and no log has the token.
expect_eq "the wrong token changed nothing" "$("$MERIDIAN" overrides --json --admin "${admin[fra-1]}" | jq -c .overrides)" "[]"
expect_match "the event log has the page's actions" "$("$MERIDIAN" events --admin "${admin[iad-1]}")" \
  "override +endpoint 192.0.2.1: drain: browser test \(dashboard-test\)"
if grep -qF "$(cat "$WORK/token")" "$WORK"/*.log; then fail "the token is in a log"; else pass; fi

for png in "$ARTIFACTS"/*.png; do [ -f "$png" ] && echo "screenshot: $png"; done
finish
