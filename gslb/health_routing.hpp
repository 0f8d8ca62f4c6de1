#pragma once
// Health and routing of a running node, on its health thread: the monitor
// that probes the current config's targets, the routing table published
// whenever health or the config changes, and the status view the admin API
// reads (DESIGN.md sections 4 and 5).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "base/result.hpp"
#include "gslb/replicated_health.hpp"
#include "dns/routing_table.hpp"
#include "dns/stats_slots.hpp"
#include "dns/zone.hpp"
#include "geo/locator.hpp"
#include "health/monitor.hpp"
#include "health/probe_metrics.hpp"
#include "config/config.hpp"
#include "gslb/health_plan.hpp"
#include "gslb/node_view.hpp"

namespace meridian::gslb {

/// What one loaded config version needs at run time: its zones built once,
/// its GeoIP databases opened, its health plan.
struct Generation {
  std::shared_ptr<const Config> config;
  std::shared_ptr<const std::vector<dns::Zone>> zones;
  std::shared_ptr<const geo::Locator> locator;
  HealthPlan plan;
};

/// Builds a generation from a loaded config; errors from building zones or
/// opening the GeoIP databases.
Result<Generation> make_generation(std::shared_ptr<const Config> config);
/// load_config, then make_generation.
Result<Generation> load_generation(const std::string& path);

/// Owns the monitor of the current generation and publishes a new routing
/// table whenever health or the generation changes. Every member runs on
/// the health thread (the io_context given), except fresh_view.
class HealthRouting {
 public:
  HealthRouting(boost::asio::io_context& io, dns::RoutingTableSlot& slot, NodeViewSlot& views,
                dns::StatsSlotRegistry& stats_slots, const Clock& clock, Logger& logger, std::uint64_t seed);

  /// In a cluster: answers follow the replicated verdicts, and the local
  /// probes are reported to the cluster.
  void attach(std::shared_ptr<gslb::ReplicatedHealth> replicated);

  /// Switches to `generation`: keeps the probe state of unchanged targets,
  /// applies the config's overrides, publishes, and starts probing. `first`
  /// runs one round of probes before publishing.
  boost::asio::awaitable<void> switch_to(Generation generation, bool first);

  void stop();

  /// Rebuilds the status view now.
  void refresh_view();

  /// Calls `done` on the health thread with a view at most a second old,
  /// built first when the current one is older. Any thread. Views are built
  /// on demand: at 100,000 endpoints a build costs about 0.2 s, too much to
  /// spend every second when nobody looks.
  void fresh_view(std::function<void(std::shared_ptr<const NodeView>)> done);

  /// Publishes a routing table from the current health.
  void publish();

 private:
  /// The stats slots of the generation's zones, services and sites, by name.
  dns::StatsSlotMap stats_slot_map(const Config& config, const std::vector<dns::Zone>& zones);

  static constexpr std::chrono::milliseconds kViewMaxAge{1000};

  boost::asio::io_context& io_;
  dns::RoutingTableSlot& slot_;
  NodeViewSlot& views_;
  dns::StatsSlotRegistry& stats_slots_;
  dns::StatsSlotMap table_slots_;
  const Clock& clock_;
  Logger& logger_;
  std::uint64_t seed_;
  Generation generation_;
  std::shared_ptr<health::HealthMonitor> monitor_;
  std::shared_ptr<gslb::ReplicatedHealth> replicated_;
  std::uint64_t version_ = 0;
  /// Probe outcomes of every generation's monitor, for /metrics.
  std::shared_ptr<health::ProbeMetrics> probe_metrics_ = std::make_shared<health::ProbeMetrics>();
  Clock::TimePoint view_built_{};
  bool stopped_ = false;
};

}  // namespace meridian::gslb
