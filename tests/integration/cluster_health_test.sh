#!/usr/bin/env bash
# Replicated health on loopback: three `meridian serve` nodes (three sites)
# and one HTTP backend per site. Every node probes every endpoint and
# reports to the cluster; the leader's verdicts are what every node answers
# from. Stopping the first site's backend must move every node's answer to
# the second site within interval x fall + 2 s, and starting it again must
# bring every node back.
#
#   cluster_health_test.sh MERIDIAN_BINARY SOURCE_DIR
source "$(dirname "$0")/test_lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
MERIDIAN=$1
require_tool jq
require_tool dig
WORK=$(mktemp -d)
declare -A pid admin dns
backend_pid=()
cleanup() {
  for p in "${pid[@]}" "${backend_pid[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ "$failures" -ne 0 ]; then tail -n 40 "$WORK"/*.log >&2; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

names=(n1 n2 n3)
make_pki "${names[@]}"
declare -A peer backend_port
peers="["
for i in 1 2 3; do
  name=n$i
  peer[$name]=127.0.0.1:$(pick_port)
  admin[$name]=127.0.0.1:$(pick_port)
  dns[$name]=$(pick_port)
  backend_port[$i]=$(pick_port)
  peers+="{ id: $name, address: \"${peer[$name]}\" }, "
done
peers="${peers%, }]"

start_backend() {
  "$MERIDIAN" backend --listen "127.0.0.1:${backend_port[$1]}" --name "site$1" >>"$WORK/backend$1.log" 2>&1 &
  backend_pid[$1]=$!
}
for i in 1 2 3; do start_backend "$i"; done

for i in 1 2 3; do
  name=n$i
  mkdir -p "$WORK/$name"
  cat >"$WORK/$name.yaml" <<YAML
node: { id: $name, site: s$i, data_dir: $WORK/$name/data }
dns: { listen: ["127.0.0.1:${dns[$name]}"], threads: 1 }
log: { level: info }
admin: { listen: "${admin[$name]}", token_file: $WORK/token }
cluster:
  listen: "${peer[$name]}"
  peers: $peers
  tls: { ca: $WORK/certs/ca.pem, cert: $WORK/certs/$name.pem, key: $WORK/certs/$name.key }
sites:
  s1: { lat: 50.1, lon: 8.7 }
  s2: { lat: 39.0, lon: -77.5 }
  s3: { lat: 1.3, lon: 103.8 }
checks:
  web: { type: http, path: /, interval: 1s, timeout: 500ms, rise: 2, fall: 2 }
zones:
  - origin: cluster.test.
    soa: { mname: ns1, rname: hostmaster }
    ns: [ns1]
    records: ["ns1 IN A 192.0.2.53"]
    services:
      www:
        ttl: 30
        check: web
        default_sites: [s1, s2, s3]
        endpoints:
          - { address: 192.0.2.1, site: s1, check: { use: web, port: ${backend_port[1]}, target: 127.0.0.1 } }
          - { address: 192.0.2.2, site: s2, check: { use: web, port: ${backend_port[2]}, target: 127.0.0.1 } }
          - { address: 192.0.2.3, site: s3, check: { use: web, port: ${backend_port[3]}, target: 127.0.0.1 } }
YAML
  "$MERIDIAN" check-config "$WORK/$name.yaml" >/dev/null || fail "config of $name"
  "$MERIDIAN" serve -c "$WORK/$name.yaml" >>"$WORK/$name.log" 2>&1 &
  pid[$name]=$!
done

answer() { dig @127.0.0.1 -p "${dns[$1]}" +short +time=1 +tries=1 www.cluster.test A 2>/dev/null | head -1; }
# every_node_answers ADDRESS SECONDS: until all three answer ADDRESS; prints the time taken in ms.
every_node_answers() {
  local started now
  started=$(date +%s%N)
  while true; do
    if [ "$(answer n1)" == "$1" ] && [ "$(answer n2)" == "$1" ] && [ "$(answer n3)" == "$1" ]; then
      echo $(( ($(date +%s%N) - started) / 1000000 ))
      return 0
    fi
    now=$(date +%s%N)
    [ $(( (now - started) / 1000000000 )) -ge "$2" ] && return 1
    sleep 0.05
  done
}

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
finish
