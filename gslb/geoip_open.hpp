#pragma once
// Opens the GeoIP databases a config names (geoip.database and
// geoip.asn_database) and checks each is readable and of its kind, so that
// `meridian check-config` refuses exactly the databases `serve` would
// refuse, with the key that names them.

#include <memory>

#include "base/result.hpp"
#include "config/config.hpp"
#include "geo/locator.hpp"

namespace meridian::gslb {

/// The opened databases; each null when its key is not configured.
struct GeoipDatabases {
  std::shared_ptr<const geo::Locator> location;  ///< geoip.database
  std::shared_ptr<const geo::Locator> asn;       ///< geoip.asn_database
};

/// Opens and checks both databases (geo::MmdbReader::open with the kind
/// each key expects: a walk of the whole file). Errors: one line per
/// database that failed, "geoip.database: REASON" or
/// "geoip.asn_database: REASON", the reason naming the file (missing,
/// unreadable, corrupt with libmaxminddb's reason, or of the wrong kind).
/// Any thread; off the hot path.
Result<GeoipDatabases> open_geoip(const GeoipSettings& geoip);

}  // namespace meridian::gslb
