#!/usr/bin/env bash
# Builds one libFuzzer target with clang (-fsanitize=fuzzer,address,undefined)
# into BUILD_DIR/fuzz, then fuzzes it for SECONDS, starting from its seed
# corpus tests/fuzz/corpus/TARGET (new inputs go to BUILD_DIR/fuzz/corpus-TARGET,
# crashes to BUILD_DIR/fuzz/TARGET-*). Fails on any crash, leak, sanitizer
# report or broken property of the target.
#
#   run_fuzz.sh [--allow-skip] TARGET SOURCE_DIR BUILD_DIR SECONDS
#
# TARGET:
#   wire  the peer wire format (cluster/wire.cpp), tests/fuzz/wire_fuzz.cpp
#   dns   the DNS query parser and answerer with steering (dns/, dns/wire/,
#         geo/; tools/ writes its GeoIP database), tests/fuzz/dns_fuzz.cpp
#   probe the DNS health probe's reply parser (dns/wire/client.cpp) and its
#         answer rule (health/probe_dns_match.cpp), tests/fuzz/probe_fuzz.cpp
#   http  the admin API's request head and body readers: Boost.Beast's
#         parser with the server's limits, then admin/url, host_check,
#         bearer_token, access_check and json_fields, tests/fuzz/http_fuzz.cpp
#   config the YAML config loader (config/, with the zone files and nets
#         files a config names), tests/fuzz/config_fuzz.cpp
#   zone  zone files (dns/presentation.cpp, ldns) and the zone builder
#         (dns/zone.cpp), tests/fuzz/zone_fuzz.cpp
#
# Without clang or libFuzzer it fails, unless --allow-skip is given and CI is
# not "true": then it exits 77 (CTest's skip code) with a message.
set -euo pipefail

allow_skip=0
if [ "${1:-}" = "--allow-skip" ]; then
  allow_skip=1
  shift
fi
if [ $# -ne 4 ]; then
  echo "usage: $0 [--allow-skip] wire|dns|probe|http|config|zone SOURCE_DIR BUILD_DIR SECONDS" >&2
  exit 2
fi
target=$1
source_dir=$(cd "$2" && pwd)
mkdir -p "$3/fuzz"
out=$(cd "$3/fuzz" && pwd)
seconds=$4
cxx=${FUZZ_CXX:-clang++}
name="fuzz.$target"

# What each target compiles: only the code under test and what it needs,
# so the fuzz build needs none of the project's libraries; the folders
# whose changes rebuild it; the system libraries it links; any defines.
defines=()
case "$target" in
  wire)
    sources=(cluster/wire.cpp)
    watched=(cluster base store)
    libraries=()
    ;;
  dns)
    sources=(base/ip_address.cpp base/log.cpp base/rng.cpp base/clock.cpp
      dns/presentation.cpp dns/zone.cpp dns/routing_table.cpp dns/stats_slots.cpp dns/answerer.cpp
      dns/cookie.cpp dns/rate_limiter.cpp)
    for file in "$source_dir"/dns/wire/*.cpp; do sources+=("dns/wire/${file##*/}"); done
    for file in "$source_dir"/geo/*.cpp; do sources+=("geo/${file##*/}"); done
    sources+=(tools/geoip_csv.cpp tools/mmdb_writer.cpp)  # the demo database
    watched=(base dns geo tools)
    libraries=(-lldns -lmaxminddb)
    ;;
  probe)
    sources=(base/ip_address.cpp health/probe_dns_match.cpp)
    for file in "$source_dir"/dns/wire/*.cpp; do sources+=("dns/wire/${file##*/}"); done
    watched=(base dns/wire health)
    libraries=()
    ;;
  http)
    sources=(admin/access_check.cpp admin/bearer_token.cpp admin/host_check.cpp admin/http_response.cpp
      admin/json_fields.cpp admin/router.cpp admin/url.cpp base/ip_address.cpp gslb/health_records.cpp)
    watched=(admin base gslb)
    libraries=(-lboost_json -lcrypto)
    # Boost's own assertions off, as in the server's release build (NDEBUG):
    # Boost 1.81's Beast asserts n >= 5 in parse_chunk_header, stricter than
    # the parser it guards, when a final chunk arrives a few bytes at a time
    # (boostorg/beast#2861, fixed in later Boost). MERIDIAN_ASSERT stays on.
    defines=(-DBOOST_DISABLE_ASSERTS)
    ;;
  config)
    sources=()
    for file in "$source_dir"/config/*.cpp; do sources+=("config/${file##*/}"); done
    sources+=(base/ip_address.cpp cluster/node_id.cpp geo/asn_map.cpp geo/geo_map.cpp geo/nets_map.cpp
      geo/steering.cpp geo/steering_trace.cpp geo/scope_index.cpp geo/distance.cpp geo/country_centroids.cpp base/rng.cpp
      dns/presentation.cpp dns/zone.cpp dns/wire/name.cpp dns/wire/record.cpp dns/wire/types.cpp)
    watched=(base config dns geo health cluster)
    libraries=(-lyaml-cpp -lldns)
    ;;
  zone)
    sources=(dns/presentation.cpp dns/zone.cpp dns/wire/name.cpp dns/wire/record.cpp dns/wire/types.cpp)
    watched=(base dns)
    libraries=(-lldns)
    ;;
  *)
    echo "$0: unknown target '$target' (wire, dns, probe, http, config or zone)" >&2
    exit 2
    ;;
