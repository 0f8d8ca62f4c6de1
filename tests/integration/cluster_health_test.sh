#!/usr/bin/env bash
# Replicated health on loopback: three `meridian serve` nodes (three sites)
# and one HTTP backend per site. Every node probes every endpoint and
# reports to the cluster; the leader's verdicts are what every node answers
# from. Stopping the first site's backend must move every node's answer to
# the second site within interval x fall + 2 s, and starting it again must
# bring every node back. Then the operator's actions: drain an endpoint, a
# site, one with an expiry, through different nodes; the overrides, the
# event log, and the refusals without a token or for unknown targets. Last,
# kill -9 of every node at once: overrides, verdicts and events come back
# from disk and the first answers follow them.
#
#   cluster_health_test.sh MERIDIAN_BINARY SOURCE_DIR
source "$(dirname "$0")/test_lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
MERIDIAN=$1
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
  stop_store_peers
  wait 2>/dev/null
  if [ "$failures" -ne 0 ]; then tail -n 40 "$WORK"/*.log >&2; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

names=(n1 n2 n3)
sites=(s1 s2 s3)
coordinates=("50.1, lon: 8.7" "39.0, lon: -77.5" "1.3, lon: 103.8")
ZONE=cluster.test
make_pki "${names[@]}"
start_three_site_cluster
start_backend() { start_site_backend "$1"; }

# The cluster forms, every node publishes its view, the leader decides.
every_node_answers 192.0.2.1 20 >/dev/null && pass || fail "the nodes never all answered the first site"
verdicts=""
for _ in $(seq 1 100); do
  verdicts=$( ("$MERIDIAN" kv scan _health/verdict/ --admin "${admin[n1]}" 2>/dev/null || true) | wc -l)
  [ "$verdicts" -eq 3 ] && break
  sleep 0.1
done
expect_eq "replicated verdicts" "$verdicts" 3

# Fail the first site's backend: interval 1 s x fall 2 + 2 s = 4 s.
kill "${backend_pid[1]}"
wait "${backend_pid[1]}" 2>/dev/null
if took=$(every_node_answers 192.0.2.2 4); then
  pass
  echo "every node moved to the second site after ${took} ms"
else
  fail "not every node answered 192.0.2.2 within 4 s (n1 $(answer n1), n2 $(answer n2), n3 $(answer n3))"
fi
expect_match "the verdict says why" "$("$MERIDIAN" kv get _health/verdict/127.0.0.1@s1/web:${backend_port[1]} --admin "${admin[n2]}")" "^down [01]/3$"

# And back.
start_backend 1
if took=$(every_node_answers 192.0.2.1 6); then
  pass
  echo "every node came back to the first site after ${took} ms"
else
  fail "not every node came back to 192.0.2.1"
fi

# The running node explains its answers (GET /api/v1/explain), with live health.
explain() { curl -s "http://${admin[n2]}/api/v1/explain?$1"; }
explained=$(explain "name=www.cluster.test&client=198.51.100.7")
expect_eq "explain: the answer" "$(jq -c .answer <<<"$explained")" '["192.0.2.1"]'
expect_eq "explain: the candidates" "$(jq -c '[.candidates[] | .site + ":" + .state]' <<<"$explained")" \
  '["s1:picked","s2:available","s3:available"]'
expect_match "explain: the client" "$(jq -r .client.source <<<"$explained")" "source address"
expect_match "explain: the text" "$(jq -r .text <<<"$explained")" "^service: www.cluster.test."
if jq -r .text <<<"$explained" | grep -q offline; then fail "a running node explained offline"; else pass; fi
expect_eq "explain: with ECS" "$(explain "name=www.cluster.test&client=198.51.100.7&ecs=81.2.69.0/24" | jq -r .service)" \
  "www.cluster.test."
for bad in "client=1.2.3.4" "name=www.cluster.test&client=nope" "name=nothing.test&client=1.2.3.4" \
  "name=www.cluster.test&client=1.2.3.4&ecs=x" "name=www.cluster.test&client=1.2.3.4&type=MX"; do
  expect_eq "explain?$bad answers 400" "$(curl -s -o /dev/null -w '%{http_code}' "http://${admin[n2]}/api/v1/explain?$bad")" 400
done

api() { curl -s "http://${admin[$1]}/api/v1/$2"; }
# meridian status: the node's own view. (The status views are rebuilt once
# a second: wait for the recovery above to reach them.)
for _ in $(seq 1 50); do
  [ "$(api n2 sites | jq -c '[.sites[] | .state]')" == '["up","up","up"]' ] &&
    [ "$(api n3 services | jq '[.services[0].endpoints[] | select(.usable)] | length')" == 3 ] && break
  sleep 0.1
done
node_status=$("$MERIDIAN" status --admin "${admin[n2]}")
expect_match "meridian status: the node" "$node_status" "^node n2 \(site s2\), meridian "
expect_match "meridian status: an endpoint" "$node_status" "192.0.2.1 +s1 +yes +cluster verdict +up"
# The node's status, sites, services, health matrix and metrics.
status=$(api n1 status)
expect_eq "status: name and site" "$(jq -r '.name + " " + .site' <<<"$status")" "n1 s1"
expect_match "status: the cluster role" "$(jq -r .cluster.role <<<"$status")" "^(leader|follower)$"
expect_eq "status: the store's backend" "$(jq -r .cluster.backend <<<"$status")" "$STORE_BACKEND"
expect_eq "status: version" "$(jq -r .version <<<"$status")" "$("$MERIDIAN" version | cut -d' ' -f2)"
services=$(api n3 services)
expect_eq "services: every endpoint, usable, from the cluster's verdict" \
  "$(jq -c '[.services[0].endpoints[] | .addresses[0] + " " + (.usable|tostring) + " " + .source + " " + .cluster_verdict]' <<<"$services")" \
  '["192.0.2.1 true cluster verdict up","192.0.2.2 true cluster verdict up","192.0.2.3 true cluster verdict up"]'
expect_eq "sites: all up" "$(api n2 sites | jq -c '[.sites[] | .name + ":" + .state]')" '["s1:up","s2:up","s3:up"]'
# (The views follow the probes within a second or two of the recovery above.)
for _ in $(seq 1 50); do
  matrix=$(api n2 health/matrix)
  [ "$(jq '[.targets[].views[] | select(. == "up")] | length' <<<"$matrix")" == 9 ] && break
  sleep 0.1
done
expect_eq "matrix: three live observers" "$(jq -c '[.observers[] | select(.live) | .name]' <<<"$matrix")" '["n1","n2","n3"]'
expect_eq "matrix: every observer sees every target up" \
  "$(jq '[.targets[].views[] | select(. == "up")] | length' <<<"$matrix")" 9
metrics=$(curl -s "http://${admin[n1]}/metrics")
checked=$(/usr/bin/python3 "$(dirname "$0")/check_metrics.py" meridian_dns_queries_total meridian_probes_total \
  meridian_probe_duration_seconds meridian_raft_term meridian_raft_commit_index process_resident_memory_bytes \
  process_open_fds meridian_endpoint_usable meridian_verdict_changes_total <<<"$metrics") && pass ||
  fail "/metrics: $checked"
echo "/metrics: $checked"
expect_match "metrics: the probes of check web" "$metrics" 'meridian_probes_total\{check="web",result="ok"\} [1-9]'
expect_match "metrics: the failover was a verdict change" "$metrics" 'meridian_verdict_changes_total [1-9]'
expect_match "metrics: queries by type" "$metrics" 'meridian_dns_queries_by_type_total\{qtype="A"\} [1-9]'
expect_match "metrics: queries by zone" "$metrics" 'meridian_dns_queries_by_zone_total\{zone="cluster.test."\} [1-9]'
expect_match "metrics: answers by service" "$metrics" \
  'meridian_dns_service_answers_by_service_total\{service="www.cluster.test."\} [1-9]'
expect_match "metrics: answers by site" "$metrics" 'meridian_dns_answers_by_site_total\{site="s2"\} [1-9]'
expect_eq "stats: the sampling interval" "$(api n1 stats | jq .interval_s)" 10

# DNS cookies: the secret is the cluster's, so a server cookie learned from
# one node is valid at the others (a valid, young cookie is echoed as sent;
# one a node cannot verify is replaced). The decider writes the secret a
# few seconds after it starts deciding.
cookie_echoed=""
for _ in $(seq 1 50); do
  learned=$(dig @127.0.0.1 -p "${dns[n1]}" +cookie "www.$ZONE" A | sed -n 's/^; COOKIE: \([0-9a-f]*\).*/\1/p')
  returned=$(dig @127.0.0.1 -p "${dns[n3]}" +cookie="$learned" "www.$ZONE" A | sed -n 's/^; COOKIE: \([0-9a-f]*\).*/\1/p')
  [ ${#learned} -eq 48 ] && [ "$returned" == "$learned" ] && cookie_echoed=yes && break
  sleep 0.2
done
expect_eq "a cookie from n1 is valid at n3 (the cluster's secret)" "$cookie_echoed" yes
# The secret itself never leaves a node through the API.
expect_eq "kv lists no secret" "$(curl -s "http://${admin[n1]}/api/v1/kv?prefix=_secret/" | jq -c .items)" "[]"
expect_eq "kv refuses the secret's key" \
  "$(curl -s -o /dev/null -w '%{http_code}' "http://${admin[n1]}/api/v1/kv/_secret/dns_cookie")" 403

# Operator actions, each sent to a different node (followers forward).
ops() { "$MERIDIAN" "$@" --token-file "$WORK/token"; }
expect_eq "drain an endpoint" "$(ops drain --endpoint 192.0.2.1 --reason "kernel update" --author alice \
  --admin "${admin[n2]}")" "endpoint 192.0.2.1: drain"
every_node_answers 192.0.2.2 3 >/dev/null && pass || fail "a drained endpoint still answered"
overrides=$("$MERIDIAN" overrides --admin "${admin[n3]}")
expect_match "overrides lists it" "$overrides" "endpoint 192.0.2.1 +drain .* alice +kernel update"
expect_eq "undrain" "$(ops undrain --endpoint 192.0.2.1 --admin "${admin[n3]}")" "endpoint 192.0.2.1: override removed"
every_node_answers 192.0.2.1 3 >/dev/null && pass || fail "an undrained endpoint did not come back"
# By the probed address too (check.target): the endpoint probed at 127.0.0.2.
ops force-down --endpoint 127.0.0.2 --admin "${admin[n1]}" >/dev/null || fail "force-down by the probed address"
ops drain --endpoint 192.0.2.1 --admin "${admin[n1]}" >/dev/null || fail "drain again"
every_node_answers 192.0.2.3 3 >/dev/null && pass || fail "the endpoint forced down by its probed address still answered"
ops undrain --endpoint 127.0.0.2 --admin "${admin[n1]}" >/dev/null || fail "undrain by the probed address"
ops undrain --endpoint 192.0.2.1 --admin "${admin[n1]}" >/dev/null || fail "undrain again"
every_node_answers 192.0.2.1 3 >/dev/null && pass || fail "the endpoints did not come back"

# Scheduled maintenance of a whole site ends by itself.
expect_match "drain a site for 4 s" "$(ops drain --site s1 --for 4s --reason window --admin "${admin[n1]}")" \
  "^site s1: drain until 20[0-9-]+T[0-9:]+Z$"
every_node_answers 192.0.2.2 3 >/dev/null && pass || fail "a drained site still answered"
ops force-down --site s2 --admin "${admin[n2]}" >/dev/null || fail "force-down a site"
every_node_answers 192.0.2.3 3 >/dev/null && pass || fail "a forced-down site still answered"
ops undrain --site s2 --admin "${admin[n2]}" >/dev/null || fail "undrain a site"
every_node_answers 192.0.2.1 8 >/dev/null && pass || fail "the site drain did not end by itself"
expect_eq "the expired override is gone" "$("$MERIDIAN" overrides --json --admin "${admin[n3]}" | jq -c .overrides)" "[]"

# Everything is in the replicated event log, newest first.
events=$("$MERIDIAN" events --admin "${admin[n3]}")
expect_match "events: the verdict change" "$events" "verdict +127.0.0.1@s1/web:${backend_port[1]}: down"
expect_match "events: the endpoint drain" "$events" "override +endpoint 192.0.2.1: drain: kernel update \(alice\)"
expect_match "events: the undrain" "$events" "override-removed +endpoint 192.0.2.1"
expect_match "events: the expiry" "$events" "override-expired +site s1: drain ended"
expect_eq "events --limit" "$("$MERIDIAN" events --limit 2 --json --admin "${admin[n1]}" | jq '.events | length')" 2
# Paging: two pages of two follow each other without a gap or an overlap.
page1=$(curl -s "http://${admin[n1]}/api/v1/events?limit=2")
page2=$(curl -s "http://${admin[n1]}/api/v1/events?limit=2&before=$(jq -r .next <<<"$page1")")
all4=$(curl -s "http://${admin[n1]}/api/v1/events?limit=4")
expect_eq "events: pages" "$(jq -c '[.events[].id]' <<<"$page1") $(jq -c '[.events[].id]' <<<"$page2")" \
  "$(jq -c '[.events[0,1].id]' <<<"$all4") $(jq -c '[.events[2,3].id]' <<<"$all4")"
expect_eq "events: a bad cursor" "$(curl -s -o /dev/null -w '%{http_code}' "http://${admin[n1]}/api/v1/events?before=x")" 400

# Refusals: no token, a wrong token, unknown targets, bad arguments.
"$MERIDIAN" drain --site s1 --admin "${admin[n1]}" 2>"$WORK/err" && fail "a drain without a token was accepted"
expect_match "no token: 401" "$(cat "$WORK/err")" "answered 401"
(umask 077 && echo wrong >"$WORK/wrong-token")
"$MERIDIAN" drain --site s1 --admin "${admin[n1]}" --token-file "$WORK/wrong-token" 2>"$WORK/err" &&
  fail "a drain with a wrong token was accepted"
expect_match "wrong token: 403" "$(cat "$WORK/err")" "answered 403"
ops drain --site mars --admin "${admin[n1]}" 2>"$WORK/err" && fail "an unknown site was accepted"
expect_match "unknown site" "$(cat "$WORK/err")" "answered 400: no site 'mars'"
ops drain --endpoint 198.51.100.7 --admin "${admin[n1]}" 2>"$WORK/err" && fail "an unknown endpoint was accepted"
expect_match "unknown endpoint" "$(cat "$WORK/err")" "answered 400: no endpoint answers or is probed at 198.51.100.7"
ops drain --site s1 --for soon --admin "${admin[n1]}" 2>"$WORK/err" && fail "a bad --for was accepted"
expect_match "bad --for" "$(cat "$WORK/err")" "answered 400: \"for\" must be like"
code=0
"$MERIDIAN" drain --admin "${admin[n1]}" 2>/dev/null || code=$?
expect_eq "drain without a target is a usage error" "$code" 2
expect_eq "nothing was left behind" "$("$MERIDIAN" overrides --json --admin "${admin[n2]}" | jq -c .overrides)" "[]"

# Restart every node at once (kill -9). Before: site 1 forced down by an
# operator, site 2's backend down by verdict: every node answers site 3.
ops force-down --site s1 --reason "restart test" --admin "${admin[n1]}" >/dev/null || fail "force-down s1"
kill "${backend_pid[2]}"
wait "${backend_pid[2]}" 2>/dev/null || true
every_node_answers 192.0.2.3 6 >/dev/null && pass || fail "not every node answered site 3 before the restart"
events_before=$("$MERIDIAN" events --limit 1000 --json --admin "${admin[n1]}" | jq '.events | length')
for name in "${names[@]}"; do kill -9 "${pid[$name]}"; done
wait "${pid[@]}" 2>/dev/null || true
for name in "${names[@]}"; do
  "$MERIDIAN" serve -c "$WORK/$name.yaml" >>"$WORK/$name.log" 2>&1 &
  pid[$name]=$!
done
# The first answer of each node already follows the replicated state (its
# own probes alone would answer site 1, whose backend is up).
for name in "${names[@]}"; do
  wait_for_dns "${dns[$name]}" || fail "$name did not come back"
  expect_eq "$name's first answer after the restart" "$(answer "$name")" 192.0.2.3
  expect_match "$name's override from disk" "$("$MERIDIAN" overrides --admin "${admin[$name]}")" "site s1 +down"
  expect_match "$name's verdict from disk" \
    "$("$MERIDIAN" kv get "_health/verdict/127.0.0.2@s2/web:${backend_port[2]}" --local --admin "${admin[$name]}")" "^down"
  events_after=$("$MERIDIAN" events --limit 1000 --json --admin "${admin[$name]}" | jq '.events | length')
  [ "$events_after" -ge "$events_before" ] && pass || fail "$name has $events_after events, $events_before before"
done
# And the cluster goes on: lift the override, start the backend.
undrained=0
for _ in $(seq 1 100); do  # once the restarted members have elected a leader
  if ops undrain --site s1 --admin "${admin[n3]}" >/dev/null 2>&1; then undrained=1; break; fi
  sleep 0.1
done
expect_eq "undrain s1 after the restart" "$undrained" 1
start_backend 2
every_node_answers 192.0.2.1 10 >/dev/null && pass || fail "not every node answered site 1 after the restart"
finish
