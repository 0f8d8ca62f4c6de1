#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "gslb/health_plan.hpp"
#include "gslb/routing_builder.hpp"

using namespace meridian;
using namespace meridian::gslb;

namespace {

const char* kConfig = R"(
node: { id: t, site: eu-west }
sites:
  eu-west: { lat: 51.51, lon: -0.13 }
  us-east: { lat: 39.04, lon: -77.49 }
checks:
  web: { type: http, interval: 2s, timeout: 1s, rise: 3, fall: 2 }
zones:
  - origin: demo.test.
    soa: { mname: ns1, rname: hostmaster }
    ns: [ns1]
    records: ["ns1 IN A 127.0.0.1"]
    services:
      www:
        ttl: 60
        check: web
        endpoints:
          - { address: [192.0.2.30, "2001:db8::30"], site: eu-west }
          - { address: 192.0.2.20, site: us-east, check: none }
      api:
        ttl: 30
        check: web
        endpoints:
          - { address: 192.0.2.30, site: eu-west }
)";

Config load() {
  auto config = parse_config(kConfig, "t.yaml", "");
  if (!config) FAIL(config.error().message);
  return std::move(config).value();
}

}  // namespace

TEST_CASE("health plan: endpoints sharing address, site and check share a target", "[main]") {
  const Config config = load();
  const HealthPlan plan = plan_health(config);
  REQUIRE(plan.target_of.size() == 2);
  CHECK(plan.targets.size() == 2);  // 192.0.2.30 (web) and 192.0.2.20 (no check)
  CHECK(plan.target_of[0][0] == plan.target_of[1][0]);  // www and api probe 192.0.2.30 once
  CHECK_FALSE(plan.targets[plan.target_of[0][1]].check.has_value());
}

TEST_CASE("health plan: verdicts mark addresses and cut TTLs", "[main]") {
  const Config config = load();
  const HealthPlan plan = plan_health(config);
  health::HealthTracker tracker(plan.targets, health::UnknownPolicy::up);

  // Stable: full TTLs, everything healthy.
  health::ProbeResult ok;
  ok.ok = true;
  tracker.record(plan.target_of[0][0], ok, Clock::TimePoint{});
  ServiceVerdicts verdicts = verdicts_of(plan, tracker);
  auto services = build_services(config, &verdicts);
  REQUIRE(services.size() == 2);
  CHECK(services[0].ttl_s == 60);

  // The eu-west endpoint goes down: rise 3 x 2 s = 6 s until it could be
  // back, clamped to min_ttl (60/2 = 30).
  health::ProbeResult bad;
  tracker.record(plan.target_of[0][0], bad, Clock::TimePoint{});
  tracker.record(plan.target_of[0][0], bad, Clock::TimePoint{});
  REQUIRE_FALSE(tracker.usable(plan.target_of[0][0]));
  verdicts = verdicts_of(plan, tracker);
  services = build_services(config, &verdicts);
  CHECK(services[0].ttl_s == 30);
  CHECK(services[1].ttl_s == 15);  // api: ttl 30, min_ttl 15

  // Both addresses of the endpoint are out; us-east answers.
  Rng rng(1);
  IpNetwork client;
  IpNetwork::parse("81.2.69.0/24", client);
  const IpAddress* out[1] = {};
  const geo::Choice v4 =
      services[0].steering.choose(nullptr, client, IpAddress::Family::v4, rng, out);
  REQUIRE(v4.count == 1);
  CHECK(out[0]->to_string() == "192.0.2.20");
  const geo::Choice v6 =
      services[0].steering.choose(nullptr, client, IpAddress::Family::v6, rng, out);
  CHECK(v6.degraded);  // its only IPv6 address is down: fail open

  // A config override drains a site regardless of probes.
  Config drained = config;
  OverrideConfig drain;
  drain.scope = OverrideConfig::Scope::site;
  drain.site = 1;
  drained.overrides.push_back(drain);
  health::HealthTracker fresh(plan.targets, health::UnknownPolicy::up);
  apply_config_overrides(drained, fresh);
  CHECK_FALSE(fresh.usable(plan.target_of[0][1]));
  CHECK(fresh.usable(plan.target_of[0][0]));
}

