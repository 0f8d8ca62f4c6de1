#!/usr/bin/env bash
# Per-client limits on one node (docs/security.md, "Connection limits"):
# one client (127.0.0.1) opens 2,000 DNS TCP connections and holds them.
# Its /24 keeps tcp_max_connections_per_client (64) of them, the rest are
# closed at once and counted in /metrics; meanwhile the node's health
# probes keep passing (the endpoint stays up, no probe fails), and a client
# of another /24 (127.0.1.2) is answered over TCP, while another address of
# the flooding /24 (127.0.0.2) is not. Then the admin API's per-address cap,
# and a node refused at start when its descriptor budget exceeds the
# open-file limit. About 15 s.
meridian=$1
src=$2
source "$(dirname "$0")/test_lib.sh"
require_tool dig
require_tool ss
require_tool curl
require_tool jq
require_tool python3

flood=2000
per_client=64  # the default of dns.tcp_max_connections_per_client
# The holder's 2,000 sockets need descriptors: raise this shell's soft limit
# (its children inherit it). The node raises its own to the hard limit.
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt $((flood + 200)) ]; then
  echo "FAIL: the hard open-file limit ($(ulimit -Hn)) is below $((flood + 200))" >&2
  exit 1
fi
ulimit -Sn $((flood + 200))

