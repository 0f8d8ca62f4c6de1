#!/usr/bin/env bash
# The three-site cluster demo as a user runs it (scripts/demo-cluster.sh on
# its fixed ports 5301-5303, 7401-7403, 8401-8403 and the backends'
# 18082-18084): the three nodes form one cluster, agree on the answers,
# fail over together when a site's backend is stopped with
# scripts/demo-backend.sh, stop cleanly on SIGTERM, and start again over the
# previous run's files. Waits while another cluster demo runs (its lock),
# and fails (saying why) when something else holds the ports.
#
#   demo_cluster_test.sh MERIDIAN_BINARY SOURCE_DIR
source "$(dirname "$0")/test_lib.sh"
export MERIDIAN_BINARY=$1
# Another run of this test (another build or clone) waits for the demo's lock.
export DEMO_CLUSTER_WAIT=300
src=$2
require_tool dig
require_tool jq
require_tool ss
work=$(mktemp -d)
demo=
cleanup() {
  if [ -n "$demo" ]; then kill -TERM "$demo" 2>/dev/null; wait "$demo" 2>/dev/null || true; fi
  if [ "$failures" -ne 0 ]; then tail -n 30 "$work"/demo*.log "$src"/out/demo-cluster/*.log >&2 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The three configs differ only in what names the node.
configs=$src/configs/demo-cluster
normalize() {
  sed -E -e 's/(eu-west|us-east|ap-northeast)-1/NODE/g' -e 's/(530|740|840)[123]/\1X/g' \
    -e 's/^  site: .*/  site: SITE/' "$1"
}
expect_eq "us-east-1.yaml is eu-west-1.yaml for another node" \
  "$(diff <(normalize "$configs/eu-west-1.yaml") <(normalize "$configs/us-east-1.yaml"))" ""
expect_eq "ap-northeast-1.yaml is eu-west-1.yaml for another node" \
  "$(diff <(normalize "$configs/eu-west-1.yaml") <(normalize "$configs/ap-northeast-1.yaml"))" ""

# start_demo LOG: runs the demo in the background until it is ready.
start_demo() {
  "$src/scripts/demo-cluster.sh" >"$1" 2>&1 &
  demo=$!
  for _ in $(seq 1 120); do
    grep -q 'Ctrl-C stops' "$1" && return 0
    kill -0 "$demo" 2>/dev/null || { demo=; cat "$1" >&2; return 1; }
    sleep 0.25
  done
  return 1
}
# stop_demo: SIGTERM, and the script's exit status in $stopped.
stop_demo() {
  stopped=0
  kill -TERM "$demo"
  wait "$demo" || stopped=$?
  demo=
}
answer() { dig @127.0.0.1 -p "$1" +short +time=1 +tries=1 www.demo.test A "+subnet=$2" 2>/dev/null | head -1; }
# every_node_answers SUBNET ADDRESS SECONDS
every_node_answers() {
  local deadline=$((SECONDS + $3))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if [ "$(answer 5301 "$1")" == "$2" ] && [ "$(answer 5302 "$1")" == "$2" ] && [ "$(answer 5303 "$1")" == "$2" ]; then
      return 0
    fi
    sleep 0.05
  done
  return 1
}

# Backends of a running `make demo` are used and left running: not checked.
ports_closed_after=(5301 5302 5303 7401 7402 7403 8401 8402 8403)
for backend in us-east:18082 eu-west:18083 ap-northeast:18084; do
  "$src/scripts/demo-backend.sh" status "${backend%:*}" | grep -q ': up' || ports_closed_after+=("${backend#*:}")
done
start_demo "$work/demo1.log" || { fail "the demo cluster did not start"; exit 1; }
# One cluster: three voters, one leader, the same one for everybody.
for admin in 8401 8402 8403; do
  status=$("$MERIDIAN_BINARY" cluster status --json --admin "127.0.0.1:$admin")
  expect_eq "voters seen by :$admin" "$(jq '[.members[] | select(.voter)] | length' <<<"$status")" 3
  expect_match "leader seen by :$admin" "$(jq -r .leader <<<"$status")" '^(eu-west|us-east|ap-northeast)-1$'
done
while read -r subnet expected; do
  every_node_answers "$subnet" "$expected" 5 && pass || fail "not every node answers $expected to $subnet"
done <<'CASES'
81.2.69.0/24 192.0.2.30
175.16.199.0/24 192.0.2.40
216.160.83.0/24 192.0.2.20
CASES
expect_eq "replicated verdicts" "$("$MERIDIAN_BINARY" kv scan _health/verdict/ --admin 127.0.0.1:8402 | grep -c '	up ')" 3

# Failover as the README shows it: interval 1 s x fall 2 + 2 s.
"$src/scripts/demo-backend.sh" stop eu-west >/dev/null
every_node_answers 81.2.69.0/24 192.0.2.20 4 && pass || fail "not every node moved London to us-east within 4 s"
"$src/scripts/demo-backend.sh" start eu-west >/dev/null
every_node_answers 81.2.69.0/24 192.0.2.30 6 && pass || fail "not every node came back to eu-west within 6 s"

stop_demo
expect_eq "SIGTERM stops the demo" "$stopped" 143
for port in "${ports_closed_after[@]}"; do
  expect_eq "port $port closed after the demo" "$(ss -Htln "sport = :$port" | wc -l)" 0
done

# A second run over the first one's certificates, token and data.
start_demo "$work/demo2.log" && pass || fail "the demo cluster did not start a second time"
every_node_answers 81.2.69.0/24 192.0.2.30 5 && pass || fail "second run: not every node answers eu-west"
stop_demo
expect_eq "second run stops" "$stopped" 143
finish
