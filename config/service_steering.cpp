// The steering keys of a service: policy, picking, fail mode, bias and
// tolerance, failover's order, the geo map, the nets (inline and from a
// file) and the asn map. Maps and nets are compiled here, once per config,
// so that routing tables rebuilt on every health change share them.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <unordered_map>

#include "config/sections.hpp"
#include "geo/asn_map.hpp"
#include "geo/geo_map.hpp"
#include "geo/nets_map.hpp"

namespace meridian::config_internal {
namespace {

namespace limits = config_limits;

constexpr std::string_view kPolicyNames[] = {"closest", "geo-map", "failover", "weighted"};
constexpr geo::Policy kPolicies[] = {geo::Policy::closest, geo::Policy::geo_map,
                                     geo::Policy::failover, geo::Policy::weighted};
// Origins of inline nets rows carry this bit; file rows are line numbers.
constexpr std::uint32_t kInlineOrigin = 0x8000'0000;

// An ordered list of distinct sites: `what` names it in errors.
std::optional<geo::SiteList> read_site_list(const Context& context, const Field& field) {
  auto elements = read_list(context.diag, field, "site names", 1, limits::kMaxSiteList);
  if (!elements) return std::nullopt;
  geo::SiteList sites;
  bool ok = true;
  for (const Field& element : *elements) {
    auto site = context.site(element);
    if (!site) {
      ok = false;
      continue;
    }
    if (std::find(sites.begin(), sites.end(), *site) != sites.end()) {
      context.diag.error(location_of(context.diag, element),
                         "site " + quote(element.node.Scalar()) + " is listed twice");
      ok = false;
      continue;
    }
    sites.push_back(*site);
  }
  if (!ok) return std::nullopt;
  return sites;
}

// "50%" or a plain number: a percentage in [0, max].
std::optional<double> read_percent(const Context& context, const Field& field, double max) {
  const std::string what =
      "a percentage from 0 to " + std::to_string(static_cast<int>(max)) + " (10 or \"10%\")";
  if (!field.node.IsScalar()) {
    report_expected(context.diag, field, what);
    return std::nullopt;
  }
  std::string text = field.node.Scalar();
  if (!text.empty() && text.back() == '%') text.pop_back();
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value) || value < 0 ||
      value > max) {
    report_expected(context.diag, field, what);
    return std::nullopt;
  }
  return value;
}

void read_min_healthy(const Context& context, const Field& field, geo::ServiceSpec& spec) {
  const std::string what = "a count of endpoints (1 to " + std::to_string(limits::kMaxEndpoints) +
                           ") or a percentage of a site's endpoints (\"1%\" to \"100%\")";
  if (!field.node.IsScalar()) {
    report_expected(context.diag, field, what);
    return;
  }
  std::string text = field.node.Scalar();
  const bool percent = !text.empty() && text.back() == '%';
  if (percent) text.pop_back();
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  const long max = percent ? 100 : static_cast<long>(limits::kMaxEndpoints);
  if (text.empty() || end != text.c_str() + text.size() || value < 1 || value > max) {
    report_expected(context.diag, field, what);
    return;
  }
  spec.min_healthy = static_cast<std::uint32_t>(value);
  spec.min_healthy_percent = percent;
}

void read_fallback(const Context& context, const Field& field, geo::ServiceSpec& spec) {
  auto elements = read_list(context.diag, field, "IP addresses", 1, limits::kMaxFallback);
  if (!elements) return;
  std::vector<IpAddress> addresses;
  for (const Field& element : *elements) {
    IpAddress address;
    if (!element.node.IsScalar() || !IpAddress::parse(element.node.Scalar(), address)) {
      report_expected(context.diag, element, "an IPv4 or IPv6 address");
      return;
    }
    addresses.push_back(address);
  }
  spec.fallback = std::move(addresses);
}

