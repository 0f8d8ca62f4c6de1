#!/usr/bin/env bash
# DNS benchmark: dnsperf against the demo node, for a static name and for the
# steered service name (from the source address, and with an ECS subnet so
# every query runs the GeoIP lookup, the site order and the scope), then the
# answerer alone in-process (bench/answer_bench.cpp). Not a test: numbers only.
#
# On a small machine the node and dnsperf compete for the CPUs, and a single
# run of each kind swings by 10-20%. So the node gets a CPU of its own and
# dnsperf the others (taskset, when there are two or more), the kinds run in
# interleaved rounds. Interference (the other CPU's load, a VM's steal time)
# only ever slows a run down, so QPS is compared on the best round of each
# kind; the median is printed beside it. The node's CPU time per answered
# query (median) is what a steered answer costs, whoever is the bottleneck.
#
#   make bench                      # 5 rounds of 4 s per query kind
#   BENCH_SECONDS=10 BENCH_ROUNDS=5 make bench
#   BENCH_CLIENTS=8 make bench      # more dnsperf clients
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
meridian="$build_dir/main/meridian"
answer_bench="$build_dir/bench/answer_bench"
seconds=${BENCH_SECONDS:-4}
rounds=${BENCH_ROUNDS:-5}
clients=${BENCH_CLIENTS:-4}
command -v dnsperf >/dev/null || { echo "dnsperf is not installed (scripts/install-deps.sh)"; exit 1; }

work=$(mktemp -d)
pid=
backends=()
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  [ ${#backends[@]} -gt 0 ] && kill "${backends[@]}" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

cpus=$(nproc)
server_pin=() client_pin=()
if [ "$cpus" -ge 2 ] && command -v taskset >/dev/null; then
  server_pin=(taskset -c "$((cpus - 1))")
  client_pin=(taskset -c "0-$((cpus - 2))")
fi

port=5399
# One DNS thread: the node has one CPU here.
sed "s/:5300/:$port/g; s/level: info/level: warn/; s/threads: 2/threads: 1/" configs/demo/demo.yaml >"$work/demo.yaml"
"$meridian" geo build-db --input configs/demo/geoip.csv --output "$work/demo.mmdb" >/dev/null
# The demo's health checks probe one HTTP backend per site: run them, so the
# service answers from healthy endpoints (not the fail-open path).
for backend_port in 18081 18082 18083 18084 18085; do
  "${client_pin[@]}" "$meridian" backend --listen "127.0.0.1:$backend_port" --name "bench" >/dev/null 2>&1 &
  backends+=($!)
done
"${server_pin[@]}" "$meridian" serve -c "$work/demo.yaml" &
pid=$!
# Ready when www answers with its full TTL (30 s): every endpoint up and stable.
healthy=false
for _ in $(seq 1 100); do
  ttl=$(dig @127.0.0.1 -p "$port" +time=1 +tries=1 +noall +answer www.demo.test A 2>/dev/null | awk '{print $2}' | head -1)
  [ "$ttl" = 30 ] && { healthy=true; break; }
  sleep 0.2
done
kill -0 "$pid" 2>/dev/null || { echo "the node did not start (is port $port or 18081-18085 taken?)"; exit 1; }
$healthy || echo "warning: www.demo.test never answered with every endpoint healthy; figures include fail-open answers"

echo "mail.demo.test A" >"$work/static.txt"
echo "www.demo.test A" >"$work/service.txt"

# ECS option 8: family 1, source /24, scope 0, 81.2.69 (London).
ecs="8:00011800510245"

# The node's CPU time so far, in clock ticks (user + system).
server_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

# run TAG FILE [DNSPERF ARGS...]: one dnsperf run, appended to results-TAG as
# "qps avg_latency_s lost server_us_per_query".
run() {
  local tag=$1 file=$2
  shift 2
  local out before after
  before=$(server_ticks)
  out=$("${client_pin[@]}" dnsperf -s 127.0.0.1 -p "$port" -d "$file" -l "$seconds" -c "$clients" -q 200 "$@" 2>&1)
  after=$(server_ticks)
  local qps lat lost completed
  qps=$(sed -n 's/.*Queries per second: *\([0-9.]*\).*/\1/p' <<<"$out")
  lat=$(sed -n 's/.*Average Latency (s): *\([0-9.]*\).*/\1/p' <<<"$out")
  lost=$(sed -n 's/.*Queries lost: *\([0-9]*\).*/\1/p' <<<"$out")
  completed=$(sed -n 's/.*Queries completed: *\([0-9]*\).*/\1/p' <<<"$out")
  awk -v q="$qps" -v l="$lat" -v x="$lost" -v c="$completed" -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%s %s %s %.3f\n", q, l, x, (c > 0 ? t / hz * 1e6 / c : 0) }' >>"$work/results-$tag"
}

# median TAG COLUMN, best TAG COLUMN: the median and the largest value of one
# column over the rounds.
median() { awk -v c="$2" '{print $c}' "$work/results-$1" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
best() { awk -v c="$2" '{print $c}' "$work/results-$1" | sort -g | tail -1; }

echo
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $cpus cores, $(free -g | awk '/Mem:/{print $2}') GiB"
if [ ${#server_pin[@]} -gt 0 ]; then
  echo "server:  meridian demo config, 1 DNS thread pinned to CPU $((cpus - 1)); dnsperf ($clients clients) on the others"
else
  echo "server:  meridian demo config, 1 DNS thread; dnsperf ($clients clients) on the same CPU"
fi
echo "runs:    $rounds interleaved rounds of ${seconds}s per query kind; best and median QPS, medians of the rest"
for round in $(seq 1 "$rounds"); do
  run static "$work/static.txt"
  run service "$work/service.txt"
  run ecs "$work/service.txt" -E "$ecs"
done

echo
printf '%-34s %10s %12s %14s %18s %6s\n' "query" "best QPS" "median QPS" "avg lat (ms)" "node CPU/query" "lost"
for tag in static service ecs; do
  case $tag in
    static) label="static name (mail.demo.test A)" ;;
    service) label="service name (www A, no ECS)" ;;
    ecs) label="service name (www A, ECS /24)" ;;
  esac
  printf '%-34s %10.0f %12.0f %14.3f %15.2f us %6s\n' "$label" "$(best "$tag" 1)" "$(median "$tag" 1)" \
    "$(awk -v v="$(median "$tag" 2)" 'BEGIN{print v * 1000}')" "$(median "$tag" 4)" "$(median "$tag" 3)"
done

# The steered answer should cost little more than a static one: the hot path
# is a lookup plus a short loop (issue: within 10%).
echo
for tag in service ecs; do
  awk -v s="$(best static 1)" -v q="$(best "$tag" 1)" -v t="$tag" 'BEGIN {
    if (s <= 0) { print t ": no static figure"; exit }
    d = (q - s) / s * 100
    printf "%-8s best QPS %+.1f%% against the static name (%s)\n", t, d, (d >= -10 ? "within 10%" : "MORE THAN 10% SLOWER")
  }'
done

echo
if [ -x "$answer_bench" ]; then
  "${server_pin[@]}" "$answer_bench" --config "$work/demo.yaml" --static mail.demo.test --service www.demo.test \
    --ecs 81.2.69.0/24
else
  echo "($answer_bench is not built: no in-process figures)"
fi
