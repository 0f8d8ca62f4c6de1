#pragma once
// The text sources of `meridian geo build-db`: CSV or TSV files of networks
// with their locations (configs/demo/geoip.csv) or their autonomous systems
// (configs/examples/steering/asn.csv), read into the rows write_mmdb
// (tools/mmdb_writer.hpp) takes. Part of the database-writer tool.

#include <string>
#include <vector>

#include "base/result.hpp"
#include "tools/mmdb_writer.hpp"

namespace meridian::geo {

/// Reads a CSV or TSV file (separator detected per line: tab, else comma),
/// one network per line: `prefix, latitude, longitude, country, continent`
/// and optionally `, subdivision`. Latitude and longitude both empty: a
/// record without coordinates (Country layout).
/// Blank lines and lines starting with '#' are skipped. Errors name
/// file:line and the bad field.
Result<std::vector<NetworkLocation>> read_geoip_csv(const std::string& path);

/// Reads an ASN table (GeoLite2-ASN layout), same file rules: one network
/// per line, `prefix, asn, organization`, where asn is 1..4294967294 (an
/// "AS" prefix allowed) and the organization is the rest of the line (it
/// may contain the separator; may be empty).
Result<std::vector<NetworkLocation>> read_asn_csv(const std::string& path);

}  // namespace meridian::geo
