#include "gslb/routing_builder.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "base/assert.hpp"
#include "dns/wire/types.hpp"

namespace meridian::gslb {
namespace {

std::uint32_t seconds_up(std::chrono::milliseconds duration) {
  return static_cast<std::uint32_t>((duration.count() + 999) / 1000);
}

// The service's TTL under health: cut to the earliest possible change.
std::uint32_t health_ttl(const ServiceConfig& service,
                         const std::vector<EndpointVerdict>* verdicts) {
  if (verdicts == nullptr) return service.ttl_s;
  std::optional<std::chrono::milliseconds> soonest;
  for (const EndpointVerdict& verdict : *verdicts) {
    if (verdict.change_within && (!soonest || *verdict.change_within < *soonest))
      soonest = verdict.change_within;
  }
  if (!soonest) return service.ttl_s;
  return std::clamp(seconds_up(*soonest), std::min(service.min_ttl_s, service.ttl_s),
                    service.ttl_s);
}

}  // namespace

std::vector<dns::Service> build_services(const Config& config, const ServiceVerdicts* verdicts,
                                         const geo::Locator* locator) {
  std::vector<dns::Service> services;
  for (const ZoneConfig& zone : config.zones) {
    for (const ServiceConfig& service : zone.services) {
      const std::size_t index = services.size();
      const std::vector<EndpointVerdict>* own =
          verdicts != nullptr && index < verdicts->size() ? &(*verdicts)[index] : nullptr;
      geo::ServiceSpec spec = service.spec;
      if (own != nullptr) {
        for (std::size_t i = 0; i < spec.endpoints.size(); ++i) {
          const std::uint32_t endpoint =
              i < service.endpoint_of_address.size() ? service.endpoint_of_address[i] : 0;
          if (endpoint < own->size()) spec.endpoints[i].healthy = (*own)[endpoint].usable;
        }
      }
      // Health is not part of the scope index's key: after the first build
      // it is found, not compiled.
      auto scope = locator != nullptr
                       ? locator->scope_index(config.sites, service.default_sites, spec)
                       : nullptr;
      std::vector<dns::Rdata> cname_targets;
      for (const std::string& target : spec.cname_targets) {
        dns::Name name;
        const bool parsed = dns::Name::from_text(target, name);
        MERIDIAN_ASSERT(parsed, "a cname target the loader accepted does not parse");
        cname_targets.push_back(dns::cname_rdata(name));
      }
      services.push_back(dns::Service{
          service.name, health_ttl(service, own),
          geo::Steering(config.sites, service.default_sites, std::move(spec), std::move(scope)),
          std::min(service.degraded_ttl_s, service.ttl_s), std::move(cname_targets)});
    }
  }
  return services;
}

Result<std::shared_ptr<const dns::RoutingTable>> build_routing_table(
    const Config& config, std::shared_ptr<const geo::Locator> locator, std::uint64_t version) {
  auto zones = build_zones(config);
  if (!zones) return zones.error();
  return std::shared_ptr<const dns::RoutingTable>(std::make_shared<dns::RoutingTable>(
      std::move(zones).value(), build_services(config, nullptr, locator.get()), std::move(locator),
      version));
}

const char* to_string(VerdictSource source) noexcept {
  switch (source) {
    case VerdictSource::local: return "local probes";
    case VerdictSource::cluster: return "cluster verdict";
    case VerdictSource::operator_action: return "operator";
    case VerdictSource::config_override: return "config override";
  }
  return "?";
}

}  // namespace meridian::gslb
