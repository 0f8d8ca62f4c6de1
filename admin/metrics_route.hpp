#pragma once
// GET /metrics (docs/admin-api.md): the node's metrics in the Prometheus text
// format. The one place where the content of the metrics (gslb::NodeApi:
// identity, the DNS totals, the status view's probes, endpoints and sites,
// the store's status) meets the format (admin/prometheus.hpp): every
// family's name, type, help and the source of its value is written in
// metrics_route.cpp, in the order it is exposed:
//
//   meridian_build_info, meridian_uptime_seconds, process_* (resident and
//   virtual memory, open fds, CPU, start time), meridian_dns_* (queries,
//   responses by rcode, dropped, truncated, ECS queries, service answers,
//   fail open, fail closed, queries by type, by zone, answers by service and
//   by site, TCP connections and what the TCP connection caps did), then
//   with the admin server meridian_admin_* (open connections, refused),
//   then with a status view meridian_probes_total,
//   meridian_probe_duration_seconds, meridian_endpoint_usable,
//   meridian_site_usable_endpoints, meridian_health_fallback,
//   meridian_verdict_changes_total, then in a cluster meridian_raft_* and,
//   on the built-in store, meridian_cluster_* (the peer transport's caps).

#include <boost/asio/io_context.hpp>
#include <string>

#include "admin/http_server.hpp"
#include "gslb/node_api.hpp"

namespace meridian::admin {

/// Adds GET /metrics, answered from a fresh view on `io` (the server's
/// io_context). `node` and `io` must outlive the server.
void add_metrics_route(HttpServer& server, gslb::NodeApi& node, boost::asio::io_context& io);

/// The body of GET /metrics. On the admin server's thread (it counts the
/// DNS TCP connections). `admin`: the server whose connection counts are
/// included (none when null).
std::string render_metrics(const gslb::NodeApi& node, const HttpServer* admin = nullptr);

}  // namespace meridian::admin
