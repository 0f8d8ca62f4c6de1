// `zones:`: origins, SOA and NS settings, inline records, zone files and
// services. Only parsing and per-value checks happen here; whether the
// records fit together is the zone builder's job (config/zone_build.cpp).

#include <algorithm>
#include <cstdint>
#include <unordered_map>

#include "config/sections.hpp"
#include "dns/presentation.hpp"

namespace meridian::config_internal {
namespace {

namespace limits = config_limits;

std::optional<dns::Name> read_name(const Context& context, const Field& field,
                                   const dns::Name& origin) {
  const std::string what = origin.is_root()
                               ? "an absolute domain name"
                               : "a domain name (relative to " + origin.to_text() + " or absolute)";
  auto text = read_string(context.diag, field, what);
  if (!text) return std::nullopt;
  dns::Name name;
  if (!dns::Name::from_text(*text, name, &origin)) {
    report_expected(context.diag, field, what);
    return std::nullopt;
  }
  return name;
}

void read_soa(const Context& context, const Field& field, ZoneConfig& zone) {
  MapReader reader(context.diag, field,
                   {"mname", "rname", "serial", "refresh", "retry", "expire", "minimum", "ttl"});
  if (!reader.ok()) return;
  SoaSettings soa;
  soa.ttl_s = zone.default_ttl_s;
  soa.source = location_of(context.diag, field);
  bool complete = true;
  auto name = [&](std::string_view key, dns::Name& out) {
    auto value = reader.required(key);
    auto parsed = value ? read_name(context, *value, zone.origin) : std::nullopt;
    if (parsed) out = *parsed;
    complete = complete && parsed.has_value();
  };
  auto seconds = [&](std::string_view key, std::uint32_t& out) {
    if (auto value = reader.optional(key)) {
      auto parsed = read_seconds(context.diag, *value, 0, limits::kMaxTtl);
      if (parsed) out = *parsed;
      complete = complete && parsed.has_value();
    }
  };
  name("mname", soa.mname);
  name("rname", soa.rname);
  if (auto serial = reader.optional("serial")) {
    auto parsed = read_integer(context.diag, *serial, 0, UINT32_MAX);
    if (parsed) soa.serial = static_cast<std::uint32_t>(*parsed);
    complete = complete && parsed.has_value();
  }
  seconds("refresh", soa.refresh_s);
  seconds("retry", soa.retry_s);
  seconds("expire", soa.expire_s);
  seconds("minimum", soa.minimum_s);
  seconds("ttl", soa.ttl_s);
  if (complete) zone.soa = std::move(soa);
}

void read_ns(const Context& context, const Field& field, ZoneConfig& zone) {
  auto elements = read_list(context.diag, field, "name server names", 1, SIZE_MAX);
  if (!elements) return;
  for (const Field& element : *elements) {
    if (auto name = read_name(context, element, zone.origin)) {
      zone.ns.push_back(NameServer{*name, location_of(context.diag, element)});
    }
  }
}

void read_records(const Context& context, const Field& field, ZoneConfig& zone) {
  auto elements = read_list(context.diag, field, "records in presentation format", 0, SIZE_MAX);
  if (!elements) return;
  for (const Field& element : *elements) {
    auto text = read_string(context.diag, element,
                            "a record in presentation format (\"www 300 IN A 192.0.2.1\")");
    if (!text) continue;
    auto record = dns::parse_record(*text, zone.origin, zone.default_ttl_s);
    if (!record) {
      report_expected(context.diag, element,
                      "a record in presentation format (" + record.error().message + ")");
      continue;
    }
    zone.records.push_back(RecordConfig{std::move(*record), location_of(context.diag, element)});
  }
}

void read_zone_file(const Context& context, const Field& field, ZoneConfig& zone) {
  auto text = read_string(context.diag, field, "a zone file path");
  if (!text || text->empty()) {
    if (text) report_expected(context.diag, field, "a zone file path");
    return;
  }
  // Errors about the file start with its path, one per line: a path with
  // a line break would split them, and no zone file needs one.
  if (std::any_of(text->begin(), text->end(), [](char c) { return c == '\n' || c == '\r'; })) {
    report_expected(context.diag, field, "a zone file path on one line");
    return;
  }
  zone.file = context.resolve(*text);
  auto records = dns::read_zone_file(zone.file, zone.origin, zone.default_ttl_s);
  if (!records) {
    // Already "PATH:LINE: reason", one per line.
    context.diag.located(records.error().message);
    return;
  }
  for (dns::ZoneFileRecord& entry : *records) {
    zone.records.push_back(
        RecordConfig{std::move(entry.record), SourceLocation{zone.file, entry.line, 0, ""}});
  }
}

// An endpoint's `address:` is one address or a list of them.
std::vector<std::pair<IpAddress, Field>> read_addresses(const Context& context,
                                                        const Field& field) {
  std::vector<Field> elements;
  if (field.node.IsSequence()) {
    auto list = read_list(context.diag, field, "IP addresses", 1, limits::kMaxEndpoints);
    if (list) elements = std::move(*list);
  } else {
    elements.push_back(field);
  }
  std::vector<std::pair<IpAddress, Field>> addresses;
  for (const Field& element : elements) {
    IpAddress address;
    if (!element.node.IsScalar() || !IpAddress::parse(element.node.Scalar(), address)) {
      report_expected(context.diag, element, "an IPv4 or IPv6 address");
      continue;
    }
    addresses.emplace_back(address, element);
  }
  return addresses;
}

// An endpoint's `cname:`: a name (relative to the zone or absolute) that the
// service answers as a CNAME. Not the service's own name (a CNAME to itself
// is a loop) and not the root.
std::optional<dns::Name> read_cname(const Context& context, const Field& field,
                                    const ZoneConfig& zone, const ServiceConfig& service) {
  const std::string what =
      "a host name for the CNAME answer (relative to " + zone.origin.to_text() + " or absolute)";
  auto text = read_string(context.diag, field, what);
  if (!text) return std::nullopt;
  dns::Name name;
  if (text->empty() || *text == "@" || !dns::Name::from_text(*text, name, &zone.origin) ||
      name.is_root()) {
    report_expected(context.diag, field, what);
    return std::nullopt;
  }
  if (name.equals(service.name)) {
    context.diag.error(location_of(context.diag, field),
                       "a CNAME endpoint cannot name the service itself (" + name.to_text() + ")");
    return std::nullopt;
  }
  return name;
}

// A CNAME endpoint has no address to probe: its check needs `target:`.
bool cname_check_has_target(const Context& context, const Field& element,
                            const std::optional<Field>& check, const EndpointConfig& endpoint) {
  if (!endpoint.check) return true;
  if (check && check->node.IsMap() &&
      static_cast<const YAML::Node&>(check->node)["target"].IsDefined())
    return true;
  context.diag.error(
      location_of(context.diag, check ? *check : element),
      "a cname endpoint's check \"" + endpoint.check->name +
          "\" needs an address to probe: give check: { target: ADDR } or check: none");
  return false;
}

void read_endpoints(const Context& context, const Field& field, const CheckRef& service_check,
                    const ZoneConfig& zone, ServiceConfig& service) {
  auto elements = read_list(context.diag, field, "endpoints", 1, limits::kMaxEndpoints);
  if (!elements) return;
  std::vector<std::string> address_paths;  // parallel to service.spec.endpoints
  // Address bytes (or lower-case names) -> index into spec.endpoints:
  // services with a thousand addresses must not compare every pair.
  std::unordered_map<std::string, std::size_t> seen;
  for (const Field& element : *elements) {
    MapReader reader(context.diag, element, {"address", "cname", "site", "weight", "check"});
    if (!reader.ok()) continue;
    std::vector<std::pair<IpAddress, Field>> addresses;
    std::optional<std::pair<dns::Name, Field>> cname;
    const auto address_field = reader.optional("address");
    const auto cname_field = reader.optional("cname");
    if (address_field && cname_field) {
      context.diag.error(location_of(context.diag, *cname_field),
                         "an endpoint is an address or a cname, not both (make two endpoints)");
      continue;
    }
    if (cname_field) {
      auto name = read_cname(context, *cname_field, zone, service);
      if (!name) continue;
      cname.emplace(*name, *cname_field);
    } else if (auto address = reader.required("address")) {
      addresses = read_addresses(context, *address);
    }
    std::optional<std::uint32_t> site;
    if (auto site_field = reader.required("site")) site = context.site(*site_field);
    std::uint32_t weight = 100;
    if (auto weight_field = reader.optional("weight")) {
      auto value = read_integer(context.diag, *weight_field, 1, limits::kMaxWeight);
      if (!value) continue;
      weight = static_cast<std::uint32_t>(*value);
    }
    if (!site || (addresses.empty() && !cname)) continue;
    EndpointConfig endpoint;
    endpoint.site = *site;
    // A cname endpoint is probed at its check's target only.
    if (!addresses.empty()) endpoint.probe_address = addresses.front().first;
    endpoint.source = location_of(context.diag, element);
    if (service_check.definition != nullptr) endpoint.check = service_check.definition->spec;
    const auto check = reader.optional("check");
    if (check && !read_endpoint_check(context, *check, service_check, endpoint)) continue;
    if (cname && !cname_check_has_target(context, element, check, endpoint)) continue;
    const auto index = static_cast<std::uint32_t>(service.endpoints.size());
    service.endpoints.push_back(std::move(endpoint));
    if (cname) {
      const auto& [name, where] = *cname;
      const std::string key = 'N' + name.lowercase_key();
      const auto same = seen.find(key);
      if (same != seen.end()) {
        context.diag.error(location_of(context.diag, where), "duplicate cname " + name.to_text() +
                                                                 " in this service (also at " +
                                                                 address_paths[same->second] + ")");
        continue;
      }
      if (service.spec.endpoints.size() == limits::kMaxEndpoints) {
        report_expected(
            context.diag, where,
            "at most " + std::to_string(limits::kMaxEndpoints) + " addresses per service");
        return;
      }
      seen.emplace(key, service.spec.endpoints.size());
      geo::Endpoint target{IpAddress{}, *site, weight};
      target.cname = static_cast<std::uint32_t>(service.spec.cname_targets.size());
      service.spec.cname_targets.push_back(name.to_text());
      service.spec.endpoints.push_back(target);
      service.endpoint_of_address.push_back(index);
      address_paths.push_back(where.path);
    }
    for (const auto& [address, where] : addresses) {
      std::string key(1, 'A');
      key.append(address.bytes.begin(), address.bytes.end());
      key += static_cast<char>(address.family);
      const auto same = seen.find(key);
      if (same != seen.end()) {
        context.diag.error(location_of(context.diag, where),
                           "duplicate address " + address.to_string() +
                               " in this service (also at " + address_paths[same->second] + ")");
        continue;
      }
      if (service.spec.endpoints.size() == limits::kMaxEndpoints) {
        report_expected(
            context.diag, where,
            "at most " + std::to_string(limits::kMaxEndpoints) + " addresses per service");
        return;
      }
      seen.emplace(std::move(key), service.spec.endpoints.size());
      service.spec.endpoints.push_back(geo::Endpoint{address, *site, weight});
      service.endpoint_of_address.push_back(index);
      address_paths.push_back(where.path);
    }
  }
}

void read_default_sites(const Context& context, const Field& field, ServiceConfig& service) {
  auto elements = read_list(context.diag, field, "site names", 1, limits::kMaxSites);
  if (!elements) return;
  for (const Field& element : *elements) {
    auto site = context.site(element);
    if (!site) continue;
    if (std::find(service.default_sites.begin(), service.default_sites.end(), *site) !=
        service.default_sites.end()) {
      context.diag.error(
          location_of(context.diag, element),
          "site " + quote(element.node.Scalar()) + " is listed twice in default_sites");
      continue;
    }
    service.default_sites.push_back(*site);
  }
}

// RFC 1034 3.6.2: a CNAME is alone at its name. A service that may answer
// one can have no records of its own, nor be the zone's apex (SOA, NS).
void check_cname_alone(const Context& context, const ZoneConfig& zone,
                       const ServiceConfig& service) {
  const std::string why =
      " beside service " + service.name.to_text() +
      ", which answers a CNAME for its cname endpoints (a CNAME is alone at its name)";
  if (service.name.equals(zone.origin)) {
    context.diag.error(service.source, "the zone's apex has its SOA and NS records" + why);
    return;
  }
  for (const RecordConfig& record : zone.records) {
    if (record.record.owner.equals(service.name))
      context.diag.error(record.source, "a record" + why);
  }
}

// min_ttl and degraded_ttl: at most the ttl (when it is valid, else they
// are not compared), by default half of it.
void read_short_ttls(const Context& context, const MapReader& reader, bool ttl_valid,
                     ServiceConfig& service) {
  service.min_ttl_s = service.ttl_s == 0 ? 0 : std::max<std::uint32_t>(1, service.ttl_s / 2);
  auto read = [&](std::string_view key, std::uint32_t& out) {
    const auto field = reader.optional(key);
    if (!field) return;
    auto value = read_seconds(context.diag, *field, 0, limits::kMaxServiceTtl);
    if (value && ttl_valid && *value > service.ttl_s) {
      report_expected(context.diag, *field,
                      "seconds from 0 to the service ttl (" + std::to_string(service.ttl_s) + ")");
    } else if (value) {
      out = *value;
    }
  };
  read("min_ttl", service.min_ttl_s);
  service.degraded_ttl_s = service.min_ttl_s;
  read("degraded_ttl", service.degraded_ttl_s);
}

void read_service(const Context& context, const MapEntry& entry, ZoneConfig& zone) {
  ServiceConfig service;
  service.source =
      location_of(context.diag, Field{entry.value.node, entry.value.path, entry.key_mark});
  if (!dns::Name::from_text(entry.key, service.name, &zone.origin)) {
    context.diag.error(service.source, "expected a service name (relative to " +
                                           zone.origin.to_text() + " or absolute), found " +
                                           quote(entry.key));
  }
  std::vector<std::string_view> keys = {"ttl",           "min_ttl", "degraded_ttl",
                                        "default_sites", "check",   "endpoints"};
  for (const auto key : steering_keys()) keys.push_back(key);
  MapReader reader(context.diag, entry.value, std::move(keys));
  if (!reader.ok()) return;
  bool ttl_valid = true;
  if (auto ttl = reader.optional("ttl")) {
    auto value = read_seconds(context.diag, *ttl, 0, limits::kMaxServiceTtl);
    if (value) service.ttl_s = *value;
    ttl_valid = value.has_value();
  }
  read_short_ttls(context, reader, ttl_valid, service);
  read_steering(context, reader, service);
  CheckRef check;
  if (auto check_field = reader.optional("check")) check = read_check_name(context, *check_field);
  if (auto endpoints = reader.required("endpoints"))
    read_endpoints(context, *endpoints, check, zone, service);
  if (!service.spec.cname_targets.empty()) check_cname_alone(context, zone, service);
  if (auto default_sites = reader.optional("default_sites")) {
    if (reader.optional("order")) {
      context.diag.error(
          location_of(context.diag, *default_sites),
          "failover's order is its default order: give order or default_sites, not both");
    } else {
      read_default_sites(context, *default_sites, service);
    }
  }
  // The configured order first, then every other site: a partial list is a
  // preference, not an exclusion.
  if (context.sites != nullptr) {
    std::vector<bool> listed(context.sites->size(), false);
    for (const auto site : service.default_sites) listed[site] = true;
    for (std::uint32_t site = 0; site < context.sites->size(); ++site) {
      if (!listed[site]) service.default_sites.push_back(site);
    }
  }
  zone.services.push_back(std::move(service));
}

// Returns where the origin is written, for the duplicate check.
std::optional<SourceLocation> read_zone(const Context& context, const Field& field,
                                        ZoneConfig& zone) {
  MapReader reader(context.diag, field,
                   {"origin", "ttl", "soa", "ns", "records", "file", "services"});
  if (!reader.ok()) return std::nullopt;
  zone.source = location_of(context.diag, field);
  std::optional<SourceLocation> origin_source;
  if (auto origin = reader.required("origin")) {
    origin_source = location_of(context.diag, *origin);
    if (auto name = read_name(context, *origin, dns::Name())) zone.origin = *name;
  }
  if (auto ttl = reader.optional("ttl")) {
    if (auto value = read_seconds(context.diag, *ttl, 0, limits::kMaxTtl))
      zone.default_ttl_s = *value;
  }
  // A zone file may carry the SOA and NS itself; without one they must be
  // configured here.
  const auto file = reader.optional("file");
  if (auto soa = file ? reader.optional("soa") : reader.required("soa"))
    read_soa(context, *soa, zone);
  if (auto ns = file ? reader.optional("ns") : reader.required("ns")) read_ns(context, *ns, zone);
  if (auto records = reader.optional("records")) read_records(context, *records, zone);
  if (file) read_zone_file(context, *file, zone);
  if (auto services = reader.optional("services")) {
    if (auto entries = map_entries(context.diag, *services)) {
      for (const MapEntry& entry : *entries) read_service(context, entry, zone);
    }
  }
  return origin_source;
}

}  // namespace

std::vector<bool> read_zones(const Context& context, const Field& field,
                             std::vector<ZoneConfig>& zones) {
  std::vector<bool> clean;
  auto elements = read_list(context.diag, field, "zones", 1, SIZE_MAX);
  if (!elements) return clean;
  for (const Field& element : *elements) {
    const std::size_t errors_before = context.diag.count();
    ZoneConfig& zone = zones.emplace_back();
    const auto origin_source = read_zone(context, element, zone);
    if (context.diag.count() == errors_before && origin_source) {
      // Distinct origins: the routing table finds a zone by its origin.
      for (std::size_t i = 0; i + 1 < zones.size(); ++i) {
        if (clean[i] && zones[i].origin.equals(zone.origin)) {
          context.diag.error(*origin_source, "duplicate zone origin " + zone.origin.to_text() +
                                                 " (also " + zones[i].source.key_path + ", line " +
                                                 std::to_string(zones[i].source.line) + ")");
          break;
        }
      }
    }
    clean.push_back(context.diag.count() == errors_before);
  }
  return clean;
}

}  // namespace meridian::config_internal
