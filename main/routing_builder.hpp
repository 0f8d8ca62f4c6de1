#pragma once
// Turns a validated Config into the immutable RoutingTable the DNS workers
// answer from (DESIGN.md section 4). The config loader runs build_zone on
// every zone too, so `check-config` reports exactly the errors a build
// would, and a Config that loaded always builds.

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "base/result.hpp"
#include "dns/routing_table.hpp"
#include "dns/zone.hpp"
#include "geo/locator.hpp"
#include "main/config.hpp"

namespace meridian {

/// Builds one zone with dns::ZoneBuilder, adding in this order: the SOA
/// synthesized from `zone.soa` (if set), the apex NS records from `zone.ns`
/// (TTL: the zone's default TTL), `zone.records` (inline, then zone file),
/// then every service, the i-th with service index `first_service_index + i`
/// (services are numbered across zones in config order).
///
/// Besides the builder's own checks it rejects an SOA record in the records
/// when `soa:` is set, and an in-zone `ns:` target with no A or AAAA record.
///
/// Errors: one line per problem (at most config_limits::kMaxErrors), each
/// the builder's message prefixed with the location of the record, service
/// or setting it concerns: "demo.yaml:12:7: zones[0].records[3]: CNAME beside
/// other data at www.demo.test.".
Result<dns::Zone> build_zone(const ZoneConfig& zone, std::uint32_t first_service_index);

/// Receives one error of build_zone: where, and the message without it.
using ZoneErrorSink = std::function<void(const SourceLocation& where, std::string_view message)>;

/// build_zone reporting each error to `report` as it is found (uncapped), for
/// callers that collect errors themselves (the config loader). Returns the
/// zone when there was no error.
std::optional<dns::Zone> build_zone(const ZoneConfig& zone, std::uint32_t first_service_index,
                                    const ZoneErrorSink& report);

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

/// Builds every zone once; tables built for health changes share them.
/// Errors as build_zone's, all zones' joined.
Result<std::shared_ptr<const std::vector<dns::Zone>>> build_zones(const Config& config);

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
Result<std::shared_ptr<const dns::RoutingTable>> build_routing_table(const Config& config,
                                                                     std::shared_ptr<const geo::Locator> locator,
                                                                     std::uint64_t version);

}  // namespace meridian
