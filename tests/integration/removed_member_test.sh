#!/usr/bin/env bash
# A removed member cannot disturb the cluster (issue 14). Three nodes found
# a cluster; a fourth joins (add-learner, promote), is removed (`cluster
# remove`, which revokes its certificates) and stopped. Then for a minute a
# fourth process holding that member's still valid certificate, and another
# holding a CA-signed certificate for a name never added, do their best
# (tests/integration/rogue_peer.cpp: transfer vote requests, timeout-now,
# appends and heartbeats of ever higher terms, forwarded system writes,
# snapshots that do not decode). Throughout, the three keep one leader in
# one term, commit writes and answer DNS; the refusals are in /metrics; the
# removed member's own node, started again, is refused too. Last, n1's
# certificate is renewed in place and loaded on SIGHUP, without downtime.
#
#   removed_member_test.sh MERIDIAN_BINARY SOURCE_DIR ROGUE_PEER_BINARY [SECONDS]
source "$(dirname "$0")/test_lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
MERIDIAN=$1
ROGUE=$3
SECONDS_OF_ATTACK=${4:-60}
require_tool jq
require_tool curl
require_tool dig
WORK=$(mktemp -d)
declare -A pid admin peer dns
rogue_pids=()
cleanup() {
  for p in "${rogue_pids[@]}" "${pid[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null
  if [ "$failures" -ne 0 ]; then tail -n 40 "$WORK"/*.log >&2; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

names=(n1 n2 n3)
make_pki n1 n2 n3 n4 n9
peers="["
for name in n1 n2 n3 n4; do
  peer[$name]=127.0.0.1:$(pick_port)
  admin[$name]=127.0.0.1:$(pick_port)
  dns[$name]=$(pick_port)
done
for name in n1 n2 n3; do peers+="{ id: $name, address: \"${peer[$name]}\" }, "; done
peers="${peers%, }]"
for name in n1 n2 n3 n4; do
  write_node_config "$name" "${peer[$name]}" "${admin[$name]}" "127.0.0.1:${dns[$name]}" "$peers"
done
# n4 joins an existing cluster instead of founding one.
sed -i 's/^cluster:$/cluster:\n  join: true/' "$WORK/n4.yaml"
"$MERIDIAN" check-config "$WORK/n4.yaml" >/dev/null || fail "n4's config"

start_node() {
  "$MERIDIAN" serve -c "$WORK/$1.yaml" >>"$WORK/$1.log" 2>&1 &
  pid[$1]=$!
}
for name in n1 n2 n3; do start_node "$name"; done

agreed() {  # FIELD: the value n1..n3 agree on, or ""
  local seen="" value
  for name in n1 n2 n3; do
    value=$(status_field "" "${admin[$name]}" "$1")
    [ -z "$value" ] || [ "$value" == null ] && { echo ""; return; }
    [ -n "$seen" ] && [ "$seen" != "$value" ] && { echo ""; return; }
    seen=$value
  done
  echo "$seen"
}
leader=""
for _ in $(seq 1 300); do
  leader=$(agreed '.leader // ""')
  [ -n "$leader" ] && break
  sleep 0.1
done
[ -n "$leader" ] || { fail "no leader within 30 s"; finish; exit 1; }
pass
kvput() { "$MERIDIAN" kv put "$1" "$2" --admin "${admin[$leader]}" --token-file "$WORK/token" >/dev/null 2>>"$WORK/kv.err"; }

# n4 joins, becomes a voter, and is removed.
start_node n4
"$MERIDIAN" cluster add-learner n4 "${peer[n4]}" --admin "${admin[$leader]}" --token-file "$WORK/token" >/dev/null ||
  fail "add-learner n4"
caught_up=0
for _ in $(seq 1 100); do
  if "$MERIDIAN" cluster promote n4 --admin "${admin[$leader]}" --token-file "$WORK/token" >/dev/null 2>&1; then
    caught_up=1
    break
  fi
  sleep 0.2
done
expect_eq "n4 promoted" "$caught_up" 1
kvput before-removal yes || fail "a write with four members"
out=$("$MERIDIAN" cluster remove n4 --admin "${admin[$leader]}" --token-file "$WORK/token" 2>&1) ||
  fail "cluster remove n4: $out"
revoked=$("$MERIDIAN" kv get _cluster/revoked/n4 --admin "${admin[$leader]}" --token-file "$WORK/token" 2>/dev/null || true)
expect_match "the removal revoked n4's certificates (issued until)" "$revoked" '^[0-9]{10}'
kill "${pid[n4]}"
wait "${pid[n4]}" 2>/dev/null || true
unset 'pid[n4]'

term=$(agreed .term)
[ -n "$term" ] || fail "no agreed term after the removal"
echo "leader $leader, term $term; attacking for $SECONDS_OF_ATTACK s"

# The attackers: n4's certificate (revoked) and n9's (valid, never a member).
rogue_peers=()
for name in n1 n2 n3; do rogue_peers+=(--peer "$name=${peer[$name]}"); done
for rogue in n4 n9; do
  "$ROGUE" --name "$rogue" --ca "$WORK/certs/ca.pem" --cert "$WORK/certs/$rogue.pem" \
    --key "$WORK/certs/$rogue.key" --seconds "$SECONDS_OF_ATTACK" "${rogue_peers[@]}" \
    >>"$WORK/rogue-$rogue.log" 2>&1 &
  rogue_pids+=($!)
done

# Meanwhile: the leader and term stay, writes commit, every node answers.
started=$(date +%s)
writes=0
round=0
while [ $(($(date +%s) - started)) -lt "$SECONDS_OF_ATTACK" ]; do
  round=$((round + 1))
  kvput "during-$round" "$round" && writes=$((writes + 1)) || fail "write $round refused under attack"
  for name in n1 n2 n3; do
    now_leader=$(status_field "" "${admin[$name]}" '.leader // ""')
    now_term=$(status_field "" "${admin[$name]}" .term)
    [ "$now_leader" == "$leader" ] || fail "round $round: $name sees leader '$now_leader', not $leader"
    [ "$now_term" == "$term" ] || fail "round $round: $name is in term $now_term, not $term"
    got=$(dig @127.0.0.1 -p "${dns[$name]}" +short +time=1 +tries=2 ns1.cluster.test A)
    [ "$got" == 192.0.2.1 ] || fail "round $round: $name answered '$got'"
  done
  sleep 2
done
for p in "${rogue_pids[@]}"; do wait "$p" || fail "a rogue peer did not run its time"; done
rogue_pids=()
cat "$WORK"/rogue-*.log
echo "$writes writes committed during the attack"
[ "$writes" -eq "$round" ] && [ "$writes" -ge 5 ] && pass || fail "only $writes of $round writes committed during the attack"

# Nothing the rogues sent reached the state.
for name in n1 n2 n3; do
  keys=$("$MERIDIAN" kv scan _cluster/members/ --local --admin "${admin[$name]}" --token-file "$WORK/token" 2>/dev/null)
  expect_match "no rogue address on $name" "$(echo "$keys" | grep -c rogue || true)" '^0$'
  expect_eq "$name still in term $term" "$(status_field "" "${admin[$name]}" .term)" "$term"
done

# The refusals are counted in /metrics.
metric() {  # NODE REASON FAMILY
  curl -s "http://${admin[$1]}/metrics" | sed -n "s/^$3{reason=\"$2\"} //p"
}
revoked_total=0
not_member_total=0
for name in n1 n2 n3; do
  r=$(metric "$name" revoked_certificate meridian_cluster_connections_refused_total)
  m=$(metric "$name" not_member meridian_cluster_frames_refused_total)
  echo "$name: revoked_certificate=$r not_member=$m"
  revoked_total=$((revoked_total + ${r:-0}))
  not_member_total=$((not_member_total + ${m:-0}))
done
[ "$revoked_total" -gt 0 ] && pass || fail "no revoked certificate counted"
[ "$not_member_total" -gt 100 ] && pass || fail "only $not_member_total frames from non-members counted"

# The removed node itself, started again with its revoked certificate: it
# is refused, and the cluster is not disturbed.
before=$(metric "$leader" revoked_certificate meridian_cluster_connections_refused_total)
start_node n4
sleep 3
after=$(metric "$leader" revoked_certificate meridian_cluster_connections_refused_total)
[ "${after:-0}" -gt "${before:-0}" ] && pass || fail "the removed node's reconnects were not refused"
expect_eq "leader unchanged with the removed node back" "$(agreed '.leader // ""')" "$leader"
kvput after-attack yes || fail "a write after the attack"

# Renewal without downtime: a new certificate and key for n1, in place,
# and SIGHUP. New peer connections to n1 present the new certificate; the
# cluster does not notice.
require_tool openssl
old_fp=$(openssl x509 -in "$WORK/certs/n1.pem" -noout -fingerprint -sha256)
"$MERIDIAN" cluster certs renew --dir "$WORK/ca" --out "$WORK/certs" --id n1 --days 30 >/dev/null ||
  fail "cluster certs renew"
new_fp=$(openssl x509 -in "$WORK/certs/n1.pem" -noout -fingerprint -sha256)
[ "$old_fp" != "$new_fp" ] && pass || fail "renew did not replace n1.pem"
expect_eq "the renewed key is private" "$(stat -c %a "$WORK/certs/n1.key")" 600
days=$(( ($(date -d "$(openssl x509 -in "$WORK/certs/n1.pem" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s)) / 86400 ))
expect_match "--days 30" "$days" '^(29|30)$'
kill -HUP "${pid[n1]}"
loaded=0
for _ in $(seq 1 50); do
  grep -q "loaded new node credentials" "$WORK/n1.log" && { loaded=1; break; }
  sleep 0.1
done
expect_eq "n1 loaded the renewed certificate on SIGHUP" "$loaded" 1
served_fp=$(echo | openssl s_client -connect "${peer[n1]}" -CAfile "$WORK/certs/ca.pem" \
  -cert "$WORK/certs/n2.pem" -key "$WORK/certs/n2.key" 2>/dev/null | openssl x509 -noout -fingerprint -sha256)
expect_eq "n1 presents the renewed certificate" "$served_fp" "$new_fp"
kvput after-renewal yes || fail "a write after the renewal"
expect_eq "leader unchanged by the renewal" "$(agreed '.leader // ""')" "$leader"

finish