namespace {

// Four sites on a line of longitude-ish spacing, a node at `site`, checks
// with each kind of probe_from.
Config cluster_config(const std::string& site) {
  const std::string text = R"(
node: { id: n, site: )" + site +
                           R"(, data_dir: /tmp/unused }
sites:
  lon: { lat: 51.5, lon: -0.1 }
  par: { lat: 48.9, lon: 2.4 }
  fra: { lat: 50.1, lon: 8.7 }
  tyo: { lat: 35.7, lon: 139.7 }
cluster:
  listen: 127.0.0.1:7400
  peers: [{ id: n, address: "127.0.0.1:7400" }]
  tls: { ca: ca.pem, cert: n.pem, key: n.key }
checks:
  everyone: { type: tcp, port: 80 }
  listed: { type: tcp, port: 81, probe_from: [par, tyo], quorum: all }
  near: { type: tcp, port: 82, probe_from: { nearest: 2 } }
zones:
  - origin: demo.test.
    soa: { mname: ns1, rname: hostmaster }
    ns: [ns1]
    records: ["ns1 IN A 127.0.0.1"]
    services:
      www:
        endpoints:
          - { address: 192.0.2.1, site: lon, check: everyone }
          - { address: 192.0.2.2, site: lon, check: listed }
          - { address: 192.0.2.3, site: lon, check: near }
          - { address: 192.0.2.4, site: tyo, check: near }
)";
  auto config = parse_config(text, "c.yaml", "");
  if (!config) FAIL(config.error().message);
  return std::move(config).value();
}

std::vector<bool> probed_here(const std::string& site) {
  const Config config = cluster_config(site);
  const HealthPlan plan = plan_health(config);
  std::vector<bool> out;
  for (const std::size_t target : plan.target_of[0])
    out.push_back(plan.targets[target].probed_here);
  return out;
}

}  // namespace

TEST_CASE("health plan: probe_from decides which nodes probe which endpoints", "[main]") {
  // everyone; listed (par, tyo); nearest 2 of a London endpoint (lon, par);
  // nearest 2 of a Tokyo endpoint (tyo, then fra: closer to Tokyo than par or lon).
  CHECK(probed_here("lon") == std::vector<bool>{true, false, true, false});
  CHECK(probed_here("par") == std::vector<bool>{true, true, true, false});
  CHECK(probed_here("fra") == std::vector<bool>{true, false, false, true});
  CHECK(probed_here("tyo") == std::vector<bool>{true, true, false, true});
  // The quorum goes with the target to the cluster.
  const Config config = cluster_config("lon");
  const HealthPlan plan = plan_health(config);
  const auto infos = target_infos(plan, config);
  CHECK(infos[plan.target_of[0][0]].quorum == gslb::Quorum::majority);
  CHECK(infos[plan.target_of[0][1]].quorum == gslb::Quorum::all);
  CHECK(infos[plan.target_of[0][1]].answered == std::vector<std::string>{"192.0.2.2"});
}

TEST_CASE("health plan: a cut-off node answers from its own probes, the last verdict for the rest",
          "[main]") {
  const Config config = cluster_config("lon");
  const HealthPlan plan = plan_health(config);
  health::HealthTracker tracker(plan.targets, health::UnknownPolicy::up);
  const std::size_t probed = plan.target_of[0][0];    // lon probes it
  const std::size_t unprobed = plan.target_of[0][1];  // only par and tyo do
  health::ProbeResult ok;
  ok.ok = true;
  for (int i = 0; i < 3; ++i) tracker.record(probed, ok, Clock::TimePoint{});
  REQUIRE(tracker.usable(probed));

  std::vector<gslb::TargetAnswer> replicated(plan.targets.size());
  replicated[probed].verdict = false;    // the cluster said down...
  replicated[unprobed].verdict = false;  // ...for both
  auto usable = [&](std::size_t endpoint) {
    return verdicts_of(plan, tracker, &replicated)[0][endpoint].usable;
  };
  CHECK_FALSE(usable(0));  // connected: the cluster's verdict wins
  CHECK_FALSE(usable(1));
  for (auto& answer : replicated) answer.local_first = true;
  CHECK(usable(0));        // cut off: its own probe says up
  CHECK_FALSE(usable(1));  // it does not probe this one: the last verdict stands
  replicated[probed].forced = false;
  CHECK_FALSE(usable(0));  // an operator's override beats everything
}
