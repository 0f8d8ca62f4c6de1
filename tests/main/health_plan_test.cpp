#include <catch2/catch.hpp>

#include "main/config.hpp"
#include "main/health_plan.hpp"
#include "main/routing_builder.hpp"

using namespace meridian;

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
  CHECK(plan.targets.size() == 2);                       // 192.0.2.30 (web) and 192.0.2.20 (no check)
  CHECK(plan.target_of[0][0] == plan.target_of[1][0]);   // www and api probe 192.0.2.30 once
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
  const geo::Choice v4 = services[0].steering.choose(nullptr, client, IpAddress::Family::v4, rng, out);
  REQUIRE(v4.count == 1);
  CHECK(out[0]->to_string() == "192.0.2.20");
  const geo::Choice v6 = services[0].steering.choose(nullptr, client, IpAddress::Family::v6, rng, out);
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
