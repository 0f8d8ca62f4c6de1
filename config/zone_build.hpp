#pragma once
// Builds the DNS zones of a config (dns::Zone, docs/architecture.md): the SOA
// and NS of `soa:` and `ns:`, the static records, and a node per service
// name. The loader runs build_zone on every zone while it validates, so
// `check-config` reports exactly the errors a build would, and a Config that
// loaded always builds.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "config/config.hpp"
#include "dns/zone.hpp"

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

/// Builds every zone once; tables built for health changes share them.
/// Errors as build_zone's, all zones' joined.
Result<std::shared_ptr<const std::vector<dns::Zone>>> build_zones(const Config& config);

}  // namespace meridian
