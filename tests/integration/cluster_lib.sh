# Helpers for the cluster integration tests: certificates, node configs, and
# polling a node's view through `meridian cluster status --json`. Source it
# after test_lib.sh; set MERIDIAN (the binary) and WORK (a scratch dir).

# make_pki NAME...: a cluster CA, a certificate per node, and an admin token.
make_pki() {
  "$MERIDIAN" cluster certs init --dir "$WORK/certs" >/dev/null
  for name in "$@"; do "$MERIDIAN" cluster certs node --dir "$WORK/certs" --id "$name" >/dev/null; done
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/token"
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
cluster:
  listen: "$peer"
  peers: $peers
  tls: { ca: $WORK/certs/ca.pem, cert: $WORK/certs/$name.pem, key: $WORK/certs/$name.key }
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
