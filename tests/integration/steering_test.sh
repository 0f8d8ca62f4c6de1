#!/usr/bin/env bash
# Steering policies against the real binary: configs/examples/steering
# served on loopback, asked with `dig +subnet=` once or more per policy and
# stage (answers and ECS scopes: nets, asn, geo, supernet scopes, CNAME
# endpoints), and `meridian explain` checked for one case per policy and
# stage, and for a Country database's centroids.
meridian=$1
src=$2
source "$(dirname "$0")/test_lib.sh"
require_tool dig
require_tool ss

work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

port=$(pick_port)
cp "$src"/configs/examples/steering/{steering.yaml,nets.txt,geoip.csv,asn.csv,country.csv} "$work/"
sed -i "s/127.0.0.1:5301/127.0.0.1:$port/" "$work/steering.yaml"
"$meridian" geo build-db --input "$work/geoip.csv" --output "$work/steering.mmdb" >/dev/null
"$meridian" geo build-db --asn --input "$work/asn.csv" --output "$work/steering-asn.mmdb" >/dev/null
"$meridian" geo build-db --input "$work/country.csv" --output "$work/country.mmdb" >/dev/null

out=$("$meridian" check-config "$work/steering.yaml" 2>&1) && status=0 || status=$?
expect_eq "check-config on the steering example" "$status" "0"

"$meridian" serve -c "$work/steering.yaml" >"$work/log" 2>&1 &
pid=$!
wait_for_dns "$port" || { cat "$work/log" >&2; echo "FAIL: the server did not answer" >&2; exit 1; }

ask() { dig @127.0.0.1 -p "$port" +time=2 +tries=1 "$@"; }
# answer NAME TYPE SUBNET: the addresses, sorted, on one line
answer() { ask "$1" "$2" ${3:+"+subnet=$3"} +short | sort | tr '\n' ' ' | sed 's/ $//'; }
# scope NAME TYPE SUBNET: the CLIENT-SUBNET line's ADDRESS/SOURCE/SCOPE
scope() { ask "$1" "$2" "+subnet=$3" | sed -n 's/.*CLIENT-SUBNET: //p'; }

# name type subnet expected-answer expected-ecs (empty: not checked)
check() {
  expect_eq "$1 $2 from $3" "$(answer "$1.steer.test" "$2" "$3")" "$4"
  [ -z "${5:-}" ] || expect_eq "$1 $2 from $3: ECS scope" "$(scope "$1.steer.test" "$2" "$3")" "$5"
}

