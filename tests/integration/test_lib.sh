# Shared helpers for the shell integration tests. Source it; it sets -eu.
set -euo pipefail

failures=0
checks=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { checks=$((checks + 1)); }

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
  if [ "$2" == "$3" ]; then pass; else fail "$1: expected '$3', got '$2'"; fi
}
# expect_match WHAT TEXT REGEX
expect_match() {
  if grep -Eq -- "$3" <<<"$2"; then pass; else fail "$1: '$2' does not match /$3/"; fi
}

require_tool() {
  command -v "$1" >/dev/null 2>&1 || { echo "FAIL: $1 is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
}

# A UDP+TCP port that nothing listens on now (loopback only).
# Ports this test handed out already (pick_port runs in $(...) subshells, so
# a variable would not remember them); removed by finish.
picked_ports_file="${TMPDIR:-/tmp}/meridian-test-ports.$$"
pick_port() {
  local port
  # Below Linux's ephemeral range (32768 and up): the source port of another
  # test's client connection can never take it between this check and the
  # node's bind (a clash seen when tests ran two at a time).
  for _ in $(seq 1 50); do
    port=$(shuf -i 20000-32000 -n 1)
    # Twice the same port in one test: neither is bound until the processes
    # start (a node's peer port once came out equal to a backend's).
    if grep -qx "$port" "$picked_ports_file" 2>/dev/null; then continue; fi
    if ! ss -Huln "sport = :$port" | grep -q . && ! ss -Htln "sport = :$port" | grep -q .; then
      echo "$port" >>"$picked_ports_file"
      echo "$port"
      return 0
    fi
  done
  return 1
}

# wait_for_dns PORT: until the server answers anything (10 s at most).
wait_for_dns() {
  for _ in $(seq 1 100); do
    if dig @127.0.0.1 -p "$1" +time=1 +tries=1 ping A >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

finish() {
  rm -f "$picked_ports_file"
  echo "$checks passed, $failures failed"
  [ "$failures" -eq 0 ]
}