work=$(mktemp -d)
pids=()
cleanup() {
  touch "$work/release" "$work/release-admin" 2>/dev/null || true
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

dns_port=$(pick_port)
admin_port=$(pick_port)
backend_port=$(pick_port)
A="http://127.0.0.1:$admin_port"

write_config() {  # $1: the dns section's extra keys
  cat >"$work/node.yaml" <<YAML
node: { id: limits-1, site: eu-west }
dns: { listen: ["127.0.0.1:$dns_port"], threads: 1, tcp_idle_timeout: 60s $1 }
admin: { listen: "127.0.0.1:$admin_port" }
sites:
  eu-west: { lat: 51.51, lon: -0.13 }
checks:
  web: { type: http, port: 80, path: /healthz, interval: 300ms, timeout: 250ms, rise: 1, fall: 1 }
zones:
  - origin: demo.test.
    soa: { mname: ns1, rname: hostmaster }
    ns: [ns1]
    records: ["ns1 IN A 127.0.0.1"]
    services:
      www:
        ttl: 30
        check: web
        endpoints:
          - { address: 192.0.2.30, site: eu-west, check: { target: 127.0.0.1, port: $backend_port } }
YAML
}

metric() {  # NAME{LABELS} as printed: its value, or "none"
  local value
  value=$(curl -s "$A/metrics" | awk -v name="$1" '$1 == name { print $2 }')
  echo "${value:-none}"
}
# Probes of the check that did not pass (failed, or could not run), in all.
probes_not_ok() {
  curl -s "$A/metrics" | awk '/^meridian_probes_total\{check="web",/ && !/result="ok"/ { n += $2 } END { print n + 0 }'
}
probed() { curl -s "$A/api/v1/services" | jq -r '.services[0].endpoints[0].probed'; }
tcp_answer() {  # SOURCE: the TCP answer for www from that address, or "none"
  local answer
  # Only an address: dig prints its communication errors on stdout too.
  answer=$(dig @127.0.0.1 -p "$dns_port" -b "$1" +tcp +time=2 +tries=1 +short www.demo.test A 2>/dev/null |
    grep -E '^[0-9.]+$' | head -1 || true)
  echo "${answer:-none}"
}
wait_file() {  # FILE: until it exists (20 s at most)
  for _ in $(seq 1 200); do [ -s "$1" ] && return 0; sleep 0.1; done
  return 1
}

"$meridian" backend --listen "127.0.0.1:$backend_port" --name eu &
pids+=($!)
for _ in $(seq 1 50); do ss -Htln "sport = :$backend_port" | grep -q . && break; sleep 0.05; done
write_config ""
"$meridian" serve -c "$work/node.yaml" >"$work/log" 2>&1 &
node=$!
pids+=($node)
wait_for_dns "$dns_port" || { cat "$work/log"; echo "FAIL: node did not answer"; exit 1; }
for _ in $(seq 1 50); do [ "$(probed)" == up ] && break; sleep 0.1; done
expect_eq "the endpoint is up before the flood" "$(probed)" "up"
expect_match "the start logs the open-file limit and the budget" "$(cat "$work/log")" \
  'open-file limit [0-9]+, budget [0-9]+ descriptors'
ok_before=$(metric 'meridian_probes_total{check="web",result="ok"}')
not_ok_before=$(probes_not_ok)

# 1. The flood: 2,000 connections from 127.0.0.1, held.
python3 "$src/tests/integration/hold_connections.py" "$dns_port" 127.0.0.1 "$flood" \
  "$work/status" "$work/release" 2 40 &
pids+=($!)
wait_file "$work/status" || { echo "FAIL: the holder did not report"; exit 1; }
expect_eq "the flooding client keeps its share, the rest is closed at once" \
  "$(cat "$work/status")" "open=$per_client closed=$((flood - per_client))"

# While the 64 are held: another /24 is answered over TCP; the same /24 is not.
expect_eq "a client of another /24 is answered over TCP during the flood" "$(tcp_answer 127.0.1.2)" "192.0.2.30"
expect_eq "another address of the flooding /24 is over its cap" "$(tcp_answer 127.0.0.2)" "none"
expect_eq "UDP is answered during the flood" \
  "$(dig @127.0.0.1 -p "$dns_port" +time=2 +tries=1 +short www.demo.test A | head -1)" "192.0.2.30"

# Health probes keep running and passing while the connections are held.
sleep 1.5
ok_during=$(metric 'meridian_probes_total{check="web",result="ok"}')
if [ "$ok_during" != none ] && [ "$ok_before" != none ] && [ "$ok_during" -ge $((ok_before + 3)) ]; then pass; else
  fail "probes did not keep passing during the flood: ok $ok_before -> $ok_during"; fi
expect_eq "the endpoint stays up during the flood" "$(probed)" "up"
expect_eq "no probe failed or lacked a socket during the flood" "$(probes_not_ok)" "$not_ok_before"
expect_eq "the endpoint is in answers (metrics)" \
  "$(metric 'meridian_endpoint_usable{service="www.demo.test.",endpoint="192.0.2.30",site="eu-west"}')" "1"

# The caps are visible in /metrics.
expect_eq "open DNS TCP connections: the flooding client's share" \
  "$(metric meridian_dns_tcp_connections)" "$per_client"
expect_eq "one client network holds them" "$(metric meridian_dns_tcp_client_networks)" "1"
refused=$(metric 'meridian_dns_tcp_connections_refused_total{reason="client_limit"}')
if [ "$refused" != none ] && [ "$refused" -ge $((flood - per_client)) ]; then pass; else
  fail "client_limit refusals: expected at least $((flood - per_client)), got $refused"; fi
expect_eq "no refusal at the server's cap" \
  "$(metric 'meridian_dns_tcp_connections_refused_total{reason="server_limit"}')" "0"
expect_eq "nothing evicted below the total cap" "$(metric meridian_dns_tcp_connections_evicted_total)" "0"
touch "$work/release"

# 2. The admin API: 16 connections per client address (the default); more
#    are closed at accept. Its header timeout is 5 s: counted well before.
python3 "$src/tests/integration/hold_connections.py" "$admin_port" 127.0.0.1 20 \
  "$work/status-admin" "$work/release-admin" 1 10 &
pids+=($!)
wait_file "$work/status-admin" || { echo "FAIL: the admin holder did not report"; exit 1; }
expect_eq "the admin API keeps 16 connections of one address" "$(cat "$work/status-admin")" "open=16 closed=4"
expect_eq "another address still reaches the admin API" \
  "$(curl -s --interface 127.0.0.3 -o /dev/null -w '%{http_code}' "$A/api/v1/status")" "200"
expect_eq "admin refusals in /metrics" \
  "$(curl -s --interface 127.0.0.3 "$A/metrics" | awk '$1 == "meridian_admin_connections_refused_total{reason=\"client_limit\"}" { print $2 }')" "4"
touch "$work/release-admin"

kill "$node"
wait "$node" 2>/dev/null || true

# 3. The descriptor budget: with a hard limit of 600, the default 1,000 TCP
#    connections cannot fit, and the node says so instead of starting.
set +e
# (Bounded: a node that starts anyway would otherwise run until killed.)
(ulimit -n 600 && exec timeout 20 "$meridian" serve -c "$work/node.yaml") >"$work/refused.log" 2>&1
code=$?
set -e
expect_eq "a node whose budget exceeds the limit refuses to start" "$code" "1"
expect_match "the refusal names the limit and the budget" "$(cat "$work/refused.log")" \
  'the open-file limit \(RLIMIT_NOFILE\) is 600, but this config may need [0-9]+ descriptors'
expect_match "the refusal says what to change" "$(cat "$work/refused.log")" \
  'lower dns.tcp_max_connections to at most [0-9]+, or raise the open-file limit .*LimitNOFILE='
# ... and starts once tcp_max_connections fits (the advice is right).
write_config ", tcp_max_connections: 200"
(ulimit -n 600 && exec "$meridian" serve -c "$work/node.yaml") >"$work/fits.log" 2>&1 &
small=$!
pids+=($small)
if wait_for_dns "$dns_port"; then pass; else fail "the node with a budget that fits did not start: $(cat "$work/fits.log")"; fi
kill "$small" 2>/dev/null || true

finish
