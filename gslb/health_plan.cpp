#include "gslb/health_plan.hpp"

#include <algorithm>

#include <string>
#include <unordered_map>

namespace meridian::gslb {

namespace {

// check.probe_from, seen from this node: does it probe a target of `site`?
// A node outside a cluster probes everything it answers for.
bool probed_here(const Config& config, const std::optional<health::CheckSpec>& check,
                 std::uint32_t site) {
  if (!config.replicated() || !check) return true;
  const health::ProbeFrom& from = check->probe_from;
  const std::uint32_t mine = config.node.site;
  switch (from.kind) {
    case health::ProbeFrom::Kind::all: return true;
    case health::ProbeFrom::Kind::sites:
      return std::binary_search(from.sites.begin(), from.sites.end(), mine);
    case health::ProbeFrom::Kind::nearest: break;
  }
  // The endpoint's own site first, then by distance, ties by config order:
  // every node computes the same set.
  const geo::Site& origin = config.sites[site];
  auto distance = [&](std::uint32_t other) {
    return other == site ? -1.0
                         : geo::great_circle_km(origin.latitude_deg, origin.longitude_deg,
                                                config.sites[other].latitude_deg,
                                                config.sites[other].longitude_deg);
  };
  const double own = distance(mine);
  std::uint32_t closer = 0;
  for (std::uint32_t other = 0; other < config.sites.size(); ++other) {
    const double d = distance(other);
    if (d < own || (d == own && other < mine)) ++closer;
  }
  return closer < from.nearest;
}

}  // namespace

HealthPlan plan_health(const Config& config) {
  HealthPlan plan;
  // Candidates for sharing a target, by probe address.
  std::unordered_multimap<std::string, std::size_t> by_address;
  for (const ZoneConfig& zone : config.zones) {
    for (const ServiceConfig& service : zone.services) {
      auto& targets = plan.target_of.emplace_back();
      for (const EndpointConfig& endpoint : service.endpoints) {
        health::TargetSpec spec{endpoint.probe_address, endpoint.site, endpoint.check,
                                probed_here(config, endpoint.check, endpoint.site)};
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

ServiceVerdicts verdicts_of(const HealthPlan& plan, const health::HealthTracker& tracker,
                            const std::vector<TargetAnswer>* replicated) {
  ServiceVerdicts verdicts;
  verdicts.reserve(plan.target_of.size());
  for (const auto& endpoints : plan.target_of) {
    auto& service = verdicts.emplace_back();
    service.reserve(endpoints.size());
    for (const std::size_t target : endpoints) {
      const bool overridden = tracker.state(target).effective_override() != health::Override::none;
      const TargetAnswer* answer =
          replicated != nullptr && target < replicated->size() ? &(*replicated)[target] : nullptr;
      const bool probed = tracker.state(target).probed != health::Health::unknown;
      if (answer != nullptr && answer->forced) {
        service.push_back(
            EndpointVerdict{*answer->forced, std::nullopt, VerdictSource::operator_action});
      } else if (!overridden && answer != nullptr && answer->verdict &&
                 !(answer->local_first && probed)) {
        // The cluster decided; local probes in transition still shorten TTLs.
        service.push_back(EndpointVerdict{*answer->verdict, tracker.change_within(target),
                                          VerdictSource::cluster});
      } else {
        service.push_back(
            EndpointVerdict{tracker.usable(target), tracker.change_within(target),
                            overridden ? VerdictSource::config_override : VerdictSource::local});
      }
    }
  }
  return verdicts;
}

std::vector<std::string> target_keys(const HealthPlan& plan, const Config& config) {
  std::vector<std::string> keys;
  std::unordered_map<std::string, int> seen;
  for (const health::TargetSpec& target : plan.targets) {
    std::string key =
        target.address.to_string() + "@" + config.sites[target.site].name + "/" +
        (target.check ? target.check->name + ":" + std::to_string(target.check->port) : "none");
    if (const int count = ++seen[key]; count > 1) key += "#" + std::to_string(count);
    keys.push_back(std::move(key));
  }
  return keys;
}

std::vector<TargetInfo> target_infos(const HealthPlan& plan, const Config& config) {
  std::vector<std::string> keys = target_keys(plan, config);
  std::vector<TargetInfo> infos;
  for (std::size_t i = 0; i < plan.targets.size(); ++i) {
    const auto& check = plan.targets[i].check;
    std::optional<Quorum> quorum;
    if (check) {
      static constexpr Quorum kQuorums[] = {Quorum::majority, Quorum::any, Quorum::all};
      quorum = kQuorums[static_cast<std::size_t>(check->quorum)];
    }
    infos.push_back({std::move(keys[i]),
                     plan.targets[i].address.to_string(),
                     config.sites[plan.targets[i].site].name,
                     {},
                     quorum});
  }
  std::size_t service_index = 0;
  for (const ZoneConfig& zone : config.zones) {
    for (const ServiceConfig& service : zone.services) {
      const auto& targets = plan.target_of[service_index++];
      for (std::size_t a = 0; a < service.spec.endpoints.size(); ++a) {
        auto& answered = infos[targets[service.endpoint_of_address[a]]].answered;
        const geo::Endpoint& endpoint = service.spec.endpoints[a];
        const std::string address = endpoint.is_cname() ? service.spec.cname_targets[endpoint.cname]
                                                        : endpoint.address.to_string();
        if (std::find(answered.begin(), answered.end(), address) == answered.end())
          answered.push_back(address);
      }
    }
  }
  return infos;
}

}  // namespace meridian::gslb
