#!/usr/bin/env bash
# Steering at scale: generates a config with 1,000 sites, 100,000 endpoints
# (100 services x 1,000, one endpoint per site) and a 1,000,000-row nets
# file, then times `meridian check-config` (parse and validate, nets
# compiled) and `meridian explain` (the same plus building the routing
# table and answering once), and reports peak memory. Not a test: numbers
# only.
#
#   bench/steering_scale.sh [BUILD_DIR]
#     (BENCH_SITES=1000 BENCH_SERVICES=100 BENCH_NETS=1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
meridian="$(pwd)/$build_dir/main/meridian"
sites=${BENCH_SITES:-1000}
services=${BENCH_SERVICES:-100}
nets=${BENCH_NETS:-1000000}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Sites on a grid; endpoint s of service v is 10.v.(s/256).(s%256).
awk -v sites="$sites" -v services="$services" 'BEGIN {
  print "node: { id: bench-1, site: s0 }"
  print "sites:"
  for (s = 0; s < sites; s++) printf "  s%d: { lat: %.2f, lon: %.2f }\n", s, -60 + (s * 7) % 130, -180 + (s * 13) % 360
  print "zones:"
  print "  - origin: bench.test."
  print "    soa: { mname: ns1, rname: hostmaster }"
  print "    ns: [ns1]"
  print "    records: [\"ns1 IN A 127.0.0.1\"]"
  print "    services:"
  for (v = 0; v < services; v++) {
    printf "      svc%d:\n", v
    if (v == 0) print "        nets_file: nets.txt"
    if (v % 4 == 1) print "        policy: weighted"
    if (v % 4 == 2) { print "        min_healthy: 50%"; print "        sticky: true" }
    print "        endpoints:"
    for (s = 0; s < sites; s++) printf "          - { address: 10.%d.%d.%d, site: s%d }\n", v, int(s / 256), s % 256, s
  }
}' >"$work/scale.yaml"

# Distinct /24s (and some /20s over them), each to a list of three sites.
awk -v nets="$nets" -v sites="$sites" 'BEGIN {
  for (i = 0; i < nets; i++) {
    n = i * 7919 % 16777216   # distinct: 7919 is prime to 2^24
    if (i % 10 == 9) printf "%d.%d.%d.0/20 s%d,s%d,s%d\n", 1 + int(n / 65536) % 223, int(n / 256) % 256, int(n % 256 / 16) * 16 % 256, i % sites, (i + 1) % sites, (i + 2) % sites
    else printf "%d.%d.%d.0/24 s%d,s%d,s%d\n", 1 + int(n / 65536) % 223, int(n / 256) % 256, n % 256, i % sites, (i + 7) % sites, (i + 11) % sites
  }
}' | awk '!seen[$1]++' >"$work/nets.txt"

echo "config: $(du -h "$work/scale.yaml" | cut -f1), $sites sites, $((sites * services)) endpoints; nets file: $(wc -l <"$work/nets.txt") rows, $(du -h "$work/nets.txt" | cut -f1)"

run() {  # label command...
  local start end
  start=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$work/rss" "$@" >"$work/out" 2>&1 || { cat "$work/out"; exit 1; }
  end=$(date +%s%N)
  printf '%-24s %6.2f s  %5d MiB peak\n' "$(basename "$1") $2" "$(echo "($end - $start) / 1000000000" | bc -l)" "$(($(cat "$work/rss") / 1024))"
}
run "$meridian" check-config "$work/scale.yaml"
run "$meridian" explain svc0.bench.test 127.0.0.1 --ecs 1.0.0.0/24 -c "$work/scale.yaml"
grep -E "^(decided by|answer):" "$work/out"
