#!/usr/bin/env bash
# Installs the Debian 12 packages Meridian needs to build, test, demo and
# benchmark. Idempotent: installs only what is missing. Uses sudo when not root.
set -euo pipefail

packages=(
  # build
  g++ cmake ninja-build make pkg-config ccache
  # libraries (one adapter each, see DESIGN.md)
  libboost1.81-dev libboost-json1.81-dev
  libldns-dev libmaxminddb-dev librocksdb-dev libyaml-cpp-dev libssl-dev
  # tests: Catch2 v2, real DNS clients, mmdb tools, namespaces
  catch2 dnsutils knot-dnsutils ldnsutils mmdb-bin iproute2 procps openssl jq curl
  # the official Prometheus client's text-format parser, to check /metrics
  # (Debian's prometheus package has promtool, but also enables a server)
  python3-prometheus-client
  # fuzzing (clang's libFuzzer and sanitizers)
  clang libclang-rt-14-dev
  # benchmarks
  dnsperf
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
