#!/usr/bin/env bash
# The demo as a user runs it: configs/demo/demo.yaml with the demo GeoIP
# data, asked with dig +subnet from five continents over UDP and TCP, then
# stopped with Ctrl-C (SIGINT), which must exit cleanly.
meridian=$1
src=$2
source "$(dirname "$0")/test_lib.sh"
require_tool dig
require_tool ss

work=$(mktemp -d)
pid=
backends=()
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  for b in "${backends[@]}"; do kill "$b" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

port=$(pick_port)
sed "s/:5300/:$port/g" "$src/configs/demo/demo.yaml" >"$work/demo.yaml"
# The demo's backends, on free ports: one per site, as make demo starts them.
for demo_port in 18081 18082 18083 18084 18085; do
  free=$(pick_port)
  sed -i "s/port: $demo_port }/port: $free }/" "$work/demo.yaml"
  "$meridian" backend --listen "127.0.0.1:$free" --name "site-$demo_port" >/dev/null 2>&1 &
  backends+=($!)
done
"$meridian" geo build-db --input "$src/configs/demo/geoip.csv" --output "$work/demo.mmdb" >/dev/null
"$meridian" serve -c "$work/demo.yaml" >"$work/log" 2>&1 &
pid=$!
wait_for_dns "$port" || { cat "$work/log"; echo "FAIL: demo node did not answer"; exit 1; }

ask() { dig @127.0.0.1 -p "$port" +time=2 +tries=1 "$@"; }

# subnet, type, expected site's address (from demo.yaml)
while read -r subnet type expected; do
  for transport in "" "+tcp"; do
    answer=$(ask www.demo.test "$type" +short "+subnet=$subnet" $transport)
    expect_eq "www.demo.test $type from $subnet $transport" "$answer" "$expected"
    scope=$(ask www.demo.test "$type" "+subnet=$subnet" $transport | sed -n 's/.*CLIENT-SUBNET: \([^ ]*\).*/\1/p')
    expect_match "ECS scope echoed for $subnet" "$scope" '/[1-9][0-9]*$'
  done
done <<'CASES'
81.2.69.0/24 A 192.0.2.30
89.160.20.0/24 A 192.0.2.30
175.16.199.0/24 A 192.0.2.40
216.160.83.0/24 A 192.0.2.10
200.160.0.0/20 A 192.0.2.50
2001:218::/32 AAAA 2001:db8:40::40
CASES

expect_eq "IPv6 listener" "$(dig @::1 -p "$port" +short +subnet=81.2.69.0/24 www.demo.test A)" "192.0.2.30"
expect_match "NXDOMAIN" "$(ask nope.demo.test A)" 'status: NXDOMAIN'
expect_match "CNAME chain" "$(ask alias.demo.test A +short +subnet=81.2.69.0/24 | tr '\n' ' ')" 'web.demo.test. www.demo.test. 192.0.2.30'

kill -INT "$pid"
status=0
wait "$pid" || status=$?
pid=
expect_eq "exit status after Ctrl-C" "$status" "0"
expect_match "clean stop logged" "$(cat "$work/log")" 'stopped'
expect_match "health: every backend probed up" "$(grep -c 'unknown -> up' "$work/log")" '^5$'
finish || exit 1  # any failed check fails the test
