#!/usr/bin/env bash
# Response rate limiting and cookies on the real binary: a UDP flood from
# one source is capped at the configured rate, with every second limited
# reply sent truncated (slip 2) and the rest dropped, while a source in
# another network keeps full service and a resolver that returns a valid
# server cookie is not limited at all; loopback is exempt by default; the
# counters reach /metrics; Meridian's and Knot's server cookies made with
# one secret are valid at both (RFC 9018).
meridian=$1
src=$2
source "$(dirname "$0")/test_lib.sh"
require_tool dig
require_tool python3
require_tool curl
require_tool jq
require_tool kdig
require_tool knotd

work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "$failures" -ne 0 ]; then tail -n 20 "$work"/node.log >&2 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

dns_port=$(pick_port)
admin_port=$(pick_port)
rate=10
flood() { python3 "$src/tests/integration/dns_flood.py" --port "$dns_port" --name big.demo.test --qtype 16 "$@"; }

start_node() {  # $1: the dns.rrl map; $2: more keys of dns:
  cat >"$work/node.yaml" <<YAML
node: { id: rrl-1, site: here }
dns: { listen: ["127.0.0.1:$dns_port"], threads: 2, rrl: $1 ${2:-} }
admin: { listen: "127.0.0.1:$admin_port" }
sites: { here: { lat: 50, lon: 8 } }
zones:
  - origin: demo.test.
    soa: { mname: ns1, rname: hostmaster }
    ns: [ns1]
    records:
      - "ns1 IN A 127.0.0.1"
      - "big IN TXT \"$(printf 'x%.0s' $(seq 1 200))\" \"$(printf 'y%.0s' $(seq 1 200))\""
YAML
  "$meridian" serve --config "$work/node.yaml" >"$work/node.log" 2>&1 &
  pid=$!
  wait_for_dns "$dns_port" || { fail "the node did not answer"; exit 1; }
}
stop_node() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

# 1. Loopback is exempt by default: a flood from 127.0.0.1 is answered in full.
start_node "{ responses_per_second: $rate }"
out=$(flood --count 600 --rate 600)
expect_eq "loopback, exempt by default: every reply full" "$(jq -r '"\(.full) \(.truncated)"' <<<"$out")" "600 0"
stop_node

# 2. No exemption: 2,000 queries in 2 s from one source.
start_node "{ responses_per_second: $rate, slip: 2, exempt: [] }"
flood --count 2000 --rate 1000 >"$work/flood.json" &
flooding=$!
# Meanwhile another network (127.0.1.0/24) asks ten times: all answered.
other_full=0
for _ in $(seq 1 10); do
  reply=$(dig @127.0.0.1 -p "$dns_port" -b 127.0.1.1 +time=1 +tries=1 +ignore big.demo.test TXT)
  if grep -q "status: NOERROR" <<<"$reply" && grep -q "ANSWER: 1," <<<"$reply" && ! grep -q "flags:.* tc" <<<"$reply"; then
    other_full=$((other_full + 1))
  fi
  sleep 0.1
done
wait "$flooding"
out=$(cat "$work/flood.json")
echo "flood from one source: $out"
expect_eq "another network keeps full service" "$other_full" 10
sent=$(jq .sent <<<"$out")
full=$(jq .full <<<"$out")
truncated=$(jq .truncated <<<"$out")
seconds=$(jq .seconds <<<"$out")
# One second's worth at once, then the rate: 10 + 10 x 2 s (+ slack for the
# flood's own start and end).
max_full=$(python3 -c "print(int($rate * ($seconds + 1.5)))")
[ "$full" -ge "$rate" ] && [ "$full" -le "$max_full" ] && pass ||
  fail "full answers to the flooding source: $full, expected $rate..$max_full"
# slip 2: half of the limited replies come back truncated, the rest never.
limited=$((sent - full))
python3 -c "import sys; sys.exit(0 if 0.45 * $limited <= $truncated <= 0.55 * $limited else 1)" && pass ||
  fail "truncated replies: $truncated of $limited limited, expected about half"
metrics=$(curl -s "http://127.0.0.1:$admin_port/metrics")
dropped=$(awk '/^meridian_dns_rate_limited_total\{action="dropped"\}/ {print $2}' <<<"$metrics")
slipped=$(awk '/^meridian_dns_rate_limited_total\{action="slipped"\}/ {print $2}' <<<"$metrics")
expect_eq "slipped replies counted" "$slipped" "$truncated"
[ "${dropped:-0}" -ge $((limited * 45 / 100)) ] && pass || fail "dropped replies counted: $dropped of $limited"

