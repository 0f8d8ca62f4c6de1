#include "gslb/explain.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "base/rng.hpp"
#include "config/zone_build.hpp"
#include "dns/wire/name.hpp"
#include "gslb/health_plan.hpp"
#include "gslb/routing_builder.hpp"
#include "health/tracker.hpp"

namespace meridian::gslb {
namespace {

std::string code_text(const char* code) {
  return code[0] == '\0' ? "-" : std::string(code);
}

std::string format(const char* pattern, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, value);
  return buffer;
}

std::string pad(std::string text, std::size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

std::string describe_network(const IpAddress& address, unsigned prefix_len) {
  return address.masked(prefix_len).to_string() + "/" + std::to_string(prefix_len);
}

// "AS64500 (Example Org)", or without the organization when it has none.
std::string asn_text(const geo::Trace& trace) {
  std::string text = "AS" + std::to_string(trace.asn.number);
  if (!trace.asn_organization.empty()) text += " (" + trace.asn_organization + ")";
  return text;
}

ExplainError explain_error(ExplainErrorKind kind, std::string message) {
  return ExplainError{kind, std::move(message)};
}

}  // namespace

ExplainResult explain_query(const Config& config, const dns::RoutingTable& table,
                            const ExplainQuery& query, std::uint64_t seed) {
  const dns::Name root;
  dns::Name name;
  if (!dns::Name::from_text(query.name, name, &root)) {
    return explain_error(ExplainErrorKind::bad_query, "bad name '" + query.name + "'");
  }
  std::size_t index = 0;
  const ServiceConfig* found = nullptr;
  for (const ZoneConfig& zone : config.zones) {
    for (const ServiceConfig& service : zone.services) {
      if (found == nullptr && service.name.equals(name)) found = &service;
      if (found == nullptr) ++index;
    }
  }
  if (found == nullptr) {
    return explain_error(ExplainErrorKind::bad_query,
                         name.to_text() + " is not a service of this config");
  }
  // A running node may have swapped its config but not yet its table.
  if (index >= table.services().size() ||
      !table.service(static_cast<std::uint32_t>(index)).name.equals(name)) {
    return explain_error(ExplainErrorKind::reloading, "the config is being reloaded; ask again");
  }
  const dns::Service& service = table.service(static_cast<std::uint32_t>(index));

  Explanation explanation;
  explanation.service = name.to_text();
  explanation.config = found;
  const IpNetwork* ecs = query.ecs ? &*query.ecs : nullptr;
  const geo::ClientNetwork client = geo::select_client(service.steering.spec(), ecs, query.source);
  explanation.client = client.network;
  if (client.from_ecs) {
    explanation.client_source = "ECS " + query.ecs->to_string();
  } else if (ecs == nullptr) {
    explanation.client_source = "source address (no ECS)";
  } else if (!service.steering.spec().use_ecs) {
    explanation.client_source =
        "source address (ECS " + query.ecs->to_string() + " ignored: ecs: false)";
  } else {
    explanation.client_source = "source address (ECS " + query.ecs->to_string() + " ignored: " +
                                (query.ecs->prefix_len == 0 ? "/0" : "private or reserved") + ")";
  }
  Rng rng(seed);
  std::array<const IpAddress*, geo::kMaxAnswerCount> picked{};
  explanation.choice = service.steering.choose(table.locator(), client.network, query.family, rng,
                                               picked, &explanation.trace);
  for (std::uint32_t i = 0; i < explanation.choice.count; ++i) {
    explanation.answer.push_back(*picked[i]);
  }
  if (explanation.choice.cname != geo::kNoCname) {
    explanation.cname = service.steering.spec().cname_targets[explanation.choice.cname];
  }
  explanation.ttl_s =
      explanation.choice.degraded ? std::min(service.degraded_ttl_s, service.ttl_s) : service.ttl_s;
  if (client.from_ecs) explanation.ecs_scope = explanation.choice.scope_prefix_len;
  return explanation;
}

std::string format_explanation(const Config& config, const Explanation& e) {
  const geo::ServiceSpec& spec = e.config->spec;
  const geo::Trace& trace = e.trace;
  std::string out;
  const auto line = [&](const std::string& text) { out += text + "\n"; };
  line("service: " + e.service + " (policy " + geo::policy_name(spec.policy) + ", answer_count " +
       std::to_string(spec.answer_count) + ", sites_per_answer " +
       std::to_string(spec.sites_per_answer) + ", min_healthy " + std::to_string(spec.min_healthy) +
       (spec.min_healthy_percent ? "%" : "") + (spec.sticky ? ", sticky" : "") + ")");
  line("client: " + e.client.to_string() + " from " + e.client_source);
  if (trace.nets_asked) {
    const unsigned bits = e.client.address.unmapped().bit_length();
    const std::string range = describe_network(
        e.client.address.unmapped(), std::min<unsigned>(trace.nets.scope_prefix_len, bits));
    line(trace.nets.list == geo::NetsMap::kNoList ? "nets: no match (nothing in " + range + ")"
                                                  : "nets: match, uniform over " + range);
  }
  if (trace.asn_asked) {
    if (config.geoip.asn_database.empty()) {
      line("asn: no asn_database configured (the asn map matches nothing)");
    } else if (!trace.asn.found) {
      line("asn: not in the ASN database (network /" + std::to_string(trace.asn.prefix_len) + ")");
    } else {
      line("asn: " + asn_text(trace) + ", network /" + std::to_string(trace.asn.prefix_len) + ": " +
           (trace.asn_mapped ? "in the asn map" : "not in the asn map"));
    }
  }
  if (!trace.locator_asked) {
    const bool decided = e.choice.stage == geo::Stage::nets || e.choice.stage == geo::Stage::asn;
    line("location: not looked up" +
         (decided ? std::string(" (") + geo::stage_name(e.choice.stage) + " decided)"
                  : std::string()));
  } else if (!trace.located.found) {
    line("location: not in the GeoIP database (empty network /" +
         std::to_string(trace.located.prefix_len) + ")");
  } else {
    const geo::Location& l = trace.located.location;
    std::string text =
        "location: GeoIP network /" + std::to_string(trace.located.prefix_len) + ": ";
    text += l.has_coordinates
                ? format("%.4f", l.latitude_deg) + ", " + format("%.4f", l.longitude_deg)
                : std::string("no coordinates");
    text += ", country " + code_text(l.country.data()) + ", continent " +
            code_text(l.continent.data()) + ", subdivision " + code_text(l.subdivision.data());
    line(text);
  }
  if (trace.placement == geo::Placement::coordinates) {
    line("location source: GeoIP coordinates");
  } else if (trace.placement == geo::Placement::country_centroid) {
    line("location source: country centroid (" + code_text(trace.located.location.country.data()) +
         ") " + format("%.4f", trace.placed.latitude_deg) + ", " +
         format("%.4f", trace.placed.longitude_deg));
  }
  if (!trace.geo_map_entry.empty()) line("geo-map entry: " + trace.geo_map_entry);
  line("health: " + trace.health + (e.offline ? " (offline: config overrides only)" : ""));
  line("candidates, in policy order:");
  line("  " + pad("SITE", 20) + pad("DISTANCE", 12) + pad("BIAS", 8) + pad("BIASED", 12) +
       pad("HEALTHY", 9) + "STATE");
  for (const geo::TraceSite& site : trace.candidates) {
    const auto km = [](const std::optional<double>& value) {
      return value ? format("%.0f km", *value) : std::string("-");
    };
    const std::string state = site.picked ? "picked" : site.available ? "available" : "unavailable";
    line("  " + pad(config.sites[site.site].name, 20) + pad(km(site.distance_km), 12) +
         pad(format("%+.0f%%", site.bias_percent), 8) + pad(km(site.biased_km), 12) +
         pad(std::to_string(site.healthy) + "/" + std::to_string(site.total), 9) + state);
  }
  line(std::string("decided by: ") + geo::stage_name(e.choice.stage) +
       (e.choice.stage == geo::Stage::asn ? " " + asn_text(trace) : std::string()) +
       (e.choice.degraded ? " (degraded)" : ""));
  std::string answer;
  for (const IpAddress& address : e.answer) {
    answer += (answer.empty() ? "" : " ") + address.to_string();
  }
  if (!e.cname.empty()) answer = "CNAME " + e.cname;
  if (e.choice.stage == geo::Stage::fail_closed) answer = e.choice.servfail ? "SERVFAIL" : "NODATA";
  if (answer.empty()) answer = "NODATA (no address of this family)";
  line("answer: " + answer);
  line("ttl: " + std::to_string(e.ttl_s));
  if (trace.locator_asked) {
    const unsigned geo_scope = e.choice.geo_scope_prefix_len;
    line("geo scope: /" + std::to_string(geo_scope) +
         (geo_scope < trace.located.prefix_len
              ? " (GeoIP network /" + std::to_string(trace.located.prefix_len) +
                    " and its neighbours: their site orders start alike)"
              : std::string(" (the GeoIP network)")));
  }
  line("ecs scope: /" + std::to_string(e.ecs_scope));
  return out;
}

Result<std::shared_ptr<const dns::RoutingTable>> offline_routing_table(
    const Config& config, std::shared_ptr<const geo::Locator> locator) {
  // No probes offline: every endpoint is up unless an override says not.
  const HealthPlan plan = plan_health(config);
  health::HealthTracker tracker(plan.targets, health::UnknownPolicy::up);
  apply_config_overrides(config, tracker);
  const ServiceVerdicts verdicts = verdicts_of(plan, tracker);
  auto zones = build_zones(config);
  if (!zones) return zones.error();
  std::vector<dns::Service> services = build_services(config, &verdicts, locator.get());
  return std::make_shared<const dns::RoutingTable>(std::move(zones).value(), std::move(services),
                                                   std::move(locator), 1);
}

std::variant<CurrentExplanation, ExplainError> explain_current(
    std::shared_ptr<const Config> config, const std::shared_ptr<const dns::RoutingTable>& table,
    const ExplainQuery& query) {
  if (!table || !config) return explain_error(ExplainErrorKind::starting, "the node is starting");
  ExplainResult explained = explain_query(*config, *table, query);
  if (auto* error = std::get_if<ExplainError>(&explained)) return std::move(*error);
  CurrentExplanation current{std::move(config), std::get<Explanation>(std::move(explained))};
  current.explanation.offline = false;
  return current;
}

}  // namespace meridian::gslb