# closest with bias: New York is nearer us-east, but eu-west's bias wins it.
check near A 65.0.1.0/24 192.0.2.30 65.0.1.0/24/16
# Milton, WA goes to us-west like the unlocated space around it (near's
# default order starts with us-west): one answer for all of 208.0.0.0/4.
check near A 216.160.83.0/24 192.0.2.10 216.160.83.0/24/4
check near AAAA 2001:218::/48 2001:db8:40::40 2001:218::/48/32
check near A 10.1.2.0/24 192.0.2.10 10.1.2.0/24/0          # private ECS: ignored
# geo-map: subdivision > country > continent > default.
check geo A 64.0.1.0/24 192.0.2.11 64.0.1.0/24/16          # US-CA
check geo A 65.0.1.0/24 192.0.2.21 65.0.1.0/24/8           # US (NY), like the rest of 65/8 (default us-east)
check geo A 89.160.20.0/24 192.0.2.51 89.160.20.0/24/24    # SE
check geo A 81.2.69.0/24 192.0.2.31 81.2.69.0/24/24        # EU
check geo A 175.16.199.0/24 192.0.2.41 175.16.199.0/24/24  # AS
check geo A 200.160.0.0/20 192.0.2.21 200.160.0.0/20/2     # BR: default list, as all of 192/2
# nets beat geo: the file's and the inline rows, IPv4 and IPv6.
check office A 203.0.113.0/24 192.0.2.52 203.0.113.0/24/24
check office A 81.2.69.128/25 192.0.2.42 81.2.69.128/25/25
check office A 81.2.69.0/25 192.0.2.32 81.2.69.0/25/25
# asn after nets, before geo: AS64500 (81.2.0.0/16) maps to ap-northeast.
check isp A 81.2.69.0/25 192.0.2.45 81.2.69.0/25/25         # asn beats geo (London)
check isp A 81.2.69.128/25 192.0.2.55 81.2.69.128/25/25     # nets beat the asn
check isp A 89.160.20.0/24 192.0.2.25 89.160.20.0/24/24     # AS64501 not mapped: geo
# ECS scope: the widest prefix answered alike, never beyond the source.
check wide A 45.0.0.0/24 192.0.2.28 45.0.0.0/24/23          # London and Paris /24s merge
check wide A 45.0.1.0/24 192.0.2.28 45.0.1.0/24/23
check wide A 45.0.2.0/24 192.0.2.29 45.0.2.0/24/24          # New York: its sibling (Paris) differs
check wide A 45.0.3.0/24 192.0.2.28 45.0.3.0/24/24
check wide A 45.0.0.0/22 192.0.2.28 45.0.0.0/22/22          # capped at the source prefix
# cname endpoints: a lone CNAME for A, AAAA and other types; addresses or
# NODATA where the client's answer is addresses; in-zone targets followed.
check cdn A 81.2.69.0/24 eu.cdn.example.net. 81.2.69.0/24/24
check cdn AAAA 81.2.69.0/24 eu.cdn.example.net. 81.2.69.0/24/24
check cdn TXT 81.2.69.0/24 eu.cdn.example.net. 81.2.69.0/24/24
check cdn A 216.160.83.0/24 192.0.2.26 216.160.83.0/24/2
check cdn AAAA 216.160.83.0/24 2001:db8:26::26
check cdn TXT 216.160.83.0/24 "" 216.160.83.0/24/2
check cdn A 2001:218::/48 "192.0.2.90 edge.steer.test." 2001:218::/48/32
expect_match "cname: TTL as for addresses" "$(ask cdn.steer.test A +subnet=81.2.69.0/24 +noall +answer)" \
  "^cdn.steer.test.[[:space:]]+30[[:space:]]+IN[[:space:]]+CNAME[[:space:]]+eu.cdn.example.net.$"
out=$(ask cdn.steer.test TXT +subnet=216.160.83.0/24)
expect_match "cname: NODATA for addresses' clients" "$out" "status: NOERROR"
expect_match "cname: NODATA with the SOA" "$out" "flags: qr aa.*ANSWER: 0, AUTHORITY: 1,"
# The name's check target refuses: London fails over to us-east's address.
check cdnfail A 81.2.69.0/24 192.0.2.27 81.2.69.0/24/0
# failover and weighted: the same for everyone, scope 0.
check primary A 81.2.69.0/24 192.0.2.53 81.2.69.0/24/0
check primary A 175.16.199.0/24 192.0.2.53 175.16.199.0/24/0
check spread A 81.2.69.0/24 "192.0.2.14 192.0.2.44" 81.2.69.0/24/0
# sticky: one client network, one endpoint, every time.
first=$(answer sticky.steer.test A 81.2.69.0/24)
same=1
for _ in 1 2 3 4 5 6; do [ "$(answer sticky.steer.test A 81.2.69.0/24)" == "$first" ] || same=0; done
expect_eq "sticky: the same endpoint for one client network" "$same" "1"
expect_eq "sticky: ECS scope is the hashed /24" "$(scope sticky.steer.test A 81.2.69.0/24)" "81.2.69.0/24/24"
# spillover: eu-west has 1 of 2 up, below min_healthy 2: London -> us-east.
check spill A 81.2.69.0/24 192.0.2.64
# nothing up: fallback with the degraded TTL; SERVFAIL when chosen.
check maint A 81.2.69.0/24 198.51.100.99
expect_eq "fallback TTL" "$(ask maint.steer.test A +noall +answer | awk '{print $2}')" "10"
expect_match "fail closed: SERVFAIL" "$(ask closed.steer.test A)" "status: SERVFAIL"
# ecs: false: the source (loopback, not located) decides; scope 0.
check noecs A 81.2.69.0/24 192.0.2.19 81.2.69.0/24/0

