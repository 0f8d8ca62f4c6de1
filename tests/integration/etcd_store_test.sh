#!/usr/bin/env bash
# What only the etcd store has to show, on three `meridian serve` nodes over
# a three-member etcd cluster (mutual TLS, loopback; cluster_lib.sh). The
# tests shared with the built-in store run as integration.*_etcd.
#   1. The status names the store, etcd's members and whether each is
#      reached; membership verbs say that etcd manages its own members.
#   2. kill -9 of etcd's leader during a stream of overrides through every
#      node: each override applies (a failed one is retried), and every
#      node's mirror holds exactly the events etcd holds, none missed or
#      doubled, after the watches resumed on the surviving members.
#   3. A paused decider (SIGSTOP) is replaced within its lease; the new one
#      decides a failover; the old one, resumed, knows it no longer decides
#      and changes nothing.
#   4. Moving the state: export from a node of the built-in store, import
#      into etcd (config versions, overrides, events arrive on every node),
#      and back into a fresh built-in store.
#
#   etcd_store_test.sh MERIDIAN_BINARY SOURCE_DIR
source "$(dirname "$0")/test_lib.sh"
MERIDIAN_STORE=etcd
source "$(dirname "$0")/cluster_lib.sh"
MERIDIAN=$1
require_tool jq
require_tool dig
require_tool curl
WORK=$(mktemp -d)
declare -A pid admin dns
backend_pid=()
cleanup() {
  for p in "${pid[@]}" "${backend_pid[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill -9 "$p" 2>/dev/null || true; done
  stop_store_peers
  wait 2>/dev/null
  if [ "$failures" -ne 0 ]; then tail -n 30 "$WORK"/*.log >&2; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

names=(n1 n2 n3)
sites=(s1 s2 s3)
coordinates=("50.1, lon: 8.7" "39.0, lon: -77.5" "1.3, lon: 103.8")
ZONE=cluster.test
make_pki "${names[@]}" solo
start_three_site_cluster
every_node_answers 192.0.2.1 20 >/dev/null && pass || fail "the nodes never all answered the first site"
ops() { "$MERIDIAN" "$@" --token-file "$WORK/token"; }
cluster_json() { "$MERIDIAN" cluster status --json --admin "${admin[$1]}" 2>/dev/null; }

# 1. What the status shows.
# (Each node's first status calls and lease renewals take a tick or two, on every node.)
for _ in $(seq 1 50); do
  [ "$(cluster_json n1 | jq '[.members[] | select(.reachable == true and (.name | startswith("etcd-")))] | length')" == 3 ] &&
    [ "$(cluster_json n1 | jq -r '.leader // ""')" != "" ] &&
    [ "$(cluster_json n2 | jq -r '.leader // ""')" != "" ] &&
    [ "$(cluster_json n3 | jq -r '.leader // ""')" != "" ] && break
  sleep 0.2
done
view=$(cluster_json n1)
expect_eq "the backend" "$(jq -r .backend <<<"$view")" etcd
expect_eq "etcd's members, each reached" \
  "$(jq -c '[.members[] | .name + " " + .address + " " + (.reachable | tostring)]' <<<"$view")" \
  "[\"etcd-1 ${etcd_client[1]} true\",\"etcd-2 ${etcd_client[2]} true\",\"etcd-3 ${etcd_client[3]} true\"]"
expect_match "etcd's leader" "$(jq -r .leader <<<"$view")" "^etcd-[123]$"
[ "$(jq .revision <<<"$view")" -gt 0 ] && pass || fail "no revision in $view"
expect_match "cluster status, as text" "$("$MERIDIAN" cluster status --admin "${admin[n2]}" 2>&1)" \
  "^node n2: etcd store at revision [0-9]+, etcd leader etcd-[123]"
expect_match "status, as text" "$("$MERIDIAN" status --admin "${admin[n3]}")" \
  "store: etcd at revision [0-9]+, etcd leader etcd-[123], (deciding|not deciding); endpoints ${etcd_client[1]} \(reached\)"
expect_eq "status: the etcd endpoints" \
  "$(curl -s "http://${admin[n2]}/api/v1/status" | jq -c '[.cluster.endpoints[] | .name + " " + (.reachable | tostring)]')" \
  '["etcd-1 true","etcd-2 true","etcd-3 true"]'
if ops cluster remove n2 --admin "${admin[n1]}" 2>"$WORK/err"; then fail "cluster remove was accepted"; fi
expect_match "membership verbs say why not" "$(cat "$WORK/err")" \
  "answered 501: this node keeps its state in etcd, whose members etcd manages itself"
deciders=$(for name in "${names[@]}"; do cluster_json "$name" | jq -r .role; done | grep -c leader || true)
expect_eq "one decider" "$deciders" 1

# The decider decides once every observer's lease could be heard (5 s).
verdicts=""
for _ in $(seq 1 100); do
  verdicts=$( ("$MERIDIAN" kv scan _health/verdict/ --admin "${admin[n1]}" 2>/dev/null || true) | wc -l)
  [ "$verdicts" -eq 3 ] && break
  sleep 0.1
done
expect_eq "replicated verdicts" "$verdicts" 3

# 2. kill -9 of etcd's leader in the middle of a stream of overrides.
leader=$(etcd_leader)
[ -n "$leader" ] && pass || fail "no etcd leader"
applied=0
acknowledged=()
for i in $(seq 1 31); do
  node=${names[$((i % 3))]}
  action=drain
  [ $((i % 2)) -eq 0 ] && action=undrain
  [ "$i" -eq 10 ] && { kill -9 "${etcd_pid[$leader]}"; echo "killed etcd-$leader (the leader) before override $i"; }
  for attempt in $(seq 1 20); do
    if ops "$action" --endpoint 192.0.2.3 --reason "stream $i" --admin "${admin[$node]}" >/dev/null 2>>"$WORK/stream.err"; then
      applied=$((applied + 1))
      acknowledged+=("$i")
      break
    fi
    sleep 0.5
  done
done
expect_eq "every override of the stream applied" "$applied" 31
grep -c . "$WORK/stream.err" | sed 's/^/refused or timed out while etcd elected a new leader: /' || true
# The last one was a drain: every node holds it, and the same event log as etcd.
for _ in $(seq 1 50); do
  [ "$("$MERIDIAN" overrides --json --admin "${admin[n3]}" | jq -r '.overrides[0].reason // ""')" == "stream 31" ] && break
  sleep 0.1
done
survivor=$((leader % 3 + 1))
in_etcd=$(etcdctl_at "$survivor" get --prefix /meridian/test/_events/ --keys-only | grep . | sed 's|^/meridian/test/_events/||' | sort)
for name in "${names[@]}"; do
  expect_eq "$name's override" "$("$MERIDIAN" overrides --json --admin "${admin[$name]}" | jq -c '[.overrides[] | .endpoint + " " + .state + " " + .reason]')" \
    '["192.0.2.3 drain stream 31"]'
  mirrored=$("$MERIDIAN" kv scan _events/ --local --admin "${admin[$name]}" | cut -f1 | sed 's|^_events/||' | sort)
  expect_eq "$name's mirror holds etcd's events, none missed or doubled" "$mirrored" "$in_etcd"
done
# Every acknowledged override is in etcd's event log: none lost to the kill.
logged=$(etcdctl_at "$survivor" get --prefix /meridian/test/_events/ --print-value-only)
lost=""
for i in "${acknowledged[@]}"; do
  grep -Eq "endpoint 192.0.2.3.*stream $i(\$|[^0-9])" <<<"$logged" || lost+=" $i"
done
expect_eq "acknowledged overrides missing from the event log" "${lost:-none}" none
etcd_member_start "$leader"
ops undrain --endpoint 192.0.2.3 --admin "${admin[n1]}" >/dev/null || fail "undrain after the stream"

# 3. Pause the decider.
decider=""
for name in "${names[@]}"; do [ "$(cluster_json "$name" | jq -r .role)" == leader ] && decider=$name; done
[ -n "$decider" ] && pass || fail "no decider"
kill -STOP "${pid[$decider]}"
paused_at=$(date +%s%N)
others=()
for name in "${names[@]}"; do [ "$name" != "$decider" ] && others+=("$name"); done
successor=""
for _ in $(seq 1 100); do
  for name in "${others[@]}"; do [ "$(cluster_json "$name" | jq -r .role)" == leader ] && successor=$name; done
  [ -n "$successor" ] && break
  sleep 0.1
done
echo "paused decider $decider; $successor decides after $(( ($(date +%s%N) - paused_at) / 1000000 )) ms (decider_lease 2 s)"
[ -n "$successor" ] && pass || fail "nobody took over from the paused decider"
expect_eq "the election key names the successor" "$("$MERIDIAN" kv get _decider --admin "${admin[$successor]}")" "$successor"
# The successor decides a failover while the old decider sleeps (once it
# could hear every observer's lease: 5 s after taking over).
kill "${backend_pid[1]}"
wait "${backend_pid[1]}" 2>/dev/null || true
verdict_key="_health/verdict/127.0.0.1@s1/web:${backend_port[1]}"
for _ in $(seq 1 150); do
  "$MERIDIAN" kv get "$verdict_key" --admin "${admin[$successor]}" 2>/dev/null | grep -q '^down' && break
  sleep 0.1
done
expect_match "the successor's verdict" "$("$MERIDIAN" kv get "$verdict_key" --admin "${admin[$successor]}" 2>&1)" "^down"
moved=0
for _ in $(seq 1 100); do
  [ "$(answer "${others[0]}")" == 192.0.2.2 ] && [ "$(answer "${others[1]}")" == 192.0.2.2 ] && { moved=1; break; }
  sleep 0.1
done
expect_eq "the others moved to site 2 on the successor's verdict" "$moved" 1
# The old decider's own entries (its verdict changes: _events/TIME-NAME-N,
# not NAME-api-N) as they stand when it resumes: it must add none.
decider_entries() { etcdctl_at "$survivor" get --prefix /meridian/test/_events/ --keys-only | grep -c -- "-$decider-[0-9]*\$" || true; }
entries_before=$(decider_entries)
kill -CONT "${pid[$decider]}"
for _ in $(seq 1 50); do grep -q "$decider no longer decides" "$WORK/$decider.log" && break; sleep 0.1; done
expect_match "the resumed decider knows" "$(cat "$WORK/$decider.log")" "$decider no longer decides"
sleep 2  # it had every chance to write a stale verdict
expect_eq "the resumed decider got no write in" "$(decider_entries)" "$entries_before"
deciders=$(for name in "${names[@]}"; do cluster_json "$name" | jq -r .role; done | grep -c leader || true)
expect_eq "still one decider" "$deciders" 1
expect_eq "the successor still decides" "$("$MERIDIAN" kv get _decider --admin "${admin[n1]}")" "$successor"
every_node_answers 192.0.2.2 5 >/dev/null && pass || fail "not every node answers site 2 after the resume"
expect_match "the verdict stands" \
  "$("$MERIDIAN" kv get "$verdict_key" --admin "${admin[$decider]}" 2>&1)" "^down"
start_site_backend 1
every_node_answers 192.0.2.1 8 >/dev/null && pass || fail "site 1 did not come back"

# 4. Moving the state: a node of the built-in store (a cluster of one) with
# a config version, an override and events; exported, imported into etcd.
solo_admin=127.0.0.1:$(pick_port)
solo_dns=$(pick_port)
solo_peer=127.0.0.1:$(pick_port)
write_solo() {
  mkdir -p "$WORK/$1"
  {
    echo "node: { id: solo, site: s1, data_dir: $WORK/$1/data }"
    echo "dns: { listen: [\"127.0.0.1:$solo_dns\"], threads: 1 }"
    echo "admin: { listen: \"$solo_admin\", token_file: $WORK/token }"
    STORE_BACKEND=raft store_section solo "[{ id: solo, address: \"$solo_peer\" }]" "$solo_peer"
    # The shared sections of the three-site nodes.
    sed -n '/^sites:/,$p' "$WORK/n1.yaml"
  } >"$WORK/$1.yaml"
  "$MERIDIAN" check-config "$WORK/$1.yaml" >/dev/null || fail "config of $1"
}
start_solo() {
  "$MERIDIAN" serve -c "$WORK/$1.yaml" >>"$WORK/$1.log" 2>&1 &
  pid[$1]=$!
  for _ in $(seq 1 100); do "$MERIDIAN" kv scan --admin "$solo_admin" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "$1 did not start"
}
write_solo solo
start_solo solo
ops config apply "$WORK/solo.yaml" --comment "from the built-in store" --admin "$solo_admin" >/dev/null || fail "config apply on solo"
ops force-down --site s3 --reason "migrated" --author mover --admin "$solo_admin" >/dev/null || fail "force-down on solo"
ops kv put operator/note "keep me" --admin "$solo_admin" >/dev/null || fail "kv put on solo"
ops store export --output "$WORK/raft.json" --admin "$solo_admin" 2>"$WORK/err" || fail "export from solo"
expect_match "export says what it took" "$(cat "$WORK/err")" "exported [0-9]+ key\(s\) from the raft store of solo"
expect_eq "the export's keys" "$(jq -c '[.entries[].key | sub("[0-9]+-solo-.*"; "E") | sub("/[0-9]+$"; "/N")] | unique' "$WORK/raft.json")" \
  '["_config/current","_config/version/N","_events/E","_ops/override/site/s3","operator/note"]'
expect_eq "no health records moved" "$(jq '[.entries[].key | select(startswith("_health/") or startswith("_cluster/"))] | length' "$WORK/raft.json")" 0
kill "${pid[solo]}"
wait "${pid[solo]}" 2>/dev/null || true
if ops store import "$WORK/raft.json" --admin "${admin[n2]}" 2>"$WORK/err"; then fail "an import over existing state was accepted"; fi
expect_match "import refuses to overwrite" "$(cat "$WORK/err")" "answered 409: this store already holds"
expect_match "import --replace" "$(ops store import "$WORK/raft.json" --replace --admin "${admin[n2]}")" "^imported [0-9]+ key\(s\)"
for name in "${names[@]}"; do
  for _ in $(seq 1 50); do
    "$MERIDIAN" overrides --admin "${admin[$name]}" | grep -q "site s3 .*down" && break
    sleep 0.1
  done
  expect_match "$name has the imported override" "$("$MERIDIAN" overrides --admin "${admin[$name]}")" "site s3 +down .* mover +migrated"
  expect_match "$name has the imported events" "$("$MERIDIAN" events --limit 1000 --admin "${admin[$name]}")" "site s3: down: migrated \(mover\)"
  expect_eq "$name has the operator's key" "$("$MERIDIAN" kv get operator/note --admin "${admin[$name]}")" "keep me"
done
for _ in $(seq 1 50); do
  [ "$(ops config status --json --admin "${admin[n3]}" | jq -r .serving)" == 1 ] && break
  sleep 0.1
done
expect_eq "the imported config version is served" "$(ops config status --json --admin "${admin[n3]}" | jq -r .serving)" 1
expect_match "its history came along" "$(ops config history --admin "${admin[n1]}")" "from the built-in store"
expect_eq "the stream's events were replaced" "$("$MERIDIAN" events --limit 1000 --admin "${admin[n1]}" | grep -c 'stream' || true)" 0
# And back: from etcd into a fresh built-in store.
ops store export --output "$WORK/etcd.json" --admin "${admin[n1]}" 2>/dev/null || fail "export from etcd"
write_solo solo2
start_solo solo2
expect_match "import into a fresh built-in store" "$(ops store import "$WORK/etcd.json" --admin "$solo_admin")" "^imported [0-9]+ key\(s\)"
for _ in $(seq 1 50); do "$MERIDIAN" overrides --admin "$solo_admin" | grep -q "site s3" && break; sleep 0.1; done
expect_match "the built-in store has the override back" "$("$MERIDIAN" overrides --admin "$solo_admin")" "site s3 +down .* mover +migrated"
expect_eq "the same keys went both ways" "$(jq -c '[.entries[].key]' "$WORK/etcd.json")" "$(jq -c '[.entries[].key]' "$WORK/raft.json")"
finish
