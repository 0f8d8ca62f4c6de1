# Helpers for the cluster integration tests: certificates, node configs, and
# polling a node's view through `meridian cluster status --json`. Source it
# after test_lib.sh; set MERIDIAN (the binary) and WORK (a scratch dir).
#
# The store the nodes keep their replicated state in: the built-in Raft
# store (the default), or with MERIDIAN_STORE=etcd a three-member etcd
# cluster on loopback with mutual TLS, which start_store_peers starts (the
# same tests run on both; CTest registers the etcd runs as *_etcd). Every
# test's cleanup calls stop_store_peers.
STORE_BACKEND=${MERIDIAN_STORE:-raft}
# The section a node's file names its store in.
STORE_SECTION=cluster
[ "$STORE_BACKEND" == etcd ] && STORE_SECTION=store
declare -a etcd_pid etcd_client etcd_peer
# Where each etcd member runs, when the caller says (before
# start_store_peers): etcd_ns[I] a network namespace, etcd_host[I] its
# address there (ports 2379 and 2380). By default: this namespace, 127.0.0.1,
# picked ports.
declare -a etcd_ns etcd_host
etcd_endpoints=""   # the flow list of the etcd members' client addresses
etcd_initial=""     # --initial-cluster

# etcd_member_start I: etcd member I (1..3), its data in $WORK/etcd-I, its
# log in $WORK/etcd-I.log. Certificates from the cluster CA (make_pki).
etcd_member_start() {
  local i=$1 certs=$WORK/certs
  local runner=()
  # ip netns exec execs etcd: $! is etcd itself.
  [ -n "${etcd_ns[$i]:-}" ] && runner=(ip netns exec "${etcd_ns[$i]}")
  "${runner[@]}" etcd --name "etcd-$i" --data-dir "$WORK/etcd-$i" \
    --listen-client-urls "https://${etcd_client[$i]}" --advertise-client-urls "https://${etcd_client[$i]}" \
    --listen-peer-urls "https://${etcd_peer[$i]}" --initial-advertise-peer-urls "https://${etcd_peer[$i]}" \
    --initial-cluster "$etcd_initial" --initial-cluster-state new --initial-cluster-token "meridian-test" \
    --client-cert-auth --trusted-ca-file "$certs/ca.pem" --cert-file "$certs/etcd-$i.pem" --key-file "$certs/etcd-$i.key" \
    --peer-client-cert-auth --peer-trusted-ca-file "$certs/ca.pem" --peer-cert-file "$certs/etcd-$i.pem" \
    --peer-key-file "$certs/etcd-$i.key" >>"$WORK/etcd-$i.log" 2>&1 &
  etcd_pid[$i]=$!
}

# etcdctl_at I ARGS...: etcdctl against member I only, as the cluster CA's client.
etcdctl_at() {
  local i=$1
  shift
  local runner=()
  [ -n "${etcd_ns[$i]:-}" ] && runner=(ip netns exec "${etcd_ns[$i]}")
  ETCDCTL_API=3 "${runner[@]}" etcdctl --endpoints "${etcd_client[$i]}" --cacert "$WORK/certs/ca.pem" \
    --cert "$WORK/certs/etcd-1.pem" --key "$WORK/certs/etcd-1.key" --command-timeout 2s "$@"
}

# etcd_leader: the index (1..3) of the etcd member that leads, or "".
etcd_leader() {
  local i
  for i in 1 2 3; do
    if etcdctl_at "$i" endpoint status -w json 2>/dev/null |
      jq -e '.[0].Status.leader == .[0].Status.header.member_id' >/dev/null 2>&1; then
      echo "$i"
      return 0
    fi
  done
}

