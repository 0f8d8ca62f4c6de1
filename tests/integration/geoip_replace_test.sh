#!/usr/bin/env bash
# GeoIP databases replaced under a running node (issue 14 point 8): the
# steering example served on loopback and asked with `dig +subnet=` while
# its City and ASN databases are overwritten in place (`cp` of garbage, of
# another database, `truncate -s 0`) several times: the node keeps
# answering as before (it reads private copies, never the files). A SIGHUP
# with garbage in place is refused and the old databases keep serving; new
# databases put in place by rename are taken by the next SIGHUP.
meridian=$1
src=$2
source "$(dirname "$0")/test_lib.sh"
require_tool dig
require_tool ss
require_tool truncate

work=$(mktemp -d)
pid=
hammer=
cleanup() {
  [ -n "$hammer" ] && kill "$hammer" 2>/dev/null
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
head -c 4096 /dev/urandom >"$work/garbage.bin"

"$meridian" serve -c "$work/steering.yaml" >"$work/log" 2>&1 &
pid=$!
wait_for_dns "$port" || { cat "$work/log" >&2; echo "FAIL: the server did not answer" >&2; exit 1; }

ask() { dig @127.0.0.1 -p "$port" +time=2 +tries=1 "$@"; }
# answer NAME TYPE SUBNET: the addresses, sorted, on one line
answer() { ask "$1.steer.test" "$2" "+subnet=$3" +short | sort | tr '\n' ' ' | sed 's/ $//'; }
alive() { kill -0 "$pid" 2>/dev/null && echo yes || echo no; }

# The answers that read each database: geo-map (City: Sweden) and asn
# (ASN: AS64500 mapped, AS64501 not, then geo).
check_answers() {  # WHEN GEO ISP-81 ISP-89
  if [ "$(alive)" != yes ]; then
    tail -n 5 "$work/log" >&2
    fail "$1: the node died"
    finish
    exit 1
  fi
  pass
  expect_eq "$1: geo from Sweden" "$(answer geo A 89.160.20.0/24)" "$2"
  expect_eq "$1: isp from AS64500" "$(answer isp A 81.2.69.0/25)" "$3"
  expect_eq "$1: isp from 89.160.20.0/24" "$(answer isp A 89.160.20.0/24)" "$4"
}
old=(192.0.2.51 192.0.2.45 192.0.2.25)
check_answers "at start" "${old[@]}"

# The node maps its copies (memfd), never the operator's files.
maps=$(cat "/proc/$pid/maps")
expect_eq "the database files are not mapped" "$(grep -c 'steering.*\.mmdb' <<<"$maps" || true)" "0"
expect_match "the copies are mapped" "$maps" 'memfd:meridian-geoip'

# Queries from the side all along (their answers are not checked here).
(while true; do
  dig @127.0.0.1 -p "$port" +time=1 +tries=1 isp.steer.test A +subnet=81.2.69.0/25 >/dev/null 2>&1 || true
done) &
hammer=$!

for round in 1 2 3; do
  cp "$work/garbage.bin" "$work/steering.mmdb"
  cp "$work/garbage.bin" "$work/steering-asn.mmdb"
  check_answers "round $round: garbage copied over both" "${old[@]}"
  cp "$work/country.mmdb" "$work/steering.mmdb"
  cp "$work/country.mmdb" "$work/steering-asn.mmdb"
  check_answers "round $round: another database copied over both" "${old[@]}"
  truncate -s 0 "$work/steering.mmdb" "$work/steering-asn.mmdb"
  check_answers "round $round: both truncated to 0 bytes" "${old[@]}"
done
kill "$hammer" 2>/dev/null
wait "$hammer" 2>/dev/null || true
hammer=

# wait_for_log REGEX: until the node's log matches (10 s at most).
wait_for_log() {
  for _ in $(seq 1 100); do
    grep -Eq -- "$1" "$work/log" && return 0
    sleep 0.1
  done
  return 1
}

# A reload with garbage in the City file and an empty ASN file: refused,
# both named, and the old databases keep serving.
cp "$work/garbage.bin" "$work/steering.mmdb"
kill -HUP "$pid"
wait_for_log 'reload failed' && refused=yes || refused=no
expect_eq "reload with garbage databases is refused" "$refused" "yes"
log=$(cat "$work/log")
expect_match "refused reload names the City database" "$log" \
  'geoip.database: cannot open GeoIP database .*steering.mmdb: .*metadata'
expect_match "refused reload names the ASN database" "$log" \
  'geoip.asn_database: cannot open GeoIP database .*steering-asn.mmdb: the file is empty'
check_answers "after the refused reload" "${old[@]}"

# New databases written beside the old paths, then renamed over them: the
# next reload takes them. Sweden moves to California (US-CA: us-west) and
# 89.160.0.0/16 joins AS64500 (mapped: ap-northeast).
sed 's/^89.160.20.0\/24,.*/89.160.20.0\/24,37.7749,-122.4194,US,NA,CA/' "$work/geoip.csv" >"$work/geoip-new.csv"
sed 's/^89.160.0.0\/16, 64501/89.160.0.0\/16, 64500/' "$work/asn.csv" >"$work/asn-new.csv"
"$meridian" geo build-db --input "$work/geoip-new.csv" --output "$work/.steering.mmdb.tmp" >/dev/null
"$meridian" geo build-db --asn --input "$work/asn-new.csv" --output "$work/.steering-asn.mmdb.tmp" >/dev/null
mv "$work/.steering.mmdb.tmp" "$work/steering.mmdb"
mv "$work/.steering-asn.mmdb.tmp" "$work/steering-asn.mmdb"
kill -HUP "$pid"
wait_for_log 'reloaded ' && reloaded=yes || reloaded=no
expect_eq "reload after replace-by-rename" "$reloaded" "yes"
# The switch to the new generation runs on the health thread: wait for it.
for _ in $(seq 1 100); do
  [ "$(answer geo A 89.160.20.0/24)" == "192.0.2.11" ] && break
  sleep 0.1
done
check_answers "after the reload of the renamed databases" 192.0.2.11 192.0.2.45 192.0.2.45

expect_eq "no crash in the log" "$(grep -c -i 'sigbus\|fatal' "$work/log" || true)" "0"
finish
