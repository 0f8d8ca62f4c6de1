#pragma once
// The health thread of a node (docs/architecture.md): the monitor that
// probes the current generation's targets, the fan-out of its observations
// (gslb/health_flow.hpp: to the routing table's publisher, and in a cluster
// to the replicated health's publisher), the switch from one generation to
// the next, and the status view the admin API reads.
//
// Thread rule: every member runs on the health thread (the io_context
// given), except fresh_view.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "dns/routing_table.hpp"
#include "dns/stats_slots.hpp"
#include "gslb/generation.hpp"
#include "gslb/node_view.hpp"
#include "gslb/replicated_health.hpp"
#include "gslb/routing_publisher.hpp"
#include "health/monitor.hpp"
#include "health/probe_metrics.hpp"

namespace meridian::gslb {

class NodeHealth {
 public:
  /// Every reference must outlive the object.
  NodeHealth(boost::asio::io_context& io, dns::RoutingTableSlot& slot, NodeViewSlot& views,
             dns::StatsSlotRegistry& stats_slots, const Clock& clock, Logger& logger,
             std::uint64_t seed);

  /// Where the cluster's verdicts go (give it to the ReplicatedHealth).
  VerdictSink& verdict_sink() noexcept { return routing_; }
  /// In a cluster: answers follow the replicated verdicts, and this node's
  /// observations go to `replicated` too. `replicated` must outlive this
  /// object or be stopped with it.
  void join_cluster(ReplicatedHealth& replicated);

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

 private:
  /// The monitor's observations changed: hands them on, downstream only.
  void local_health_changed();

  static constexpr std::chrono::milliseconds kViewMaxAge{1000};

  boost::asio::io_context& io_;
  NodeViewSlot& views_;
  const Clock& clock_;
  Logger& logger_;
  std::uint64_t seed_;
  RoutingPublisher routing_;
  Generation generation_;
  std::shared_ptr<health::HealthMonitor> monitor_;
  ReplicatedHealth* replicated_ = nullptr;
  /// Probe outcomes of every generation's monitor, for /metrics.
  std::shared_ptr<health::ProbeMetrics> probe_metrics_ = std::make_shared<health::ProbeMetrics>();
  Clock::TimePoint view_built_{};
  bool stopped_ = false;
};

}  // namespace meridian::gslb
