#!/usr/bin/env bash
# Consensus store benchmark: three members (each its own RocksDB with fsync,
# mutual TLS on loopback) and 1, 16, 64 and 256 concurrent clients writing to the
# leader; prints commits/s and p50/p99 commit latency. Numbers only.
#
#   make bench-store                       # 5 s per round
#   BENCH_SECONDS=20 make bench-store
#   STORE_BENCH_DIR=/mnt/ssd/x make bench-store   # put the databases elsewhere
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
args=(--seconds "${BENCH_SECONDS:-5}" --clients "${BENCH_CLIENTS:-1,16,64,256}")
[ -n "${STORE_BENCH_DIR:-}" ] && args+=(--dir "$STORE_BENCH_DIR")
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), disk under ${STORE_BENCH_DIR:-${TMPDIR:-/tmp}}: $(df -T "${STORE_BENCH_DIR:-${TMPDIR:-/tmp}}" | awk 'NR==2 {print $2}')"
exec "$build_dir/bench/store_bench" "${args[@]}"
