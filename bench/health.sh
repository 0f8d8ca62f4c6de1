#!/usr/bin/env bash
# Health benchmark: one node probes 10,000 HTTP endpoints (a `meridian
# backend` listening on 10,000 loopback ports) every second, and reports
# probes per second, how late probes start, CPU seconds per 1,000 probes,
# the share of one core, and resident memory. Not a test: numbers only.
#
#   bench/health.sh [BUILD_DIR]     (BENCH_ENDPOINTS=10000 BENCH_SECONDS=30)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
meridian="$build_dir/main/meridian"
endpoints=${BENCH_ENDPOINTS:-10000}
seconds=${BENCH_SECONDS:-30}
first_port=40000
last_port=$((first_port + endpoints - 1))
per_service=1000
# 10,000 listening sockets need more descriptors than the usual soft limit.
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$meridian" backend --listen "127.0.0.1:$first_port-$last_port" --name bench >/dev/null 2>&1 &
pids+=($!)

{
  cat <<YAML
node: { id: bench-1, site: here }
dns: { listen: ["127.0.0.1:5398"], threads: 1 }
sites:
  here: { lat: 50.11, lon: 8.68 }
checks:
  web: { type: http, path: /healthz, interval: 1s, timeout: 500ms, rise: 2, fall: 3 }
zones:
  - origin: bench.test.
    soa: { mname: ns1, rname: hostmaster }
    ns: [ns1]
    records: ["ns1 IN A 127.0.0.1"]
    services:
YAML
  for ((n = 0; n < endpoints; n++)); do
    if ((n % per_service == 0)); then
      printf '      svc%d:\n        check: web\n        endpoints:\n' $((n / per_service))
    fi
    printf '          - { address: 198.18.%d.%d, site: here, check: { target: 127.0.0.1, port: %d } }\n' \
      $((n / 250)) $((n % 250 + 1)) $((first_port + n))
  done
} >"$work/bench.yaml"

sleep 1  # let the backend bind its ports
"$meridian" serve -c "$work/bench.yaml" >"$work/log" 2>&1 &
node=$!
pids+=($node)
for _ in $(seq 1 100); do grep -q "serving" "$work/log" && break; sleep 0.1; done
grep -q "serving" "$work/log" || { cat "$work/log"; echo "node did not start"; exit 1; }

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sleep 2
start_cpu=$(cpu_ticks "$node")
start_time=$(date +%s.%N)
sleep "$seconds"
end_cpu=$(cpu_ticks "$node")
end_time=$(date +%s.%N)
rss_kib=$(awk '/VmRSS/{print $2}' "/proc/$node/status")

reports=$(grep -E 'health: [0-9]+ probes in' "$work/log" | tail -n $((seconds / 10)))
probes=$(awk '{s += $3} END {print s}' <<<"$reports")
report_seconds=$(( $(wc -l <<<"$reports") * 10 ))
late=$(sed -E 's/.* ([0-9]+) started > .*/\1/' <<<"$reports" | awk '{s += $1} END {print s}')
max_lag=$(sed -E 's/.*max lag ([0-9]+) ms.*/\1/' <<<"$reports" | sort -n | tail -1)
first_round=$(sed -n 's/.*first round of \([0-9]*\) target(s) in \([0-9]*\) ms.*/\2/p' "$work/log")

awk -v endpoints="$endpoints" -v probes="$probes" -v rs="$report_seconds" -v cpu="$((end_cpu - start_cpu))" \
  -v ticks="$ticks" -v t0="$start_time" -v t1="$end_time" -v rss="$rss_kib" -v late="$late" -v lag="$max_lag" \
  -v first="$first_round" -v model="$(lscpu | sed -n 's/^Model name: *//p' | head -1)" -v cores="$(nproc)" 'BEGIN {
  wall = t1 - t0; cpu_s = cpu / ticks; rate = probes / rs
  printf "machine:        %s, %d cores\n", model, cores
  printf "endpoints:      %d HTTP checks, interval 1 s, timeout 500 ms\n", endpoints
  printf "first round:    %d endpoints in %d ms\n", endpoints, first
  printf "probes/s:       %.0f (schedule: %d/s)\n", rate, endpoints
  printf "late probes:    %d started > 250 ms late over %d s, max lag %d ms\n", late, rs, lag
  printf "CPU:            %.3f s per 1,000 probes, %.1f%% of one core\n", cpu_s / (rate * wall) * 1000, 100 * cpu_s / wall
  printf "memory:         %.1f MiB resident\n", rss / 1024
}'
