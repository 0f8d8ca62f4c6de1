#pragma once
// Private to the config loader: one reader per top-level section. Each fills
// its part of Config from a yaml-cpp field and reports every problem to the
// Diagnostics; a value with an error is skipped, never half-applied.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace meridian::config_internal {

/// A check from `checks:` as the loader keeps it while reading: the spec,
/// plus which defaults were taken, so that an endpoint overriding `type` or
/// `interval` gets the defaults of its own values.
struct CheckDefinition {
  std::string name;
  /// Empty when the check had errors (already reported): references to it
  /// are not errors, but resolve to nothing.
  std::optional<health::CheckSpec> spec;
  bool port_set = false;     ///< `port` was written (else the type's default)
  bool timeout_set = false;  ///< `timeout` was written (else min(2s, interval/2))
};

/// What a `check:` reference (of a service, or an endpoint's `use`) names.
struct CheckRef {
  /// The check, or null for "none", no reference, or a failed one.
  const CheckDefinition* definition = nullptr;
  /// True when the reference is unusable and already reported (or names a
  /// check with errors): whatever depends on it is skipped without a
  /// follow-on error.
  bool failed = false;
};

/// What the section readers share.
struct Context {
  Diagnostics& diag;
  /// Directory that relative paths are resolved against ("" = working dir).
  std::string base_dir;
  /// Read before everything else, since node.site and the services name
  /// sites. Null when `sites:` is missing or not a map: then site references
  /// are not checked (the broken `sites:` is reported already).
  const std::vector<geo::Site>* sites = nullptr;
  /// Read before the zones, since services and endpoints name checks (in
  /// any order in the file). Null when `checks:` is not a map: then check
  /// references are not checked. Empty when `checks:` is absent.
  const std::vector<CheckDefinition>* checks = nullptr;

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
/// `dns.rrl` and `dns.cookies` (config/dns_defences.cpp).
void read_rrl(const Context& context, const Field& field, dns::RateLimitSettings& rrl);
void read_cookies(const Context& context, const Field& field, CookieSettings& cookies);
/// "true" or "false".
std::optional<bool> read_bool(const Context& context, const Field& field);
void read_log(const Context& context, const Field& field, LogLevel& level);
void read_geoip(const Context& context, const Field& field, GeoipSettings& geoip);
/// An "address:port" scalar; reports what is wrong with it.
std::optional<SocketAddress> read_socket_address(const Context& context, const Field& field);
/// A file path, resolved against the config's directory.
std::optional<std::string> read_file_path(const Context& context, const Field& field);
/// `cluster:` (config_cluster.cpp). `node` is already read: the cluster
/// checks its id and data_dir.
void read_cluster(const Context& context, const Field& field, const NodeSettings& node,
                  ClusterSettings& cluster);
void read_admin(const Context& context, const Field& field, AdminSettings& admin);
/// `store:` (store_section.cpp). `node` is already read: its id names this
/// member's lease and decisions.
void read_store(const Context& context, const Field& field, const NodeSettings& node,
                EtcdStoreConfig& store);

/// The keys of a check map in `checks:` (an endpoint's check map adds `use`
/// and `target`).
std::vector<std::string_view> check_keys();

/// Reads the check fields present in `reader` (the map at `field`) over
/// `base`: a copy of it with those fields replaced, named like it. With no
/// base (a `checks:` entry, named `name`) `type` is required and the rest
/// defaults. Reports every problem; returns nullopt if there was one.
std::optional<CheckDefinition> read_check_fields(const Context& context, const Field& field,
                                                 const MapReader& reader,
                                                 const CheckDefinition* base,
                                                 const std::string& name);

void read_health(const Context& context, const Field& field, HealthSettings& health);

/// Reads `checks:`: every entry, valid or not, in file order. Returns
/// nullopt when `checks:` is not a map.
std::optional<std::vector<CheckDefinition>> read_checks(const Context& context, const Field& field);

/// A service's `check:`: a check name or "none". Reports an unknown name,
/// listing the known ones.
CheckRef read_check_name(const Context& context, const Field& field);

/// An endpoint's `check:`: a name, "none", or a map of `use`, `target` and
/// check fields over the base (`use`, else `service_check`). Sets
/// endpoint.check and, with `target`, endpoint.probe_address. Returns false
/// on an error (reported, or a failed base), leaving `endpoint` untouched.
bool read_endpoint_check(const Context& context, const Field& field, const CheckRef& service_check,
                         EndpointConfig& endpoint);

/// Reads `overrides:`. `zones`, when not null, are the zones read without
/// error: an endpoint override must name an address one of their services
/// answers (with zone errors, the address may be missing for that reason).
void read_overrides(const Context& context, const Field& field,
                    const std::vector<ZoneConfig>* zones, std::vector<OverrideConfig>& overrides);

/// The steering keys of a service map (config/service_steering.cpp): policy,
/// answer_count, sites_per_answer, min_healthy, sticky, ecs, fail, fallback,
/// bias, tolerance, order, geo_map, nets, nets_file, asn. Fills service.spec
/// (except endpoints) and, for `order`, service.default_sites. Reports every
/// problem; a value with an error keeps its default.
void read_steering(const Context& context, const MapReader& reader, ServiceConfig& service);
/// The keys read_steering reads.
std::vector<std::string_view> steering_keys();

/// Reads `zones:` (reading zone files too). Returns, per zone read, whether
/// it had no error: only those are worth handing to the zone builder.
std::vector<bool> read_zones(const Context& context, const Field& field,
                             std::vector<ZoneConfig>& zones);

}  // namespace meridian::config_internal
