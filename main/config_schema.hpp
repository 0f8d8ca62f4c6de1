#pragma once
// Private to the config loader: one reader per top-level section. Each fills
// its part of Config from a yaml-cpp field and reports every problem to the
// Diagnostics; a value with an error is skipped, never half-applied.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "main/config.hpp"
#include "main/config_yaml.hpp"

namespace meridian::config_internal {

/// What the section readers share.
struct Context {
  Diagnostics& diag;
  /// Directory that relative paths are resolved against ("" = working dir).
  std::string base_dir;
  /// Read before everything else, since node.site and the services name
  /// sites. Null when `sites:` is missing or not a map: then site references
  /// are not checked (the broken `sites:` is reported already).
  const std::vector<geo::Site>* sites = nullptr;

  /// `path` resolved against base_dir, lexically normalised.
  std::string resolve(const std::string& path) const;
  /// The index of the site named by `field`; reports a non-string or an
  /// unknown name ("expected one of the sites (...)").
  std::optional<std::uint32_t> site(const Field& field) const;
};

/// True when `text` is 1..kMaxNameLength of [A-Za-z0-9._-] (node ids, sites).
bool is_identifier(std::string_view text);

/// Reads `sites:`. Returns false when it names no site at all (then site
/// references cannot be checked).
bool read_sites(const Context& context, const Field& field, std::vector<geo::Site>& sites);
void read_node(const Context& context, const Field& field, NodeSettings& node);
void read_dns(const Context& context, const Field& field, DnsSettings& dns);
void read_log(const Context& context, const Field& field, LogLevel& level);
void read_geoip(const Context& context, const Field& field, GeoipSettings& geoip);

/// Reads `zones:` (reading zone files too). Returns, per zone read, whether
/// it had no error: only those are worth handing to the zone builder.
std::vector<bool> read_zones(const Context& context, const Field& field, std::vector<ZoneConfig>& zones);

}  // namespace meridian::config_internal
