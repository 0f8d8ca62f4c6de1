#pragma once
// The node's own part of the admin API (DESIGN.md §7): who it is, what it
// serves and how healthy it sees it, and /metrics. Everything is read from
// snapshots (gslb::NodeViewSlot, the DNS workers' counters, the store's status),
// never from another thread's live state.
//
//   GET /api/v1/status          {name, site, version, uptime_s, started_ms, config, cluster, health, dns}
//   GET /api/v1/sites           {sites: [{name, lat, lon, endpoints, usable, state, override}]}
//   GET /api/v1/services        {services: [{name, policy, ttl, endpoints: [{addresses, site, target, check,
//                                 usable, source, probed, cluster_verdict, stale, since_ms, reason, latency_ms,
//                                 override}]}]}
//   GET /api/v1/health/matrix   {observers: [{name, live}], targets: [{target, site, views: {observer: state},
//                                 verdict, stale}]}
//   GET /api/v1/stats           {interval_s: 10, samples: [{t_ms, total_qps, sites: {site: qps}}]}: the
//                                query rate per site of the last 30 intervals (5 minutes), oldest first
//   GET /metrics                Prometheus text format (admin/prometheus.hpp)

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "admin/http_server.hpp"
#include "cluster/raft_member.hpp"
#include "dns/routing_table.hpp"
#include "dns/stats.hpp"
#include "gslb/node_view.hpp"

namespace meridian {

/// Where the status routes read from. Callbacks run on the admin server's
/// thread; pointers must outlive the server.
struct StatusSources {
  std::string name;
  std::string site;
  std::string version;
  std::chrono::steady_clock::time_point started;
  std::uint64_t started_ms = 0;  ///< wall clock
  const gslb::NodeViewSlot* view = nullptr;
  /// The names of the zone, service and site counters' slots (null: none are
  /// exported by name).
  const dns::StatsSlotRegistry* stats_slots = nullptr;
  /// Where the query-rate sampler runs (the admin server's io_context).
  boost::asio::io_context* io = nullptr;
  cluster::RaftMember* store = nullptr;  ///< null outside a cluster
  /// Every DNS worker's counters (each read with relaxed loads).
  std::function<std::vector<const dns::QueryStats*>()> query_stats;
  /// Open DNS TCP connections (on the admin server's thread).
  std::function<std::uint32_t()> tcp_connections;
  /// The config version this node serves, as JSON (null outside a cluster).
  std::function<boost::json::value()> config_status;
  /// Makes sure `view` holds a view at most a second old (building one if
  /// not), then calls back, on any thread, with it. Null: `view` as it is.
  std::function<void(std::function<void(std::shared_ptr<const gslb::NodeView>)>)> fresh_view;
};

void add_status_routes(admin::HttpServer& server, StatusSources sources);

/// The body of GET /metrics (exposed for tests).
std::string render_metrics(const StatusSources& sources);

}  // namespace meridian
