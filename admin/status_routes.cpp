#include "admin/status_routes.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <memory>

#include "admin/config_routes.hpp"
#include "admin/fresh_view.hpp"
#include "admin/json_fields.hpp"
#include "gslb/query_rates.hpp"

namespace meridian::admin {

namespace json = boost::json;

namespace {

json::object status_json(const gslb::NodeApi& node) {
  const gslb::NodeIdentity& identity = node.identity();
  const double uptime_s =
      std::chrono::duration<double>(node.clock().now() - identity.started).count();
  json::object out{{"name", identity.name},
                   {"site", identity.site},
                   {"version", identity.version},
                   {"uptime_s", static_cast<std::uint64_t>(uptime_s)},
                   {"started_ms", identity.started_ms}};
  const auto config = node.config_status();
  out["config"] =
      config ? json::value(config_status_json(identity.name, *config)) : json::value(nullptr);
  if (const store::ReplicatedStore* store = node.store()) {
    const store::StoreStatus status = store->status();
    out["cluster"] = json::object{
        {"backend", status.backend},
        {"revision", status.revision},
        {"role", store::to_string(status.role)},
        {"term", status.term},
        {"leader", status.leader.empty() ? json::value(nullptr) : json::value(status.leader)},
        {"commit", status.commit},
        {"applied", status.applied},
        {"members", status.members.size()}};
    if (status.backend == "etcd") {
      // The etcd members this node is a client of, and whether it reaches each.
      json::array endpoints;
      for (const store::MemberStatus& member : status.members) {
        endpoints.push_back(json::object{
            {"name", member.name},
            {"address", member.address ? json::value(member.address->to_string()) : nullptr},
            {"reachable", member.reachable}});
      }
      out["cluster"].as_object()["endpoints"] = std::move(endpoints);
    }
  } else {
    out["cluster"] = nullptr;
  }
  const auto view = node.current_view();
  json::object health{{"fallback", view && view->fallback}};
  std::size_t live = 0;
  if (view) {
    for (const auto& [name, is_live] : view->observers) live += is_live ? 1 : 0;
  }
  health["observers_live"] = live;
  out["health"] = std::move(health);
  const gslb::QueryTotals dns = node.query_totals();
  out["dns"] = json::object{{"queries", dns.queries},
                            {"service_answers", dns.service_answers},
                            {"fail_open", dns.fail_open},
                            {"tcp_connections", node.tcp_connections()}};
  return out;
}

json::object sites_json(const gslb::NodeView& view) {
  json::array sites;
  for (const gslb::SiteView& site : view.sites) {
    sites.push_back(json::object{{"name", site.name},
                                 {"lat", site.latitude_deg},
                                 {"lon", site.longitude_deg},
                                 {"endpoints", site.endpoints},
                                 {"usable", site.usable},
                                 {"state", site.state},
                                 {"override", override_json(site.override)}});
  }
  return json::object{{"sites", std::move(sites)}, {"built_ms", view.built_ms}};
}

json::value verdict_json(const std::optional<bool>& verdict) {
  return verdict ? json::value(*verdict ? "up" : "down") : json::value(nullptr);
}

json::object services_json(const gslb::NodeView& view) {
  json::array services;
  for (const gslb::ServiceView& service : view.services) {
    json::array endpoints;
    for (const gslb::EndpointView& e : service.endpoints) {
      json::array addresses;
      for (const std::string& address : e.addresses) addresses.push_back(json::value(address));
      endpoints.push_back(json::object{{"addresses", std::move(addresses)},
                                       {"site", e.site},
                                       {"target", e.target},
                                       {"check", e.check},
                                       {"usable", e.usable},
                                       {"source", to_string(e.source)},
                                       {"probed", e.probed},
                                       {"cluster_verdict", verdict_json(e.cluster_verdict)},
                                       {"stale", e.verdict_stale},
                                       {"since_ms", zero_as_null(e.since_ms)},
                                       {"reason", e.reason},
                                       {"latency_ms", optional_json(e.latency_ms)},
                                       {"override", override_json(e.override)}});
    }
    services.push_back(json::object{{"name", service.name},
                                    {"policy", service.policy},
                                    {"ttl", service.ttl_s},
                                    {"endpoints", std::move(endpoints)}});
  }
  return json::object{{"services", std::move(services)}, {"built_ms", view.built_ms}};
}

json::object matrix_json(const gslb::NodeView& view) {
  json::array observers;
  for (const auto& [name, live] : view.observers) {
    observers.push_back(json::object{{"name", name}, {"live", live}});
  }
  json::array targets;
  for (const gslb::MatrixRow& row : view.matrix) {
    json::object views;
    for (const auto& [observer, state] : row.views) views[observer] = state;
    targets.push_back(json::object{{"target", row.target},
                                   {"site", row.site},
                                   {"views", std::move(views)},
                                   {"verdict", verdict_json(row.verdict)},
                                   {"stale", row.stale}});
  }
  return json::object{{"observers", std::move(observers)},
                      {"targets", std::move(targets)},
                      {"built_ms", view.built_ms}};
}

/// Drives the query-rate history (gslb/query_rates.hpp) every interval on
/// the admin server's io_context, and answers GET /api/v1/stats from it.
class QueryRateSampler : public std::enable_shared_from_this<QueryRateSampler> {
 public:
  QueryRateSampler(gslb::NodeApi& node, boost::asio::io_context& io)
      : node_(node), timer_(io), history_(node.query_totals()) {}

