#include "admin/metrics_route.hpp"

#include <chrono>
#include <cstdint>

#include "admin/fresh_view.hpp"
#include "admin/prometheus.hpp"
#include "base/process_stats.hpp"
#include "health/probe_metrics.hpp"

namespace meridian::admin {

namespace {

/// Rcodes exported even while zero (NOERROR to REFUSED), so that rate()
/// sees them from the start; the others appear once counted.
constexpr std::size_t kAlwaysExportedRcodes = 6;
/// Query types exported even while zero (A to AAAA, dns::kCountedQtypeNames).
constexpr std::size_t kAlwaysExportedQtypes = 8;

void write_identity(PrometheusWriter& out, const gslb::NodeApi& node) {
  const gslb::NodeIdentity& identity = node.identity();
  out.family("meridian_build_info", MetricType::gauge, "The running version (always 1).");
  out.sample("meridian_build_info",
             {{"version", identity.version}, {"node", identity.name}, {"site", identity.site}}, 1);
  out.family("meridian_uptime_seconds", MetricType::gauge, "Seconds since the node started.");
  out.sample("meridian_uptime_seconds", {},
             std::chrono::duration<double>(node.clock().now() - identity.started).count());
}

void write_process(PrometheusWriter& out, const gslb::NodeApi& node) {
  if (const auto process = read_process_stats()) {
    out.family("process_resident_memory_bytes", MetricType::gauge,
               "Resident memory size in bytes.");
    out.sample("process_resident_memory_bytes", {}, static_cast<double>(process->resident_bytes));
    out.family("process_virtual_memory_bytes", MetricType::gauge, "Virtual memory size in bytes.");
    out.sample("process_virtual_memory_bytes", {}, static_cast<double>(process->virtual_bytes));
    out.family("process_open_fds", MetricType::gauge, "Open file descriptors.");
    out.sample("process_open_fds", {}, static_cast<double>(process->open_fds));
    out.family("process_cpu_seconds_total", MetricType::counter,
               "User and system CPU time in seconds.");
    out.sample("process_cpu_seconds_total", {}, process->cpu_seconds);
  }
  out.family("process_start_time_seconds", MetricType::gauge,
             "Start time of the process since the Unix epoch.");
  // Whole seconds: the start is known to the millisecond, but the gauge
  // has always said the second it started in.
  const std::uint64_t started_s = node.identity().started_ms / 1000;
  out.sample("process_start_time_seconds", {}, static_cast<double>(started_s));
}

// Every name counted since the start, by its stable slot: a zone, service
// or site a reload removed keeps its (now still) series.
void write_by_name(PrometheusWriter& out, std::string_view family, std::string_view help,
                   std::string_view label, const std::vector<std::string>& names,
                   const std::vector<std::uint64_t>& counts) {
  out.family(family, MetricType::counter, help);
  for (std::size_t slot = 0; slot < names.size() && slot < counts.size(); ++slot) {
    out.sample(family, {{label, names[slot]}}, static_cast<double>(counts[slot]));
  }
}

void write_dns(PrometheusWriter& out, const gslb::NodeApi& node) {
  const gslb::QueryTotals dns = node.query_totals();
  out.family("meridian_dns_queries_total", MetricType::counter,
             "DNS queries received (UDP and TCP).");
  out.sample("meridian_dns_queries_total", {}, static_cast<double>(dns.queries));
  out.family("meridian_dns_responses_total", MetricType::counter, "DNS responses sent, by rcode.");
  for (std::size_t i = 0; i < dns.by_rcode.size(); ++i) {
    if (dns.by_rcode[i] != 0 || i < kAlwaysExportedRcodes) {
      out.sample("meridian_dns_responses_total", {{"rcode", gslb::kRcodeNames[i]}},
                 static_cast<double>(dns.by_rcode[i]));
    }
  }
  out.family("meridian_dns_dropped_total", MetricType::counter,
             "Packets dropped without a reply (too short, or a response).");
  out.sample("meridian_dns_dropped_total", {}, static_cast<double>(dns.dropped));
  out.family("meridian_dns_truncated_total", MetricType::counter,
             "UDP answers sent truncated (TC).");
  out.sample("meridian_dns_truncated_total", {}, static_cast<double>(dns.truncated));
  out.family("meridian_dns_ecs_queries_total", MetricType::counter,
             "Queries carrying a valid EDNS Client Subnet.");
  out.sample("meridian_dns_ecs_queries_total", {}, static_cast<double>(dns.client_subnet));
  out.family("meridian_dns_service_answers_total", MetricType::counter,
             "Answers chosen by steering.");
  out.sample("meridian_dns_service_answers_total", {}, static_cast<double>(dns.service_answers));
  out.family("meridian_dns_fail_open_answers_total", MetricType::counter,
             "Service answers given with nothing healthy (fail open).");
  out.sample("meridian_dns_fail_open_answers_total", {}, static_cast<double>(dns.fail_open));
  out.family(
      "meridian_dns_fail_closed_total", MetricType::counter,
      "Service queries answered NODATA or SERVFAIL because nothing was healthy (fail closed).");
  out.sample("meridian_dns_fail_closed_total", {}, static_cast<double>(dns.fail_closed));
  out.family("meridian_dns_cookies_total", MetricType::counter,
             "Queries with a DNS COOKIE, by what their server cookie proved: client_only (none "
             "sent), valid, invalid (not ours, expired, or for another address).");
  out.sample("meridian_dns_cookies_total", {{"server_cookie", "client_only"}},
             static_cast<double>(dns.cookie_client_only));
  out.sample("meridian_dns_cookies_total", {{"server_cookie", "valid"}},
             static_cast<double>(dns.cookie_valid));
  out.sample("meridian_dns_cookies_total", {{"server_cookie", "invalid"}},
             static_cast<double>(dns.cookie_invalid));
  out.family("meridian_dns_rate_limited_total", MetricType::counter,
             "UDP responses over the response rate limit: dropped, or slipped (sent truncated).");
  out.sample("meridian_dns_rate_limited_total", {{"action", "dropped"}},
             static_cast<double>(dns.rate_limited_dropped));
  out.sample("meridian_dns_rate_limited_total", {{"action", "slipped"}},
             static_cast<double>(dns.rate_limited_slipped));
  out.family("meridian_dns_queries_by_type_total", MetricType::counter,
             "DNS queries by query type.");
  for (std::size_t i = 0; i < dns.by_qtype.size(); ++i) {
    if (dns.by_qtype[i] != 0 || i < kAlwaysExportedQtypes) {
      out.sample("meridian_dns_queries_by_type_total", {{"qtype", dns::kCountedQtypeNames[i]}},
                 static_cast<double>(dns.by_qtype[i]));
    }
  }
  write_by_name(out, "meridian_dns_queries_by_zone_total", "DNS queries answered from each zone.",
                "zone", dns.zone_names, dns.by_zone);
  write_by_name(out, "meridian_dns_service_answers_by_service_total", "Steered answers by service.",
                "service", dns.service_names, dns.by_service);
  write_by_name(out, "meridian_dns_answers_by_site_total",
                "Steered answers by the site of the first answer.", "site", dns.site_names,
                dns.by_site);
  out.family("meridian_dns_tcp_connections", MetricType::gauge, "Open DNS TCP connections.");
  out.sample("meridian_dns_tcp_connections", {}, node.tcp_connections());
  const gslb::TcpLimitStats limits = node.tcp_limits();
  out.family("meridian_dns_tcp_client_networks", MetricType::gauge,
             "Client networks (IPv4 /24, IPv6 /56) holding DNS TCP connections.");
  out.sample("meridian_dns_tcp_client_networks", {}, static_cast<double>(limits.client_networks));
  out.family("meridian_dns_tcp_connections_refused_total", MetricType::counter,
             "DNS TCP connections closed at accept: the client network's cap (client_limit) or "
             "the server's, with nothing idle to evict (server_limit).");
  out.sample("meridian_dns_tcp_connections_refused_total", {{"reason", "client_limit"}},
             static_cast<double>(limits.refused_client_limit));
  out.sample("meridian_dns_tcp_connections_refused_total", {{"reason", "server_limit"}},
             static_cast<double>(limits.refused_server_limit));
  out.family("meridian_dns_tcp_connections_evicted_total", MetricType::counter,
             "Idle DNS TCP connections closed to make room at tcp_max_connections.");
  out.sample("meridian_dns_tcp_connections_evicted_total", {}, static_cast<double>(limits.evicted));
}

void write_admin(PrometheusWriter& out, const HttpServerCounters& admin,
                 std::size_t open_connections) {
  out.family("meridian_admin_connections", MetricType::gauge, "Open admin API connections.");
  out.sample("meridian_admin_connections", {}, static_cast<double>(open_connections));
  out.family("meridian_admin_connections_refused_total", MetricType::counter,
             "Admin API connections closed at accept: the client address's cap (client_limit) "
             "or the server's (server_limit).");
  out.sample("meridian_admin_connections_refused_total", {{"reason", "client_limit"}},
             static_cast<double>(admin.refused_client_limit));
  out.sample("meridian_admin_connections_refused_total", {{"reason", "server_limit"}},
             static_cast<double>(admin.refused));
}

void write_health(PrometheusWriter& out, const gslb::NodeView& view) {
  out.family("meridian_probes_total", MetricType::counter,
             "Health probes completed, by check and result.");
  for (const auto& [check, entry] : view.probes.by_check()) {
    for (std::size_t i = 0; i < entry.outcomes.size(); ++i) {
      if (entry.outcomes[i] == 0 && i != 0) continue;
      const std::string result =
          i == 0 ? "ok" : health::to_string(static_cast<health::ProbeFailure>(i));
      out.sample("meridian_probes_total", {{"check", check}, {"result", result}},
                 static_cast<double>(entry.outcomes[i]));
    }
  }
  out.family("meridian_probe_duration_seconds", MetricType::histogram,
             "Health probe latency, by check.");
  for (const auto& [check, entry] : view.probes.by_check()) {
    out.histogram("meridian_probe_duration_seconds", {{"check", check}},
                  health::ProbeMetrics::kBounds, entry.buckets, entry.latency_sum_s);
  }
  out.family("meridian_endpoint_usable", MetricType::gauge,
             "1 when the endpoint is in answers, by service.");
  for (const gslb::ServiceView& service : view.services) {
    for (const gslb::EndpointView& endpoint : service.endpoints) {
      out.sample(
          "meridian_endpoint_usable",
          {{"service", service.name},
           {"endpoint", endpoint.addresses.empty() ? endpoint.target : endpoint.addresses.front()},
           {"site", endpoint.site}},
          endpoint.usable ? 1 : 0);
    }
  }
  out.family("meridian_site_usable_endpoints", MetricType::gauge,
             "Endpoints of the site in answers now.");
  for (const gslb::SiteView& site : view.sites) {
    out.sample("meridian_site_usable_endpoints", {{"site", site.name}}, site.usable);
  }
  out.family("meridian_health_fallback", MetricType::gauge,
             "1 while the node is cut off from the cluster and answers from its own probes.");
  out.sample("meridian_health_fallback", {}, view.fallback ? 1 : 0);
  out.family("meridian_verdict_changes_total", MetricType::counter,
             "Replicated verdict changes this node applied (up to down or back).");
  out.sample("meridian_verdict_changes_total", {}, static_cast<double>(view.verdict_changes));
}

void write_store(PrometheusWriter& out, const store::StoreStatus& store) {
  out.family("meridian_raft_term", MetricType::gauge, "The current Raft term.");
  out.sample("meridian_raft_term", {}, static_cast<double>(store.term));
  out.family("meridian_raft_role", MetricType::gauge, "1 for this member's current Raft role.");
  for (const store::Role role : {store::Role::follower, store::Role::pre_candidate,
                                 store::Role::candidate, store::Role::leader}) {
    out.sample("meridian_raft_role", {{"role", store::to_string(role)}},
               store.role == role ? 1 : 0);
  }
  out.family("meridian_raft_commit_index", MetricType::gauge,
             "The highest log index known committed.");
  out.sample("meridian_raft_commit_index", {}, static_cast<double>(store.commit));
  out.family("meridian_raft_applied_index", MetricType::gauge,
             "The highest log index applied here.");
  out.sample("meridian_raft_applied_index", {}, static_cast<double>(store.applied));
  out.family("meridian_raft_members", MetricType::gauge,
             "Members of the cluster (voters and learners).");
  out.sample("meridian_raft_members", {}, static_cast<double>(store.members.size()));
  out.family("meridian_raft_proposal_duration_seconds", MetricType::histogram,
             "Writes this member proposed as leader, from proposal to commit and apply.");
  out.histogram("meridian_raft_proposal_duration_seconds", {}, store::kProposalLatencyBounds,
                store.proposal_latency.counts, store.proposal_latency.sum_s);
  out.family("meridian_raft_proposals_failed_total", MetricType::counter,
             "Writes this member proposed that did not commit (leadership changed, or timed out).");
  out.sample("meridian_raft_proposals_failed_total", {},
             static_cast<double>(store.proposal_latency.failed));
  if (store.backend != "raft") return;
  out.family("meridian_store_state_bytes", MetricType::gauge,
             "Bytes of keys and values in the replicated state.");
  out.sample("meridian_store_state_bytes", {}, static_cast<double>(store.state_bytes));
  out.family("meridian_store_state_budget_bytes", MetricType::gauge,
             "The replicated state's budget (cluster.max_state_mb).");
  out.sample("meridian_store_state_budget_bytes", {},
             static_cast<double>(store.state_budget_bytes));
  out.family("meridian_store_writes_over_budget_total", MetricType::counter,
             "Writes this member refused as leader because they would pass the state budget.");
  out.sample("meridian_store_writes_over_budget_total", {},
             static_cast<double>(store.writes_over_budget));
  out.family("meridian_raft_compaction_failures_total", MetricType::counter,
             "Log compactions that failed (the log stays intact; retried later).");
  out.sample("meridian_raft_compaction_failures_total", {},
             static_cast<double>(store.compaction_failures));
  const store::TransportCounters& transport = store.transport;
  out.family("meridian_cluster_frames_refused_total", MetricType::counter,
             "Peer frames dropped: from a node that is not a member (not_member), claiming "
             "another sender than the authenticated peer (wrong_sender), malformed (bad_frame, "
             "the connection closed), or a snapshot that does not decode (bad_snapshot).");
  out.sample("meridian_cluster_frames_refused_total", {{"reason", "not_member"}},
             static_cast<double>(transport.not_member));
  out.sample("meridian_cluster_frames_refused_total", {{"reason", "wrong_sender"}},
             static_cast<double>(transport.wrong_sender));
  out.sample("meridian_cluster_frames_refused_total", {{"reason", "bad_frame"}},
             static_cast<double>(transport.bad_frames));
  out.sample("meridian_cluster_frames_refused_total", {{"reason", "bad_snapshot"}},
             static_cast<double>(transport.bad_snapshots));
  out.family("meridian_cluster_connections_refused_total", MetricType::counter,
             "Peer connections refused or closed: by a cap on the source address's handshakes "
             "(handshake_limit), the authenticated peer's connections (peer_limit, the oldest "
             "closed) or all incoming connections (server_limit); a revoked certificate, either "
             "direction (revoked_certificate); an incoming TLS handshake or hello that failed "
             "(handshake).");
  out.sample("meridian_cluster_connections_refused_total", {{"reason", "handshake_limit"}},
             static_cast<double>(transport.refused_handshake_limit));
  out.sample("meridian_cluster_connections_refused_total", {{"reason", "peer_limit"}},
             static_cast<double>(transport.closed_peer_limit));
  out.sample("meridian_cluster_connections_refused_total", {{"reason", "server_limit"}},
             static_cast<double>(transport.refused_server_limit));
  out.sample("meridian_cluster_connections_refused_total", {{"reason", "revoked_certificate"}},
             static_cast<double>(transport.revoked_certificates));
  out.sample("meridian_cluster_connections_refused_total", {{"reason", "handshake"}},
             static_cast<double>(transport.rejected_handshakes));
  out.family("meridian_cluster_handshake_timeouts_total", MetricType::counter,
             "Incoming peer connections closed because the TLS handshake and hello did not "
             "finish within the handshake timeout.");
  out.sample("meridian_cluster_handshake_timeouts_total", {},
             static_cast<double>(transport.handshake_timeouts));
}

}  // namespace

std::string render_metrics(const gslb::NodeApi& node, const HttpServer* admin) {
  PrometheusWriter out;
  write_identity(out, node);
  write_process(out, node);
  write_dns(out, node);
  if (admin != nullptr) write_admin(out, admin->counters(), admin->open_connections());
  if (const auto view = node.current_view()) write_health(out, *view);
  if (const store::ReplicatedStore* store = node.store()) write_store(out, store->status());
  return std::move(out).text();
}

void add_metrics_route(HttpServer& server, gslb::NodeApi& node, boost::asio::io_context& io) {
  server.route(http::verb::get, "/metrics", Access::read,
               [&node, &io, &server](const HttpRequest&, Responder respond) {
                 answer_when_fresh(node, io, std::move(respond),
                                   [&node, &server](const std::shared_ptr<const gslb::NodeView>&) {
                                     HttpResponse response;
                                     response.content_type = std::string(kPrometheusContentType);
                                     response.body = render_metrics(node, &server);
                                     return response;
                                   });
               });
}

}  // namespace meridian::admin
