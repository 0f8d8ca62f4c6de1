#include "admin/explain_route.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "admin/json_fields.hpp"

namespace meridian::admin {

namespace json = boost::json;

namespace {

json::object explanation_json(const Config& config, const gslb::Explanation& e) {
  const geo::Trace& trace = e.trace;
  json::object location;
  location["looked_up"] = trace.locator_asked;
  if (trace.locator_asked) {
    location["found"] = trace.located.found;
    location["prefix_len"] = trace.located.prefix_len;
    if (trace.located.found) {
      const geo::Location& l = trace.located.location;
      location["latitude"] = l.has_coordinates ? json::value(l.latitude_deg) : json::value(nullptr);
      location["longitude"] =
          l.has_coordinates ? json::value(l.longitude_deg) : json::value(nullptr);
      location["country"] = l.country.data();
      location["continent"] = l.continent.data();
      location["subdivision"] = l.subdivision.data();
    }
    location["source"] = trace.placement == geo::Placement::coordinates        ? "coordinates"
                         : trace.placement == geo::Placement::country_centroid ? "country centroid"
                                                                               : "none";
    location["geo_scope"] = e.choice.geo_scope_prefix_len;
  }
  json::array candidates;
  for (const geo::TraceSite& site : trace.candidates) {
    candidates.push_back(json::object{{"site", config.sites[site.site].name},
                                      {"distance_km", optional_json(site.distance_km)},
                                      {"bias_percent", site.bias_percent},
                                      {"biased_km", optional_json(site.biased_km)},
                                      {"healthy", site.healthy},
                                      {"total", site.total},
                                      {"state", site.picked      ? "picked"
                                                : site.available ? "available"
                                                                 : "unavailable"}});
  }
  json::array answer;
  for (const IpAddress& address : e.answer) answer.push_back(json::value(address.to_string()));
  json::object out{
      {"service", e.service},
      {"policy", geo::policy_name(e.config->spec.policy)},
      {"client", json::object{{"network", e.client.to_string()}, {"source", e.client_source}}},
      {"location", std::move(location)},
      {"health", trace.health},
      {"candidates", std::move(candidates)},
      {"decided_by", geo::stage_name(e.choice.stage)},
      {"degraded", e.choice.degraded},
      {"answer", std::move(answer)},
      {"ttl", e.ttl_s},
      {"ecs_scope", e.ecs_scope},
      {"text", gslb::format_explanation(config, e)}};
  if (trace.nets_asked) out["nets_matched"] = trace.nets.list != geo::NetsMap::kNoList;
  if (trace.asn_asked) {
    out["asn"] = json::object{{"found", trace.asn.found},
                              {"number", trace.asn.number},
                              {"organization", trace.asn_organization},
                              {"prefix_len", trace.asn.prefix_len},
                              {"mapped", trace.asn_mapped}};
  }
  if (!e.cname.empty()) out["cname"] = e.cname;
  if (!trace.geo_map_entry.empty()) out["geo_map_entry"] = trace.geo_map_entry;
  if (e.choice.stage == geo::Stage::fail_closed) {
    out["rcode"] = e.choice.servfail ? "SERVFAIL" : "NOERROR (NODATA)";
  }
  return out;
}

/// The query of a request, or the answer to a bad one.
Result<gslb::ExplainQuery> explain_query_of(const HttpRequest& request) {
  const auto parameter = [&](const char* name) {
    auto it = request.query.find(name);
    return it == request.query.end() ? std::string() : it->second;
  };
  gslb::ExplainQuery query;
  query.name = parameter("name");
  if (query.name.empty()) return fail("name= is required");
  if (!IpAddress::parse(parameter("client"), query.source)) {
    return fail("client= must be an IPv4 or IPv6 address");
  }
  query.source = query.source.unmapped();
  if (const std::string ecs = parameter("ecs"); !ecs.empty()) {
    IpNetwork network;
    if (!IpNetwork::parse(ecs, network)) return fail("ecs= must be a subnet like 81.2.69.0/24");
    query.ecs = network;
  }
  if (const std::string type = parameter("type"); type == "AAAA") {
    query.family = IpAddress::Family::v6;
  } else if (!type.empty() && type != "A") {
    return fail("type= must be A or AAAA");
  }
  return query;
}

}  // namespace

void add_explain_route(HttpServer& server, const gslb::NodeApi& node) {
  server.route(
      http::verb::get, "/api/v1/explain", Access::read,
      [&node](const HttpRequest& request, const Responder& respond) {
        auto query = explain_query_of(request);
        if (!query) return respond(error_response(400, query.error().message));
        auto explained = node.explain(*query);
        if (const auto* error = std::get_if<gslb::ExplainError>(&explained)) {
          // Starting and reloading pass: ask again. A bad query does not.
          const bool retry = error->kind != gslb::ExplainErrorKind::bad_query;
          return respond(error_response(retry ? 503 : 400, error->message));
        }
        const auto& current = std::get<gslb::CurrentExplanation>(explained);
        respond(json_response(200, explanation_json(*current.config, current.explanation)));
      });
}

}  // namespace meridian::admin
