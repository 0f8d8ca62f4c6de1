#pragma once
// The node's own part of the admin API (docs/admin-api.md): who it is, what it
// serves and how healthy it sees it, and how many queries it answers.
// Everything is read through gslb::NodeApi from snapshots (the status view,
// the DNS workers' counters, the store's status), never from another
// thread's live state.
//
//   GET /api/v1/status          {name, site, version, uptime_s, started_ms, config, cluster,
//   health, dns} GET /api/v1/sites           {sites: [{name, lat, lon, endpoints, usable, state,
//   override}]} GET /api/v1/services        {services: [{name, policy, ttl, endpoints: [{addresses,
//   site, target, check,
//                                 usable, source, probed, cluster_verdict, stale, since_ms, reason,
//                                 latency_ms, override}]}]}
//   GET /api/v1/health/matrix   {observers: [{name, live}], targets: [{target, site, views:
//   {observer: state},
//                                 verdict, stale}]}
//   GET /api/v1/stats           {interval_s: 10, samples: [{t_ms, total_qps, sites: {site: qps}}]}:
//   the
//                                query rate per site of the last 30 intervals (5 minutes), oldest
//                                first (gslb/query_rates.hpp)
//
// /metrics is admin/metrics_route.hpp.

#include <boost/asio/io_context.hpp>

#include "admin/http_server.hpp"
#include "gslb/node_api.hpp"

namespace meridian::admin {

/// Adds the routes above. The views are rendered, and the query rate
/// sampled every 10 s, on `io` (the server's io_context). `node` must
/// outlive the server; `io` must outlive the server and be the one it runs
/// on.
void add_status_routes(HttpServer& server, gslb::NodeApi& node, boost::asio::io_context& io);

}  // namespace meridian::admin
