#!/usr/bin/env bash
# The dashboard in headless Chromium: three `meridian serve` nodes (three
# sites) and one HTTP backend per site on loopback, as in
# cluster_health_test.sh. tests/integration/dashboard/dashboard_test.mjs
# (playwright-core driving Debian's /usr/bin/chromium) opens the first
# node's dashboard, waits for the sites and endpoints, drains the first
# site's endpoint with the token through the page and waits for its row to
# show it; this script then checks with dig that every node answers the
# second site. Then the page restores it and every node must answer the
# first site again; last, a wrong token, the explain box and a phone-sized
# screen. Screenshots go to ARTIFACT_DIR (their paths are printed).
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
  for p in "${pid[@]}" "${backend_pid[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ "$failures" -ne 0 ]; then tail -n 40 "$WORK"/*.log >&2; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

names=(fra-1 iad-1 sin-1)
sites=(eu-central us-east ap-southeast)
coordinates=("50.1, lon: 8.7" "39.0, lon: -77.5" "1.3, lon: 103.8")
make_pki "${names[@]}"
declare -A peer backend_port
peers="["
for i in 1 2 3; do
  name=${names[$((i - 1))]}
  peer[$name]=127.0.0.1:$(pick_port)
  admin[$name]=127.0.0.1:$(pick_port)
  dns[$name]=$(pick_port)
  backend_port[$i]=$(pick_port)
  peers+="{ id: $name, address: \"${peer[$name]}\" }, "
done
peers="${peers%, }]"

for i in 1 2 3; do
  "$MERIDIAN" backend --listen "127.0.0.$i:${backend_port[$i]}" --name "${sites[$((i - 1))]}" \
    >>"$WORK/backend$i.log" 2>&1 &
  backend_pid[$i]=$!
done

for i in 1 2 3; do
  name=${names[$((i - 1))]}
  mkdir -p "$WORK/$name"
  cat >"$WORK/$name.yaml" <<YAML
node: { id: $name, site: ${sites[$((i - 1))]}, data_dir: $WORK/$name/data }
dns: { listen: ["127.0.0.1:${dns[$name]}"], threads: 1 }
log: { level: info }
admin: { listen: "${admin[$name]}", token_file: $WORK/token }
cluster:
  listen: "${peer[$name]}"
  peers: $peers
  tls: { ca: $WORK/certs/ca.pem, cert: $WORK/certs/$name.pem, key: $WORK/certs/$name.key }
sites:
  ${sites[0]}: { lat: ${coordinates[0]} }
  ${sites[1]}: { lat: ${coordinates[1]} }
  ${sites[2]}: { lat: ${coordinates[2]} }
checks:
  web: { type: http, path: /, interval: 1s, timeout: 500ms, rise: 2, fall: 2 }
zones:
  - origin: dashboard.test.
    soa: { mname: ns1, rname: hostmaster }
    ns: [ns1]
    records: ["ns1 IN A 192.0.2.53"]
    services:
      www:
        ttl: 30
        check: web
        default_sites: [${sites[0]}, ${sites[1]}, ${sites[2]}]
        endpoints:
          - { address: 192.0.2.1, site: ${sites[0]}, check: { use: web, port: ${backend_port[1]}, target: 127.0.0.1 } }
          - { address: 192.0.2.2, site: ${sites[1]}, check: { use: web, port: ${backend_port[2]}, target: 127.0.0.2 } }
          - { address: 192.0.2.3, site: ${sites[2]}, check: { use: web, port: ${backend_port[3]}, target: 127.0.0.3 } }
YAML
  "$MERIDIAN" check-config "$WORK/$name.yaml" >/dev/null || fail "config of $name"
  "$MERIDIAN" serve -c "$WORK/$name.yaml" >>"$WORK/$name.log" 2>&1 &
  pid[$name]=$!
done

answer() { dig @127.0.0.1 -p "${dns[$1]}" +short +time=1 +tries=1 www.dashboard.test A 2>/dev/null | head -1; }
# every_node_answers ADDRESS SECONDS: until all three answer ADDRESS; prints the time taken in ms.
every_node_answers() {
  local started now
  started=$(date +%s%N)
  while true; do
    if [ "$(answer fra-1)" == "$1" ] && [ "$(answer iad-1)" == "$1" ] && [ "$(answer sin-1)" == "$1" ]; then
      echo $(( ($(date +%s%N) - started) / 1000000 ))
      return 0
    fi
    now=$(date +%s%N)
    [ $(( (now - started) / 1000000000 )) -ge "$2" ] && return 1
    sleep 0.05
  done
}

every_node_answers 192.0.2.1 20 >/dev/null && pass || { fail "the nodes never all answered the first site"; exit 1; }
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
  --service www.dashboard.test --client 198.51.100.7 <"$WORK/to-browser" >"$WORK/from-browser" &
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
  expect_match "the override, as the CLI sees it" "$("$MERIDIAN" overrides --admin "${admin[sin-1]}")" \
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
