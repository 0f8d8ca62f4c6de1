#include "main/status_api.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>
#include <deque>
#include <map>

#include "admin/prometheus.hpp"
#include "base/process_stats.hpp"

namespace meridian {

namespace json = boost::json;
using admin::MetricType;

namespace {

constexpr const char* kRcodes[17] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                                     "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI",
                                     "RCODE12", "RCODE13", "RCODE14", "RCODE15", "BADVERS"};

const char* role_name(cluster::Role role) {
  switch (role) {
    case cluster::Role::follower: return "follower";
    case cluster::Role::pre_candidate: return "pre-candidate";
    case cluster::Role::candidate: return "candidate";
    case cluster::Role::leader: return "leader";
  }
  return "?";
}

/// The DNS workers' counters summed.
struct DnsTotals {
  std::uint64_t queries = 0, dropped = 0, truncated = 0, client_subnet = 0, service_answers = 0, fail_open = 0,
                fail_closed = 0;
  std::array<std::uint64_t, 17> by_rcode{};
  std::array<std::uint64_t, 17> by_qtype{};
  std::vector<std::uint64_t> by_zone, by_service, by_site;
};

template <std::size_t N>
void add_all(std::vector<std::uint64_t>& into, const std::array<dns::QueryStats::Counter, N>& counters) {
  into.resize(N);
  for (std::size_t i = 0; i < N; ++i) into[i] += counters[i].load(std::memory_order_relaxed);
}

DnsTotals dns_totals(const StatusSources& sources) {
  DnsTotals totals;
  if (!sources.query_stats) return totals;
  const auto load = [](const dns::QueryStats::Counter& counter) { return counter.load(std::memory_order_relaxed); };
  for (const dns::QueryStats* stats : sources.query_stats()) {
    totals.queries += load(stats->queries);
    totals.dropped += load(stats->dropped);
    totals.truncated += load(stats->truncated);
    totals.client_subnet += load(stats->client_subnet);
    totals.service_answers += load(stats->service_answers);
    totals.fail_open += load(stats->fail_open);
    totals.fail_closed += load(stats->fail_closed);
    for (std::size_t i = 0; i < totals.by_rcode.size(); ++i) totals.by_rcode[i] += load(stats->by_rcode[i]);
    for (std::size_t i = 0; i < totals.by_qtype.size(); ++i) totals.by_qtype[i] += load(stats->by_qtype[i]);
    add_all(totals.by_zone, stats->by_zone);
    add_all(totals.by_service, stats->answers_by_service);
    add_all(totals.by_site, stats->answers_by_site);
  }
  return totals;
}

/// The names of one kind's counter slots; none without a registry.
std::vector<std::string> slot_names(const dns::StatsSlotRegistry* registry,
                                    dns::StatsSlots dns::StatsSlotRegistry::*kind) {
  return registry != nullptr ? (registry->*kind).names() : std::vector<std::string>{};
}

double uptime_s(const StatusSources& sources) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - sources.started).count();
}

json::value override_json(const std::optional<gslb::OperatorOverride>& value) {
  if (!value) return nullptr;
  return json::object{{"state", gslb::to_string(value->state)},
                      {"author", value->author},
                      {"reason", value->reason},
                      {"set_ms", value->set_ms},
                      {"expires_ms", value->expires_ms == 0 ? json::value(nullptr) : json::value(value->expires_ms)}};
}