# start_store_peers: with the etcd backend, a three-member etcd cluster
# (after make_pki); nothing for the built-in store, whose members are the nodes.
start_store_peers() {
  [ "$STORE_BACKEND" == etcd ] || return 0
  require_tool etcd
  require_tool etcdctl
  local i host
  etcd_initial=""
  etcd_endpoints="["
  for i in 1 2 3; do
    host=${etcd_host[$i]:-127.0.0.1}
    "$MERIDIAN" cluster certs node --dir "$WORK/ca" --out "$WORK/certs" --id "etcd-$i" --ip "$host" >/dev/null
    if [ -n "${etcd_host[$i]:-}" ]; then
      etcd_client[$i]=$host:2379
      etcd_peer[$i]=$host:2380
    else
      etcd_client[$i]=$host:$(pick_port)
      etcd_peer[$i]=$host:$(pick_port)
    fi
    etcd_initial+="etcd-$i=https://${etcd_peer[$i]},"
    etcd_endpoints+="\"${etcd_client[$i]}\", "
  done
  etcd_initial=${etcd_initial%,}
  etcd_endpoints="${etcd_endpoints%, }]"
  for i in 1 2 3; do etcd_member_start "$i"; done
  for _ in $(seq 1 100); do
    [ -n "$(etcd_leader)" ] && return 0
    sleep 0.2
  done
  fail "the etcd cluster did not elect a leader"
  tail -n 20 "$WORK"/etcd-*.log >&2
  return 1
}

stop_store_peers() {
  local p
  for p in "${etcd_pid[@]}"; do kill -9 "$p" 2>/dev/null || true; done
}

# store_section NAME [PEERS_YAML] [PEER_ADDR]: node NAME's store section:
# `cluster:` (built-in) or `store:` (etcd; one prefix per test run).
store_section() {
  if [ "$STORE_BACKEND" == etcd ]; then
    cat <<YAML
store:
  backend: etcd
  endpoints: $etcd_endpoints
  prefix: /meridian/test/
  tls: { ca: $WORK/certs/ca.pem, cert: $WORK/certs/$1.pem, key: $WORK/certs/$1.key }
  decider_lease: 2s
YAML
  else
    cat <<YAML
cluster:
  listen: "$3"
  peers: $2
  tls: { ca: $WORK/certs/ca.pem, cert: $WORK/certs/$1.pem, key: $WORK/certs/$1.key }
YAML
  fi
}

