#!/usr/bin/env bash
# The command line: check-config exit codes and error positions, geo
# build-db output readable by mmdblookup, usage errors.
meridian=$1
src=$2
source "$(dirname "$0")/test_lib.sh"
require_tool mmdblookup

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# check-config opens the GeoIP databases as serve does: the demo config
# passes next to its built database, and fails without it.
cp "$src/configs/demo/demo.yaml" "$work/demo.yaml"
"$meridian" geo build-db --input "$src/configs/demo/geoip.csv" --output "$work/demo.mmdb" >/dev/null
out=$("$meridian" check-config "$work/demo.yaml" 2>&1) && status=0 || status=$?
expect_eq "check-config on the demo config" "$status" "0"
expect_match "check-config summary" "$out" 'OK \(5 sites'

rm -f "$work/nodb.mmdb"
sed 's/database: demo.mmdb/database: nodb.mmdb/' "$work/demo.yaml" >"$work/nodb.yaml"
out=$("$meridian" check-config "$work/nodb.yaml" 2>&1) && status=0 || status=$?
expect_eq "check-config with a missing GeoIP database" "$status" "1"
expect_match "missing database: the key, the file and the reason" "$out" \
  'nodb.yaml: geoip.database: cannot open GeoIP database .*nodb.mmdb: .*No such file'

# An ASN database as geoip.database and a City one as geoip.asn_database:
# both refused at once, each with the kind found and the kind expected.
"$meridian" geo build-db --asn --input "$src/configs/examples/steering/asn.csv" \
  --output "$work/asn.mmdb" >/dev/null
sed 's/^  database: demo.mmdb/  database: asn.mmdb\n  asn_database: demo.mmdb/' "$work/demo.yaml" \
  >"$work/swapped.yaml"
out=$("$meridian" check-config "$work/swapped.yaml" 2>&1) && status=0 || status=$?
expect_eq "check-config with swapped GeoIP databases" "$status" "1"
expect_match "ASN database as database" "$out" \
  'swapped.yaml: geoip.database: GeoIP database .*asn.mmdb is an ASN database .*"Meridian-ASN".*expected a City or Country database'
expect_match "City database as asn_database" "$out" \
  'swapped.yaml: geoip.asn_database: GeoIP database .*demo.mmdb is a City or Country database .*"Meridian-City".*expected an ASN database'

# A truncated database: refused with libmaxminddb's reason, by check-config
# and by serve before it answers anything.
head -c 300 "$work/demo.mmdb" >"$work/cut.mmdb"
sed 's/database: demo.mmdb/database: cut.mmdb/' "$work/demo.yaml" >"$work/cut.yaml"
out=$("$meridian" check-config "$work/cut.yaml" 2>&1) && status=0 || status=$?
expect_eq "check-config with a truncated GeoIP database" "$status" "1"
expect_match "truncated database: the key, the file and libmaxminddb's reason" "$out" \
  'cut.yaml: geoip.database: cannot open GeoIP database .*cut.mmdb: .*metadata'
out=$(timeout 20 "$meridian" serve -c "$work/cut.yaml" 2>&1) && status=0 || status=$?
expect_eq "serve with a truncated GeoIP database exits with an error" "$status" "1"
expect_match "serve names the database" "$out" 'cut.mmdb'

sed 's/^dns:/dsn:/' "$src/configs/demo/demo.yaml" >"$work/typo.yaml"
out=$("$meridian" check-config "$work/typo.yaml" 2>&1) && status=0 || status=$?
expect_eq "check-config on a typo" "$status" "1"
line=$(grep -n '^dsn:' "$work/typo.yaml" | cut -d: -f1)
expect_match "typo error names file:line:column and the key" "$out" "typo.yaml:$line:1: .*dsn"

out=$("$meridian" check-config "$work/missing.yaml" 2>&1) && status=0 || status=$?
expect_eq "check-config on a missing file" "$status" "1"

"$meridian" geo build-db --input "$src/configs/demo/geoip.csv" --output "$work/demo.mmdb" >/dev/null
lookup=$(mmdblookup --file "$work/demo.mmdb" --ip 81.2.69.160 country iso_code)
expect_match "mmdblookup reads the built database" "$lookup" '"GB"'
lookup=$(mmdblookup --file "$work/demo.mmdb" --ip 2001:218::1 location latitude)
expect_match "IPv6 networks are in the database" "$lookup" '35\.6'

printf '# prefix,lat,lon,country,continent\n10.0.0.0/8,1,2,XX,EU\nnot-a-prefix,1,2,XX,EU\n' >"$work/bad.csv"
out=$("$meridian" geo build-db --input "$work/bad.csv" --output "$work/bad.mmdb" 2>&1) && status=0 || status=$?
expect_eq "build-db on a bad row" "$status" "1"
expect_match "build-db error names file:line" "$out" 'bad.csv:3'

require_tool openssl
"$meridian" cluster certs init --dir "$work/pki" >/dev/null
"$meridian" cluster certs node --dir "$work/pki" --id fra-1 --ip 127.0.0.1 >/dev/null
expect_match "node certificate verifies against the cluster CA" \
  "$(openssl verify -CAfile "$work/pki/ca.pem" "$work/pki/fra-1.pem" 2>&1)" 'fra-1.pem: OK'
