#!/usr/bin/env bash
# The admin HTTP API over real HTTP (curl), against a three-node cluster on
# loopback with one HTTP backend per site (cluster_lib.sh), so every answer
# carries real data: Raft state, replicated verdicts, the health matrix,
# overrides, config versions, query statistics. Every read endpoint once;
# every mutation with the token, without (401), with a wrong one (403), by
# the wrong method (405), with a bad body (400) and an oversized one (413);
# unknown paths and versions (404); the limits (431, a trickled head cut
# off, keep-alive); no CORS; the token in no log and no page; /metrics
# parsed by the Prometheus client's parser; the CLI over the same API; a
# check's Authorization header redacted wherever the API could show it while
# the probes send it; a node with admin.require_token_for_reads (every read
# 401 without the token, the dashboard's page open, the CLI with
# --token-file); and a non-loopback admin address without a token refused.
#
#   admin_api_test.sh MERIDIAN_BINARY SOURCE_DIR
source "$(dirname "$0")/test_lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
MERIDIAN=$1
SOURCE_DIR=$2
require_tool jq
require_tool dig
require_tool curl
/usr/bin/python3 -c "import prometheus_client" 2>/dev/null ||
  { echo "FAIL: python3-prometheus-client is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
WORK=$(mktemp -d)
declare -A pid admin dns
backend_pid=()
cleanup() {
  for p in "${pid[@]}" "${backend_pid[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null
  if [ "$failures" -ne 0 ]; then tail -n 40 "$WORK"/*.log >&2; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

names=(ams-1 ord-1 nrt-1)
sites=(eu us ap)
coordinates=("52.4, lon: 4.9" "41.9, lon: -87.6" "35.7, lon: 139.7")
ZONE=api.test
make_pki "${names[@]}"
start_three_site_cluster

every_node_answers 192.0.2.1 20 >/dev/null && pass || { fail "the nodes never all answered the first site"; exit 1; }
A=http://${admin[ams-1]}
TOKEN=$(cat "$WORK/token")
(umask 077 && echo not-the-token >"$WORK/wrong-token")

# until_true SECONDS COMMAND...: retries COMMAND every 0.1 s.
until_true() {
  local deadline=$(($(date +%s) + $1))
  shift
  until "$@"; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.1
  done
}
verdicts_replicated() { [ "$(curl -s "$A/api/v1/verdicts" | jq '[.verdicts[] | select(.up)] | length')" == 3 ]; }
until_true 20 verdicts_replicated && pass || fail "three replicated verdicts never appeared"

# request METHOD PATH [CURL ARGS...]: the status code; the body in $WORK/body,
# the head in $WORK/head.
request() {
  local method=$1 path=$2
  shift 2
  curl -s -X "$method" -o "$WORK/body" -D "$WORK/head" -w '%{http_code}' "$@" "$A$path"
}
# expect_request WHAT CODE METHOD PATH [CURL ARGS...]: the status, and for an
# error a JSON body {"error": "..."}.
expect_request() {
  local what=$1 code=$2
  shift 2
  expect_eq "$what" "$(request "$@")" "$code"
  if [ "$code" -ge 400 ]; then
    expect_match "$what: a JSON reason" "$(jq -r '.error | strings' "$WORK/body" 2>/dev/null)" "."
  fi
}
auth=(-H "Authorization: Bearer $TOKEN")
wrong=(-H "Authorization: Bearer not-the-token")
json=(-H "Content-Type: application/json")

# ---------------------------------------------------------------- reads
expect_request "GET status" 200 GET /api/v1/status
status=$(cat "$WORK/body")
expect_eq "status: node and site" "$(jq -r '"\(.name) \(.site)"' <<<"$status")" "ams-1 eu"
expect_match "status: version and uptime" "$(jq -r '"\(.version) \(.uptime_s)"' <<<"$status")" "^[0-9]+\.[0-9]+\.[0-9]+ [0-9]+$"
expect_match "status: Raft role, term, leader" "$(jq -r '.cluster | "\(.role) \(.term) \(.leader) \(.members)"' <<<"$status")" \
  "^(leader|follower) [1-9][0-9]* (ams-1|ord-1|nrt-1) 3$"
expect_match "status: config" "$(jq -r '.config.fingerprint' <<<"$status")" "^[0-9a-f]{16}$"

expect_request "GET sites" 200 GET /api/v1/sites
expect_eq "sites: every site up" "$(jq -c '[.sites[] | "\(.name) \(.state) \(.usable)/\(.endpoints)"]' "$WORK/body")" \
  '["eu up 1/1","us up 1/1","ap up 1/1"]'

# The views behind sites, services and the matrix are rebuilt every second.
view_has_verdicts() {
  request GET /api/v1/services >/dev/null
  [ "$(jq '[.services[0].endpoints[] | select(.cluster_verdict == "up")] | length' "$WORK/body")" == 3 ]
}
until_true 5 view_has_verdicts && pass || fail "the services view never showed the replicated verdicts"
expect_request "GET services" 200 GET /api/v1/services
expect_eq "services: www and its endpoints" \
  "$(jq -c '[.services[] | .name, [.endpoints[] | "\(.addresses[0]) \(.site) \(.usable) \(.cluster_verdict)"]]' "$WORK/body")" \
  '["www.api.test.",["192.0.2.1 eu true up","192.0.2.2 us true up","192.0.2.3 ap true up"]]'
expect_eq "services: since, reason and latency of each endpoint" \
  "$(jq '[.services[0].endpoints[] | select((.since_ms | type) == "number" and (.reason | type) == "string" and (.latency_ms | type) == "number")] | length' "$WORK/body")" 3

expect_request "GET health matrix" 200 GET /api/v1/health/matrix
expect_eq "matrix: three live observers" "$(jq -c '[.observers[] | "\(.name) \(.live)"]' "$WORK/body")" \
  '["ams-1 true","nrt-1 true","ord-1 true"]'
expect_eq "matrix: every observer sees every target up" \
  "$(jq '[.targets[] | .views | to_entries[] | select(.value == "up")] | length' "$WORK/body")" 9

expect_request "GET verdicts" 200 GET /api/v1/verdicts
expect_eq "verdicts: up 3/3 each" "$(jq -c '[.verdicts[] | "\(.up) \(.observers_up)/\(.observers)"] | unique' "$WORK/body")" '["true 3/3"]'
expect_request "GET overrides" 200 GET /api/v1/overrides
expect_eq "overrides: none yet" "$(jq -c .overrides "$WORK/body")" "[]"
expect_request "GET cluster" 200 GET /api/v1/cluster
expect_eq "cluster: three voters" "$(jq -c '[.members[] | "\(.name) \(.voter)"]' "$WORK/body")" \
  '["ams-1 true","nrt-1 true","ord-1 true"]'
expect_request "GET events" 200 GET "/api/v1/events?limit=2"
expect_eq "events: a page of two verdicts" "$(jq -c '[.events[].kind]' "$WORK/body")" '["verdict","verdict"]'
expect_request "GET the next page of events" 200 GET "/api/v1/events?limit=2&before=$(jq -r .next "$WORK/body")"
expect_eq "events: the next page" "$(jq '.events | length' "$WORK/body")" 1

expect_request "GET explain" 200 GET "/api/v1/explain?name=www.api.test&client=198.51.100.7"
expect_eq "explain: candidates, decision, answer" \
  "$(jq -c '[[.candidates[] | "\(.site) \(.state)"], .decided_by, .answer, .ttl]' "$WORK/body")" \
  '[["eu picked","us available","ap available"],"default order",["192.0.2.1"],30]'
expect_request "GET explain with ECS" 200 GET "/api/v1/explain?name=www.api.test&client=198.51.100.7&ecs=81.2.69.0/24"
expect_eq "explain: the client from ECS" "$(jq -r .client.source "$WORK/body")" "ECS 81.2.69.0/24"
expect_request "explain without name=" 400 GET "/api/v1/explain?client=198.51.100.7"
expect_request "explain with a bad client=" 400 GET "/api/v1/explain?name=www.api.test&client=nowhere"
expect_request "explain with a bad ecs=" 400 GET "/api/v1/explain?name=www.api.test&client=198.51.100.7&ecs=1.2.3.4/99"
expect_request "explain of a name that is no service" 400 GET "/api/v1/explain?name=ns1.api.test&client=198.51.100.7"

expect_request "GET config (none committed yet)" 200 GET /api/v1/config
expect_request "GET config history" 200 GET /api/v1/config/history
expect_eq "config history: empty" "$(jq -c .versions "$WORK/body")" "[]"

# Query statistics: the rate per site, sampled every 10 s.
( for _ in $(seq 1 60); do answer ams-1 >/dev/null; sleep 0.2; done ) &
backend_pid+=($!)
rate_seen() {
  request GET /api/v1/stats >/dev/null
  [ "$(jq '[.samples[] | select(.sites.eu > 0)] | length' "$WORK/body")" -gt 0 ]
}
until_true 15 rate_seen && pass || fail "the query rate of site eu never showed in /api/v1/stats: $(cat "$WORK/body")"
expect_eq "stats: the interval" "$(jq .interval_s "$WORK/body")" 10

# The dashboard and its assets are served from memory; none holds the token.
expect_request "GET /" 200 GET /
for asset in $(grep -o '/assets/[a-z_.-]*' "$WORK/body" | sort -u); do
  expect_request "GET $asset" 200 GET "$asset"
  grep -qF "$TOKEN" "$WORK/body" && fail "$asset holds the token" || pass
done
expect_request "no such asset" 404 GET /assets/nothing.js
expect_request "no path outside the assets" 404 GET "/assets/..%2f..%2fetc%2fpasswd"

# ------------------------------------------------------------- mutations
# Drain an endpoint through the first node: every node answers the second
# site, the services and sites show it with author and reason, the event log
# has it; then undrain.
expect_request "drain with the token" 200 POST /api/v1/overrides "${auth[@]}" "${json[@]}" \
  -d '{"endpoint":"192.0.2.1","state":"drain","reason":"api test","author":"tester"}'
every_node_answers 192.0.2.2 5 >/dev/null && pass || fail "after the drain, not every node answered 192.0.2.2"
drained() {
  request GET /api/v1/services >/dev/null
  [ "$(jq -r '.services[0].endpoints[0] | "\(.usable) \(.override.state) \(.override.reason) \(.override.author)"' "$WORK/body")" == \
    "false drain api test tester" ]
}
until_true 5 drained && pass || fail "services never showed the drain: $(jq -c '.services[0].endpoints[0]' "$WORK/body")"
expect_match "events: the drain" "$(curl -s "$A/api/v1/events?limit=5" | jq -r '.events[] | "\(.kind) \(.subject) \(.detail)"')" \
  "^override endpoint 192.0.2.1 drain: api test"
expect_request "undrain" 200 POST /api/v1/overrides "${auth[@]}" "${json[@]}" -d '{"endpoint":"192.0.2.1","state":"none"}'
every_node_answers 192.0.2.1 5 >/dev/null && pass || fail "after the undrain, not every node answered 192.0.2.1"

# Force a whole site down through the CLI (the same API) and back.
"$MERIDIAN" force-down --site eu --reason "cli test" --admin "${admin[ord-1]}" --token-file "$WORK/token" >/dev/null &&
  pass || fail "meridian force-down"
every_node_answers 192.0.2.2 5 >/dev/null && pass || fail "after force-down of eu, not every node answered 192.0.2.2"
site_shows_down() { [ "$(curl -s "$A/api/v1/sites" | jq -r '.sites[0] | "\(.state) \(.override.state)"')" == "down down" ]; }
until_true 5 site_shows_down && pass || fail "sites never showed eu forced down"
"$MERIDIAN" undrain --site eu --admin "${admin[nrt-1]}" --token-file "$WORK/token" >/dev/null && pass || fail "meridian undrain"
every_node_answers 192.0.2.1 5 >/dev/null && pass || fail "after undrain of eu, not every node answered 192.0.2.1"

# A config version through the API: applied, in the history, readable. It
# also puts a new service before www: www's counters must stay its own
# (counted by name, not by position in the table).
www_answers() {
  curl -s "$A/metrics" | sed -n 's/^meridian_dns_service_answers_by_service_total{service="www.api.test."} //p'
}
www_before=$(www_answers)
cp "$WORK/ams-1.yaml" "$WORK/apply.yaml"
sed -i 's/ttl: 30/ttl: 45/; s/^    services:$/    services:\n      api:\n        endpoints: [{ address: 192.0.2.9, site: eu }]/' \
  "$WORK/apply.yaml"
body=$(jq -n --rawfile yaml "$WORK/apply.yaml" '{yaml: $yaml, comment: "api test"}')
expect_request "apply a config with the token" 200 POST /api/v1/config "${auth[@]}" "${json[@]}" -d "$body"
expect_request "GET config history after the apply" 200 GET /api/v1/config/history
expect_eq "config history: version 1" "$(jq -c '[.current, [.versions[].version]]' "$WORK/body")" '[1,[1]]'
expect_request "GET config version 1" 200 GET /api/v1/config/versions/1
ttl_45() { [ "$(dig @127.0.0.1 -p "${dns[nrt-1]}" +noall +answer +time=1 +tries=1 "www.$ZONE" A | awk '{print $2}')" == 45 ]; }
until_true 5 ttl_45 && pass || fail "the applied config (ttl 45) never reached nrt-1"
expect_match "status: the committed config version" "$(curl -s "$A/api/v1/status" | jq -r .config.committed)" "^1$"
expect_eq "the new service answers" "$(dig @127.0.0.1 -p "${dns[ams-1]}" +short +time=1 +tries=1 "api.$ZONE" A)" 192.0.2.9
www_after=$(www_answers)
[ -n "$www_before" ] && [ "${www_after:-0}" -ge "$www_before" ] && pass ||
  fail "www's answer counter went from '$www_before' to '$www_after' when a service was added before it"
expect_match "the new service has its own counter" "$(curl -s "$A/metrics")" \
  '^meridian_dns_service_answers_by_service_total\{service="api.api.test."\} 1$'

# Every mutate route: without the token 401 (with WWW-Authenticate), with a
# wrong one 403, never by GET (405), and nothing changes.
mutations=("POST /api/v1/overrides" "POST /api/v1/config" "POST /api/v1/config/rollback"
  "POST /api/v1/cluster/learners" "POST /api/v1/cluster/promote" "POST /api/v1/cluster/remove"
  "POST /api/v1/cluster/transfer-leader" "PUT /api/v1/kv/x" "DELETE /api/v1/kv/x" "POST /api/v1/kv/x")
for mutation in "${mutations[@]}"; do
  read -r method path <<<"$mutation"
  expect_request "$mutation without a token" 401 "$method" "$path" "${json[@]}" -d '{"site":"eu","state":"drain"}'
  expect_match "$mutation without a token: the challenge" "$(tr -d '\r' <"$WORK/head")" "^WWW-Authenticate: Bearer"
  expect_request "$mutation with a wrong token" 403 "$method" "$path" "${wrong[@]}" "${json[@]}" \
    -d '{"site":"eu","state":"drain"}'
done
for path in /api/v1/config/rollback /api/v1/cluster/learners /api/v1/cluster/promote /api/v1/cluster/remove \
  /api/v1/cluster/transfer-leader; do
  expect_request "GET $path" 405 GET "$path" "${auth[@]}"
  expect_match "GET $path: Allow" "$(tr -d '\r' <"$WORK/head")" "^Allow: POST$"
done
expect_request "a mutation by query string" 405 GET "/api/v1/config/rollback?version=1" "${auth[@]}"
expect_eq "nothing was overridden" "$(curl -s "$A/api/v1/overrides" | jq -c .overrides)" "[]"
expect_eq "no version was added" "$(curl -s "$A/api/v1/config/history" | jq .current)" 1
expect_request "Basic auth is not a bearer token" 401 POST /api/v1/overrides -u "admin:$TOKEN" -d '{}'

# Bad requests with the token: 400 with the reason, nothing changes.
expect_request "overrides: not JSON" 400 POST /api/v1/overrides "${auth[@]}" "${json[@]}" -d 'drain eu'
expect_request "overrides: no target" 400 POST /api/v1/overrides "${auth[@]}" "${json[@]}" -d '{"state":"drain"}'
expect_request "overrides: an unknown state" 400 POST /api/v1/overrides "${auth[@]}" "${json[@]}" \
  -d '{"site":"eu","state":"sleep"}'
expect_request "overrides: an unknown site" 400 POST /api/v1/overrides "${auth[@]}" "${json[@]}" \
  -d '{"site":"mars","state":"drain"}'
expect_match "overrides: the reason names it" "$(jq -r .error "$WORK/body")" "mars"
expect_request "overrides: a bad expiry" 400 POST /api/v1/overrides "${auth[@]}" "${json[@]}" \
  -d '{"site":"eu","state":"drain","for":"soon"}'
expect_request "config: invalid YAML" 400 POST /api/v1/config "${auth[@]}" "${json[@]}" -d '{"yaml":"sites: [\n"}'
expect_request "config: no yaml member" 400 POST /api/v1/config "${auth[@]}" "${json[@]}" -d '{"text":"x"}'
expect_request "rollback: not a number" 400 POST /api/v1/config/rollback "${auth[@]}" "${json[@]}" -d '{"version":"x"}'
expect_request "learners: no name" 400 POST /api/v1/cluster/learners "${auth[@]}" "${json[@]}" -d '{}'
expect_request "events: a bad cursor" 400 GET "/api/v1/events?before=x"
expect_request "a bad percent-escape" 400 GET "/api/v1/kv/%zz"
expect_eq "still nothing overridden" "$(curl -s "$A/api/v1/overrides" | jq -c .overrides)" "[]"
expect_eq "still version 1" "$(curl -s "$A/api/v1/config/history" | jq .current)" 1

# Unknown things: 404; a known path by another method: 405 with Allow.
expect_request "an unknown API path" 404 GET /api/v1/nothing
expect_request "an unknown config version" 404 GET /api/v1/config/versions/99
expect_request "a rollback to an unknown version" 404 POST /api/v1/config/rollback "${auth[@]}" "${json[@]}" \
  -d '{"version":99}'
expect_request "POST to a read route" 405 POST /api/v1/status "${auth[@]}"
expect_match "POST to a read route: Allow" "$(tr -d '\r' <"$WORK/head")" "^Allow: GET, HEAD$"
expect_request "DELETE /metrics" 405 DELETE /metrics
expect_request "HEAD status" 200 HEAD /api/v1/status

# Limits: a body over 1 MiB (413, with the token; without, 401 first and the
# body is never read), a head over 8 KiB (431).
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' 'a' >"$WORK/big"
expect_request "a body over the limit" 413 POST /api/v1/overrides "${auth[@]}" "${json[@]}" --data-binary "@$WORK/big"
expect_request "a body over the limit, no token" 401 POST /api/v1/overrides "${json[@]}" --data-binary "@$WORK/big"
expect_request "a head over the limit" 431 GET /api/v1/status -H "X-Padding: $(head -c 9000 /dev/zero | tr '\0' 'a')"

# Keep-alive: two requests, one connection.
expect_match "keep-alive" "$(curl -sv "$A/api/v1/status" "$A/api/v1/sites" 2>&1 >/dev/null)" "Re-using existing connection"
# A client trickling its head is cut off within the header timeout (5 s).
trickle=$(/usr/bin/python3 - "${admin[ams-1]}" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
s.settimeout(10)
start = time.monotonic()
try:
    for piece in [b"GET /api/v1/status HTTP/1.1\r\n", b"Host: x\r\n"] + [b"X-Slow: 1\r\n"] * 20:
        s.sendall(piece)
        time.sleep(0.5)
    data = s.recv(4096)
except (ConnectionResetError, BrokenPipeError):
    data = b""
print("closed after %.1f s: %s" % (time.monotonic() - start, data.split(b"\r\n")[0].decode() or "no answer"))
PY
)
expect_match "a trickled head is cut off" "$trickle" "^closed after [4-6]\.[0-9] s: (HTTP/1.1 408|no answer)"

# No CORS: a page of another origin gets no Access-Control header, a
# preflight gets no permission.
request GET /api/v1/status -H "Origin: http://evil.example" >/dev/null
grep -qi "^Access-Control" "$WORK/head" && fail "CORS headers for another origin" || pass
expect_request "a CORS preflight" 405 OPTIONS /api/v1/overrides -H "Origin: http://evil.example" \
  -H "Access-Control-Request-Method: POST"
grep -qi "^Access-Control" "$WORK/head" && fail "CORS headers on a preflight" || pass

# /metrics: parsed by the Prometheus client's text parser; every family the
# issue names, with real values.
request GET /metrics >/dev/null
expect_match "metrics: the content type" "$(tr -d '\r' <"$WORK/head")" "^Content-Type: text/plain; version=0.0.4"
if parsed=$(/usr/bin/python3 "$(dirname "$0")/check_metrics.py" meridian_dns_queries_by_type_total \
  meridian_dns_responses_total meridian_dns_queries_by_zone_total meridian_dns_service_answers_by_service_total \
  meridian_dns_answers_by_site_total meridian_dns_fail_open_answers_total meridian_dns_ecs_queries_total \
  meridian_dns_tcp_connections meridian_probes_total meridian_probe_duration_seconds meridian_verdict_changes_total \
  meridian_raft_term meridian_raft_role meridian_raft_commit_index meridian_raft_applied_index \
  meridian_raft_proposal_duration_seconds process_resident_memory_bytes process_open_fds meridian_uptime_seconds \
  <"$WORK/body" 2>&1); then
  pass
  echo "/metrics: $parsed"
else
  fail "/metrics: $parsed"
fi
expect_match "metrics: answers by site" "$(cat "$WORK/body")" '^meridian_dns_answers_by_site_total\{site="eu"\} [1-9]'
expect_match "metrics: the leader timed its proposals" \
  "$(for n in "${names[@]}"; do curl -s "http://${admin[$n]}/metrics"; done)" \
  '^meridian_raft_proposal_duration_seconds_count [1-9]'

# The CLI reads the same API.
expect_match "meridian status" "$("$MERIDIAN" status --admin "${admin[ord-1]}")" "^node ord-1 \(site us\)"
expect_match "meridian explain --admin" \
  "$("$MERIDIAN" explain www.api.test 198.51.100.7 --ecs 81.2.69.0/24 --admin "${admin[nrt-1]}")" "^answer: 192.0.2.1$"

# ------------------------------------------------- secrets in the config
# A check with an Authorization header, committed as version 2: every node
# probes with the real value (the backend answers 401 to anything else and
# records what it got), while no answer of the API (the version's text, a
# raw read of its record, the history, the status), no event and no log
# shows it; only the store export, which needs the token, carries it.
SECRET="Bearer probe-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
recorder_port=$(pick_port)
/usr/bin/python3 - 127.0.0.4 "$recorder_port" "$SECRET" "$WORK/recorded-headers" <<'PY' &
import http.server, sys
host, port, expected, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
class Recorder(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        got = self.headers.get("Authorization", "")
        with open(out, "a") as f:
            f.write(got + "\n")
        self.send_response(200 if got == expected else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer((host, port), Recorder).serve_forever()
PY
backend_pid+=($!)
cp "$WORK/apply.yaml" "$WORK/secret.yaml"
sed -i "s|^checks:\$|checks:\n  secured: { type: http, interval: 1s, timeout: 500ms, rise: 1, fall: 2, headers: { Authorization: \"$SECRET\", X-Probe: meridian } }|" \
  "$WORK/secret.yaml"
sed -i "s|^    services:\$|    services:\n      vault:\n        check: secured\n        endpoints: [{ address: 192.0.2.44, site: eu, check: { port: $recorder_port, target: 127.0.0.4 } }]|" \
  "$WORK/secret.yaml"
expect_match "apply a config with a secret" \
  "$("$MERIDIAN" config apply "$WORK/secret.yaml" --comment "a secret" --admin "${admin[ord-1]}" --token-file "$WORK/token")" \
  "^committed version 2$"
vault_up() {
  [ "$(curl -s "$A/api/v1/services" | jq -r '.services[] | select(.name == "vault.api.test.") | .endpoints[0] | "\(.usable) \(.cluster_verdict)"')" == "true up" ]
}
until_true 20 vault_up && pass || fail "vault's endpoint never came up: the probes did not send the header?"
expect_eq "every probe sent the real header" "$(sort -u "$WORK/recorded-headers")" "$SECRET"
expect_eq "vault answers" "$(dig @127.0.0.1 -p "${dns[nrt-1]}" +short +time=1 +tries=1 "vault.$ZONE" A)" 192.0.2.44

expect_request "GET config version 2" 200 GET /api/v1/config/versions/2
expect_match "version 2: the secret redacted" "$(jq -r .text "$WORK/body")" \
  '^  secured: \{ .*headers: \{ Authorization: "<redacted>", X-Probe: meridian \} \}$'
grep -qF "$SECRET" "$WORK/body" && fail "GET /api/v1/config/versions/2 shows the secret" || pass
"$MERIDIAN" config show 2 --admin "${admin[nrt-1]}" >"$WORK/shown.yaml"
expect_match "meridian config show: redacted" "$(cat "$WORK/shown.yaml")" 'Authorization: "<redacted>"'
grep -qF "$SECRET" "$WORK/shown.yaml" && fail "meridian config show shows the secret" || pass
expect_request "a raw read of the record" 200 GET /api/v1/kv/_config/version/0000000000000002
expect_match "the record: redacted" "$(jq -r .value "$WORK/body")" 'Authorization: "<redacted>"'
for path in /api/v1/kv/_config/version/0000000000000002 "/api/v1/kv?prefix=_config/" /api/v1/config/history \
  /api/v1/config /api/v1/status /api/v1/services /api/v1/health/matrix "/api/v1/events?limit=1000" /metrics; do
  curl -s "$A$path" | grep -qF "$SECRET" && fail "$path shows the secret" || pass
done
# The event log records verdicts and operator actions, never config text:
# the apply and the new endpoint's verdict are there, the secret is not.
events=$("$MERIDIAN" events --limit 1000 --admin "${admin[ams-1]}")
expect_match "events: vault's verdict" "$events" "verdict +127\.0\.0\.4@eu/secured:$recorder_port: up"
grep -qF "$SECRET" <<<"$events" && fail "meridian events shows the secret" || pass
expect_request "the store export without the token" 401 GET /api/v1/store/export
expect_request "the store export with the token" 200 GET /api/v1/store/export "${auth[@]}"
grep -qF "$SECRET" "$WORK/body" && pass || fail "the export lost the secret (an import could not restore it)"
# The text read back, applied again, would probe with the marker: refused.
if "$MERIDIAN" config apply "$WORK/shown.yaml" --admin "${admin[ams-1]}" --token-file "$WORK/token" 2>"$WORK/err"; then
  fail "a redacted text was committed"
fi
expect_match "a redacted text is refused, and why" "$(cat "$WORK/err")" \
  "shown\.yaml:[0-9]+:[0-9]+: checks\.secured\.headers\.Authorization: expected the real value of Authorization"
expect_eq "still version 2" "$(curl -s "$A/api/v1/config/history" | jq .current)" 2

# ------------------------------------------- reads that need the token
# ams-1 restarted with admin.require_token_for_reads: every read answers 401
# without the token, 403 with a wrong one, as mutations do; the dashboard's
# page still loads; the CLI reads with --token-file (or -c's token_file).
code=0
sed 's/^admin: .*/admin: { listen: "127.0.0.1:18054", require_token_for_reads: true }/' "$WORK/ams-1.yaml" >"$WORK/reads.yaml"
"$MERIDIAN" check-config "$WORK/reads.yaml" >"$WORK/reads.out" 2>&1 || code=$?
expect_eq "require_token_for_reads without a token_file: refused" "$code" 1
expect_match "require_token_for_reads without a token_file: why" "$(cat "$WORK/reads.out")" \
  "reads.yaml:[0-9]+:[0-9]+: admin.require_token_for_reads: expected false, or a token_file beside it"
kill "${pid[ams-1]}"
wait "${pid[ams-1]}" 2>/dev/null || true
sed -i 's/^admin: { \(.*\) }$/admin: { \1, require_token_for_reads: true }/' "$WORK/ams-1.yaml"
"$MERIDIAN" check-config "$WORK/ams-1.yaml" >/dev/null && pass || fail "ams-1's config with require_token_for_reads"
start_node ams-1
serves_with_token() {
  # The store too: a linearizable read needs the leader, which the restarted
  # node hears of only after its first heartbeat (503 until then).
  [ "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "$A/api/v1/kv/_config/current")" == 200 ] &&
    [ "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "$A/api/v1/services")" == 200 ] &&
    [ "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "$A/api/v1/explain?name=www.api.test&client=198.51.100.7")" == 200 ]
}
until_true 30 serves_with_token && pass || fail "ams-1 did not come back with require_token_for_reads"
reads=(/api/v1/status /api/v1/sites /api/v1/services /api/v1/health/matrix /api/v1/stats
  "/api/v1/explain?name=www.api.test&client=198.51.100.7" /api/v1/verdicts /api/v1/overrides
  "/api/v1/events?limit=5" /api/v1/cluster "/api/v1/kv?prefix=_config/" /api/v1/kv/_config/current
  /api/v1/config /api/v1/config/history /api/v1/config/versions/2 /api/v1/store/export /metrics)
for path in "${reads[@]}"; do
  expect_request "GET $path without the token" 401 GET "$path"
  expect_match "GET $path without the token: the challenge" "$(tr -d '\r' <"$WORK/head")" "^WWW-Authenticate: Bearer"
  expect_eq "HEAD $path without the token" "$(curl -s -I -o /dev/null -w '%{http_code}' "$A$path")" 401
  expect_request "GET $path with a wrong token" 403 GET "$path" "${wrong[@]}"
  expect_request "GET $path with the token" 200 GET "$path" "${auth[@]}"
done
expect_request "the page without the token" 200 GET /
for asset in $(grep -o '/assets/[a-z_.-]*' "$WORK/body" | sort -u); do
  expect_request "GET $asset without the token" 200 GET "$asset"
done
expect_request "a mutation without the token, as before" 401 POST /api/v1/overrides "${json[@]}" -d '{"site":"eu","state":"drain"}'
expect_eq "another node's reads stay open" \
  "$(curl -s -o /dev/null -w '%{http_code}' "http://${admin[nrt-1]}/api/v1/status")" 200
# Prometheus sends the token from its scrape config (docs/security.md).
if parsed=$(curl -s "${auth[@]}" "$A/metrics" | /usr/bin/python3 "$(dirname "$0")/check_metrics.py" meridian_uptime_seconds 2>&1); then
  pass
else
  fail "/metrics with the token: $parsed"
fi
expect_match "meridian status --token-file" \
  "$("$MERIDIAN" status --admin "${admin[ams-1]}" --token-file "$WORK/token")" "^node ams-1 \(site eu\)"
expect_match "meridian status -c FILE (its token_file)" "$("$MERIDIAN" status -c "$WORK/ams-1.yaml")" "^node ams-1 \(site eu\)"
if "$MERIDIAN" status --admin "${admin[ams-1]}" >/dev/null 2>"$WORK/err"; then fail "meridian status without the token"; fi
expect_match "meridian status without the token: why" "$(cat "$WORK/err")" "answered 401: this needs"
expect_match "meridian explain --token-file" \
  "$("$MERIDIAN" explain www.api.test 198.51.100.7 --admin "${admin[ams-1]}" --token-file "$WORK/token")" "^answer: "
expect_match "meridian events --token-file" \
  "$("$MERIDIAN" events --limit 1000 --admin "${admin[ams-1]}" --token-file "$WORK/token")" "127\.0\.0\.4@eu/secured"
expect_match "meridian config history --token-file" \
  "$("$MERIDIAN" config history --admin "${admin[ams-1]}" --token-file "$WORK/token")" "a secret"
expect_eq "meridian kv get --token-file" \
  "$("$MERIDIAN" kv get _config/current --admin "${admin[ams-1]}" --token-file "$WORK/token")" 2
expect_match "meridian cluster status --token-file" \
  "$("$MERIDIAN" cluster status --admin "${admin[ams-1]}" --token-file "$WORK/token")" "^node ams-1: "

# The token and the check's secret are in no log.
if grep -qF "$TOKEN" "$WORK"/*.log; then fail "the token is in a log"; else pass; fi
if grep -qF "$SECRET" "$WORK"/*.log; then fail "the check's secret is in a log"; else pass; fi

# An admin address other hosts can reach needs a token: the config is refused.
sed 's/^admin: .*/admin: { listen: "0.0.0.0:18053" }/' "$WORK/ams-1.yaml" >"$WORK/open.yaml"
code=0
"$MERIDIAN" check-config "$WORK/open.yaml" >"$WORK/open.out" 2>&1 || code=$?
expect_eq "non-loopback admin without a token: refused" "$code" 1
expect_match "non-loopback admin without a token: why" "$(cat "$WORK/open.out")" \
  "open.yaml:[0-9]+:[0-9]+: .*a loopback address, or a token_file"
code=0
timeout 10 "$MERIDIAN" serve -c "$WORK/open.yaml" >"$WORK/open-serve.out" 2>&1 || code=$?
expect_eq "non-loopback admin without a token: serve exits" "$code" 1
finish
