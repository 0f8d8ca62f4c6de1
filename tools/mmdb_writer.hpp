#pragma once
// Writes MaxMind DB files (format 2.0) from a table of networks, so operators
// and the demo can map their own networks (`meridian geo build-db`; the
// table comes from tools/geoip_csv.hpp). The output reads with
// libmaxminddb and `mmdblookup` like a GeoIP2-City database, a Country one
// (rows without coordinates) or a GeoLite2-ASN one (rows with an ASN).
// A tool, not part of the geo library a node runs on: it lives in tools/,
// in namespace meridian::geo because it is GeoIP code.

#include <cstddef>
#include <string>
#include <vector>

#include "base/ip_address.hpp"
#include "base/result.hpp"

namespace meridian::geo {

/// One row of the table.
struct NetworkLocation {
  IpNetwork network;
  /// False: the record has no `location` (as in a Country or ASN database).
  bool has_coordinates = true;
  double latitude_deg = 0;
  double longitude_deg = 0;
  std::string country;    ///< ISO 3166-1 alpha-2, may be empty
  std::string continent;  ///< two-letter continent code, may be empty
  /// ISO 3166-2 subdivision code without the country ("CA" for US-CA),
  /// 1..3 of [A-Z0-9], may be empty.
  std::string subdivision;
  /// autonomous_system_number (GeoLite2-ASN layout); 0: none.
  std::uint32_t asn = 0;
  /// autonomous_system_organization; written with a non-zero asn only.
  std::string asn_organization;
};

/// Writes an IPv6 database (IPv4 networks live in ::/96, as in MaxMind's own
/// files) with record size 28 and the GeoIP2-City fields
/// location.latitude, location.longitude (rows with coordinates),
/// country.iso_code, continent.code, subdivisions[0].iso_code (empty codes
/// are left out), and the GeoLite2-ASN fields autonomous_system_number and
/// autonomous_system_organization (rows with an asn). Overlapping networks: the more specific one
/// wins for its addresses. Neighbouring networks with the same location are
/// merged, so a lookup may report a shorter prefix than the row's (the
/// widest network that shares the answer). IPv4-mapped addresses
/// (::ffff:0:0/96) lead to the IPv4 networks, unless the table has IPv6 rows
/// inside ::ffff:0:0/96. Writes to a temporary file next to `output_path`
/// and renames it, so readers never see a partial database.
/// `database_type` goes into the metadata; build_epoch is the current time,
/// or SOURCE_DATE_EPOCH when set (reproducible builds).
/// Errors: duplicate networks (10.0.0.0/8 and ::10.0.0.0/104 are the same),
/// over-long strings, more networks than 28-bit records address, I/O.
Result<void> write_mmdb(const std::vector<NetworkLocation>& rows, const std::string& output_path,
                        const std::string& database_type = "Meridian-City");

}  // namespace meridian::geo
