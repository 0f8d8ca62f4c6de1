#!/usr/bin/env bash
# Builds the wire-format fuzz target with clang and libFuzzer
# (-fsanitize=fuzzer,address,undefined) into BUILD_DIR/fuzz, then fuzzes it
# for SECONDS, starting from the seed corpus tests/fuzz/corpus/wire (new
# inputs go to BUILD_DIR/fuzz/corpus-wire, crashes to BUILD_DIR/fuzz/).
# Fails on any crash, leak, sanitizer report or broken round trip.
#
#   run_wire_fuzz.sh [--allow-skip] SOURCE_DIR BUILD_DIR SECONDS
#
# Without clang or libFuzzer it fails, unless --allow-skip is given and CI is
# not "true": then it exits 77 (CTest's skip code) with a message.
set -euo pipefail

allow_skip=0
if [ "${1:-}" = "--allow-skip" ]; then
  allow_skip=1
  shift
fi
if [ $# -ne 3 ]; then
  echo "usage: $0 [--allow-skip] SOURCE_DIR BUILD_DIR SECONDS" >&2
  exit 2
fi
source_dir=$(cd "$1" && pwd)
mkdir -p "$2/fuzz"
out=$(cd "$2/fuzz" && pwd)
seconds=$3
cxx=${FUZZ_CXX:-clang++}

missing() {
  echo "fuzz.wire: $1" >&2
  echo "fuzz.wire: install clang and libclang-rt-14-dev (scripts/install-deps.sh)" >&2
  if [ "$allow_skip" = 1 ] && [ "${CI:-}" != "true" ]; then
    echo "fuzz.wire: SKIPPED (set CI=true to make this a failure)" >&2
    exit 77
  fi
  echo "fuzz.wire: FAILED: the fuzz test cannot run here" >&2
  exit 1
}

command -v "$cxx" >/dev/null 2>&1 || missing "$cxx not found"
probe="$out/probe"
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
  "$cxx" -x c++ - -fsanitize=fuzzer,address,undefined -o "$probe" >"$out/probe.log" 2>&1; then
  missing "$cxx cannot link libFuzzer with the sanitizers (see $out/probe.log)"
fi
rm -f "$probe"

# Only the codec and the headers it includes: the fuzz build needs no library.
binary="$out/wire_fuzz"
inputs=("$source_dir/cluster/wire.cpp" "$source_dir/tests/fuzz/wire_fuzz.cpp")
if [ ! -x "$binary" ] || [ -n "$(find "${inputs[@]}" "$source_dir/cluster" "$source_dir/base" "$source_dir/store" \
  "$0" -name '*.hpp' -newer "$binary" -o -name '*.cpp' -newer "$binary" -o -name '*.sh' -newer "$binary" |
  head -1)" ]; then
  echo "fuzz.wire: building $binary"
  "$cxx" -std=c++20 -g -O1 -Wall -Wextra -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$source_dir" "${inputs[@]}" -o "$binary.tmp"
  mv "$binary.tmp" "$binary"
fi

mkdir -p "$out/corpus-wire"
echo "fuzz.wire: fuzzing for ${seconds}s"
# libFuzzer's own error code is 77, CTest's skip code here: any failure
# becomes 1.
if ! "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -error_exitcode=1 -timeout_exitcode=1 \
  -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus-wire" "$source_dir/tests/fuzz/corpus/wire"; then
  echo "fuzz.wire: FAILED: see the report above; the input that failed is in $out/" >&2
  exit 1
fi
