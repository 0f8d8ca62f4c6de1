#include "gslb/node_view.hpp"

#include <algorithm>

namespace meridian::gslb {

namespace {

std::optional<OperatorOverride> override_of(const ReplicatedHealth* replicated,
                                            std::string_view prefix, const std::string& name) {
  if (replicated == nullptr) return std::nullopt;
  const auto& overrides = replicated->follower().state().overrides;
  const auto it = overrides.find(std::string(prefix) + name);
  if (it == overrides.end()) return std::nullopt;
  return it->second;
}

}  // namespace

NodeView build_node_view(const NodeViewInputs& in) {
  NodeView view;
  view.built_ms = wall_ms(in.clock);
  view.table_version = in.table_version;
  if (in.probes != nullptr) view.probes = *in.probes;
  const std::vector<std::string> keys = target_keys(in.plan, in.config);
  const Clock::TimePoint now = in.clock.now();

  for (const geo::Site& site : in.config.sites) {
    SiteView& entry = view.sites.emplace_back();
    entry.name = site.name;
    entry.latitude_deg = site.latitude_deg;
    entry.longitude_deg = site.longitude_deg;
    entry.override = override_of(in.replicated, kSiteOverridePrefix, site.name);
  }

  // Endpoints an operator took out, by site: a site with nothing else left
  // is "drained", not "down".
  std::vector<std::uint32_t> held_out(view.sites.size(), 0);
  std::size_t service_index = 0;
  for (const ZoneConfig& zone : in.config.zones) {
    for (const ServiceConfig& service : zone.services) {
      ServiceView& out = view.services.emplace_back();
      out.name = service.name.to_text();
      out.policy = geo::policy_name(service.spec.policy);
      out.ttl_s = service.ttl_s;
      const auto& targets = in.plan.target_of[service_index];
      for (std::size_t e = 0; e < service.endpoints.size(); ++e) {
        const std::size_t target = targets[e];
        const health::TargetSpec& spec = in.tracker.target(target);
        const health::TargetState& state = in.tracker.state(target);
        const EndpointVerdict& verdict = in.verdicts[service_index][e];
        EndpointView& endpoint = out.endpoints.emplace_back();
        for (std::size_t a = 0; a < service.spec.endpoints.size(); ++a) {
          if (service.endpoint_of_address[a] == e)
            endpoint.addresses.push_back(service.spec.endpoints[a].address.to_string());
        }
        endpoint.site = in.config.sites[service.endpoints[e].site].name;
        endpoint.target = keys[target];
        endpoint.check = spec.check ? spec.check->name : "none";
        endpoint.usable = verdict.usable;
        endpoint.source = verdict.source;
        endpoint.probed = !spec.probed_here ? "not probed here" : health::to_string(state.probed);
        if (state.probed != health::Health::unknown) {
          endpoint.since_ms =
              view.built_ms -
              static_cast<std::uint64_t>(std::max<std::int64_t>(
                  0, std::chrono::duration_cast<std::chrono::milliseconds>(now - state.since)
                         .count()));
        }
        endpoint.reason = state.last_failure;
        if (state.last)
          endpoint.latency_ms = static_cast<double>(state.last->latency.count()) / 1000.0;
        if (in.replicated != nullptr) {
          if (auto replicated = in.replicated->follower().verdict(keys[target])) {
            endpoint.cluster_verdict = replicated->up;
            endpoint.verdict_stale = replicated->stale;
          }
          endpoint.override =
              override_of(in.replicated, kEndpointOverridePrefix, spec.address.to_string());
          for (std::size_t i = 0; !endpoint.override && i < endpoint.addresses.size(); ++i) {
            endpoint.override =
                override_of(in.replicated, kEndpointOverridePrefix, endpoint.addresses[i]);
          }
        }
        SiteView& site = view.sites[service.endpoints[e].site];
        ++site.endpoints;
        if (verdict.usable) ++site.usable;
        if (!verdict.usable && endpoint.override && endpoint.override->state != ForcedState::up) {
          ++held_out[service.endpoints[e].site];
        }
      }
      ++service_index;
    }
  }
  for (std::size_t i = 0; i < view.sites.size(); ++i) {
    SiteView& site = view.sites[i];
    const auto forced = site.override ? std::optional(site.override->state) : std::nullopt;
    site.state = forced == ForcedState::drain    ? "drained"
                 : forced == ForcedState::down   ? "down"
                 : site.endpoints == 0           ? "empty"
                 : site.usable == site.endpoints ? "up"
                 : site.usable > 0               ? "degraded"
                 : held_out[i] == site.endpoints ? "drained"
                                                 : "down";
  }

  if (in.replicated != nullptr) {
    const VerdictFollower& follower = in.replicated->follower();
    view.fallback = follower.fallback();
    view.verdict_changes = follower.verdict_changes();
    for (const auto& [observer, views] : follower.state().observations) {
      view.observers.emplace_back(observer, in.replicated->observer_live(observer));
    }
    for (std::size_t t = 0; t < in.plan.targets.size(); ++t) {
      MatrixRow& row = view.matrix.emplace_back();
      row.target = keys[t];
      row.site = in.config.sites[in.plan.targets[t].site].name;
      for (const auto& [observer, views] : follower.state().observations) {
        const auto it = views.find(keys[t]);
        if (it == views.end()) continue;
        row.views[observer] = !it->second ? "unknown" : *it->second ? "up" : "down";
      }
      if (auto verdict = follower.verdict(keys[t])) {
        row.verdict = verdict->up;
        row.stale = verdict->stale;
      }
    }
  }
  return view;
}

}  // namespace meridian::gslb
