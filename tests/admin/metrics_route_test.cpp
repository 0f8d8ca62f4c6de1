// GET /metrics' content (admin/metrics_route.hpp) from a fake node: every
// family with its help, type, labels and value source, in exposition
// order; the view's and the store's families only when there is one.

#include "admin/metrics_route.hpp"

#include <catch2/catch.hpp>

#include <regex>
#include <string>

#include "base/clock.hpp"
#include "fake_node.hpp"
#include "store/memory_store.hpp"

using namespace meridian;
using namespace meridian::admin;

namespace {

/// The body with the process' own numbers (memory, fds, CPU), which vary
/// from run to run, replaced by "N".
std::string stable(const std::string& body) {
  static const std::regex varying(
      "^(process_(resident_memory_bytes|virtual_memory_bytes|open_fds|cpu_seconds_total)) .*$",
      std::regex::multiline);
  return std::regex_replace(body, varying, "$1 N");
}

gslb::QueryTotals some_totals() {
  gslb::QueryTotals totals;
  totals.queries = 15;
  totals.dropped = 1;
  totals.truncated = 2;
  totals.client_subnet = 3;
  totals.service_answers = 8;
  totals.fail_open = 4;
  totals.fail_closed = 6;
  totals.cookie_client_only = 7;
  totals.cookie_valid = 8;
  totals.cookie_invalid = 9;
  totals.rate_limited_dropped = 10;
  totals.rate_limited_slipped = 11;
  totals.by_rcode[0] = 9;
  totals.by_rcode[9] = 1;  // NOTAUTH: shown once counted
  totals.by_qtype[0] = 12;
  totals.by_qtype[16] = 3;  // other
  totals.by_zone = {10, 0, 0};
  totals.by_service = {8, 0};
  totals.by_site = {5, 3, 0};
  totals.zone_names = {"example.test."};
  totals.service_names = {"www.example.test."};
  totals.site_names = {"eu-west", "us-west"};
  return totals;
}

std::shared_ptr<const gslb::NodeView> some_view() {
  auto view = std::make_shared<gslb::NodeView>();
  health::ProbeResult ok;
  ok.ok = true;
  ok.latency = std::chrono::microseconds(3000);
  health::ProbeResult refused;
  refused.failure = health::ProbeFailure::refused;
  refused.latency = std::chrono::microseconds(200);
  view->probes.record("web", ok);
  view->probes.record("web", refused);
  gslb::ServiceView www;
  www.name = "www.example.test.";
  gslb::EndpointView eu;
  eu.addresses = {"192.0.2.20", "2001:db8::20"};
  eu.site = "eu-west";
  eu.usable = true;
  gslb::EndpointView cname;
  cname.target = "cdn.example.net.@us-west/none";
  cname.site = "us-west";
  cname.usable = false;
  www.endpoints = {eu, cname};
  view->services = {www};
  gslb::SiteView site;
  site.name = "eu-west";
  site.usable = 1;
  view->sites = {site};
  view->fallback = true;
  view->verdict_changes = 7;
  return view;
}

/// The whole body for a single node with some_totals() and some_view(),
/// 2.5 s after its start.
const std::string kSingleNode = R"golden(# HELP meridian_build_info The running version (always 1).
# TYPE meridian_build_info gauge
meridian_build_info{version="0.0.0-test",node="c1",site="here"} 1
# HELP meridian_uptime_seconds Seconds since the node started.
# TYPE meridian_uptime_seconds gauge
meridian_uptime_seconds 2.5
# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes N
# HELP process_virtual_memory_bytes Virtual memory size in bytes.
# TYPE process_virtual_memory_bytes gauge
process_virtual_memory_bytes N
# HELP process_open_fds Open file descriptors.
# TYPE process_open_fds gauge
process_open_fds N
# HELP process_cpu_seconds_total User and system CPU time in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total N
# HELP process_start_time_seconds Start time of the process since the Unix epoch.
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1700000000
# HELP meridian_dns_queries_total DNS queries received (UDP and TCP).
# TYPE meridian_dns_queries_total counter
meridian_dns_queries_total 15
# HELP meridian_dns_responses_total DNS responses sent, by rcode.
# TYPE meridian_dns_responses_total counter
meridian_dns_responses_total{rcode="NOERROR"} 9
meridian_dns_responses_total{rcode="FORMERR"} 0
meridian_dns_responses_total{rcode="SERVFAIL"} 0
meridian_dns_responses_total{rcode="NXDOMAIN"} 0
meridian_dns_responses_total{rcode="NOTIMP"} 0
meridian_dns_responses_total{rcode="REFUSED"} 0
meridian_dns_responses_total{rcode="NOTAUTH"} 1
# HELP meridian_dns_dropped_total Packets dropped without a reply (too short, or a response).
# TYPE meridian_dns_dropped_total counter
meridian_dns_dropped_total 1
# HELP meridian_dns_truncated_total UDP answers sent truncated (TC).
# TYPE meridian_dns_truncated_total counter
meridian_dns_truncated_total 2
# HELP meridian_dns_ecs_queries_total Queries carrying a valid EDNS Client Subnet.
# TYPE meridian_dns_ecs_queries_total counter
meridian_dns_ecs_queries_total 3
# HELP meridian_dns_service_answers_total Answers chosen by steering.
# TYPE meridian_dns_service_answers_total counter
meridian_dns_service_answers_total 8
# HELP meridian_dns_fail_open_answers_total Service answers given with nothing healthy (fail open).
# TYPE meridian_dns_fail_open_answers_total counter
meridian_dns_fail_open_answers_total 4
# HELP meridian_dns_fail_closed_total Service queries answered NODATA or SERVFAIL because nothing was healthy (fail closed).
# TYPE meridian_dns_fail_closed_total counter
meridian_dns_fail_closed_total 6
# HELP meridian_dns_cookies_total Queries with a DNS COOKIE, by what their server cookie proved: client_only (none sent), valid, invalid (not ours, expired, or for another address).
# TYPE meridian_dns_cookies_total counter
meridian_dns_cookies_total{server_cookie="client_only"} 7
meridian_dns_cookies_total{server_cookie="valid"} 8
meridian_dns_cookies_total{server_cookie="invalid"} 9
# HELP meridian_dns_rate_limited_total UDP responses over the response rate limit: dropped, or slipped (sent truncated).
# TYPE meridian_dns_rate_limited_total counter
meridian_dns_rate_limited_total{action="dropped"} 10
meridian_dns_rate_limited_total{action="slipped"} 11
# HELP meridian_dns_queries_by_type_total DNS queries by query type.
# TYPE meridian_dns_queries_by_type_total counter
meridian_dns_queries_by_type_total{qtype="A"} 12
meridian_dns_queries_by_type_total{qtype="NS"} 0
meridian_dns_queries_by_type_total{qtype="CNAME"} 0
meridian_dns_queries_by_type_total{qtype="SOA"} 0
meridian_dns_queries_by_type_total{qtype="PTR"} 0
meridian_dns_queries_by_type_total{qtype="MX"} 0
meridian_dns_queries_by_type_total{qtype="TXT"} 0
meridian_dns_queries_by_type_total{qtype="AAAA"} 0
meridian_dns_queries_by_type_total{qtype="other"} 3
# HELP meridian_dns_queries_by_zone_total DNS queries answered from each zone.
# TYPE meridian_dns_queries_by_zone_total counter
meridian_dns_queries_by_zone_total{zone="example.test."} 10
# HELP meridian_dns_service_answers_by_service_total Steered answers by service.
# TYPE meridian_dns_service_answers_by_service_total counter
meridian_dns_service_answers_by_service_total{service="www.example.test."} 8
# HELP meridian_dns_answers_by_site_total Steered answers by the site of the first answer.
# TYPE meridian_dns_answers_by_site_total counter
meridian_dns_answers_by_site_total{site="eu-west"} 5
meridian_dns_answers_by_site_total{site="us-west"} 3
# HELP meridian_dns_tcp_connections Open DNS TCP connections.
# TYPE meridian_dns_tcp_connections gauge
meridian_dns_tcp_connections 2
# HELP meridian_dns_tcp_client_networks Client networks (IPv4 /24, IPv6 /56) holding DNS TCP connections.
# TYPE meridian_dns_tcp_client_networks gauge
meridian_dns_tcp_client_networks 1
# HELP meridian_dns_tcp_connections_refused_total DNS TCP connections closed at accept: the client network's cap (client_limit) or the server's, with nothing idle to evict (server_limit).
# TYPE meridian_dns_tcp_connections_refused_total counter
meridian_dns_tcp_connections_refused_total{reason="client_limit"} 1936
meridian_dns_tcp_connections_refused_total{reason="server_limit"} 3
# HELP meridian_dns_tcp_connections_evicted_total Idle DNS TCP connections closed to make room at tcp_max_connections.
# TYPE meridian_dns_tcp_connections_evicted_total counter
meridian_dns_tcp_connections_evicted_total 7
# HELP meridian_probes_total Health probes completed, by check and result.
# TYPE meridian_probes_total counter
meridian_probes_total{check="web",result="ok"} 1
meridian_probes_total{check="web",result="refused"} 1
# HELP meridian_probe_duration_seconds Health probe latency, by check.
# TYPE meridian_probe_duration_seconds histogram
meridian_probe_duration_seconds_bucket{check="web",le="0.001"} 1
meridian_probe_duration_seconds_bucket{check="web",le="0.0025"} 1
meridian_probe_duration_seconds_bucket{check="web",le="0.005"} 2
meridian_probe_duration_seconds_bucket{check="web",le="0.01"} 2
meridian_probe_duration_seconds_bucket{check="web",le="0.025"} 2
meridian_probe_duration_seconds_bucket{check="web",le="0.05"} 2
meridian_probe_duration_seconds_bucket{check="web",le="0.1"} 2
meridian_probe_duration_seconds_bucket{check="web",le="0.25"} 2
meridian_probe_duration_seconds_bucket{check="web",le="0.5"} 2
meridian_probe_duration_seconds_bucket{check="web",le="1"} 2
meridian_probe_duration_seconds_bucket{check="web",le="2.5"} 2
meridian_probe_duration_seconds_bucket{check="web",le="5"} 2
meridian_probe_duration_seconds_bucket{check="web",le="+Inf"} 2
meridian_probe_duration_seconds_sum{check="web"} 0.0032
meridian_probe_duration_seconds_count{check="web"} 2
# HELP meridian_endpoint_usable 1 when the endpoint is in answers, by service.
# TYPE meridian_endpoint_usable gauge
meridian_endpoint_usable{service="www.example.test.",endpoint="192.0.2.20",site="eu-west"} 1
meridian_endpoint_usable{service="www.example.test.",endpoint="cdn.example.net.@us-west/none",site="us-west"} 0
# HELP meridian_site_usable_endpoints Endpoints of the site in answers now.
# TYPE meridian_site_usable_endpoints gauge
meridian_site_usable_endpoints{site="eu-west"} 1
# HELP meridian_health_fallback 1 while the node is cut off from the cluster and answers from its own probes.
# TYPE meridian_health_fallback gauge
meridian_health_fallback 1
# HELP meridian_verdict_changes_total Replicated verdict changes this node applied (up to down or back).
# TYPE meridian_verdict_changes_total counter
meridian_verdict_changes_total 7
)golden";

}  // namespace

