#!/usr/bin/env bash
# Runs the demo node: builds the demo GeoIP database from configs/demo/,
# then serves zone demo.test. on 127.0.0.1:5300 and [::1]:5300 (UDP and TCP)
# until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
meridian="$build_dir/main/meridian"
demo=configs/demo

"$meridian" geo build-db --input "$demo/geoip.csv" --output "$demo/demo.mmdb"
"$meridian" check-config "$demo/demo.yaml"

# One local HTTP backend per site, probed by the node's health checks.
export MERIDIAN_BINARY="$meridian"
scripts/demo-backend.sh start all
trap 'scripts/demo-backend.sh stop all >/dev/null' EXIT

cat <<'TXT'

Meridian demo: zone demo.test. on 127.0.0.1 port 5300 (UDP and TCP).
Service www.demo.test. has one endpoint per site: us-west (Seattle),
us-east (Ashburn), eu-west (London), ap-northeast (Tokyo), sa-east (Sao Paulo).
Ask as clients from different places (EDNS Client Subnet):

  dig @127.0.0.1 -p 5300 www.demo.test A +subnet=81.2.69.0/24      # London     -> eu-west
  dig @127.0.0.1 -p 5300 www.demo.test A +subnet=175.16.199.0/24   # Changchun  -> ap-northeast
  dig @127.0.0.1 -p 5300 www.demo.test A +subnet=216.160.83.0/24   # Milton, WA -> us-west
  dig @127.0.0.1 -p 5300 www.demo.test A +subnet=200.160.0.0/20    # Sao Paulo  -> sa-east
  dig @127.0.0.1 -p 5300 www.demo.test A +subnet=89.160.20.0/24    # Linkoping  -> eu-west
  dig @127.0.0.1 -p 5300 www.demo.test AAAA +subnet=2001:218::/32  # Tokyo      -> ap-northeast
  dig @127.0.0.1 -p 5300 www.demo.test A +tcp +subnet=81.2.69.0/24 # the same over TCP
  dig @127.0.0.1 -p 5300 www.demo.test A                           # no location -> default_sites
  dig @127.0.0.1 -p 5300 alias.demo.test A                         # CNAME chain into the service
  dig @127.0.0.1 -p 5300 nope.demo.test A                          # NXDOMAIN with the SOA

Health: each site has a local HTTP backend that the node probes every 2 s.
Stop one and watch the answer move to the next-closest site:

  scripts/demo-backend.sh stop eu-west
  dig @127.0.0.1 -p 5300 www.demo.test A +subnet=81.2.69.0/24     # now us-east
  scripts/demo-backend.sh start eu-west                           # back after 2 passes

Ctrl-C stops the node and the backends.

TXT
"$meridian" serve -c "$demo/demo.yaml"
