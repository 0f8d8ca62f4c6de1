#include "main/health_plan.hpp"

#include <string>
#include <unordered_map>

namespace meridian {

HealthPlan plan_health(const Config& config) {
  HealthPlan plan;
  // Candidates for sharing a target, by probe address.
  std::unordered_multimap<std::string, std::size_t> by_address;
  for (const ZoneConfig& zone : config.zones) {
    for (const ServiceConfig& service : zone.services) {
      auto& targets = plan.target_of.emplace_back();
      for (const EndpointConfig& endpoint : service.endpoints) {
        health::TargetSpec spec{endpoint.probe_address, endpoint.site, endpoint.check};
        const std::string key(spec.address.bytes.begin(), spec.address.bytes.end());
        std::size_t index = plan.targets.size();
        const auto [first, last] = by_address.equal_range(key);
        for (auto it = first; it != last; ++it) {
          if (plan.targets[it->second] == spec) {
            index = it->second;
            break;
          }
        }
        if (index == plan.targets.size()) {
          plan.targets.push_back(std::move(spec));
          by_address.emplace(key, index);
        }
        targets.push_back(index);
      }
    }
  }
  return plan;
}

void apply_config_overrides(const Config& config, health::HealthTracker& tracker) {
  for (const OverrideConfig& entry : config.overrides) {
    if (entry.scope == OverrideConfig::Scope::site) {
      tracker.set_site_override(entry.site, entry.value);
    } else {
      tracker.set_endpoint_override(entry.address, entry.value);
    }
  }
}

ServiceVerdicts verdicts_of(const HealthPlan& plan, const health::HealthTracker& tracker) {
  ServiceVerdicts verdicts;
  verdicts.reserve(plan.target_of.size());
  for (const auto& endpoints : plan.target_of) {
    auto& service = verdicts.emplace_back();
    service.reserve(endpoints.size());
    for (const std::size_t target : endpoints) {
      service.push_back(EndpointVerdict{tracker.usable(target), tracker.change_within(target)});
    }
  }
  return verdicts;
}

}  // namespace meridian
