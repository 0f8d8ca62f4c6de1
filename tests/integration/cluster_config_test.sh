#!/usr/bin/env bash
# Cluster-wide config versions on loopback: three `meridian serve` nodes.
# Version 1 commits what the files say; an invalid config changes nothing
# and returns its errors; a valid one reaches every node (each checked with
# dig) while a dig loop against one node sees no dropped query; history,
# show and rollback; SIGHUP keeps the committed shared sections. Last, the
# node files are changed to disagree with the committed version and every
# node is killed at once (kill -9): the version and the answers come back
# from disk, and every node says its file differs. A final apply through a
# restarted node reaches every node again.
#
#   cluster_config_test.sh MERIDIAN_BINARY SOURCE_DIR
source "$(dirname "$0")/test_lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
MERIDIAN=$1
require_tool jq
require_tool dig
WORK=$(mktemp -d)
declare -A pid admin dns peer
loop_pid=""
cleanup() {
  [ -n "$loop_pid" ] && kill "$loop_pid" 2>/dev/null
  for p in "${pid[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  stop_store_peers
  wait 2>/dev/null
  if [ "$failures" -ne 0 ]; then tail -n 30 "$WORK"/n?.log >&2; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

names=(n1 n2 n3)
make_pki "${names[@]}"
start_store_peers || exit 1
peers="["
for name in "${names[@]}"; do
  peer[$name]=127.0.0.1:$(pick_port)
  admin[$name]=127.0.0.1:$(pick_port)
  dns[$name]=$(pick_port)
  peers+="{ id: $name, address: \"${peer[$name]}\" }, "
done
peers="${peers%, }]"

# shared WWW_ADDRESS [EXTRA_RECORD]: the shared sections, as a version or
# as the second half of a node's file.
shared() {
  local extra=""
  [ $# -ge 2 ] && extra=", \"$2\""
  cat <<YAML
sites:
  s1: { lat: 50.1, lon: 8.7 }
  s2: { lat: 39.0, lon: -77.5 }
zones:
  - origin: cluster.test.
    soa: { mname: ns1, rname: hostmaster }
    ns: [ns1]
    records: ["ns1 IN A 192.0.2.53"$extra]
    services:
      www:
        ttl: 5
        endpoints:
          - { address: $1, site: s1 }
YAML
}
# node_file NAME WWW_ADDRESS: the node's own sections plus shared ones.
node_file() {
  mkdir -p "$WORK/$1"
  {
    cat <<YAML
node: { id: $1, site: s1, data_dir: $WORK/$1/data }
dns: { listen: ["127.0.0.1:${dns[$1]}"], threads: 1 }
log: { level: info }
admin: { listen: "${admin[$1]}", token_file: $WORK/token }
YAML
    store_section "$1" "$peers" "${peer[$1]}"
    shared "$2"
  } >"$WORK/$1.yaml"
}
start_node() {
  "$MERIDIAN" serve -c "$WORK/$1.yaml" >>"$WORK/$1.log" 2>&1 &
  pid[$1]=$!
}
for name in "${names[@]}"; do
  node_file "$name" 192.0.2.10
  "$MERIDIAN" check-config "$WORK/$name.yaml" >/dev/null || fail "config of $name"
  start_node "$name"
done

cfg() { "$MERIDIAN" config "$@" --token-file "$WORK/token"; }
answer() { dig @127.0.0.1 -p "${dns[$1]}" +short +time=1 +tries=1 "${2:-www}.cluster.test" "${3:-A}" 2>/dev/null | head -1; }
# every_node_answers ADDRESS SECONDS: until all three answer ADDRESS for www.
every_node_answers() {
  local deadline=$(($(date +%s) + $2))
  while true; do
    if [ "$(answer n1)" == "$1" ] && [ "$(answer n2)" == "$1" ] && [ "$(answer n3)" == "$1" ]; then return 0; fi
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.05
  done
}
# every_node_serves VERSION SECONDS: until every node's status says it serves VERSION.
every_node_serves() {
  local deadline=$(($(date +%s) + $2)) name ok
  while true; do
    ok=1
    for name in "${names[@]}"; do
      [ "$(cfg status --json --admin "${admin[$name]}" 2>/dev/null | jq -r .serving)" == "$1" ] || ok=0
    done
    [ "$ok" -eq 1 ] && return 0
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.1
  done
}

every_node_answers 192.0.2.10 20 && pass || fail "the nodes never all answered from their files"
# A leader: history is a linearizable read.
for _ in $(seq 1 200); do cfg history --admin "${admin[n1]}" >/dev/null 2>&1 && break; sleep 0.1; done
expect_match "no version yet" "$(cfg history --admin "${admin[n1]}")" "no version committed yet"
expect_match "status before any version" "$(cfg status --admin "${admin[n2]}")" "committed: none"

# Version 1: what the files say (a whole node file: its node-local
# sections are not part of the version, and the CLI says so).
expect_eq "apply version 1" "$(cfg apply "$WORK/n1.yaml" --comment "as deployed" --admin "${admin[n1]}" 2>"$WORK/err")" \
  "committed version 1"
expect_match "node-local sections ignored" "$(cat "$WORK/err")" "node-local sections \(node, dns, log, admin, $STORE_SECTION\)"
every_node_serves 1 5 && pass || fail "not every node serves version 1"
for name in "${names[@]}"; do
  expect_eq "$name's file matches version 1" \
    "$(cfg status --json --admin "${admin[$name]}" | jq -r .file_matches_committed)" true
done

# An invalid config: the errors, exit 1, nothing changed.
shared 192.0.2.20 >"$WORK/bad.yaml"
sed -i 's/site: s1 }/site: mars }/; s/lat: 39.0/lat: 139.0/' "$WORK/bad.yaml"
code=0
cfg apply "$WORK/bad.yaml" --admin "${admin[n2]}" >"$WORK/out" 2>"$WORK/err" || code=$?
expect_eq "invalid config: exit 1" "$code" 1
expect_eq "invalid config: nothing on stdout" "$(cat "$WORK/out")" ""
expect_match "invalid config: the unknown site, with its position" "$(cat "$WORK/err")" \
  "bad.yaml:13:42: zones\[0\]\.services\.www\.endpoints\[0\]\.site: expected one of the sites \(s1, s2\), found \"mars\""
expect_match "invalid config: every error" "$(cat "$WORK/err")" "bad.yaml:3:14: sites.s2.lat: expected a number from -90 to 90"
expect_match "invalid config: nothing changed" "$(cat "$WORK/err")" "answered 400: the config has errors; nothing was changed"
printf 'sites: [\n' >"$WORK/syntax.yaml"
cfg apply "$WORK/syntax.yaml" --admin "${admin[n3]}" 2>"$WORK/err" && fail "a YAML syntax error was committed"
expect_match "syntax error" "$(cat "$WORK/err")" "syntax.yaml:2:1: YAML syntax error"
expect_eq "still version 1" "$(cfg history --json --admin "${admin[n3]}" | jq -c '[.current, (.versions | length)]')" "[1,1]"
every_node_answers 192.0.2.10 1 && pass || fail "an invalid config changed an answer"

# A valid change, applied through a follower or the leader alike, while a
# dig loop asks n1 without pause.
dig_loop() {
  local sent=0 lost=0 out
  while [ ! -e "$WORK/stop" ]; do
    sent=$((sent + 1))
    out=$(dig @127.0.0.1 -p "${dns[n1]}" +short +time=1 +tries=1 www.cluster.test A 2>/dev/null) || out=""
    [[ "$out" =~ ^192\.0\.2\.[0-9]+$ ]] || lost=$((lost + 1))
  done
  echo "$sent $lost" >"$WORK/loop"
}
dig_loop &
loop_pid=$!
sleep 1
shared 192.0.2.20 "new IN TXT \\\"hello\\\"" >"$WORK/v2.yaml"
started=$(date +%s%N)
expect_eq "apply version 2" \
  "$(cfg apply "$WORK/v2.yaml" --author tester --comment "move www" --admin "${admin[n2]}" 2>&1)" "committed version 2"
if every_node_answers 192.0.2.20 5; then
  pass
  echo "every node answered version 2 after $((($(date +%s%N) - started) / 1000000)) ms"
else
  fail "not every node answered version 2 (n1 $(answer n1), n2 $(answer n2), n3 $(answer n3))"
fi
for name in "${names[@]}"; do
  expect_eq "$name: the new record" "$(answer "$name" new TXT)" '"hello"'
done
history=$(cfg history --admin "${admin[n3]}")
echo "$history"
expect_match "history: version 2 is current" "$history" "^2\* +20[0-9-]+T[0-9:]+Z +tester +[0-9a-f]{16} +move www$"
expect_match "history: version 1" "$history" "^1 +20[0-9-]+T[0-9:]+Z +.* +[0-9a-f]{16} +as deployed$"
expect_eq "show 2 is the applied text" "$(cfg show 2 --admin "${admin[n1]}")" "$(cat "$WORK/v2.yaml")"
expect_eq "show is the current one" "$(cfg show --admin "${admin[n1]}")" "$(cat "$WORK/v2.yaml")"
expect_eq "n2's file differs from version 2" \
  "$(cfg status --json --admin "${admin[n2]}" | jq -r .file_matches_committed)" false

# Rollback: the text of version 1 as version 3.
expect_eq "rollback to 1" "$(cfg rollback 1 --admin "${admin[n3]}")" "committed version 3 (the text of version 1)"
every_node_answers 192.0.2.10 5 && pass || fail "not every node rolled back"
for name in "${names[@]}"; do
  expect_eq "$name: the new record is gone" "$(answer "$name" new TXT)" ""
done
sleep 1
touch "$WORK/stop"
wait "$loop_pid"
loop_pid=""
read -r sent lost <"$WORK/loop"
echo "dig loop against n1 during the applies: $sent queries, $lost without an answer"
[ "$sent" -ge 20 ] && pass || fail "the dig loop sent only $sent queries"
expect_eq "no dropped queries" "$lost" 0
expect_match "history: the rollback" "$(cfg history --limit 1 --admin "${admin[n1]}")" "^3\* .* rollback to version 1$"
cfg rollback 99 --admin "${admin[n1]}" 2>"$WORK/err" && fail "a rollback to a missing version was accepted"
expect_match "rollback to a missing version" "$(cat "$WORK/err")" "answered 404: no config version 99"
"$MERIDIAN" config apply "$WORK/v2.yaml" --admin "${admin[n1]}" 2>"$WORK/err" &&
  fail "an apply without a token was accepted"
expect_match "an apply needs the token" "$(cat "$WORK/err")" "answered 401"
expect_eq "still version 3" "$(cfg history --json --admin "${admin[n2]}" | jq -c '[.current, (.versions | length)]')" "[3,3]"

# SIGHUP reloads the node-local sections only: n1's file now says .30.
node_file n1 192.0.2.30
kill -HUP "${pid[n1]}"
for _ in $(seq 1 50); do grep -q "reloaded the node-local sections" "$WORK/n1.log" && break; sleep 0.1; done
expect_match "SIGHUP logged" "$(cat "$WORK/n1.log")" "reloaded the node-local sections of .*; serving committed version 3"
expect_eq "after SIGHUP n1 still serves the committed version" "$(answer n1)" 192.0.2.10

# Every node's file disagrees with the committed version; kill -9 all at once.
for name in "${names[@]}"; do node_file "$name" 192.0.2.30; done
for name in "${names[@]}"; do kill -9 "${pid[$name]}"; done
wait "${pid[@]}" 2>/dev/null || true
for name in "${names[@]}"; do : >"$WORK/$name.log"; start_node "$name"; done
for name in "${names[@]}"; do
  wait_for_dns "${dns[$name]}" || fail "$name did not come back"
  # The first answers already follow the committed version, not the file.
  expect_eq "$name's first answer after the restart" "$(answer "$name")" 192.0.2.10
  expect_eq "$name's version from disk" "$(cfg status --json --admin "${admin[$name]}" | jq -c '[.committed, .serving]')" "[3,3]"
  expect_eq "$name's file differs" "$(cfg status --json --admin "${admin[$name]}" | jq -r .file_matches_committed)" false
  expect_match "$name says so at start" "$(cat "$WORK/$name.log")" \
    "WARN config: this node's file differs from committed version 3 \(file [0-9a-f]{16}, committed [0-9a-f]{16}\)"
done
expect_match "status says so" "$(cfg status --admin "${admin[n2]}")" "differs from the committed version"

# The cluster goes on: commit what the files now say, through n3.
applied=""
for _ in $(seq 1 100); do  # once the restarted members have elected a leader
  if applied=$(cfg apply "$WORK/n3.yaml" --admin "${admin[n3]}" 2>/dev/null); then break; fi
  sleep 0.1
done
expect_eq "apply version 4 after the restart" "$applied" "committed version 4"
every_node_answers 192.0.2.30 5 && pass || fail "not every node answered version 4"
every_node_serves 4 5 && pass || fail "not every node serves version 4"
expect_eq "the files match again" "$(cfg status --json --admin "${admin[n1]}" | jq -r .file_matches_committed)" true
finish
