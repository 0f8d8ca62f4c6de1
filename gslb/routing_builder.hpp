#pragma once
// Turns a validated Config into the immutable RoutingTable the DNS workers
// answer from (docs/architecture.md). The config loader runs build_zone on
// every zone too, so `check-config` reports exactly the errors a build
// would, and a Config that loaded always builds.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "config/config.hpp"
#include "config/zone_build.hpp"
#include "dns/routing_table.hpp"
#include "dns/zone.hpp"
#include "geo/locator.hpp"

namespace meridian::gslb {

/// Where an endpoint's usability came from (for the status API).
enum class VerdictSource : std::uint8_t {
  local,            ///< this node's own probes (or the unknown policy, or no check)
  cluster,          ///< the cluster's replicated verdict
  operator_action,  ///< an override in the store (meridian drain ...)
  config_override,  ///< an override in the config file
};
const char* to_string(VerdictSource source) noexcept;

/// The health of one configured endpoint, as the routing table needs it.
struct EndpointVerdict {
  bool usable = true;
  /// How soon usability could change by itself (health in transition);
  /// nullopt when stable.
  std::optional<std::chrono::milliseconds> change_within;
  VerdictSource source = VerdictSource::local;
};

/// verdicts[s][e]: service s (numbered across zones in config order),
/// configured endpoint e (ServiceConfig::endpoints).
using ServiceVerdicts = std::vector<std::vector<EndpointVerdict>>;

/// Compiles every service's steering, with each address marked healthy per
/// `verdicts` (null: all healthy). TTLs follow health as gdnsd's do: while an
/// endpoint of the service could change state soon, the TTL is the time
/// until the earliest such change, clamped to [min_ttl, ttl]; fail-open
/// answers use degraded_ttl. With `locator` (the one the table will answer
/// with), each service gets its scope index from it (compiled once per
/// locator and service ordering, then shared by every later build).
std::vector<dns::Service> build_services(const Config& config, const ServiceVerdicts* verdicts,
                                         const geo::Locator* locator = nullptr);

/// Builds every zone and compiles every service's steering against
/// config.sites. `locator` may be null (no GeoIP database: every client is
/// unlocated). `version` is the table's build number. Fails only when
/// build_zone does, which load_config has already ruled out.
Result<std::shared_ptr<const dns::RoutingTable>> build_routing_table(
    const Config& config, std::shared_ptr<const geo::Locator> locator, std::uint64_t version);

}  // namespace meridian::gslb