# 3. A resolver that returns a valid server cookie is not limited, from the
# same network as the flood.
out=$(flood --count 500 --rate 500 --cookie --source 127.0.0.7)
echo "with a cookie: $out"
expect_eq "a valid cookie: every reply full" "$(jq -r '"\(.full) \(.truncated)"' <<<"$out")" "500 0"
valid=$(curl -s "http://127.0.0.1:$admin_port/metrics" | awk '/^meridian_dns_cookies_total\{server_cookie="valid"\}/ {print $2}')
[ "${valid:-0}" -ge 500 ] && pass || fail "valid cookies counted: $valid"
# dig learns the cookie and sees it accepted ("good").
expect_match "dig +cookie" "$(dig @127.0.0.1 -p "$dns_port" -b 127.0.2.1 +cookie ns1.demo.test A)" "COOKIE: [0-9a-f]{48} \(good\)"
# Over TCP the cookie comes back too, and nothing is limited.
expect_match "kdig +tcp +cookie" "$(kdig @127.0.0.1 -p "$dns_port" +tcp +cookie ns1.demo.test A 2>&1)" "COOKIE: [0-9A-Fa-f]{48}"
stop_node

# 4. Interoperable server cookies (RFC 9018): Meridian and Knot with the
# same secret (dns.cookies.secret_file, Knot's mod-cookies) accept each
# other's cookies, as servers of one anycast address must. A valid, young
# cookie is sent back as it came; one a server cannot verify is replaced.
secret=e5e973e5a6b2a43f48e7dc849e37bfcf
printf '%s\n' "$secret" >"$work/cookie.secret"
chmod 644 "$work/cookie.secret"
cat >"$work/refused.yaml" <<YAML
node: { id: rrl-1, site: here }
dns: { listen: ["127.0.0.1:$dns_port"], cookies: { secret_file: cookie.secret } }
sites: { here: { lat: 50, lon: 8 } }
zones: [ { origin: demo.test., soa: { mname: ns1, rname: hostmaster }, ns: [ns1], records: ["ns1 IN A 127.0.0.1"] } ]
YAML
if "$meridian" serve --config "$work/refused.yaml" >"$work/refused.log" 2>&1; then fail "a world-readable secret file was accepted"; fi
expect_match "a world-readable secret file is refused" "$(cat "$work/refused.log")" "secret_file: .*cookie.secret holds a secret but has mode 0644, open to group or others; run .chmod 600"
chmod 600 "$work/cookie.secret"
start_node "{ responses_per_second: $rate }" ", cookies: { secret_file: cookie.secret }"
knot_port=$(pick_port)
mkdir -p "$work/knot"
printf '$ORIGIN demo.test.\n@ 3600 IN SOA ns1 hostmaster 1 3600 600 604800 300\n@ 3600 IN NS ns1\nns1 IN A 127.0.0.1\n' >"$work/knot/demo.test.zone"
cat >"$work/knot/knot.conf" <<CONF
server:
    listen: 127.0.0.1@$knot_port
    rundir: $work/knot
database:
    storage: $work/knot
mod-cookies:
  - id: shared
    secret: 0x$secret
template:
  - id: default
    storage: $work/knot
    global-module: mod-cookies/shared
zone:
  - domain: demo.test
    file: demo.test.zone
CONF
knotd -c "$work/knot/knot.conf" >"$work/knot.log" 2>&1 &
knot_pid=$!
for _ in $(seq 1 50); do kdig @127.0.0.1 -p "$knot_port" +time=1 ns1.demo.test A >/dev/null 2>&1 && break; sleep 0.1; done
cookie_from() {  # PORT CLIENT_OR_FULL_COOKIE: the COOKIE of the answer, lower case
  kdig @127.0.0.1 -p "$1" +time=1 +cookie="$2" ns1.demo.test A 2>/dev/null | grep -m1 "COOKIE:" | awk '{print tolower($3)}'
}
from_knot=$(cookie_from "$knot_port" 2464c4abcf10c957)
from_meridian=$(cookie_from "$dns_port" 1122334455667788)
expect_match "Knot made a cookie" "$from_knot" "^2464c4abcf10c95701000000[0-9a-f]{24}$"
expect_eq "Meridian accepts Knot's cookie" "$(cookie_from "$dns_port" "$from_knot")" "$from_knot"
expect_eq "Knot accepts Meridian's cookie" "$(cookie_from "$knot_port" "$from_meridian")" "$from_meridian"
forged=${from_knot:0:40}00000000
expect_match "a forged cookie is replaced" "$(cookie_from "$dns_port" "$forged")" "^2464c4abcf10c957"
[ "$(cookie_from "$dns_port" "$forged")" != "$forged" ] && pass || fail "a forged cookie was accepted"
kill "$knot_pid" 2>/dev/null || true
stop_node

finish
