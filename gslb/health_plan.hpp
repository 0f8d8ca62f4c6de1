#pragma once
// From a Config to what the health monitor watches, and back from its
// verdicts to what the routing table needs. One target per distinct (probe
// address, site, check): endpoints of several services that share all three
// are probed once.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "gslb/health_flow.hpp"
#include "gslb/routing_builder.hpp"
#include "health/tracker.hpp"

namespace meridian::gslb {

struct HealthPlan {
  std::vector<health::TargetSpec> targets;
  /// target_of[s][e]: the target of configured endpoint e of service s.
  std::vector<std::vector<std::size_t>> target_of;
};

/// The targets to probe, shared between endpoints with the same address,
/// site and check. In a cluster, targets whose check's probe_from leaves
/// this node's site out are marked not probed here.
HealthPlan plan_health(const Config& config);

/// Applies the config's `overrides:` to `tracker` (planned from `config`).
void apply_config_overrides(const Config& config, health::HealthTracker& tracker);

/// The routing table's view of the tracker's verdicts. With `replicated`
/// (one entry per target, what the cluster says), precedence is: an
/// operator override from the store, then one from the config file, then
/// the replicated verdict, then the local probes (no verdict yet). A node
/// cut off from the cluster (local_first) puts its own probes before the
/// verdict where it has them, and keeps the last verdict for targets it
/// does not probe (probe_from).
ServiceVerdicts verdicts_of(const HealthPlan& plan, const health::HealthTracker& tracker,
                            const std::vector<TargetAnswer>* replicated = nullptr);

/// A stable name for each target, the same on every node with the same
/// cluster config: "ADDRESS@SITE/CHECK:PORT" ("none" without a check), with
/// "#2", "#3"... on targets that differ only in other check settings.
std::vector<std::string> target_keys(const HealthPlan& plan, const Config& config);
/// The targets as the replicated health knows them (key, address, site).
std::vector<TargetInfo> target_infos(const HealthPlan& plan, const Config& config);

}  // namespace meridian::gslb