# meridian explain: one case per policy.
explain() { "$meridian" explain "$@" -c "$work/steering.yaml" 2>&1; }
expect_explained() {  # what output stage answer
  expect_match "explain $1: stage" "$2" "^decided by: $3"
  expect_match "explain $1: answer" "$2" "^answer: $4\$"
}
out=$(explain near.steer.test 127.0.0.1 --ecs 65.0.1.0/24)
expect_explained closest "$out" closest 192.0.2.30
expect_match "explain closest: located" "$out" "location: GeoIP network /16: 40.7128, -74.0060, country US"
expect_match "explain closest: bias shown" "$out" "eu-west +[0-9]+ km +\+95% +[0-9]+ km +1/1 +picked"
expect_match "explain closest: ecs scope" "$out" "^ecs scope: /16$"
out=$(explain geo.steer.test 127.0.0.1 --ecs 64.0.1.0/24)
expect_explained geo-map "$out" geo-map 192.0.2.11
expect_match "explain geo-map: entry" "$out" "^geo-map entry: US-CA$"
out=$(explain office.steer.test 127.0.0.1 --ecs 203.0.113.0/24)
expect_explained nets "$out" nets 192.0.2.52
expect_match "explain nets: range" "$out" "^nets: match, uniform over 203.0.113.0/24$"
out=$(explain primary.steer.test 198.51.100.1)
expect_explained failover "$out" failover 192.0.2.53
expect_match "explain failover: scope" "$out" "^ecs scope: /0$"
out=$(explain spread.steer.test 198.51.100.1)
expect_explained weighted "$out" weighted "192.0.2.(14 192.0.2.44|44 192.0.2.14)"
out=$(explain spill.steer.test 127.0.0.1 --ecs 81.2.69.0/24)
expect_explained spillover "$out" closest 192.0.2.64
expect_match "explain spillover: eu-west unavailable" "$out" "eu-west .* 1/2 +unavailable"
out=$(explain maint.steer.test 127.0.0.1)
expect_explained fallback "$out" "fallback \(degraded\)" 198.51.100.99
expect_match "explain fallback: ttl" "$out" "^ttl: 10$"
out=$(explain closed.steer.test 127.0.0.1)
expect_explained "fail closed" "$out" "fail closed" SERVFAIL
out=$(explain noecs.steer.test 127.0.0.1 --ecs 81.2.69.0/24)
expect_match "explain ecs: false" "$out" "ECS 81.2.69.0/24 ignored: ecs: false"
out=$(explain isp.steer.test 127.0.0.1 --ecs 81.2.69.0/25)
expect_explained asn "$out" "asn AS64500 \(Example Org\)" 192.0.2.45
expect_match "explain asn: the AS line" "$out" "^asn: AS64500 \(Example Org\), network /16: in the asn map$"
out=$(explain isp.steer.test 127.0.0.1 --ecs 81.2.69.128/25)
expect_explained "nets before asn" "$out" nets 192.0.2.55
out=$(explain cdn.steer.test 127.0.0.1 --ecs 81.2.69.0/24 --type AAAA)
expect_explained cname "$out" closest "CNAME eu.cdn.example.net."
out=$(explain wide.steer.test 127.0.0.1 --ecs 45.0.0.0/24)
expect_match "explain scope: merged" "$out" "^geo scope: /23 \(GeoIP network /24 and its neighbours"
expect_match "explain scope: ecs" "$out" "^ecs scope: /23$"
# A Country database (no coordinates): closest places clients at their
# country's centroid.
sed 's/database: steering.mmdb/database: country.mmdb/' "$work/steering.yaml" >"$work/country.yaml"
out=$("$meridian" explain near.steer.test 127.0.0.1 --ecs 89.160.20.0/24 -c "$work/country.yaml" 2>&1)
expect_explained "country database" "$out" closest 192.0.2.30
expect_match "explain country: no coordinates" "$out" "location: GeoIP network /24: no coordinates, country SE"
expect_match "explain country: centroid" "$out" "^location source: country centroid \(SE\) 60.1300, 18.6400$"
out=$("$meridian" explain near.steer.test 127.0.0.1 --ecs 175.16.199.0/24 -c "$work/country.yaml" 2>&1)
expect_match "explain country: China's centroid" "$out" "^location source: country centroid \(CN\)"
out=$(explain nope.steer.test 127.0.0.1) && status=0 || status=$?
expect_eq "explain of a name that is not a service" "$status" "1"
expect_match "explain error" "$out" "nope.steer.test. is not a service"
"$meridian" explain near.steer.test 2>/dev/null && status=0 || status=$?
expect_eq "explain without a client" "$status" "2"

finish