TEST_CASE("metrics route: a single node's families, in order", "[admin][metrics_route]") {
  ManualClock clock;
  test::FakeNode node(clock);
  node.totals_ = some_totals();
  node.tcp_connections_ = 2;
  node.tcp_limits_ = gslb::TcpLimitStats{1, 1936, 3, 7};
  node.view_ = some_view();
  clock.advance(std::chrono::milliseconds(2500));
  CHECK(stable(render_metrics(node)) == kSingleNode);
}

TEST_CASE("metrics route: no view yet, no health families", "[admin][metrics_route]") {
  ManualClock clock;
  test::FakeNode node(clock);
  node.totals_ = some_totals();
  const std::string body = render_metrics(node);
  CHECK_THAT(body, Catch::EndsWith("# TYPE meridian_dns_tcp_connections_evicted_total "
                                   "counter\nmeridian_dns_tcp_connections_evicted_total 0\n"));
  CHECK_THAT(body, !Catch::Contains("meridian_probes_total"));
  CHECK_THAT(body, !Catch::Contains("meridian_raft_"));
  // Nothing counted: the common rcodes and types are there anyway, at 0.
  node.totals_ = gslb::sum_query_stats({}, nullptr);
  const std::string idle = render_metrics(node);
  CHECK_THAT(idle, Catch::Contains("meridian_dns_responses_total{rcode=\"REFUSED\"} 0\n"));
  CHECK_THAT(idle, !Catch::Contains("rcode=\"YXDOMAIN\""));
  CHECK_THAT(idle, Catch::Contains("meridian_dns_queries_by_type_total{qtype=\"AAAA\"} 0\n"));
  CHECK_THAT(idle, !Catch::Contains("qtype=\"SRV\""));
  CHECK_THAT(idle, Catch::Contains("# TYPE meridian_dns_queries_by_zone_total counter\n# HELP"));
}

