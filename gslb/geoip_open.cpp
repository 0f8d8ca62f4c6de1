#include "gslb/geoip_open.hpp"

#include <string>

#include "geo/mmdb_reader.hpp"

namespace meridian::gslb {

Result<GeoipDatabases> open_geoip(const GeoipSettings& geoip) {
  GeoipDatabases databases;
  // Both databases are opened even when the first fails: an operator
  // fixing the config sees every problem at once.
  std::string errors;
  const auto open = [&](const std::string& path, geo::DatabaseKind kind, const char* key,
                        std::shared_ptr<const geo::Locator>& out) {
    if (path.empty()) return;
    auto reader = geo::MmdbReader::open(path, kind);
    if (!reader) {
      errors += (errors.empty() ? "" : "\n") + std::string("geoip.") + key + ": " +
                reader.error().message;
      return;
    }
    out = std::move(reader).value();
  };
  open(geoip.database, geo::DatabaseKind::location, "database", databases.location);
  open(geoip.asn_database, geo::DatabaseKind::asn, "asn_database", databases.asn);
  if (!errors.empty()) return Error{std::move(errors)};
  return databases;
}

}  // namespace meridian::gslb
