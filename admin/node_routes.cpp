#include "admin/node_routes.hpp"

#include "admin/config_routes.hpp"
#include "admin/dashboard.hpp"
#include "admin/explain_route.hpp"
#include "admin/health_routes.hpp"
#include "admin/metrics_route.hpp"
#include "admin/status_routes.hpp"
#include "admin/store_routes.hpp"
#include "admin/store_transfer_routes.hpp"

namespace meridian::admin {

void add_node_routes(HttpServer& server, gslb::NodeApi& node, boost::asio::io_context& io,
                     boost::asio::io_context& work) {
  add_explain_route(server, node);
  add_status_routes(server, node, io);
  add_metrics_route(server, node, io);
  add_dashboard_routes(server);  // GET /: the dashboard, from memory
  if (node.store() == nullptr) return;
  add_store_routes(server, node);
  add_store_transfer_routes(server, node);
  add_health_routes(server, node);
  add_config_routes(server, work, node);
}

}  // namespace meridian::admin
