#pragma once
// From a Config to what the health monitor watches, and back from its
// verdicts to what the routing table needs. One target per distinct (probe
// address, site, check): endpoints of several services that share all three
// are probed once.

#include <cstddef>
#include <vector>

#include "health/tracker.hpp"
#include "main/config.hpp"
#include "main/routing_builder.hpp"

namespace meridian {

struct HealthPlan {
  std::vector<health::TargetSpec> targets;
  /// target_of[s][e]: the target of configured endpoint e of service s.
  std::vector<std::vector<std::size_t>> target_of;
};

HealthPlan plan_health(const Config& config);

/// Applies the config's `overrides:` to `tracker` (planned from `config`).
void apply_config_overrides(const Config& config, health::HealthTracker& tracker);

/// The routing table's view of the tracker's verdicts.
ServiceVerdicts verdicts_of(const HealthPlan& plan, const health::HealthTracker& tracker);

}  // namespace meridian
