#!/usr/bin/env bash
# Failover benchmark: starts the three-site demo cluster (scripts/demo-cluster.sh,
# so its ports must be free), then BENCH_RUNS times (20): stop the backend of
# the site a London client is answered from, measure the time from the stop
# until the LAST of the three nodes answers another site (each node polled
# with dig every ~20 ms), start the backend again and wait until all three
# are back. Prints every run and p50/p99 (nearest rank: with 20 runs the
# p99 is the slowest run), with the check's interval and fall to compare.
# Not a test: numbers only.
#
#   bench/failover.sh [BUILD_DIR]      (make bench-failover; BENCH_RUNS=20; DEMO_STORE=etcd: on etcd)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
meridian=${MERIDIAN_BINARY:-$build_dir/main/meridian}
export MERIDIAN_BINARY="$meridian"
runs=${BENCH_RUNS:-20}
client=81.2.69.0/24   # London
ports=(5301 5302 5303)
nodes=(eu-west-1 us-east-1 ap-northeast-1)
declare -A site_of=([192.0.2.20]=us-east [192.0.2.30]=eu-west [192.0.2.40]=ap-northeast)

work=$(mktemp -d)
demo=
cleanup() {
  if [ -n "$demo" ]; then kill -TERM "$demo" 2>/dev/null || true; wait "$demo" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

scripts/demo-cluster.sh "$build_dir" >"$work/demo.log" 2>&1 &
demo=$!
for _ in $(seq 1 120); do
  grep -q 'Ctrl-C stops' "$work/demo.log" && break
  kill -0 "$demo" 2>/dev/null || { cat "$work/demo.log" >&2; echo "failover bench: the demo cluster did not start" >&2; demo=; exit 1; }
  sleep 0.5
done
grep -q 'Ctrl-C stops' "$work/demo.log" || { cat "$work/demo.log" >&2; exit 1; }

answer() { dig @127.0.0.1 -p "$1" +short +time=1 +tries=1 www.demo.test A "+subnet=$client" 2>/dev/null | head -1 || true; }
now_ns() { date +%s%N; }
# every_node_answers ADDRESS SECONDS: until all three nodes answer ADDRESS.
every_node_answers() {
  local deadline=$(($(now_ns) + $2 * 1000000000))
  while [ "$(now_ns)" -lt "$deadline" ]; do
    if [ "$(answer 5301)" == "$1" ] && [ "$(answer 5302)" == "$1" ] && [ "$(answer 5303)" == "$1" ]; then return 0; fi
    sleep 0.02
  done
  return 1
}
# poll PORT OLD OUT: every ~20 ms until the node answers something else
# than OLD; writes the time it saw it (ns since the epoch) to OUT.
poll() {
  local deadline=$(($(now_ns) + 30 * 1000000000)) got
  while [ "$(now_ns)" -lt "$deadline" ]; do
    got=$(answer "$1")
    if [ -n "$got" ] && [ "$got" != "$2" ]; then now_ns >"$3"; return 0; fi
    sleep 0.02
  done
  echo timeout >"$3"
}
# Until no node's published observation has the site's endpoint down.
observations_up() {
  for _ in $(seq 1 100); do
    if ! "$meridian" kv scan _health/obs/ --admin 127.0.0.1:8401 2>/dev/null | grep -Eq "@$1/.*	d\$"; then return 0; fi
    sleep 0.1
  done
}

check=$(sed -n 's/^ *web: {\(.*\)}/\1/p' configs/demo-cluster/eu-west-1.yaml)
interval=$(sed -n 's/.*interval: \([^,]*\),.*/\1/p' <<<"$check")
fall=$(sed -n 's/.*fall: \([0-9]*\).*/\1/p' <<<"$check")
rise=$(sed -n 's/.*rise: \([0-9]*\).*/\1/p' <<<"$check")
echo "machine:  $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(. /etc/os-release && echo "$PRETTY_NAME")"
echo "date:     $(date -u +%Y-%m-%d)"
echo "check:    interval $interval, fall $fall, rise $rise (interval x fall = the local detection time)"
echo "cluster:  ${nodes[*]}; client $client; $runs runs"
echo "store:    ${DEMO_STORE:-raft} (DEMO_STORE; make bench-failover runs raft, then etcd)"
echo

results=()
for run in $(seq 1 "$runs"); do
  initial=$(answer 5301)
  site=${site_of[$initial]:-}
  [ -n "$site" ] || { echo "run $run: unexpected answer '$initial'" >&2; exit 1; }
  every_node_answers "$initial" 10 || { echo "run $run: the nodes disagree before the stop" >&2; exit 1; }
  pollers=()
  for i in 0 1 2; do
    poll "${ports[$i]}" "$initial" "$work/moved.$i" &
    pollers+=($!)
  done
  sleep 0.05   # the pollers are polling
  t0=$(now_ns)
  scripts/demo-backend.sh stop "$site" >/dev/null
  for p in "${pollers[@]}"; do wait "$p" || true; done
  per_node=() last=0
  for i in 0 1 2; do
    moved=$(cat "$work/moved.$i")
    [ "$moved" != timeout ] || { echo "run $run: ${nodes[$i]} still answers $initial after 30 s" >&2; exit 1; }
    ms=$(((moved - t0) / 1000000))
    per_node+=("${nodes[$i]} $ms")
    if ((ms > last)); then last=$ms; fi
  done
  new=$(answer 5301)
  scripts/demo-backend.sh start "$site" >/dev/null
  t1=$(now_ns)
  every_node_answers "$initial" 30 || { echo "run $run: the nodes did not come back to $initial" >&2; exit 1; }
  back=$((($(now_ns) - t1) / 1000000))
  observations_up "$site"
  results+=("$last")
  printf 'run %2d: stopped %-12s -> %s on every node after %5d ms (%s); back after %d ms\n' \
    "$run" "$site" "${site_of[$new]:-$new}" "$last" "$(IFS=,; echo "${per_node[*]}" | sed 's/,/, /g')" "$back"
  sleep "0.$((RANDOM % 10))"   # the next stop lands at another point of the probe interval
done

sorted=$(printf '%s\n' "${results[@]}" | sort -n)
rank() { sed -n "$1p" <<<"$sorted"; }
n=${#results[@]}
p50=$(rank $(((50 * n + 99) / 100)))
p99=$(rank $(((99 * n + 99) / 100)))
echo
echo "time from the stop until the last node answers another site ($n runs):"
echo "  p50 $p50 ms, p99 $p99 ms, min $(rank 1) ms, max $(rank "$n") ms (interval $interval x fall $fall)"
