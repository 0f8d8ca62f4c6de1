#!/usr/bin/env bash
# Least privilege (issue 14, point 8): `meridian serve --user nobody` binds a
# privileged DNS port as root, then runs as nobody (uid, gid and groups),
# answers on that port, serves its admin API, and can never leave a core
# dump (RLIMIT_CORE 0); an unknown user or root as --user is refused at
# start; without --user a root node says how to drop root.
meridian=$1
src=$2
source "$(dirname "$0")/test_lib.sh"
require_tool dig
require_tool curl
require_tool jq
[ "$(id -u)" -eq 0 ] || { echo "FAIL: this test binds a privileged port: run it as root" >&2; exit 1; }
id nobody >/dev/null 2>&1 || { echo "FAIL: no user 'nobody' on this machine" >&2; exit 1; }

work=$(mktemp -d)
chmod 755 "$work"
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "$failures" -ne 0 ]; then tail -n 20 "$work"/*.log >&2 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A privileged port nothing listens on (below 1024: binding it needs root).
dns_port=
for candidate in 5 7 9 11 13 17 19 37 42; do
  if ! ss -Huln "sport = :$candidate" | grep -q . && ! ss -Htln "sport = :$candidate" | grep -q .; then
    dns_port=$candidate
    break
  fi
done
[ -n "$dns_port" ] || { echo "FAIL: no free privileged port" >&2; exit 1; }
admin_port=$(pick_port)
cat >"$work/node.yaml" <<YAML
node: { id: priv-1, site: here }
dns: { listen: ["127.0.0.1:$dns_port"], threads: 1 }
admin: { listen: "127.0.0.1:$admin_port" }
sites: { here: { lat: 50, lon: 8 } }
zones:
  - { origin: demo.test., soa: { mname: ns1, rname: hostmaster }, ns: [ns1], records: ["ns1 IN A 127.0.0.1"] }
YAML

"$meridian" serve -c "$work/node.yaml" --user nobody >"$work/node.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do dig @127.0.0.1 -p "$dns_port" +time=1 +tries=1 ns1.demo.test A >/dev/null 2>&1 && break; sleep 0.1; done
expect_eq "answers on the privileged port" "$(dig @127.0.0.1 -p "$dns_port" +short ns1.demo.test A)" 127.0.0.1
nobody_uid=$(id -u nobody)
nobody_gid=$(id -g nobody)
expect_eq "runs as nobody (real, effective, saved, fs uid)" \
  "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")" "$nobody_uid $nobody_uid $nobody_uid $nobody_uid"
expect_eq "with nobody's group" "$(awk '/^Gid:/ {print $2, $3}' "/proc/$pid/status")" "$nobody_gid $nobody_gid"
expect_match "and no group of root's" "$(awk '/^Groups:/' "/proc/$pid/status")" "^Groups:[[:space:]]*($nobody_gid[[:space:]]*)?$"
expect_eq "no core dumps" "$(awk '/^Max core file size/ {print $5, $6}' "/proc/$pid/limits")" "0 0"
expect_eq "the admin API answers" "$(curl -s "http://127.0.0.1:$admin_port/api/v1/status" | jq -r .name)" priv-1
expect_match "the log says so" "$(cat "$work/node.log")" "running as user nobody"
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=

for user in no-such-user-here root; do
  if "$meridian" serve -c "$work/node.yaml" --user "$user" >"$work/refused.log" 2>&1; then
    fail "--user $user was accepted"
  fi
done
expect_match "an unknown user is refused" "$("$meridian" serve -c "$work/node.yaml" --user no-such-user-here 2>&1)" \
  "--user no-such-user-here: no such user"
expect_match "root is refused as --user" "$("$meridian" serve -c "$work/node.yaml" --user root 2>&1)" \
  "--user root: that is root"

# Without --user a node started as root warns how to drop root.
"$meridian" serve -c "$work/node.yaml" >"$work/root.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do grep -q "serving" "$work/root.log" && break; sleep 0.1; done
expect_match "a root node warns" "$(cat "$work/root.log")" "running as root: start it with --user NAME"
expect_eq "no core dumps as root either" "$(awk '/^Max core file size/ {print $5, $6}' "/proc/$pid/limits")" "0 0"
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=

finish
