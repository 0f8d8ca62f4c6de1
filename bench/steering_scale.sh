#!/usr/bin/env bash
# Steering at scale: generates a config with 1,000 sites, 100,000 endpoints
# (100 services x 1,000, one endpoint per site), a 1,000,000-row nets file
# and a GeoIP database of 1,000,000 networks (50,000 distinct places), then
# times `meridian check-config` (parse and validate, nets compiled) and
# `meridian explain` (the same plus opening the database, building its trie,
# compiling the services' scope indexes, building the routing table and
# answering once), and reports peak memory. By default the 75 located
# services share one site ordering (one scope index); BENCH_ORDERINGS=N
# gives N of them a bias of their own (N more indexes to compile). Not a
# test: numbers only.
#
#   bench/steering_scale.sh [BUILD_DIR]
#     (BENCH_SITES=1000 BENCH_SERVICES=100 BENCH_NETS=1000000
#      BENCH_GEO_NETS=1000000 BENCH_PLACES=50000 BENCH_ORDERINGS=0)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
meridian="$(pwd)/$build_dir/main/meridian"
sites=${BENCH_SITES:-1000}
services=${BENCH_SERVICES:-100}
nets=${BENCH_NETS:-1000000}
geo_nets=${BENCH_GEO_NETS:-1000000}
places=${BENCH_PLACES:-50000}
orderings=${BENCH_ORDERINGS:-0}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Sites on a grid; endpoint s of service v is 10.v.(s/256).(s%256).
awk -v sites="$sites" -v services="$services" -v orderings="$orderings" 'BEGIN {
  print "node: { id: bench-1, site: s0 }"
  print "geoip: { database: geo.mmdb }"
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
    if (v % 4 != 1 && biased < orderings) { printf "        bias: { s%d: 10 }\n", v % sites; biased++ }
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

# GeoIP networks: distinct /24s (a stride prime to 2^24), each at one of
# `places` places on a grid of the inhabited latitudes.
awk -v n="$geo_nets" -v places="$places" 'BEGIN {
  for (i = 0; i < n; i++) {
    k = i * 7919 % 16777216
    p = i % places
    printf "%d.%d.%d.0/24,%.3f,%.3f,XX,EU\n", 1 + int(k / 65536) % 223, int(k / 256) % 256, k % 256, -50 + (p * 37) % 120 + (p % 7) / 10, -180 + (p * 101) % 360 + (p % 11) / 10
  }
}' | awk -F, '!seen[$1]++' >"$work/geo.csv"
start=$(date +%s%N)
"$meridian" geo build-db --input "$work/geo.csv" --output "$work/geo.mmdb" >/dev/null
end=$(date +%s%N)

echo "config: $(du -h "$work/scale.yaml" | cut -f1), $sites sites, $((sites * services)) endpoints; nets file: $(wc -l <"$work/nets.txt") rows, $(du -h "$work/nets.txt" | cut -f1)"
echo "geoip: $(wc -l <"$work/geo.csv") networks at $places places, $(du -h "$work/geo.mmdb" | cut -f1) (build-db $(echo "($end - $start) / 1000000000" | bc -l | cut -c1-4) s); $orderings services with an ordering of their own"

run() {  # label command...
  local label=$1 start end
  shift
  start=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$work/rss" "$@" >"$work/out" 2>&1 || { cat "$work/out"; exit 1; }
  end=$(date +%s%N)
  printf '%-24s %6.2f s  %5d MiB peak\n' "$label" "$(echo "($end - $start) / 1000000000" | bc -l)" "$(($(cat "$work/rss") / 1024))"
}
run "check-config" "$meridian" check-config "$work/scale.yaml"
run "explain (svc0, nets)" "$meridian" explain svc0.bench.test 127.0.0.1 --ecs 1.0.0.0/24 -c "$work/scale.yaml"
grep -E "^(decided by|answer):" "$work/out"
run "explain (svc3, geo)" "$meridian" explain svc3.bench.test 127.0.0.1 --ecs 1.0.0.0/24 -c "$work/scale.yaml"
grep -E "^(decided by|answer|geo scope|ecs scope):" "$work/out"