# make_pki NAME...: a cluster CA (its key in $WORK/ca, never beside the
# nodes' files), a certificate per node in $WORK/certs with the CA's
# certificate, and an admin token (mode 0600: nodes refuse a readable one).
make_pki() {
  "$MERIDIAN" cluster certs init --dir "$WORK/ca" >/dev/null
  for name in "$@"; do "$MERIDIAN" cluster certs node --dir "$WORK/ca" --out "$WORK/certs" --id "$name" >/dev/null; done
  (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/token")
}

# write_node_config NAME PEER_ADDR ADMIN_ADDR DNS_ADDR PEERS_YAML: a node's
# config in $WORK/NAME.yaml, its data in $WORK/NAME/. PEERS_YAML is the
# flow list of {id, address} maps; timing stays at the defaults.
write_node_config() {
  local name=$1 peer=$2 admin=$3 dns=$4 peers=$5
  mkdir -p "$WORK/$name"
  cat >"$WORK/$name.yaml" <<YAML
node: { id: $name, site: here, data_dir: $WORK/$name/data }
dns: { listen: ["$dns"], threads: 1 }
log: { level: info }
admin: { listen: "$admin", token_file: $WORK/token }
$(store_section "$name" "$peers" "$peer")
sites: { here: { lat: 0, lon: 0 } }
zones:
  - origin: cluster.test.
    soa: { mname: ns1, rname: hostmaster }
    ns: [ns1]
    records: ["ns1 IN A 192.0.2.1"]
YAML
}

# status_field RUNNER ADMIN JQ_FILTER: one field of a node's status ("" when
# the node does not answer). RUNNER prefixes the command (e.g. "ip netns
# exec ns1", or "" on the host).
status_field() {
  $1 "$MERIDIAN" cluster status --json --admin "$2" 2>/dev/null | jq -r "$3" 2>/dev/null || true
}

# A three-site cluster on loopback with one HTTP backend per site and one
# service, as the health, dashboard and admin API tests use it. The caller
# sets the arrays `names` and `sites` (three each), `coordinates` ("LAT, lon:
# LON" three times) and ZONE (the origin without the final dot), declares
# `declare -A pid admin dns` and `backend_pid=()`, and calls make_pki first.
# Node i's site has endpoint 192.0.2.i of www.$ZONE, probed at 127.0.0.i on
# the site's backend port every second (rise 2, fall 2).

# three_site_ports: picks every port: peer[NAME], admin[NAME], dns[NAME],
# backend_port[I]; sets `peers` (the flow list of the config).
three_site_ports() {
  declare -gA peer
  declare -ga backend_port
  peers="["
  for i in 1 2 3; do
    local name=${names[$((i - 1))]}
    peer[$name]=127.0.0.1:$(pick_port)
    admin[$name]=127.0.0.1:$(pick_port)
    dns[$name]=$(pick_port)
    backend_port[$i]=$(pick_port)
    peers+="{ id: $name, address: \"${peer[$name]}\" }, "
  done
  peers="${peers%, }]"
}

# start_site_backend I: the HTTP backend of site I (1..3).
start_site_backend() {
  "$MERIDIAN" backend --listen "127.0.0.$1:${backend_port[$1]}" --name "${sites[$(($1 - 1))]}" \
    >>"$WORK/backend$1.log" 2>&1 &
  backend_pid[$1]=$!
}

# write_three_site_config I: node I's config in $WORK/NAME.yaml.
write_three_site_config() {
  local i=$1 name=${names[$(($1 - 1))]}
  mkdir -p "$WORK/$name"
  cat >"$WORK/$name.yaml" <<YAML
node: { id: $name, site: ${sites[$((i - 1))]}, data_dir: $WORK/$name/data }
dns: { listen: ["127.0.0.1:${dns[$name]}"], threads: 1 }
log: { level: info }
admin: { listen: "${admin[$name]}", token_file: $WORK/token }
$(store_section "$name" "$peers" "${peer[$name]}")
sites:
  ${sites[0]}: { lat: ${coordinates[0]} }
  ${sites[1]}: { lat: ${coordinates[1]} }
  ${sites[2]}: { lat: ${coordinates[2]} }
checks:
  web: { type: http, path: /, interval: 1s, timeout: 500ms, rise: 2, fall: 2 }
zones:
  - origin: $ZONE.
    soa: { mname: ns1, rname: hostmaster }
    ns: [ns1]
    records: ["ns1 IN A 192.0.2.53"]
    services:
      www:
        ttl: 30
        check: web
        default_sites: [${sites[0]}, ${sites[1]}, ${sites[2]}]
        endpoints:
          - { address: 192.0.2.1, site: ${sites[0]}, check: { use: web, port: ${backend_port[1]}, target: 127.0.0.1 } }
          - { address: 192.0.2.2, site: ${sites[1]}, check: { use: web, port: ${backend_port[2]}, target: 127.0.0.2 } }
          - { address: 192.0.2.3, site: ${sites[2]}, check: { use: web, port: ${backend_port[3]}, target: 127.0.0.3 } }
YAML
}

# start_node NAME: `meridian serve` of NAME, its output in $WORK/NAME.log.
start_node() {
  "$MERIDIAN" serve -c "$WORK/$1.yaml" >>"$WORK/$1.log" 2>&1 &
  pid[$1]=$!
}

# start_three_site_cluster: ports, backends, configs (checked), nodes.
start_three_site_cluster() {
  start_store_peers
  three_site_ports
  for i in 1 2 3; do start_site_backend "$i"; done
  for i in 1 2 3; do
    write_three_site_config "$i"
    "$MERIDIAN" check-config "$WORK/${names[$((i - 1))]}.yaml" >/dev/null || fail "config of ${names[$((i - 1))]}"
    start_node "${names[$((i - 1))]}"
  done
}

# answer NAME: node NAME's first A answer for www.$ZONE ("" when none).
answer() { dig @127.0.0.1 -p "${dns[$1]}" +short +time=1 +tries=1 "www.$ZONE" A 2>/dev/null | head -1; }

# every_node_answers ADDRESS SECONDS: until all three answer ADDRESS; prints
# the time taken in ms. Fails after SECONDS.
every_node_answers() {
  local started now
  started=$(date +%s%N)
  while true; do
    if [ "$(answer "${names[0]}")" == "$1" ] && [ "$(answer "${names[1]}")" == "$1" ] &&
      [ "$(answer "${names[2]}")" == "$1" ]; then
      echo $(( ($(date +%s%N) - started) / 1000000 ))
      return 0
    fi
    now=$(date +%s%N)
    [ $(( (now - started) / 1000000000 )) -ge "$2" ] && return 1
    sleep 0.05
  done
}
