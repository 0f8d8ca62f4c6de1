#!/usr/bin/env bash
# Replicated health across three sites in Linux network namespaces: one node
# per namespace, each with its site's HTTP backend beside it (on a second
# address of the namespace, so routes can cut a backend without cutting the
# node). The namespaces hang on a bridge in a hub namespace; addresses come
# from 198.18.0.0/15 (RFC 2544 benchmarking range), nothing is routed off
# the machine. With interval 1 s and fall 2, the test shows:
#   1. a stopped backend: every node answers the next site within
#      interval x fall + 2 s = 4 s, and comes back when it is back;
#   2. one observer alone cannot reach a backend: the verdict stays up and
#      every node goes on answering it (majority quorum);
#   3. a whole site cut off: it goes on answering from what it last knew;
#      after local_fallback_after (5 s here) it answers from its own probes
#      (only its own backend is reachable); the others are unaffected; after
#      healing every node answers the same again, from the same verdicts.
# Needs root and iproute2: with CI=true their absence fails the test. With
# MERIDIAN_STORE=etcd (cluster_lib.sh) each site runs an etcd member beside
# its node, and the cut-off site's node behaves the same.
#
#   cluster_health_netns_test.sh MERIDIAN_BINARY SOURCE_DIR
source "$(dirname "$0")/test_lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
MERIDIAN=$1
require_tool jq
require_tool ip
require_tool dig
if [ "$(id -u)" -ne 0 ] || ! ip netns add "mrdn-probe-$$" 2>/dev/null; then
  if [ "${CI:-}" == "true" ]; then echo "FAIL: network namespaces need root (ip netns)" >&2; exit 1; fi
  echo "SKIP: network namespaces need root (ip netns); set CI=true to make this a failure"
  exit 0
fi
ip netns del "mrdn-probe-$$"

WORK=$(mktemp -d)
tag=$$
hub=mrdn-hub-$tag
names=(n1 n2 n3)
declare -A ns pid address backend backend_pid
for i in 1 2 3; do
  ns[n$i]=mrdn-h$i-$tag
  address[n$i]=198.18.0.$i
  backend[n$i]=198.18.0.1$i
