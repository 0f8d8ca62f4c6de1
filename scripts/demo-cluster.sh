#!/usr/bin/env bash
# Runs the three-site cluster demo: nodes eu-west-1, us-east-1 and
# ap-northeast-1 (configs/demo-cluster/) on loopback, one Raft cluster with
# mutual TLS between them, and one local HTTP backend per site
# (scripts/demo-backend.sh) that every node probes. Until Ctrl-C.
#
#   scripts/demo-cluster.sh [BUILD_DIR]      (make demo-cluster; MERIDIAN_BINARY=PATH overrides the binary;
#                                             DEMO_STORE=etcd keeps the state in a three-member etcd)
#
# What it makes, all in out/demo-cluster/ (ignored by git): ca/ (the cluster
# CA, its key never copied elsewhere), certs/ (the CA's certificate and one
# certificate and key per node, made once and kept), admin.token
# (made once and kept), data/ (the nodes' Raft logs: wiped at every start,
# so each run founds a fresh cluster) and one log per node. Ports: DNS
# 5301-5303, admin API 8401-8403, peers 7401-7403 (all 127.0.0.1), backends
# 18082-18084 (the same as `make demo`).
#
# Run in the background (as bench/failover.sh and the integration test do),
# stop it with SIGTERM: it stops the nodes and the backends it started.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
meridian=${MERIDIAN_BINARY:-$build_dir/main/meridian}
export MERIDIAN_BINARY="$meridian"
configs=configs/demo-cluster
run=out/demo-cluster
nodes=(eu-west-1 us-east-1 ap-northeast-1)
sites=(eu-west us-east ap-northeast)

[ -x "$meridian" ] || { echo "demo-cluster: no $meridian (run make build, or make demo-cluster)" >&2; exit 1; }

# One cluster demo per machine (the ports are fixed): a lock held while
# this script runs (DEMO_CLUSTER_WAIT seconds to wait for it, default 0),
# then the ports, before touching anything.
lock=${TMPDIR:-/tmp}/meridian-demo-cluster.lock
exec 9>>"$lock"
if ! flock -w "${DEMO_CLUSTER_WAIT:-0}" 9; then
  echo "demo-cluster: another cluster demo is running (it holds $lock)" >&2
  exit 1
fi
if command -v ss >/dev/null 2>&1; then
  for port in 5301 5302 5303 7401 7402 7403 8401 8402 8403 23791 23792 23793 23801 23802 23803; do
    if ss -Htln "sport = :$port" | grep -q . || ss -Huln "sport = :$port" | grep -q .; then
      echo "demo-cluster: port $port is in use (is the cluster demo already running?)" >&2
      exit 1
    fi
  done
fi

