#pragma once
// The end of the health flow (gslb/health_flow.hpp): the routing table the
// DNS workers answer from, rebuilt from the current generation (config,
// zones, GeoIP) whenever this node's own observations or the cluster's
// verdicts change, and published atomically (dns::RoutingTableSlot).
//
// Which health an endpoint is answered with (gslb/health_plan.hpp
// verdicts_of): an operator override from the store, one from the config
// file, the replicated verdict, then this node's own probes (a single node,
// a target with no verdict yet, or a node cut off from the cluster).
//
// Thread rule: every method runs on the node's health thread.

#include <cstdint>
#include <optional>
#include <vector>

#include "dns/routing_table.hpp"
#include "dns/stats_slots.hpp"
#include "gslb/generation.hpp"
#include "gslb/health_flow.hpp"
#include "gslb/routing_builder.hpp"
#include "health/tracker.hpp"

namespace meridian::gslb {

class RoutingPublisher final : public LocalHealthSink, public VerdictSink {
 public:
  /// `slot` and `stats_slots` must outlive the publisher.
  RoutingPublisher(dns::RoutingTableSlot& slot, dns::StatsSlotRegistry& stats_slots);

  /// Switches to `generation`, whose health is in `tracker` (it must stay
  /// valid until the next switch); publishes nothing yet.
  void switch_to(const Generation& generation, const health::HealthTracker& tracker);
  /// In a cluster: from now on, answers follow the cluster's verdicts.
  void follow_cluster() noexcept { in_cluster_ = true; }

  void local_health_changed(const health::HealthTracker& tracker) override;
  void cluster_verdicts_changed(const std::vector<TargetAnswer>& answers) override;

  /// Builds and publishes a table from what it holds now.
  void publish();

  /// What answers are built from now: one per configured endpoint.
  ServiceVerdicts verdicts() const;
  /// The version of the last table published (1, 2, ...).
  std::uint64_t table_version() const noexcept { return version_; }

 private:
  dns::RoutingTableSlot& slot_;
  dns::StatsSlotRegistry& stats_slots_;
  const Generation* generation_ = nullptr;
  const health::HealthTracker* tracker_ = nullptr;
  dns::StatsSlotMap table_slots_;
  bool in_cluster_ = false;
  std::vector<TargetAnswer> cluster_;  // one per target of the generation's plan, once known
  std::uint64_t version_ = 0;
};

/// The stats slots of a config's zones, services and sites, by name
/// (dns/stats_slots.hpp): the same name keeps its counters across reloads.
dns::StatsSlotMap stats_slot_map(dns::StatsSlotRegistry& registry, const Config& config,
                                 const std::vector<dns::Zone>& zones);

}  // namespace meridian::gslb
