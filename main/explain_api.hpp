#pragma once
// GET /api/v1/explain?name=NAME&client=IP[&ecs=SUBNET][&type=A|AAAA]: the
// decision trace of one answer of the running node (main/explain_cli.hpp),
// from its current routing table: live health, the node's GeoIP database.
// The same fields as `meridian explain`, as JSON, plus "text" (that
// command's output). 400 for a bad or missing parameter or a name that is
// not a service; 503 while a reload swaps the config.

#include <functional>
#include <memory>

#include "admin/http_server.hpp"
#include "dns/routing_table.hpp"
#include "config/config.hpp"

namespace meridian {

/// The config the node serves now.
using ConfigSource = std::function<std::shared_ptr<const Config>()>;

/// Adds the route. `slot` must outlive the server.
void add_explain_route(admin::HttpServer& server, const dns::RoutingTableSlot& slot, ConfigSource config);

}  // namespace meridian