void read_bias(const Context& context, const Field& field, geo::ServiceSpec& spec) {
  auto entries = map_entries(context.diag, field);
  if (!entries || context.sites == nullptr) return;
  std::vector<double> bias(context.sites->size(), 0);
  for (const MapEntry& entry : *entries) {
    // The key names the site: check it like a site reference at its mark.
    const Field key{YAML::Node(entry.key), entry.value.path, entry.key_mark};
    auto site = context.site(key);
    auto value = read_number(context.diag, entry.value, -geo::kMaxBias, geo::kMaxBias);
    if (site && value) bias[*site] = *value;
  }
  spec.bias_percent = std::move(bias);
}

void read_geo_map(const Context& context, const Field& field, geo::ServiceSpec& spec) {
  MapReader reader(context.diag, field, {"subdivisions", "countries", "continents", "default"});
  if (!reader.ok()) return;
  std::vector<geo::GeoMap::Entry> entries;
  bool ok = true;
  struct Level {
    std::string_view key;
    geo::GeoMap::Level level;
    std::string_view what;
  };
  constexpr Level kLevels[] = {
      {"subdivisions", geo::GeoMap::Level::subdivision, "an ISO 3166-2 subdivision like US-CA"},
      {"countries", geo::GeoMap::Level::country, "an ISO 3166-1 alpha-2 country code like US"},
      {"continents", geo::GeoMap::Level::continent,
       "a continent code (AF, AN, AS, EU, NA, OC, SA)"},
  };
  for (const Level& level : kLevels) {
    auto level_field = reader.optional(level.key);
    if (!level_field) continue;
    auto map = map_entries(context.diag, *level_field);
    if (!map) {
      ok = false;
      continue;
    }
    if (map->size() > limits::kMaxGeoMapEntries) {
      report_expected(context.diag, *level_field,
                      "at most " + std::to_string(limits::kMaxGeoMapEntries) + " entries");
      ok = false;
      continue;
    }
    for (const MapEntry& entry : *map) {
      if (!geo::GeoMap::valid_code(level.level, entry.key)) {
        context.diag.error(
            location_of(context.diag, Field{entry.value.node, entry.value.path, entry.key_mark}),
            "expected " + std::string(level.what) + ", found " + quote(entry.key));
        ok = false;
        continue;
      }
      auto sites = read_site_list(context, entry.value);
      if (!sites) {
        ok = false;
        continue;
      }
      entries.push_back({level.level, entry.key, std::move(*sites)});
    }
  }
  geo::SiteList default_sites;
  if (auto default_field = reader.optional("default")) {
    auto sites = read_site_list(context, *default_field);
    if (sites) default_sites = std::move(*sites);
    ok = ok && sites.has_value();
  }
  if (!ok) return;
  spec.geo_map = std::make_shared<const geo::GeoMap>(std::move(entries), std::move(default_sites));
}

