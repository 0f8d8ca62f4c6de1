#!/usr/bin/env bash
# Starts or stops the demo's local HTTP backend of one site (or all), so you
# can watch the demo node fail over:  scripts/demo-backend.sh stop eu-west
# The cluster demo (scripts/demo-cluster.sh) uses the same backends for its
# sites eu-west, us-east and ap-northeast, so the same commands work there.
set -euo pipefail
cd "$(dirname "$0")/.."
run_dir=${MERIDIAN_DEMO_RUN:-/tmp/meridian-demo}
meridian=${MERIDIAN_BINARY:-build/main/meridian}
declare -A ports=([us-west]=18081 [us-east]=18082 [eu-west]=18083 [ap-northeast]=18084 [sa-east]=18085)

usage() { echo "usage: $0 start|stop|status SITE|all  (sites: ${!ports[*]})" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
sites=("$2")
[ "$2" == all ] && sites=("${!ports[@]}")
mkdir -p "$run_dir"

for site in "${sites[@]}"; do
  port=${ports[$site]:-}
  [ -n "$port" ] || usage
  pid_file="$run_dir/$site.pid"
  running=false
  if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then running=true; fi
  case "$action" in
    start)
      if $running; then echo "$site backend already running"; continue; fi
      "$meridian" backend --listen "127.0.0.1:$port" --name "$site" >/dev/null 2>&1 &
      echo $! >"$pid_file"
      echo "$site backend started on 127.0.0.1:$port"
      ;;
    stop)
      if $running; then kill "$(cat "$pid_file")"; echo "$site backend stopped"; else echo "$site backend not running"; fi
      rm -f "$pid_file"
      ;;
    status)
      if $running; then echo "$site: up (127.0.0.1:$port)"; else echo "$site: down"; fi
      ;;
    *) usage ;;
  esac
done