  void start() { arm(); }

  json::object to_json() const {
    json::array samples;
    for (const gslb::QueryRateSample& sample : history_.samples()) {
      json::object sites;
      for (const auto& [site, qps] : sample.sites) sites[site] = qps;
      samples.push_back(json::object{
          {"t_ms", sample.t_ms}, {"total_qps", sample.total_qps}, {"sites", std::move(sites)}});
    }
    return json::object{{"interval_s", gslb::QueryRateHistory::kInterval.count()},
                        {"samples", std::move(samples)}};
  }

 private:
  void arm() {
    timer_.expires_after(gslb::QueryRateHistory::kInterval);
    timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& error) {
      auto self = weak.lock();
      if (error || !self) return;
      self->sample();
      self->arm();
    });
  }

  void sample() {
    gslb::QueryTotals now = node_.query_totals();
    // The sites of the config of the moment.
    std::vector<std::string> sites;
    if (const auto view = node_.current_view()) {
      for (const gslb::SiteView& site : view->sites) sites.push_back(site.name);
    }
    history_.sample(std::move(now), sites, wall_ms(node_.clock()));
  }

  gslb::NodeApi& node_;
  boost::asio::steady_timer timer_;
  gslb::QueryRateHistory history_;
};

}  // namespace

void add_status_routes(HttpServer& server, gslb::NodeApi& node, boost::asio::io_context& io) {
  server.route(http::verb::get, "/api/v1/status", Access::read,
               [&node, &io](const HttpRequest&, Responder respond) {
                 answer_when_fresh(node, io, std::move(respond),
                                   [&node](const std::shared_ptr<const gslb::NodeView>&) {
                                     return json_response(200, status_json(node));
                                   });
               });
  const auto with_view = [&node, &io](json::object (*render)(const gslb::NodeView&)) {
    return [&node, &io, render](const HttpRequest&, Responder respond) {
      answer_when_fresh(node, io, std::move(respond),
                        [render](const std::shared_ptr<const gslb::NodeView>& view) {
                          if (!view) return error_response(503, "the node is starting");
                          return json_response(200, render(*view));
                        });
    };
  };
  server.route(http::verb::get, "/api/v1/sites", Access::read, with_view(&sites_json));
  server.route(http::verb::get, "/api/v1/services", Access::read, with_view(&services_json));
  server.route(http::verb::get, "/api/v1/health/matrix", Access::read, with_view(&matrix_json));
  auto sampler = std::make_shared<QueryRateSampler>(node, io);
  sampler->start();
  // The route owns the sampler: it lives as long as the server.
  server.route(http::verb::get, "/api/v1/stats", Access::read,
               [sampler](const HttpRequest&, const Responder& respond) {
                 respond(json_response(200, sampler->to_json()));
               });
}

}  // namespace meridian::admin