// Inline `nets:` and `nets_file:` compiled into one table.
void read_nets(const Context& context, const std::optional<Field>& inline_field,
               const std::optional<Field>& file_field, ServiceConfig& service) {
  geo::NetRows rows;
  std::vector<SourceLocation> inline_sources;
  bool ok = true;
  if (inline_field) {
    auto entries = map_entries(context.diag, *inline_field);
    if (!entries) return;
    if (entries->size() > limits::kMaxInlineNets) {
      report_expected(
          context.diag, *inline_field,
          "at most " + std::to_string(limits::kMaxInlineNets) + " nets (use nets_file for more)");
      return;
    }
    for (const MapEntry& entry : *entries) {
      const Field key{YAML::Node(entry.key), entry.value.path, entry.key_mark};
      geo::NetsMap::Row row;
      if (!IpNetwork::parse(entry.key, row.network)) {
        context.diag.error(
            location_of(context.diag, key),
            "expected a network like 192.0.2.0/24 or 2001:db8::/32 with no host bits set, found " +
                quote(entry.key));
        ok = false;
        continue;
      }
      auto sites = read_site_list(context, entry.value);
      if (!sites) {
        ok = false;
        continue;
      }
      row.list = static_cast<std::uint32_t>(rows.lists.size());
      row.origin = kInlineOrigin | static_cast<std::uint32_t>(inline_sources.size());
      rows.lists.push_back(std::move(*sites));
      rows.rows.push_back(row);
      inline_sources.push_back(location_of(context.diag, key));
    }
  }
  std::string path;
  if (file_field) {
    auto text = read_string(context.diag, *file_field, "a nets file path");
    if (!text || text->empty()) {
      if (text) report_expected(context.diag, *file_field, "a nets file path");
      return;
    }
    path = context.resolve(*text);
    if (context.sites == nullptr) return;
    std::unordered_map<std::string_view, std::uint32_t> site_index;
    for (std::uint32_t i = 0; i < context.sites->size(); ++i)
      site_index.emplace((*context.sites)[i].name, i);
    auto read = geo::read_nets_file(
        path,
        [&](std::string_view name, std::uint32_t& index) {
          const auto it = site_index.find(name);
          if (it == site_index.end()) return false;
          index = it->second;
          return true;
        },
        limits::kMaxNetsRows, limits::kMaxSiteList, rows);
    if (!read) {
      context.diag.error(location_of(context.diag, *file_field), read.error().message);
      return;
    }
    service.nets_file = path;
  }
  if (!ok) return;
  auto table =
      geo::NetsMap::build(std::move(rows.lists), std::move(rows.rows), [&](std::uint32_t origin) {
        if (origin & kInlineOrigin) return inline_sources[origin & ~kInlineOrigin].to_string();
        return path + ":" + std::to_string(origin);
      });
  if (!table) {
    context.diag.error(location_of(context.diag, inline_field ? *inline_field : *file_field),
                       table.error().message);
    return;
  }
  if (!table->empty()) service.spec.nets = std::make_shared<const geo::NetsMap>(std::move(*table));
}

// "64500" or "AS64500": an AS number 1..4294967294 (0 and 4294967295 are
// reserved, RFC 7607 and RFC 7300).
std::optional<std::uint32_t> parse_asn(std::string_view text) {
  if (text.size() > 2 && (text.starts_with("AS") || text.starts_with("as"))) text.remove_prefix(2);
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 ||
      value >= UINT32_MAX) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(value);
}

// `asn: { 64500: [SITE, ...], AS64501: [...] }`.
void read_asn_map(const Context& context, const Field& field, geo::ServiceSpec& spec) {
  auto entries = map_entries(context.diag, field);
  if (!entries) return;
  if (entries->size() > geo::kMaxAsnMapEntries) {
    report_expected(context.diag, field,
                    "at most " + std::to_string(geo::kMaxAsnMapEntries) + " AS numbers");
    return;
  }
  std::vector<geo::AsnMap::Entry> map;
  std::unordered_map<std::uint32_t, std::string> seen;  // AS number -> where
  bool ok = true;
  for (const MapEntry& entry : *entries) {
    const Field key{YAML::Node(entry.key), entry.value.path, entry.key_mark};
    const auto asn = parse_asn(entry.key);
    if (!asn) {
      context.diag.error(
          location_of(context.diag, key),
          "expected an AS number from 1 to 4294967294, like 64500 or AS64500, found " +
              quote(entry.key));
      ok = false;
      continue;
    }
    const SourceLocation where = location_of(context.diag, key);
    const auto [it, inserted] =
        seen.emplace(*asn, entry.key + " (line " + std::to_string(where.line) + ")");
    if (!inserted) {
      context.diag.error(
          where, "AS" + std::to_string(*asn) + " is listed twice (also as " + it->second + ")");
      ok = false;
      continue;
    }
    auto sites = read_site_list(context, entry.value);
    if (!sites) {
      ok = false;
      continue;
    }
    map.push_back({*asn, std::move(*sites)});
  }
  if (ok) spec.asn = std::make_shared<const geo::AsnMap>(std::move(map));
}

// A key that only one policy understands, given with another.
void only_with(const Context& context, const Field& field, const std::string& policies,
               geo::Policy policy) {
  context.diag.error(location_of(context.diag, field), "applies only to policy " + policies +
                                                           " (this service's policy is " +
                                                           geo::policy_name(policy) + ")");
}

}  // namespace