out=$("$meridian" cluster certs node --dir "$work/pki" --id fra-1 2>&1) && status=0 || status=$?
expect_eq "an existing key is not overwritten" "$status" "1"
expect_match "the refusal names the issued certificate" "$out" "pki/fra-1.pem exists"
expect_eq "keys are created 0600" "$(stat -c %a "$work/pki/ca.key") $(stat -c %a "$work/pki/fra-1.key")" "600 600"
"$meridian" cluster certs node --dir "$work/pki" --id iad-1 --out "$work/iad-1" >/dev/null
expect_eq "--out: the node's files and the CA's certificate, not its key" \
  "$(cd "$work/iad-1" && echo *)" "ca.pem iad-1.key iad-1.pem"
expect_eq "--out: the CA directory keeps a copy of the certificate" "$(cmp "$work/iad-1/iad-1.pem" "$work/pki/iad-1.pem" && echo same)" "same"
for bad in Fra-1 "fra_1" "-fra" "ca" "../x"; do
  out=$("$meridian" cluster certs node --dir "$work/pki" --id "$bad" 2>&1) && status=0 || status=$?
  expect_eq "an invalid --id '$bad' is refused" "$status" "2"
done
touch "$work/a-file"
out=$("$meridian" cluster certs node --dir "$work/pki" --id sin-1 --out "$work/a-file" 2>&1) && status=0 || status=$?
expect_eq "an --out that is a file is refused" "$status" "2"
ln -s "$work/elsewhere" "$work/pki/sin-1.key"
out=$("$meridian" cluster certs node --dir "$work/pki" --id sin-1 2>&1) && status=0 || status=$?
expect_eq "a symlink at the key's path is refused" "$status" "1"
expect_match "the symlink refusal names the key" "$out" "pki/sin-1.key exists"
[ ! -e "$work/elsewhere" ] && pass || fail "a key was written through a symlink"

# Lifetimes and renewal: a year by default, --days within 1..1095; renew
# replaces an issued name's files in place (and the CA's record of it).
days_left() { echo $(( ($(date -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s)) / 86400 )); }
expect_match "a node certificate lives a year by default" "$(days_left "$work/iad-1/iad-1.pem")" '^(364|365)$'
for bad in 0 1096 x 10d; do
  out=$("$meridian" cluster certs node --dir "$work/pki" --id lon-1 --days "$bad" 2>&1) && status=0 || status=$?
  expect_eq "--days $bad is refused" "$status" "2"
done
old_key=$(cat "$work/iad-1/iad-1.key")
"$meridian" cluster certs renew --dir "$work/pki" --id iad-1 --out "$work/iad-1" --days 90 >/dev/null ||
  fail "certs renew"
[ "$(cat "$work/iad-1/iad-1.key")" != "$old_key" ] && pass || fail "renew kept the old key"
expect_eq "the renewed key is 0600" "$(stat -c %a "$work/iad-1/iad-1.key")" 600
expect_match "--days 90" "$(days_left "$work/iad-1/iad-1.pem")" '^(89|90)$'
expect_eq "renew updates the CA directory's copy" "$(cmp "$work/iad-1/iad-1.pem" "$work/pki/iad-1.pem" && echo same)" "same"
expect_match "the renewed certificate verifies" \
  "$(openssl verify -CAfile "$work/pki/ca.pem" "$work/iad-1/iad-1.pem" 2>&1)" 'iad-1.pem: OK'
[ ! -e "$work/iad-1/iad-1.key.new" ] && [ ! -e "$work/iad-1/iad-1.pem.new" ] && pass || fail "renew left .new files"
out=$("$meridian" cluster certs renew --dir "$work/pki" --id nev-1 2>&1) && status=0 || status=$?
expect_eq "renew of a name never issued fails" "$status" "1"
expect_match "and says so" "$out" "issued no certificate for nev-1"

out=$("$meridian" 2>&1) && status=0 || status=$?
expect_eq "no command is a usage error" "$status" "2"
out=$("$meridian" frobnicate 2>&1) && status=0 || status=$?
expect_eq "unknown command is a usage error" "$status" "2"
expect_match "version" "$("$meridian" version)" '^meridian [0-9]'
expect_match "--version names the git revision" "$("$meridian" --version)" '^meridian [0-9.]+ \(git ([0-9a-f]{7,}(-dirty)?|[^ ]+-g[0-9a-f]+(-dirty)?|unknown)\)$'
# Every command has its --help: the part of the usage about it, exit 0.
for verb in serve check-config explain geo backend status cluster kv drain force-down force-up \
  undrain overrides verdicts events config store version help; do
  out=$("$meridian" "$verb" --help 2>&1) && status=0 || status=$?
  expect_eq "$verb --help exits 0" "$status" 0
  expect_match "$verb --help shows $verb" "$out" "^  (.* )?$verb( |$)"
done
expect_match "cluster certs renew --help is about renew" "$("$meridian" cluster certs --help)" "certs renew"
out=$("$meridian" cluster add-learner --help)
expect_match "a subcommand's help shows it" "$out" "add-learner NAME HOST:PORT"
[ "$(echo "$out" | grep -c "certs init" || true)" = 0 ] && pass || fail "cluster add-learner --help shows other subcommands"
out=$("$meridian" frobnicate --help 2>&1) && status=0 || status=$?
expect_eq "an unknown command's --help is a usage error" "$status" 2
finish || exit 1  # any failed check fails the test
