#pragma once
// Records in presentation format (RFC 1035 5.1): inline config records and
// BIND zone files. presentation.cpp is the only ldns user on the server side:
// ldns parses every type it knows, so less common types are served opaquely.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "dns/wire/record.hpp"

namespace meridian::dns {

/// Parses one record line such as "www 300 IN A 192.0.2.1". Relative owners
/// and RDATA names are completed with `origin`; a missing TTL becomes
/// `default_ttl`. The class must be IN. Errors say what ldns rejected.
Result<Record> parse_record(std::string_view text, const Name& origin, std::uint32_t default_ttl);

/// A record read from a zone file, with the line it came from.
struct ZoneFileRecord {
  Record record;
  int line = 0;
};

/// Reads a BIND-format zone file ($ORIGIN, $TTL, $INCLUDE-free). Errors are
/// "PATH:LINE: reason".
Result<std::vector<ZoneFileRecord>> read_zone_file(const std::string& path, const Name& origin,
                                                   std::uint32_t default_ttl);

/// The record in presentation format (for logs, errors and tests).
std::string to_text(const Record& record);

/// The mnemonic of a type ("AAAA", "TYPE65280").
std::string type_to_text(std::uint16_t type);

}  // namespace meridian::dns