std::vector<std::string_view> steering_keys() {
  return {
      "policy",   "answer_count", "sites_per_answer", "min_healthy", "sticky",  "ecs",  "fail",
      "fallback", "bias",         "tolerance",        "order",       "geo_map", "nets", "nets_file",
      "asn"};
}

void read_steering(const Context& context, const MapReader& reader, ServiceConfig& service) {
  geo::ServiceSpec& spec = service.spec;
  if (auto policy = reader.optional("policy")) {
    if (auto index =
            read_choice(context.diag, *policy, {"closest", "geo-map", "failover", "weighted"})) {
      spec.policy = kPolicies[*index];
    }
  }
  static_assert(std::size(kPolicyNames) == std::size(kPolicies));
  if (auto count = reader.optional("answer_count")) {
    if (auto value = read_integer(context.diag, *count, 1, limits::kMaxAnswerCount)) {
      spec.answer_count = static_cast<std::uint32_t>(*value);
    }
  }
  if (auto count = reader.optional("sites_per_answer")) {
    if (auto value = read_integer(context.diag, *count, 1, geo::kMaxSitesPerAnswer)) {
      spec.sites_per_answer = static_cast<std::uint32_t>(*value);
    }
  }
  if (auto field = reader.optional("min_healthy")) read_min_healthy(context, *field, spec);
  if (auto field = reader.optional("sticky")) {
    if (auto value = read_bool(context, *field)) spec.sticky = *value;
  }
  if (auto field = reader.optional("ecs")) {
    if (auto value = read_bool(context, *field)) spec.use_ecs = *value;
  }
  const auto fail = reader.optional("fail");
  if (fail) {
    static constexpr geo::FailMode kModes[] = {geo::FailMode::open, geo::FailMode::closed,
                                               geo::FailMode::servfail};
    if (auto index = read_choice(context.diag, *fail, {"open", "closed", "servfail"}))
      spec.fail = kModes[*index];
  }
  if (auto field = reader.optional("fallback")) {
    if (fail) {
      context.diag.error(
          location_of(context.diag, *field),
          "fallback is what a service answers instead of failing: give fail or fallback, not both");
    } else {
      read_fallback(context, *field, spec);
    }
  }
  const bool closest = spec.policy == geo::Policy::closest;
  if (auto field = reader.optional("bias")) {
    closest ? read_bias(context, *field, spec) : only_with(context, *field, "closest", spec.policy);
  }
  if (auto field = reader.optional("tolerance")) {
    if (!closest) {
      only_with(context, *field, "closest", spec.policy);
    } else if (auto value = read_percent(context, *field, limits::kMaxTolerancePercent)) {
      spec.tolerance_percent = *value;
    }
  }
  if (auto field = reader.optional("order")) {
    if (spec.policy != geo::Policy::failover) {
      only_with(context, *field, "failover", spec.policy);
    } else if (auto sites = read_site_list(context, *field)) {
      service.default_sites = std::move(*sites);
    }
  }
  const auto geo_map = reader.optional("geo_map");
  if (spec.policy == geo::Policy::geo_map) {
    if (!geo_map) {
      context.diag.error(service.source,
                         "policy geo-map needs a geo_map (subdivisions, countries, continents, "
                         "default)");
    } else {
      read_geo_map(context, *geo_map, spec);
    }
  } else if (geo_map) {
    only_with(context, *geo_map, "geo-map", spec.policy);
  }
  const auto nets = reader.optional("nets");
  const auto nets_file = reader.optional("nets_file");
  if (spec.policy == geo::Policy::weighted && (nets || nets_file)) {
    only_with(context, nets ? *nets : *nets_file, "closest, geo-map or failover", spec.policy);
  } else if (nets || nets_file) {
    read_nets(context, nets, nets_file, service);
  }
  if (auto asn = reader.optional("asn")) {
    if (spec.policy == geo::Policy::weighted) {
      only_with(context, *asn, "closest, geo-map or failover", spec.policy);
    } else {
      read_asn_map(context, *asn, spec);
    }
  }
}

}  // namespace meridian::config_internal