esac

missing() {
  echo "$name: $1" >&2
  echo "$name: install clang and libclang-rt-14-dev (scripts/install-deps.sh)" >&2
  if [ "$allow_skip" = 1 ] && [ "${CI:-}" != "true" ]; then
    echo "$name: SKIPPED (set CI=true to make this a failure)" >&2
    exit 77
  fi
  echo "$name: FAILED: the fuzz test cannot run here" >&2
  exit 1
}

command -v "$cxx" >/dev/null 2>&1 || missing "$cxx not found"
probe="$out/probe-$target"
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
  "$cxx" -x c++ - -fsanitize=fuzzer,address,undefined -o "$probe" >"$probe.log" 2>&1; then
  missing "$cxx cannot link libFuzzer with the sanitizers (see $probe.log)"
fi
rm -f "$probe"

binary="$out/${target}_fuzz"
inputs=("${sources[@]/#/$source_dir/}" "$source_dir/tests/fuzz/${target}_fuzz.cpp")
watched_dirs=("${watched[@]/#/$source_dir/}")
if [ ! -x "$binary" ] || [ -n "$(find "${inputs[@]}" "${watched_dirs[@]}" "$0" \
  \( -name '*.hpp' -o -name '*.cpp' -o -name '*.sh' \) -newer "$binary" | head -1)" ]; then
  echo "$name: building $binary"
  # One object per source, two at a time (the machine's cores), so a
  # rebuild of the larger target stays within the test's time.
  objects=()
  mkdir -p "$out/obj-$target"
  pids=()
  for input in "${inputs[@]}"; do
    object="$out/obj-$target/$(echo "${input#"$source_dir"/}" | tr / _).o"
    objects+=("$object")
    "$cxx" -std=c++20 -g -O1 -Wall -Wextra -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
      -I"$source_dir" -DMERIDIAN_SOURCE_DIR="\"$source_dir\"" -DMERIDIAN_FUZZ_DIR="\"$out\"" "${defines[@]}" \
      -c "$input" -o "$object" &
    pids+=($!)
    if [ "${#pids[@]}" -ge 2 ]; then
      wait "${pids[0]}"
      pids=("${pids[@]:1}")
    fi
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  "$cxx" -fsanitize=fuzzer,address,undefined "${objects[@]}" "${libraries[@]}" -o "$binary.tmp"
  mv "$binary.tmp" "$binary"
fi

mkdir -p "$out/corpus-$target"
echo "$name: fuzzing for ${seconds}s"
# libFuzzer's own error code is 77, CTest's skip code here: any failure
# becomes 1.
if ! "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -error_exitcode=1 -timeout_exitcode=1 \
  -print_final_stats=1 -artifact_prefix="$out/$target-" "$out/corpus-$target" "$source_dir/tests/fuzz/corpus/$target"; then
  echo "$name: FAILED: see the report above; the input that failed is in $out/" >&2
  exit 1
fi