json::object status_json(const StatusSources& sources) {
  json::object out{{"name", sources.name},
                   {"site", sources.site},
                   {"version", sources.version},
                   {"uptime_s", static_cast<std::uint64_t>(uptime_s(sources))},
                   {"started_ms", sources.started_ms}};
  out["config"] = sources.config_status ? sources.config_status() : json::value(nullptr);
  if (sources.store != nullptr) {
    const store::StoreStatus store = sources.store->status();
    out["cluster"] = json::object{{"role", role_name(store.role)}, {"term", store.term},
                                  {"leader", store.leader.empty() ? json::value(nullptr) : json::value(store.leader)},
                                  {"commit", store.commit},     {"applied", store.applied},
                                  {"members", store.members.size()}};
  } else {
    out["cluster"] = nullptr;
  }
  const auto view = sources.view != nullptr ? sources.view->load() : nullptr;
  json::object health{{"fallback", view && view->fallback}};
  std::size_t live = 0;
  if (view) {
    for (const auto& [name, is_live] : view->observers) live += is_live ? 1 : 0;
  }
  health["observers_live"] = live;
  out["health"] = std::move(health);
  const DnsTotals dns = dns_totals(sources);
  out["dns"] = json::object{{"queries", dns.queries},
                            {"service_answers", dns.service_answers},
                            {"fail_open", dns.fail_open},
                            {"tcp_connections", sources.tcp_connections ? sources.tcp_connections() : 0}};
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

json::object services_json(const gslb::NodeView& view) {
  json::array services;
  for (const gslb::ServiceView& service : view.services) {
    json::array endpoints;
    for (const gslb::EndpointView& e : service.endpoints) {
      json::array addresses;
      for (const std::string& address : e.addresses) addresses.push_back(json::value(address));
      endpoints.push_back(json::object{
          {"addresses", std::move(addresses)},
          {"site", e.site},
          {"target", e.target},
          {"check", e.check},
          {"usable", e.usable},
          {"source", to_string(e.source)},
          {"probed", e.probed},
          {"cluster_verdict", e.cluster_verdict ? json::value(*e.cluster_verdict ? "up" : "down") : json::value(nullptr)},
          {"stale", e.verdict_stale},
          {"since_ms", e.since_ms == 0 ? json::value(nullptr) : json::value(e.since_ms)},
          {"reason", e.reason},
          {"latency_ms", e.latency_ms ? json::value(*e.latency_ms) : json::value(nullptr)},
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
  for (const auto& [name, live] : view.observers) observers.push_back(json::object{{"name", name}, {"live", live}});
  json::array targets;
  for (const gslb::MatrixRow& row : view.matrix) {
    json::object views;
    for (const auto& [observer, state] : row.views) views[observer] = state;
    targets.push_back(json::object{{"target", row.target},
                                   {"site", row.site},
                                   {"views", std::move(views)},
                                   {"verdict", row.verdict ? json::value(*row.verdict ? "up" : "down") : json::value(nullptr)},
                                   {"stale", row.stale}});
  }
  return json::object{{"observers", std::move(observers)}, {"targets", std::move(targets)}, {"built_ms", view.built_ms}};
}

/// The query rate per site over the last few minutes: every kInterval the
/// counters' growth since the last sample, divided by the interval.
class QueryRateHistory : public std::enable_shared_from_this<QueryRateHistory> {
 public:
  static constexpr std::chrono::seconds kInterval{10};
  static constexpr std::size_t kSamples = 30;

  QueryRateHistory(boost::asio::io_context& io, std::shared_ptr<const StatusSources> sources)
      : timer_(io), sources_(std::move(sources)) {}

  void start() {
    last_ = dns_totals(*sources_);
    arm();
  }

  json::object to_json() const {
    json::array samples;
    for (const json::object& sample : samples_) samples.push_back(sample);
    return json::object{{"interval_s", kInterval.count()}, {"samples", std::move(samples)}};
  }

 private:
  void arm() {
    timer_.expires_after(kInterval);
    timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& error) {
      auto self = weak.lock();
      if (error || !self) return;
      self->sample();
      self->arm();
    });
  }

  void sample() {
    DnsTotals now = dns_totals(*sources_);
    const double seconds = static_cast<double>(kInterval.count());
    json::object sites;
    if (const auto view = sources_->view != nullptr ? sources_->view->load() : nullptr) {
      // The sites of the config of the moment, each from its own slot.
      std::map<std::string, std::size_t> slot_of;
      const std::vector<std::string> names = slot_names(sources_->stats_slots, &dns::StatsSlotRegistry::sites);
      for (std::size_t slot = 0; slot < names.size(); ++slot) slot_of.emplace(names[slot], slot);
      for (const gslb::SiteView& site : view->sites) {
        auto it = slot_of.find(site.name);
        const std::size_t slot = it != slot_of.end() ? it->second : now.by_site.size();
        if (slot >= now.by_site.size()) {
          sites[site.name] = 0.0;
          continue;
        }
        const std::uint64_t before = slot < last_.by_site.size() ? last_.by_site[slot] : 0;
        sites[site.name] = static_cast<double>(now.by_site[slot] - std::min(before, now.by_site[slot])) / seconds;
      }
    }
    const auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    samples_.push_back(json::object{
        {"t_ms", wall_ms},
        {"total_qps", static_cast<double>(now.queries - std::min(last_.queries, now.queries)) / seconds},
        {"sites", std::move(sites)}});
    if (samples_.size() > kSamples) samples_.pop_front();
    last_ = std::move(now);
  }

  boost::asio::steady_timer timer_;
  std::shared_ptr<const StatusSources> sources_;
  DnsTotals last_;
  std::deque<json::object> samples_;
};

}  // namespace

std::string render_metrics(const StatusSources& sources) {
  admin::PrometheusWriter out;
  out.family("meridian_build_info", MetricType::gauge, "The running version (always 1).");
  out.sample("meridian_build_info", {{"version", sources.version}, {"node", sources.name}, {"site", sources.site}}, 1);
  out.family("meridian_uptime_seconds", MetricType::gauge, "Seconds since the node started.");
  out.sample("meridian_uptime_seconds", {}, uptime_s(sources));

  if (const auto process = read_process_stats()) {
    out.family("process_resident_memory_bytes", MetricType::gauge, "Resident memory size in bytes.");
    out.sample("process_resident_memory_bytes", {}, static_cast<double>(process->resident_bytes));
    out.family("process_virtual_memory_bytes", MetricType::gauge, "Virtual memory size in bytes.");
    out.sample("process_virtual_memory_bytes", {}, static_cast<double>(process->virtual_bytes));
    out.family("process_open_fds", MetricType::gauge, "Open file descriptors.");
    out.sample("process_open_fds", {}, static_cast<double>(process->open_fds));
    out.family("process_cpu_seconds_total", MetricType::counter, "User and system CPU time in seconds.");
    out.sample("process_cpu_seconds_total", {}, process->cpu_seconds);
  }
  out.family("process_start_time_seconds", MetricType::gauge, "Start time of the process since the Unix epoch.");
  out.sample("process_start_time_seconds", {}, static_cast<double>(sources.started_ms / 1000));

  const DnsTotals dns = dns_totals(sources);
  out.family("meridian_dns_queries_total", MetricType::counter, "DNS queries received (UDP and TCP).");
  out.sample("meridian_dns_queries_total", {}, static_cast<double>(dns.queries));
  out.family("meridian_dns_responses_total", MetricType::counter, "DNS responses sent, by rcode.");
  for (std::size_t i = 0; i < dns.by_rcode.size(); ++i) {
    if (dns.by_rcode[i] != 0 || i <= 5) {
      out.sample("meridian_dns_responses_total", {{"rcode", kRcodes[i]}}, static_cast<double>(dns.by_rcode[i]));
    }
  }
  out.family("meridian_dns_dropped_total", MetricType::counter, "Packets dropped without a reply (too short, or a response).");
  out.sample("meridian_dns_dropped_total", {}, static_cast<double>(dns.dropped));
  out.family("meridian_dns_truncated_total", MetricType::counter, "UDP answers sent truncated (TC).");
  out.sample("meridian_dns_truncated_total", {}, static_cast<double>(dns.truncated));
  out.family("meridian_dns_ecs_queries_total", MetricType::counter, "Queries carrying a valid EDNS Client Subnet.");
  out.sample("meridian_dns_ecs_queries_total", {}, static_cast<double>(dns.client_subnet));
  out.family("meridian_dns_service_answers_total", MetricType::counter, "Answers chosen by steering.");
  out.sample("meridian_dns_service_answers_total", {}, static_cast<double>(dns.service_answers));
  out.family("meridian_dns_fail_open_answers_total", MetricType::counter,
             "Service answers given with nothing healthy (fail open).");
  out.sample("meridian_dns_fail_open_answers_total", {}, static_cast<double>(dns.fail_open));
  out.family("meridian_dns_fail_closed_total", MetricType::counter,
             "Service queries answered NODATA or SERVFAIL because nothing was healthy (fail closed).");
  out.sample("meridian_dns_fail_closed_total", {}, static_cast<double>(dns.fail_closed));
  out.family("meridian_dns_queries_by_type_total", MetricType::counter, "DNS queries by query type.");
  for (std::size_t i = 0; i < dns.by_qtype.size(); ++i) {
    if (dns.by_qtype[i] != 0 || i < 8) {
      out.sample("meridian_dns_queries_by_type_total", {{"qtype", dns::kCountedQtypeNames[i]}},
                 static_cast<double>(dns.by_qtype[i]));
    }
  }
  // Every name counted since the start, by its stable slot: a zone, service
  // or site a reload removed keeps its (now still) series.
  const auto by_name = [&](std::string_view family, std::string_view help, std::string_view label,
                           dns::StatsSlots dns::StatsSlotRegistry::*kind, const std::vector<std::uint64_t>& counts) {
    out.family(family, MetricType::counter, help);
    const std::vector<std::string> names = slot_names(sources.stats_slots, kind);
    for (std::size_t slot = 0; slot < names.size() && slot < counts.size(); ++slot) {
      out.sample(family, {{label, names[slot]}}, static_cast<double>(counts[slot]));
    }
  };
  by_name("meridian_dns_queries_by_zone_total", "DNS queries answered from each zone.", "zone",
          &dns::StatsSlotRegistry::zones, dns.by_zone);
  by_name("meridian_dns_service_answers_by_service_total", "Steered answers by service.", "service",
          &dns::StatsSlotRegistry::services, dns.by_service);
  by_name("meridian_dns_answers_by_site_total", "Steered answers by the site of the first answer.", "site",
          &dns::StatsSlotRegistry::sites, dns.by_site);
  out.family("meridian_dns_tcp_connections", MetricType::gauge, "Open DNS TCP connections.");
  out.sample("meridian_dns_tcp_connections", {}, sources.tcp_connections ? sources.tcp_connections() : 0);

  if (const auto view = sources.view != nullptr ? sources.view->load() : nullptr) {
    out.family("meridian_probes_total", MetricType::counter, "Health probes completed, by check and result.");
    for (const auto& [check, entry] : view->probes.by_check()) {
      for (std::size_t i = 0; i < entry.outcomes.size(); ++i) {
        if (entry.outcomes[i] == 0 && i != 0) continue;
        const std::string result = i == 0 ? "ok" : health::to_string(static_cast<health::ProbeFailure>(i));
        out.sample("meridian_probes_total", {{"check", check}, {"result", result}},
                   static_cast<double>(entry.outcomes[i]));
      }
    }
    out.family("meridian_probe_duration_seconds", MetricType::histogram, "Health probe latency, by check.");
    for (const auto& [check, entry] : view->probes.by_check()) {
      out.histogram("meridian_probe_duration_seconds", {{"check", check}}, health::ProbeMetrics::kBounds,
                    entry.buckets, entry.latency_sum_s);
    }
    out.family("meridian_endpoint_usable", MetricType::gauge, "1 when the endpoint is in answers, by service.");
    for (const gslb::ServiceView& service : view->services) {
      for (const gslb::EndpointView& endpoint : service.endpoints) {
        out.sample("meridian_endpoint_usable",
                   {{"service", service.name},
                    {"endpoint", endpoint.addresses.empty() ? endpoint.target : endpoint.addresses.front()},
                    {"site", endpoint.site}},
                   endpoint.usable ? 1 : 0);
      }
    }
    out.family("meridian_site_usable_endpoints", MetricType::gauge, "Endpoints of the site in answers now.");
    for (const gslb::SiteView& site : view->sites) {
      out.sample("meridian_site_usable_endpoints", {{"site", site.name}}, site.usable);
    }
    out.family("meridian_health_fallback", MetricType::gauge,
               "1 while the node is cut off from the cluster and answers from its own probes.");
    out.sample("meridian_health_fallback", {}, view->fallback ? 1 : 0);
    out.family("meridian_verdict_changes_total", MetricType::counter,
               "Replicated verdict changes this node applied (up to down or back).");
    out.sample("meridian_verdict_changes_total", {}, static_cast<double>(view->verdict_changes));
  }

  if (sources.store != nullptr) {
    const store::StoreStatus store = sources.store->status();
    out.family("meridian_raft_term", MetricType::gauge, "The current Raft term.");
    out.sample("meridian_raft_term", {}, static_cast<double>(store.term));
    out.family("meridian_raft_role", MetricType::gauge, "1 for this member's current Raft role.");
    for (const cluster::Role role : {cluster::Role::follower, cluster::Role::pre_candidate, cluster::Role::candidate,
                                     cluster::Role::leader}) {
      out.sample("meridian_raft_role", {{"role", role_name(role)}}, store.role == role ? 1 : 0);
    }
    out.family("meridian_raft_commit_index", MetricType::gauge, "The highest log index known committed.");
    out.sample("meridian_raft_commit_index", {}, static_cast<double>(store.commit));
    out.family("meridian_raft_applied_index", MetricType::gauge, "The highest log index applied here.");
    out.sample("meridian_raft_applied_index", {}, static_cast<double>(store.applied));
    out.family("meridian_raft_members", MetricType::gauge, "Members of the cluster (voters and learners).");
    out.sample("meridian_raft_members", {}, static_cast<double>(store.members.size()));
    out.family("meridian_raft_proposal_duration_seconds", MetricType::histogram,
               "Writes this member proposed as leader, from proposal to commit and apply.");
    out.histogram("meridian_raft_proposal_duration_seconds", {}, store::kProposalLatencyBounds,
                  store.proposal_latency.counts, store.proposal_latency.sum_s);
    out.family("meridian_raft_proposals_failed_total", MetricType::counter,
               "Writes this member proposed that did not commit (leadership changed, or timed out).");
    out.sample("meridian_raft_proposals_failed_total", {}, static_cast<double>(store.proposal_latency.failed));
  }
  return std::move(out).text();
}

// Answers with `render` once the view is fresh, on the admin server's thread
// (rendering 100,000 endpoints is not work for the health thread).
void when_fresh(const std::shared_ptr<const StatusSources>& sources, admin::Responder respond,
                std::function<admin::HttpResponse(std::shared_ptr<const gslb::NodeView>)> render) {
  auto finish = [sources, respond = std::move(respond), render = std::move(render)](
                    std::shared_ptr<const gslb::NodeView> view) mutable {
    if (sources->io == nullptr) return respond(render(std::move(view)));
    boost::asio::post(*sources->io, [respond = std::move(respond), render = std::move(render),
                                     view = std::move(view)]() mutable { respond(render(std::move(view))); });
  };
  if (sources->fresh_view) return sources->fresh_view(std::move(finish));
  finish(sources->view != nullptr ? sources->view->load() : nullptr);
}

void add_status_routes(admin::HttpServer& server, StatusSources sources) {
  auto shared = std::make_shared<const StatusSources>(std::move(sources));
  server.route(admin::http::verb::get, "/api/v1/status", admin::Access::read,
               [shared](admin::HttpRequest, admin::Responder respond) {
                 when_fresh(shared, std::move(respond), [shared](std::shared_ptr<const gslb::NodeView>) {
                   return admin::json_response(200, status_json(*shared));
                 });
               });
  const auto with_view = [shared](json::object (*render)(const gslb::NodeView&)) {
    return [shared, render](admin::HttpRequest, admin::Responder respond) {
      when_fresh(shared, std::move(respond), [render](std::shared_ptr<const gslb::NodeView> view) {
        if (!view) return admin::error_response(503, "the node is starting");
        return admin::json_response(200, render(*view));
      });
    };
  };
  server.route(admin::http::verb::get, "/api/v1/sites", admin::Access::read, with_view(&sites_json));
  server.route(admin::http::verb::get, "/api/v1/services", admin::Access::read, with_view(&services_json));
  server.route(admin::http::verb::get, "/api/v1/health/matrix", admin::Access::read, with_view(&matrix_json));
  if (shared->io != nullptr) {
    auto history = std::make_shared<QueryRateHistory>(*shared->io, shared);
    history->start();
    // The route owns the history: it lives as long as the server.
    server.route(admin::http::verb::get, "/api/v1/stats", admin::Access::read,
                 [history](admin::HttpRequest, admin::Responder respond) {
                   respond(admin::json_response(200, history->to_json()));
                 });
  }
  server.route(admin::http::verb::get, "/metrics", admin::Access::read,
               [shared](admin::HttpRequest, admin::Responder respond) {
                 when_fresh(shared, std::move(respond), [shared](std::shared_ptr<const gslb::NodeView>) {
                   admin::HttpResponse response;
                   response.content_type = std::string(admin::kPrometheusContentType);
                   response.body = render_metrics(*shared);
                   return response;
                 });
               });
}

}  // namespace meridian
