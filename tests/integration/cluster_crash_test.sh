#!/usr/bin/env bash
# Three `meridian serve` nodes on loopback form a cluster. A writer streams
# keys through the admin API; the leader is killed with SIGKILL mid-stream
# and restarted. Every acknowledged key must then be on every node, and the
# nodes must hold exactly the same keys (no divergence).
#
#   cluster_crash_test.sh MERIDIAN_BINARY SOURCE_DIR
source "$(dirname "$0")/test_lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
MERIDIAN=$1
require_tool jq
WORK=$(mktemp -d)
declare -A pid admin
writer=
cleanup() {
  [ -n "$writer" ] && kill "$writer" 2>/dev/null
  for p in "${pid[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null
  if [ "$failures" -ne 0 ]; then tail -n 30 "$WORK"/*.log >&2; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

names=(n1 n2 n3)
make_pki "${names[@]}"
declare -A peer
peers="["
for name in "${names[@]}"; do
  peer[$name]=127.0.0.1:$(pick_port)
  admin[$name]=127.0.0.1:$(pick_port)
  peers+="{ id: $name, address: \"${peer[$name]}\" }, "
done
peers="${peers%, }]"
for name in "${names[@]}"; do
  write_node_config "$name" "${peer[$name]}" "${admin[$name]}" "127.0.0.1:$(pick_port)" "$peers"
done

start_node() {
  "$MERIDIAN" serve -c "$WORK/$1.yaml" >>"$WORK/$1.log" 2>&1 &
  pid[$1]=$!
}
for name in "${names[@]}"; do start_node "$name"; done

# The leader as every running node sees it ("" until they agree).
agreed_leader() {
  local seen="" leader
  for name in "$@"; do
    leader=$(status_field "" "${admin[$name]}" '.leader // ""')
    [ -z "$leader" ] && { echo ""; return; }
    [ -n "$seen" ] && [ "$seen" != "$leader" ] && { echo ""; return; }
    seen=$leader
  done
  echo "$seen"
}
# wait_leader EXCLUDED NAME...: the leader NAMEs agree on, other than EXCLUDED.
wait_leader() {
  local excluded=$1 leader=""
  shift
  # Generous: on a loaded 2-core CI machine three fresh members have taken
  # over 10 s to start and agree (the election bound is checked in
  # cluster_partition, not here).
  for _ in $(seq 1 300); do
    leader=$(agreed_leader "$@")
    [ -n "$leader" ] && [ "$leader" != "$excluded" ] && { echo "$leader"; return 0; }
    sleep 0.1
  done
  return 1
}

if ! leader=$(wait_leader "" "${names[@]}"); then
  fail "no leader within 30 s"
  # What each node said, and whether it still runs (the logs follow).
  for name in "${names[@]}"; do
    echo "$name (pid ${pid[$name]}, $(kill -0 "${pid[$name]}" 2>/dev/null && echo running || echo exited)):" >&2
    "$MERIDIAN" cluster status --admin "${admin[$name]}" >&2 || true
  done
  ls -la "$WORK" >&2
  finish
  exit 1
fi
pass
echo "leader: $leader"

# The writer: keys k1..k300, each sent to some node (the CLI forwards to the
# leader); an acknowledged key is recorded, a refused one skipped.
: >"$WORK/acked"
(
  for i in $(seq 1 300); do
    for name in "${names[@]}"; do
      if "$MERIDIAN" kv put "k$i" "v$i" --admin "${admin[$name]}" --token-file "$WORK/token" 2>>"$WORK/writer.err"; then
        echo "k$i" >>"$WORK/acked"
        break
      fi
    done
  done
) &
writer=$!

# Kill the leader once the stream is well under way.
for _ in $(seq 1 200); do
  [ "$(wc -l <"$WORK/acked")" -ge 60 ] && break
  sleep 0.05
done
kill -9 "${pid[$leader]}"
wait "${pid[$leader]}" 2>/dev/null || true
echo "killed $leader after $(wc -l <"$WORK/acked") acknowledged writes"
survivors=()
for name in "${names[@]}"; do [ "$name" != "$leader" ] && survivors+=("$name"); done
new_leader=$(wait_leader "$leader" "${survivors[@]}") || fail "no new leader among ${survivors[*]}"
expect_match "a survivor leads" "$new_leader" "^(${survivors[0]}|${survivors[1]})$"

# Restart the killed node from its data dir while the stream goes on.
sleep 0.5
start_node "$leader"
wait "$writer"
writer=
acked=$(wc -l <"$WORK/acked")
echo "$acked of 300 writes acknowledged"
[ "$acked" -ge 200 ] && pass || fail "only $acked of 300 writes were acknowledged"

# Every node catches up to the same applied index...
converged=0
for _ in $(seq 1 100); do
  a=$(status_field "" "${admin[n1]}" .applied)
  b=$(status_field "" "${admin[n2]}" .applied)
  c=$(status_field "" "${admin[n3]}" .applied)
  commit=$(status_field "" "${admin[n1]}" .commit)
  if [ -n "$a" ] && [ "$a" == "$b" ] && [ "$b" == "$c" ] && [ "$a" == "$commit" ]; then converged=1; break; fi
  sleep 0.1
done
expect_eq "all nodes applied the same index" "$converged" 1

# ...every acknowledged key is on every node, and the nodes agree exactly.
for name in "${names[@]}"; do
  "$MERIDIAN" kv scan k --local --admin "${admin[$name]}" | sort >"$WORK/$name.keys"
  missing=0
  while read -r key; do
    grep -q "^$key	v${key#k}\$" "$WORK/$name.keys" || missing=$((missing + 1))
  done <"$WORK/acked"
  expect_eq "acknowledged keys missing on $name" "$missing" 0
done
cmp -s "$WORK/n1.keys" "$WORK/n2.keys" && cmp -s "$WORK/n2.keys" "$WORK/n3.keys" && pass ||
  fail "the nodes hold different keys"

# The restarted node is a follower of the current leader and reports its state.
role=$(status_field "" "${admin[$leader]}" .role)
expect_eq "the restarted node's role" "$role" follower
members=$(status_field "" "${admin[$leader]}" '[.members[] | select(.reported)] | length')
expect_eq "members reported to the restarted node" "$members" 3
finish
