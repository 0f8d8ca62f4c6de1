#pragma once
// Every route of a node's admin server (docs/admin-api.md), over the one
// interface the core offers (gslb/node_api.hpp):
//
//   admin/explain_route.hpp   GET /api/v1/explain
//   admin/status_routes.hpp   GET /api/v1/status, sites, services, health/matrix, stats
//   admin/metrics_route.hpp   GET /metrics
//   admin/dashboard.hpp       GET / and /assets/...
// and in a cluster (node.store() not null):
//   admin/store_routes.hpp    /api/v1/cluster..., /api/v1/kv...
//   admin/health_routes.hpp   /api/v1/verdicts, overrides, events
//   admin/config_routes.hpp   /api/v1/config...

#include <boost/asio/io_context.hpp>

#include "admin/http_server.hpp"
#include "gslb/node_api.hpp"

namespace meridian::admin {

/// Adds the routes above. `io` is the server's io_context: the views are
/// rendered and the query rate sampled there, and config validation is
/// posted to `work` (a thread that is neither the server's nor the
/// store's: the node's health thread). Precondition: before the server
/// starts. `node`, `io` and `work` must outlive the server.
void add_node_routes(HttpServer& server, gslb::NodeApi& node, boost::asio::io_context& io,
                     boost::asio::io_context& work);

}  // namespace meridian::admin