done
cleanup() {
  # Everything that runs in the namespaces, whoever started it.
  for name in "${names[@]}"; do ip netns pids "${ns[$name]}" 2>/dev/null | xargs -r kill -9; done
  wait 2>/dev/null
  for name in "${names[@]}"; do ip netns del "${ns[$name]}" 2>/dev/null; done
  ip netns del "$hub" 2>/dev/null
  if [ "$failures" -ne 0 ]; then tail -n 40 "$WORK"/*.log >&2; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

ip netns add "$hub"
ip -n "$hub" link add br0 type bridge
ip -n "$hub" link set br0 up
for i in 1 2 3; do
  name=n$i
  ip netns add "${ns[$name]}"
  ip -n "${ns[$name]}" link set lo up
  ip link add "mrdh$tag-$i" netns "$hub" type veth peer name eth0 netns "${ns[$name]}"
  ip -n "$hub" link set "mrdh$tag-$i" master br0 up
  ip -n "${ns[$name]}" addr add "${address[$name]}/24" dev eth0
  ip -n "${ns[$name]}" addr add "${backend[$name]}/24" dev eth0
  ip -n "${ns[$name]}" link set eth0 up
done
in_ns() { local name=$1; shift; ip netns exec "${ns[$name]}" "$@"; }
cut() { ip -n "$hub" link set "mrdh$tag-${1#n}" down; }
heal() { ip -n "$hub" link set "mrdh$tag-${1#n}" up; }

start_backend() {
  # Not through in_ns: a backgrounded function is a subshell, and $! must
  # be the process itself (ip netns exec execs it).
  ip netns exec "${ns[$1]}" "$MERIDIAN" backend --listen "${backend[$1]}:8080" --name "site-$1" \
    >>"$WORK/backend-$1.log" 2>&1 &
  backend_pid[$1]=$!
}

make_pki "${names[@]}"
# With the etcd backend, each site runs an etcd member beside its node
# (cutting a site off cuts its member off too).
for i in 1 2 3; do
  etcd_ns[$i]=${ns[n$i]}
  etcd_host[$i]=${address[n$i]}
done
start_store_peers || exit 1
peers="[{ id: n1, address: \"198.18.0.1:7400\" }, { id: n2, address: \"198.18.0.2:7400\" }, { id: n3, address: \"198.18.0.3:7400\" }]"
for i in 1 2 3; do
  name=n$i
  mkdir -p "$WORK/$name"
  cat >"$WORK/$name.yaml" <<YAML
node: { id: $name, site: s$i, data_dir: $WORK/$name/data }
dns: { listen: ["127.0.0.1:5300"], threads: 1 }
log: { level: info }
admin: { listen: "${address[$name]}:8053", token_file: $WORK/token }
$(store_section "$name" "$peers" "${address[$name]}:7400")
sites:
  s1: { lat: 50.1, lon: 8.7 }
  s2: { lat: 39.0, lon: -77.5 }
  s3: { lat: 1.3, lon: 103.8 }
health: { local_fallback_after: 5s }
checks:
  web: { type: http, port: 8080, path: /, interval: 1s, timeout: 500ms, rise: 2, fall: 2 }
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
          - { address: 192.0.2.1, site: s1, check: { use: web, target: ${backend[n1]} } }
          - { address: 192.0.2.2, site: s2, check: { use: web, target: ${backend[n2]} } }
          - { address: 192.0.2.3, site: s3, check: { use: web, target: ${backend[n3]} } }
YAML
  "$MERIDIAN" check-config "$WORK/$name.yaml" >/dev/null || fail "config of $name"
done
for name in "${names[@]}"; do start_backend "$name"; done
for name in "${names[@]}"; do
  ip netns exec "${ns[$name]}" "$MERIDIAN" serve -c "$WORK/$name.yaml" >>"$WORK/$name.log" 2>&1 &
  pid[$name]=$!
done

answer() { in_ns "$1" dig @127.0.0.1 -p 5300 +short +time=1 +tries=1 www.cluster.test A 2>/dev/null | head -1; }
answers() { echo "$(answer n1) $(answer n2) $(answer n3)"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# until_answers EXPECTED SECONDS: until answers prints EXPECTED; prints the ms taken.
until_answers() {
  local started
  started=$(now_ms)
  while [ "$(answers)" != "$1" ]; do
    [ $(($(now_ms) - started)) -ge $(($2 * 1000)) ] && return 1
    sleep 0.05
  done
  echo $(($(now_ms) - started))
}
# holds EXPECTED SECONDS: answers stays EXPECTED the whole time.
holds() {
  local started seen
  started=$(now_ms)
  while [ $(($(now_ms) - started)) -lt $(($2 * 1000)) ]; do
    seen=$(answers)
    [ "$seen" != "$1" ] && { echo "$seen"; return 1; }
    sleep 0.2
  done
}
kv_local() { in_ns "$1" "$MERIDIAN" kv scan "$2" --local --admin "${address[$1]}:8053" 2>/dev/null; }

until_answers "192.0.2.1 192.0.2.1 192.0.2.1" 30 >/dev/null && pass || fail "the nodes never all answered site 1: $(answers)"
for _ in $(seq 1 100); do
  [ "$(kv_local n1 _health/verdict/ | grep -c 'up 3/3')" -eq 3 ] && break
  sleep 0.1
done
expect_eq "three verdicts, each seen up by all three" "$(kv_local n1 _health/verdict/ | grep -c 'up 3/3')" 3

# 1. A stopped backend moves every node within interval x fall + 2 s.
kill "${backend_pid[n1]}"
wait "${backend_pid[n1]}" 2>/dev/null || true
if took=$(until_answers "192.0.2.2 192.0.2.2 192.0.2.2" 4); then
  pass
  echo "backend 1 stopped: every node answered site 2 after ${took} ms"
else
  fail "not every node answered site 2 within 4 s: $(answers)"
fi
start_backend n1
until_answers "192.0.2.1 192.0.2.1 192.0.2.1" 6 >/dev/null && pass || fail "site 1 did not come back: $(answers)"

# 2. Only n2 cannot reach backend 1 (a route in n2's namespace refuses it):
# n2 sees it down, the majority does not, and every node keeps answering it.
in_ns n2 ip route add prohibit "${backend[n1]}/32"
for _ in $(seq 1 60); do
  kv_local n2 _health/obs/n2 | grep -q "${backend[n1]}@s1/web:8080	d" && break
  sleep 0.1
done
expect_match "n2's own view of backend 1" "$(kv_local n2 _health/obs/n2)" "${backend[n1]}@s1/web:8080	d"
if seen=$(holds "192.0.2.1 192.0.2.1 192.0.2.1" 4); then pass; else fail "one observer moved the answers: $seen"; fi
expect_match "the verdict, with n2's dissent" "$(kv_local n3 _health/verdict/${backend[n1]}@s1/web:8080)" "up 2/3"
in_ns n2 ip route del prohibit "${backend[n1]}/32"

# 3. Cut site 3 off from everything but its own backend.
cut n3
cut_at=$(now_ms)
# Before local_fallback_after it answers what it last knew, though its own
# probes of backends 1 and 2 fail after 2 s.
if seen=$(holds "192.0.2.1 192.0.2.1 192.0.2.1" 4); then pass; else fail "answers changed before the fallback: $seen"; fi
# Then it answers from its own probes: only its own backend is up.
started=$(now_ms)
while [ "$(answer n3)" != "192.0.2.3" ] && [ $(($(now_ms) - started)) -lt 8000 ]; do sleep 0.1; done
fallback_ms=$(($(now_ms) - cut_at))
expect_eq "the cut-off site answers from its own probes" "$(answer n3)" "192.0.2.3"
echo "site 3 cut off: it answered from its own probes after ${fallback_ms} ms (local_fallback_after 5 s)"
[ "$fallback_ms" -ge 5000 ] && pass || fail "the fallback came after ${fallback_ms} ms, before local_fallback_after"
expect_match "it says so" "$(cat "$WORK/n3.log")" "answering from this node's own probes"
expect_eq "the majority is unaffected" "$(answer n1) $(answer n2)" "192.0.2.1 192.0.2.1"

heal n3
if took=$(until_answers "192.0.2.1 192.0.2.1 192.0.2.1" 15); then
  pass
  echo "healed: every node answers site 1 again after ${took} ms"
else
  fail "the nodes did not converge after healing: $(answers)"
fi
# Its own probes see backend 1 again within a probe interval, so the answers
# above can converge before n3 has heard from a leader (slower on a loaded
# machine): the return to the replicated verdicts is waited for on its own.
for _ in $(seq 1 150); do
  grep -q "answering from the replicated verdicts again" "$WORK/n3.log" && break
  sleep 0.1
done
expect_match "it says it is back" "$(cat "$WORK/n3.log")" "answering from the replicated verdicts again"
# Every node holds the same verdicts, and they are current (3 observers).
converged=0
for _ in $(seq 1 100); do
  v1=$(kv_local n1 _health/verdict/); v2=$(kv_local n2 _health/verdict/); v3=$(kv_local n3 _health/verdict/)
  if [ "$v1" == "$v2" ] && [ "$v2" == "$v3" ] && [ "$(grep -c 'up 3/3' <<<"$v1")" -eq 3 ]; then converged=1; break; fi
  sleep 0.1
done
expect_eq "every node holds the same verdicts, all up 3/3" "$converged" 1
[ "$converged" -eq 1 ] || printf 'n1:\n%s\nn2:\n%s\nn3:\n%s\n' "$v1" "$v2" "$v3" >&2
finish
