#!/usr/bin/env bash
# DNS benchmark: runs dnsperf against the demo node for a fixed time, once
# for a static name and once for the steered service name (with an ECS
# subnet, so every query runs the GeoIP lookup and the site choice), and
# prints queries per second and latency. Not a test: numbers only.
#
#   make bench                      # 10 s per run
#   BENCH_SECONDS=30 make bench     # longer runs
#   BENCH_CLIENTS=8 make bench      # more dnsperf clients
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
meridian="$build_dir/main/meridian"
seconds=${BENCH_SECONDS:-10}
clients=${BENCH_CLIENTS:-4}
command -v dnsperf >/dev/null || { echo "dnsperf is not installed (scripts/install-deps.sh)"; exit 1; }

work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

port=5399
sed "s/:5300/:$port/g; s/level: info/level: warn/" configs/demo/demo.yaml >"$work/demo.yaml"
"$meridian" geo build-db --input configs/demo/geoip.csv --output "$work/demo.mmdb" >/dev/null
"$meridian" serve -c "$work/demo.yaml" &
pid=$!
for _ in $(seq 1 50); do
  dig @127.0.0.1 -p "$port" +time=1 +tries=1 www.demo.test >/dev/null 2>&1 && break
  sleep 0.1
done

echo "mail.demo.test A" >"$work/static.txt"
echo "www.demo.test A" >"$work/service.txt"

# ECS option 8: family 1, source /24, scope 0, 81.2.69 (London).
ecs="8:00011800510245"

# run LABEL FILE TAG [DNSPERF ARGS...]: one dnsperf run; its QPS is kept as TAG.
run() {
  local label=$1 file=$2 tag=$3
  shift 3
  local out
  out=$(dnsperf -s 127.0.0.1 -p "$port" -d "$file" -l "$seconds" -c "$clients" -q 200 "$@" 2>&1)
  local qps lat_avg lat_sd lost
  qps=$(sed -n 's/.*Queries per second: *\([0-9.]*\).*/\1/p' <<<"$out")
  lat_avg=$(sed -n 's/.*Average Latency (s): *\([0-9.]*\).*/\1/p' <<<"$out")
  lat_sd=$(sed -n 's/.*Latency StdDev (s): *\([0-9.]*\).*/\1/p' <<<"$out")
  lost=$(sed -n 's/.*Queries lost: *\([0-9]*\).*/\1/p' <<<"$out")
  echo "$qps" >"$work/qps-$tag"
  printf '%-34s %12s %14s %14s %8s\n' "$label" "$qps" "$(awk -v v="$lat_avg" 'BEGIN{printf "%.3f", v*1000}')" \
    "$(awk -v v="$lat_sd" 'BEGIN{printf "%.3f", v*1000}')" "$lost"
}

echo
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
echo "server:  meridian demo config (2 UDP workers), dnsperf $clients clients, ${seconds}s per run, same machine"
echo
printf '%-34s %12s %14s %14s %8s\n' "query" "QPS" "avg lat (ms)" "stddev (ms)" "lost"
run "static name (mail.demo.test A)" "$work/static.txt" static
run "service name (www A, no ECS)" "$work/service.txt" service
run "service name (www A, ECS /24)" "$work/service.txt" ecs -E "$ecs"

# The steered answer should cost little more than a static one: the hot path
# is a lookup plus a short loop (issue: within 10%).
echo
for tag in service ecs; do
  awk -v s="$(cat "$work/qps-static")" -v q="$(cat "$work/qps-$tag")" -v t="$tag" 'BEGIN {
    if (s <= 0) { print t ": no static figure"; exit }
    d = (q - s) / s * 100
    printf "%-8s %+.1f%% against the static name (%s)\n", t, d, (d >= -10 ? "within 10%" : "MORE THAN 10% SLOWER")
  }'
done