node_pids=()
etcd_pids=()
follow_pids=()
started_sites=()
# Stops the nodes (SIGTERM; SIGKILL after 10 s), then the backends this run
# started. A second Ctrl-C does not interrupt it.
cleanup() {
  trap '' INT TERM
  local pid alive
  for pid in "${node_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    alive=0
    for pid in "${node_pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 1 ] || break
    sleep 0.1
  done
  for pid in "${node_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  # etcd last: the nodes revoke their leases as they stop.
  for pid in "${etcd_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for site in "${started_sites[@]}"; do scripts/demo-backend.sh stop "$site" >/dev/null 9>&- || true; done
  # The log followers end by themselves within a second of their node.
  for _ in $(seq 1 20); do
    alive=0
    for pid in "${follow_pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 1 ] || break
    sleep 0.1
  done
  for pid in "${follow_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ ${#node_pids[@]} -eq 0 ] || echo "demo-cluster: stopped the nodes and the backends (logs in $run/)"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$meridian" geo build-db --input configs/demo/geoip.csv --output configs/demo/demo.mmdb >/dev/null

# Certificates and the admin token: made on the first run, kept afterwards.
# The CA's key stays in ca/; the nodes' files (and the CA's certificate) go
# to certs/. A run of an older demo kept the CA key in certs/: start over.
[ -f "$run/certs/ca.key" ] && rm -rf "$run/certs" "$run/ca"
[ -f "$run/ca/ca.pem" ] || "$meridian" cluster certs init --dir "$run/ca" >/dev/null
for node in "${nodes[@]}"; do
  [ -f "$run/certs/$node.pem" ] ||
    "$meridian" cluster certs node --dir "$run/ca" --out "$run/certs" --id "$node" >/dev/null
done
if [ ! -s "$run/admin.token" ]; then
  (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$run/admin.token")
fi
chmod 600 "$run/admin.token"  # the nodes refuse a token file others can read
# A fresh cluster every run: the nodes found it from an empty data_dir.
rm -rf "$run/data"
mkdir -p "$run/data"

# DEMO_STORE=etcd: the same nodes keep their replicated state in a
# three-member etcd cluster on loopback (mutual TLS, fresh every run,
# out/demo-cluster/etcd/) instead of the built-in store. Their configs are
# the demo's with store: in place of cluster:, written to out/demo-etcd/
# (two levels down, as the demo's own, so their relative paths still hold).
if [ "${DEMO_STORE:-raft}" == etcd ]; then
  command -v etcd >/dev/null || { echo "demo-cluster: etcd is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
  rm -rf "$run/etcd" out/demo-etcd
  mkdir -p "$run/etcd" out/demo-etcd
  initial=""
  for i in 1 2 3; do
    [ -f "$run/certs/etcd-$i.pem" ] ||
      "$meridian" cluster certs node --dir "$run/ca" --out "$run/certs" --id "etcd-$i" --ip 127.0.0.1 >/dev/null
    initial+="etcd-$i=https://127.0.0.1:$((23800 + i)),"
  done
  for i in 1 2 3; do
    setsid etcd --name "etcd-$i" --data-dir "$run/etcd/etcd-$i" \
      --listen-client-urls "https://127.0.0.1:$((23790 + i))" --advertise-client-urls "https://127.0.0.1:$((23790 + i))" \
      --listen-peer-urls "https://127.0.0.1:$((23800 + i))" --initial-advertise-peer-urls "https://127.0.0.1:$((23800 + i))" \
      --initial-cluster "${initial%,}" --initial-cluster-state new \
      --client-cert-auth --trusted-ca-file "$run/certs/ca.pem" --cert-file "$run/certs/etcd-$i.pem" --key-file "$run/certs/etcd-$i.key" \
      --peer-client-cert-auth --peer-trusted-ca-file "$run/certs/ca.pem" --peer-cert-file "$run/certs/etcd-$i.pem" \
      --peer-key-file "$run/certs/etcd-$i.key" >"$run/etcd-$i.log" 2>&1 </dev/null 9>&- &
    etcd_pids+=($!)
  done
  for node in "${nodes[@]}"; do
    awk -v node="$node" '
      /^cluster:/ { skip = 1
        print "store:"
        print "  backend: etcd"
        print "  endpoints: [\"127.0.0.1:23791\", \"127.0.0.1:23792\", \"127.0.0.1:23793\"]"
        print "  prefix: /meridian/demo/"
        print "  tls:"
        print "    ca: ../../out/demo-cluster/certs/ca.pem"
        print "    cert: ../../out/demo-cluster/certs/" node ".pem"
        print "    key: ../../out/demo-cluster/certs/" node ".key"
        next }
      skip && /^$/ { skip = 0 }
      !skip { sub(/\.\.\/demo\/demo\.mmdb/, "../../configs/demo/demo.mmdb"); print }
    ' "$configs/$node.yaml" >"out/demo-etcd/$node.yaml"
  done
  configs=out/demo-etcd
fi

for node in "${nodes[@]}"; do "$meridian" check-config "$configs/$node.yaml" >/dev/null; done

# The backends; one already running (e.g. by `make demo`) is used and left running.
for site in "${sites[@]}"; do
  if scripts/demo-backend.sh status "$site" | grep -q ': up'; then
    echo "demo-cluster: the $site backend is already running; using it (and leaving it running)"
  else
    scripts/demo-backend.sh start "$site" >/dev/null 9>&-
    started_sites+=("$site")
  fi
done

# The nodes, each in its own session so that Ctrl-C reaches them once,
# through the trap above; each logs to its own file.
for node in "${nodes[@]}"; do
  setsid "$meridian" serve -c "$configs/$node.yaml" >"$run/$node.log" 2>&1 </dev/null 9>&- &
  node_pids+=($!)
done

# Ready when every node answers a London client with eu-west and the
# leader has written the first verdicts.
london() { dig @127.0.0.1 -p "$1" +short +time=1 +tries=1 www.demo.test A +subnet=81.2.69.0/24 2>/dev/null | head -1; }
ready=false
for _ in $(seq 1 150); do
  for pid in "${node_pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "demo-cluster: a node exited at start:" >&2; tail -n 5 "$run"/*.log >&2; exit 1; }
  done
  if [ "$(london 5301)" == 192.0.2.30 ] && [ "$(london 5302)" == 192.0.2.30 ] && [ "$(london 5303)" == 192.0.2.30 ] &&
    [ "$("$meridian" kv scan _health/verdict/ --admin 127.0.0.1:8401 2>/dev/null | grep -c '	up ')" -eq 3 ]; then
    ready=true
    break
  fi
  sleep 0.2
done
if ! $ready; then
  echo "demo-cluster: the cluster did not come up in 30 s (backends on 18082-18084 free? logs in $run/):" >&2
  tail -n 5 "$run"/*.log >&2
  exit 1
fi

cat <<TXT

Meridian cluster demo: three nodes, one per site, $(if [ "${DEMO_STORE:-raft}" == etcd ]; then
  echo "their state in a three-member etcd
cluster (mutual TLS on 127.0.0.1:23791-23793), all serving demo.test.:"
else
  echo "one Raft cluster (mutual
TLS on 127.0.0.1:7401-7403), all serving demo.test.:"
fi)

  node            site          DNS (UDP+TCP)     admin API
  eu-west-1       eu-west       127.0.0.1:5301    127.0.0.1:8401
  us-east-1       us-east       127.0.0.1:5302    127.0.0.1:8402
  ap-northeast-1  ap-northeast  127.0.0.1:5303    127.0.0.1:8403

www.demo.test. has one endpoint per site: us-east 192.0.2.20, eu-west
192.0.2.30, ap-northeast 192.0.2.40. Every node probes every site's backend
(127.0.0.1:18082-18084) every second; the leader turns the three views into
one verdict per endpoint and every node answers from it.

  $meridian cluster status -c $configs/eu-west-1.yaml
  for p in 5301 5302 5303; do dig @127.0.0.1 -p \$p www.demo.test A +subnet=81.2.69.0/24 +short; done   # London: 192.0.2.30 x3
  scripts/demo-backend.sh stop eu-west       # every node answers 192.0.2.20 (us-east) within a few seconds
  $meridian kv scan _health/ -c $configs/eu-west-1.yaml   # observations, leases, verdicts
  scripts/demo-backend.sh start eu-west      # back to 192.0.2.30

Node logs: $run/<node>.log (followed below). Ctrl-C stops the nodes and the backends.

TXT

# Follow the logs (without the periodic probe counts) until the nodes stop.
for i in "${!nodes[@]}"; do
  tail -n +1 -F --pid="${node_pids[$i]}" "$run/${nodes[$i]}.log" 2>/dev/null 9>&- |
    grep --line-buffered -v ' probes in ' 9>&- | sed -u "s/^/[${nodes[$i]}] /" 9>&- &
  follow_pids+=($!)
done

# Until Ctrl-C (or SIGTERM), or until a node exits by itself.
status=0
wait -n "${node_pids[@]}" || status=$?
echo "demo-cluster: a node exited (status $status); stopping the others" >&2
exit 1