TEST_CASE("metrics route: with the admin server, its connections follow the DNS families",
          "[admin][metrics_route]") {
  ManualClock clock;
  test::FakeNode node(clock);
  node.totals_ = some_totals();
  boost::asio::io_context io;
  Logger logger(LogLevel::error, [](std::string_view) {});
  HttpServer server(io, HttpServerSettings{}, logger);
  CHECK_THAT(render_metrics(node, &server),
             Catch::EndsWith("meridian_dns_tcp_connections_evicted_total 0\n"
                             "# HELP meridian_admin_connections Open admin API connections.\n"
                             "# TYPE meridian_admin_connections gauge\n"
                             "meridian_admin_connections 0\n"
                             "# HELP meridian_admin_connections_refused_total Admin API "
                             "connections closed at accept: the client address's cap "
                             "(client_limit) or the server's (server_limit).\n"
                             "# TYPE meridian_admin_connections_refused_total counter\n"
                             "meridian_admin_connections_refused_total{reason=\"client_limit\"} 0\n"
                             "meridian_admin_connections_refused_total{reason=\"server_limit\"} "
                             "0\n"));
}

TEST_CASE("metrics route: in a cluster, the store's families come last", "[admin][metrics_route]") {
  ManualClock clock;
  test::FakeNode node(clock);
  store::MemoryStore store(clock, "c1");
  node.store_ = &store;
  node.view_ = some_view();
  CHECK_THAT(render_metrics(node), Catch::EndsWith(R"golden(meridian_verdict_changes_total 7
# HELP meridian_raft_term The current Raft term.
# TYPE meridian_raft_term gauge
meridian_raft_term 0
# HELP meridian_raft_role 1 for this member's current Raft role.
# TYPE meridian_raft_role gauge
meridian_raft_role{role="follower"} 0
meridian_raft_role{role="pre-candidate"} 0
meridian_raft_role{role="candidate"} 0
meridian_raft_role{role="leader"} 1
# HELP meridian_raft_commit_index The highest log index known committed.
# TYPE meridian_raft_commit_index gauge
meridian_raft_commit_index 0
# HELP meridian_raft_applied_index The highest log index applied here.
# TYPE meridian_raft_applied_index gauge
meridian_raft_applied_index 0
# HELP meridian_raft_members Members of the cluster (voters and learners).
# TYPE meridian_raft_members gauge
meridian_raft_members 1
# HELP meridian_raft_proposal_duration_seconds Writes this member proposed as leader, from proposal to commit and apply.
# TYPE meridian_raft_proposal_duration_seconds histogram
meridian_raft_proposal_duration_seconds_bucket{le="0.001"} 0
meridian_raft_proposal_duration_seconds_bucket{le="0.0025"} 0
meridian_raft_proposal_duration_seconds_bucket{le="0.005"} 0
meridian_raft_proposal_duration_seconds_bucket{le="0.01"} 0
meridian_raft_proposal_duration_seconds_bucket{le="0.025"} 0
meridian_raft_proposal_duration_seconds_bucket{le="0.05"} 0
meridian_raft_proposal_duration_seconds_bucket{le="0.1"} 0
meridian_raft_proposal_duration_seconds_bucket{le="0.25"} 0
meridian_raft_proposal_duration_seconds_bucket{le="0.5"} 0
meridian_raft_proposal_duration_seconds_bucket{le="1"} 0
meridian_raft_proposal_duration_seconds_bucket{le="2.5"} 0
meridian_raft_proposal_duration_seconds_bucket{le="5"} 0
meridian_raft_proposal_duration_seconds_bucket{le="+Inf"} 0
meridian_raft_proposal_duration_seconds_sum 0
meridian_raft_proposal_duration_seconds_count 0
# HELP meridian_raft_proposals_failed_total Writes this member proposed that did not commit (leadership changed, or timed out).
# TYPE meridian_raft_proposals_failed_total counter
meridian_raft_proposals_failed_total 0
)golden"));
}
