#pragma once
// GET /api/v1/explain?name=NAME&client=IP[&ecs=SUBNET][&type=A|AAAA]: the
// decision trace of one answer of the running node (gslb/explain.hpp),
// from its current config and routing table: live health, the node's
// GeoIP database. The same fields as `meridian explain`, as JSON, plus
// "text" (that command's output). 400 for a bad or missing parameter or a
// name that is not a service; 503 while the node starts or a reload swaps
// the config.

#include "admin/http_server.hpp"
#include "gslb/node_api.hpp"

namespace meridian::admin {

/// Adds the route. `node` must outlive the server.
void add_explain_route(HttpServer& server, const gslb::NodeApi& node);

}  // namespace meridian::admin
