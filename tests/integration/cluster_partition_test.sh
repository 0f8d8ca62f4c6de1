#!/usr/bin/env bash
# Three nodes, each in its own Linux network namespace, joined by veth links
# to a bridge in a fourth ("hub") namespace; addresses from 198.18.0.0/15
# (RFC 2544 benchmarking range), nothing routed off the machine. The test
# cuts the leader's link, then checks, with the default cluster timings:
#   - the majority elects a new leader within 3 s;
#   - a write sent to the old leader is not acknowledged, and never appears;
#   - the majority goes on accepting writes;
#   - after healing, the old leader follows the new one and catches up.
# Needs root and iproute2: with CI=true their absence fails the test.
#
#   cluster_partition_test.sh MERIDIAN_BINARY SOURCE_DIR
source "$(dirname "$0")/test_lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
MERIDIAN=$1
require_tool jq
require_tool ip
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
declare -A ns pid address
for i in 1 2 3; do
  ns[n$i]=mrdn-n$i-$tag
  address[n$i]=198.18.0.$i
done
cleanup() {
  # Everything that runs in the namespaces, whoever started it.
  for name in "${names[@]}"; do ip netns pids "${ns[$name]}" 2>/dev/null | xargs -r kill -9; done
  wait 2>/dev/null
  for name in "${names[@]}"; do ip netns del "${ns[$name]}" 2>/dev/null; done
  ip netns del "$hub" 2>/dev/null
  if [ "$failures" -ne 0 ]; then tail -n 30 "$WORK"/*.log >&2; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The network: hub with a bridge; per node a veth pair, one end in the hub
# on the bridge, the other in the node's namespace with its address.
ip netns add "$hub"
ip -n "$hub" link add br0 type bridge
ip -n "$hub" link set br0 up
for i in 1 2 3; do
  name=n$i
  ip netns add "${ns[$name]}"
  ip -n "${ns[$name]}" link set lo up
  ip link add "mrdn$tag-$i" netns "$hub" type veth peer name eth0 netns "${ns[$name]}"
  ip -n "$hub" link set "mrdn$tag-$i" master br0 up
  ip -n "${ns[$name]}" addr add "${address[$name]}/24" dev eth0
  ip -n "${ns[$name]}" link set eth0 up
done
in_ns() { local name=$1; shift; ip netns exec "${ns[$name]}" "$@"; }
cut() { ip -n "$hub" link set "mrdn$tag-${1#n}" down; }
heal() { ip -n "$hub" link set "mrdn$tag-${1#n}" up; }

make_pki "${names[@]}"
peers="[{ id: n1, address: \"198.18.0.1:7400\" }, { id: n2, address: \"198.18.0.2:7400\" }, { id: n3, address: \"198.18.0.3:7400\" }]"
for name in "${names[@]}"; do
  write_node_config "$name" "${address[$name]}:7400" "${address[$name]}:8053" "127.0.0.1:5300" "$peers"
  # Not through in_ns: a backgrounded function is a subshell.
  ip netns exec "${ns[$name]}" "$MERIDIAN" serve -c "$WORK/$name.yaml" >>"$WORK/$name.log" 2>&1 &
  pid[$name]=$!
done

# field NAME FILTER: NAME's status, asked inside its own namespace.
field() { status_field "ip netns exec ${ns[$1]}" "${address[$1]}:8053" "$2"; }
# put FROM KEY VALUE: a write through FROM's admin API (the CLI forwards it
# to the leader when FROM follows).
put() { in_ns "$1" "$MERIDIAN" kv put "$2" "$3" --admin "${address[$1]}:8053" --token-file "$WORK/token"; }
get_local() { in_ns "$1" "$MERIDIAN" kv get "$2" --local --admin "${address[$1]}:8053" 2>/dev/null; }

leader=""
for _ in $(seq 1 150); do
  l1=$(field n1 '.leader // ""'); l2=$(field n2 '.leader // ""'); l3=$(field n3 '.leader // ""')
  if [ -n "$l1" ] && [ "$l1" == "$l2" ] && [ "$l2" == "$l3" ]; then leader=$l1; break; fi
  sleep 0.1
done
[ -n "$leader" ] && pass || { fail "no leader within 15 s"; finish; exit 1; }
put n1 before-cut 1 >/dev/null || fail "a write before the cut was refused"
old_term=$(field "$leader" .term)
majority=()
for name in "${names[@]}"; do [ "$name" != "$leader" ] && majority+=("$name"); done
echo "leader $leader (term $old_term); cutting it off from ${majority[*]}"

# Cut the leader off, and at once send it a write: it may still believe it
# leads, but it cannot commit, so it must not acknowledge.
cut "$leader"
started=$(date +%s%N)
put "$leader" during-cut lost >"$WORK/lost.out" 2>&1 &
lost_writer=$!

new_leader=""
while [ $(( ($(date +%s%N) - started) / 1000000 )) -lt 6000 ]; do
  a=$(field "${majority[0]}" '.leader // ""'); b=$(field "${majority[1]}" '.leader // ""')
  if [ -n "$a" ] && [ "$a" == "$b" ] && [ "$a" != "$leader" ]; then new_leader=$a; break; fi
  sleep 0.05
done
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
echo "new leader ${new_leader:-none} after ${elapsed_ms} ms"
[ -n "$new_leader" ] && pass || fail "the majority elected no new leader"
[ "$elapsed_ms" -le 3000 ] && pass || fail "electing a new leader took ${elapsed_ms} ms (limit 3000)"

if wait "$lost_writer"; then
  fail "the cut-off leader acknowledged a write: $(cat "$WORK/lost.out")"
else
  pass
fi
echo "the cut-off leader answered: $(tr '\n' ' ' <"$WORK/lost.out")"
put "${majority[0]}" during-partition 2 >/dev/null && pass || fail "the majority refused a write"
# The cut-off node has stepped down (check-quorum) and refuses writes itself.
role=$(field "$leader" .role)
expect_match "the cut-off node's role" "$role" "^(follower|pre-candidate)$"

heal "$leader"
caught_up=0
for _ in $(seq 1 100); do
  l=$(field "$leader" '.leader // ""'); r=$(field "$leader" .role)
  if [ "$l" == "$new_leader" ] && [ "$r" == "follower" ] && [ "$(get_local "$leader" during-partition)" == "2" ]; then
    caught_up=1
    break
  fi
  sleep 0.1
done
expect_eq "the old leader follows $new_leader and has the partition's write" "$caught_up" 1
for name in "${names[@]}"; do
  expect_eq "before-cut on $name" "$(get_local "$name" before-cut)" 1
  if get_local "$name" during-cut >/dev/null; then fail "the unacknowledged write appeared on $name"; else pass; fi
done
a=$(field n1 .applied); b=$(field n2 .applied); c=$(field n3 .applied)
for _ in $(seq 1 50); do
  [ "$a" == "$b" ] && [ "$b" == "$c" ] && break
  sleep 0.1
  a=$(field n1 .applied); b=$(field n2 .applied); c=$(field n3 .applied)
done
expect_eq "applied indices agree" "$a $b" "$c $c"
finish
