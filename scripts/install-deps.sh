#!/usr/bin/env bash
# Installs the Debian 12 packages Meridian needs to build, test, demo and
# benchmark, and the one npm package of the browser test (playwright-core,
# with the machine's Node.js). Idempotent: installs only what is missing.
# Uses sudo when not root.
set -euo pipefail

packages=(
  # build
  g++ cmake ninja-build make pkg-config ccache
  # libraries (one adapter each, see docs/architecture.md)
  libboost1.81-dev libboost-json1.81-dev
  libldns-dev libmaxminddb-dev librocksdb-dev libyaml-cpp-dev libssl-dev
  # tests: Catch2 v2, real DNS clients, mmdb tools, namespaces
  catch2 dnsutils knot-dnsutils ldnsutils mmdb-bin iproute2 procps openssl jq curl
  # the official Prometheus client's text-format parser, to check /metrics
  # (Debian's prometheus package has promtool, but also enables a server)
  python3-prometheus-client
  # the dashboard's browser test (tests/integration/dashboard_test.sh)
  chromium
  # fuzzing (clang's libFuzzer and sanitizers)
  clang libclang-rt-14-dev
  # the code's habits: format and static checks (make test: lint.format, lint.tidy)
  clang-format clang-tidy python3
  # the etcd store's peer in tests (tests/etcd, the *_etcd integration tests):
  # started by the tests on loopback ports; the package's own service is not used
  etcd-server etcd-client
  # Knot DNS, the peer integration.rrl exchanges RFC 9018 cookies with: started
  # by the test on a loopback port; the package's own service is stopped
  # and disabled below when this script installed it
  knot
  # benchmarks
  dnsperf
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -ne 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # A fresh knot package starts a DNS server on port 53: not ours to run.
  if [[ " ${missing[*]} " == *" knot "* ]] && command -v systemctl >/dev/null 2>&1; then
    $sudo systemctl disable --now knot >/dev/null 2>&1 || true
  fi
fi

# playwright-core for the browser test, at the version package-lock.json
# pins, into tests/integration/dashboard/node_modules (ignored by git). It
# drives Debian's chromium: never let it download a browser of its own.
browser_test=$(cd "$(dirname "$0")/../tests/integration/dashboard" && pwd)
if command -v npm >/dev/null 2>&1; then
  pinned=$(cd "$browser_test" && node -p "require('./package-lock.json').packages['node_modules/playwright-core'].version")
  installed=$(cd "$browser_test" && node -p "require('./node_modules/playwright-core/package.json').version" 2>/dev/null || true)
  if [ "$installed" != "$pinned" ]; then
    echo "install-deps: installing playwright-core $pinned (npm ci in tests/integration/dashboard)"
    (cd "$browser_test" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
else
  echo "install-deps: no npm (Node.js): the dashboard's browser test will skip (fail under CI=true)" >&2
fi
