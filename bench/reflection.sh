#!/usr/bin/env bash
# Reflection benchmark: what a spoofed flood gets out of a node. Sources
# from one /24 (127.0.5.0/24, several addresses, as an attacker spoofing a
# victim's network would send) ask for a large TXT record (about the size
# of a DNSKEY RRset); the line printed is the bytes the node sent back per
# byte it received, with response rate limiting on (the defaults: 20 per
# second, slip 2) and off, and the latency of a legitimate resolver's
# queries (with a cookie, from another network) during the flood.
# Not a test: numbers only.
#
#   make bench-reflection
#   BENCH_FLOOD_QPS=20000 BENCH_SECONDS=5 make bench-reflection
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
meridian="$build_dir/main/meridian"
seconds=${BENCH_SECONDS:-5}
flood_qps=${BENCH_FLOOD_QPS:-8000}
sources=${BENCH_SOURCES:-4}
legit_qps=${BENCH_LEGIT_QPS:-200}
flood_tool=tests/integration/dns_flood.py

work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
source tests/integration/test_lib.sh
dns_port=$(pick_port)

start_node() {  # $1: responses per second (0: off)
  cat >"$work/node.yaml" <<YAML
node: { id: bench-1, site: here }
dns: { listen: ["127.0.0.1:$dns_port"], threads: 1, rrl: { responses_per_second: $1, exempt: [] } }
log: { level: warn }
sites: { here: { lat: 50, lon: 8 } }
zones:
  - origin: demo.test.
    soa: { mname: ns1, rname: hostmaster }
    ns: [ns1]
    records:
      - "ns1 IN A 127.0.0.1"
      - "www IN A 192.0.2.1"
      - "big IN TXT \"$(printf 'k%.0s' $(seq 1 250))\" \"$(printf 'e%.0s' $(seq 1 250))\" \"$(printf 'y%.0s' $(seq 1 250))\""
YAML
  "$meridian" serve --config "$work/node.yaml" >"$work/node.log" 2>&1 &
  pid=$!
  wait_for_dns "$dns_port" || { echo "the node did not start" >&2; cat "$work/node.log" >&2; exit 1; }
}
stop_node() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

run() {  # $1: rrl rate; prints "ratio p50 p99 answered"
  start_node "$1"
  local per_source=$((flood_qps / sources)) count=$((flood_qps / sources * seconds))
  for i in $(seq 1 "$sources"); do
    python3 "$flood_tool" --port "$dns_port" --source "127.0.5.$((i * 10))" --name big.demo.test \
      --qtype 16 --count "$count" --rate "$per_source" >"$work/flood.$i.json" &
  done
  python3 "$flood_tool" --port "$dns_port" --source 127.0.9.1 --name www.demo.test --cookie \
    --count $((legit_qps * seconds)) --rate "$legit_qps" >"$work/legit.json"
  wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
  stop_node
  python3 - "$work" "$sources" <<'PY'
import json, sys
work, sources = sys.argv[1], int(sys.argv[2])
floods = [json.load(open(f"{work}/flood.{i}.json")) for i in range(1, sources + 1)]
legit = json.load(open(f"{work}/legit.json"))
sent = sum(f["bytes_sent"] for f in floods)
received = sum(f["bytes_received"] for f in floods)
queries = sum(f["sent"] for f in floods)
print(f"{received / sent:.2f} {legit['p50_ms']} {legit['p99_ms']} {legit['full']}/{legit['sent']} {queries}")
PY
}

echo "reflection flood: ${flood_qps} queries/s for ${seconds} s from ${sources} addresses in 127.0.5.0/24,"
echo "TXT answers of about 800 bytes; a legitimate resolver (cookie, 127.0.9.1) at ${legit_qps} queries/s"
read -r ratio p50 p99 answered queries <<<"$(run 0)"
echo "  rate limiting off:        bytes out / bytes in ${ratio}; legitimate p50 ${p50} ms, p99 ${p99} ms, ${answered} answered (${queries} flood queries)"
read -r ratio p50 p99 answered queries <<<"$(run 20)"
echo "  rate limiting on (20/s):  bytes out / bytes in ${ratio}; legitimate p50 ${p50} ms, p99 ${p99} ms, ${answered} answered (${queries} flood queries)"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
