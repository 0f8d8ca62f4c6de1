// ObservationPublisher: this node's own views into the store, at most once
// per publish interval and only when they changed, and its lease renewed
// every interval.

#include "gslb/observation_publisher.hpp"

#include <catch2/catch.hpp>

#include "health/tracker.hpp"
#include "tests/gslb/health_flow_support.hpp"

using namespace meridian;
using namespace meridian::gslb;
using namespace meridian::gslb::test;

TEST_CASE("observation publisher: writes the view when it changed, at most once per interval",
          "[gslb][health]") {
  Bench bench;
  ObservationPublisher publisher(bench.store, bench.scheduler, "n1", 1s);
  publisher.set_targets(two_targets());
  const std::string key = std::string(kObservationPrefix) + "n1";

  publisher.observe({true, std::nullopt});
  publisher.tick(bench.clock.now());  // the first tick publishes
  REQUIRE(bench.get(key).has_value());
  CHECK(*decode_observations(*bench.get(key)) ==
        Observations{{"192.0.2.1@s1/web:80", true}, {"192.0.2.2@s2/web:80", std::nullopt}});

  // A change within the interval waits for it; never once per probe.
  publisher.observe({false, std::nullopt});
  bench.clock.advance(500ms);
  publisher.tick(bench.clock.now());
  CHECK(decode_observations(*bench.get(key))->at("192.0.2.1@s1/web:80") ==
        std::optional<bool>(true));
  bench.clock.advance(500ms);
  publisher.tick(bench.clock.now());
  CHECK(decode_observations(*bench.get(key))->at("192.0.2.1@s1/web:80") ==
        std::optional<bool>(false));

  // Nothing changed: the record is not written again (a watcher sees no change).
  int writes = 0;
  auto watched = bench.store.watch(
      key, [&](const std::string&, const std::optional<std::string>&, std::uint64_t) { ++writes; });
  REQUIRE(watched.ok());
  bench.clock.advance(1s);
  publisher.tick(bench.clock.now());
  CHECK(writes == 0);
}

TEST_CASE("observation publisher: renews its lease every interval", "[gslb][health]") {
  Bench bench;
  ObservationPublisher publisher(bench.store, bench.scheduler, "n1", 1s);
  publisher.set_targets(two_targets());
  publisher.tick(bench.clock.now());
  REQUIRE(bench.store.lease_renewals().count("n1") == 1);
  CHECK(bench.store.lease_renewals().at("n1") == bench.clock.now());
  bench.clock.advance(1s);
  publisher.tick(bench.clock.now());
  CHECK(bench.store.lease_renewals().at("n1") == bench.clock.now());
}

TEST_CASE("observation publisher: a view the store refused is written again at the next interval",
          "[gslb][health]") {
  Bench bench;
  ObservationPublisher publisher(bench.store, bench.scheduler, "n1", 1s);
  publisher.set_targets(two_targets());
  bench.store.set_reachable(false);
  publisher.observe({true, false});
  publisher.tick(bench.clock.now());
  bench.scheduler.run_due();  // the refusal comes back on the scheduler
  const std::string key = std::string(kObservationPrefix) + "n1";
  CHECK_FALSE(bench.get(key).has_value());
  bench.store.set_reachable(true);
  bench.clock.advance(1s);
  publisher.tick(bench.clock.now());
  REQUIRE(bench.get(key).has_value());
  CHECK(decode_observations(*bench.get(key))->at("192.0.2.2@s2/web:80") ==
        std::optional<bool>(false));
}

TEST_CASE("observation publisher: targets that stay keep their view across a new config",
          "[gslb][health]") {
  Bench bench;
  ObservationPublisher publisher(bench.store, bench.scheduler, "n1", 1s);
  publisher.set_targets(two_targets());
  publisher.observe({true, false});
  std::vector<TargetInfo> next = two_targets();
  next.erase(next.begin());  // the first target leaves the config
  publisher.set_targets(next);
  CHECK(publisher.mine() == Observations{{"192.0.2.2@s2/web:80", false}});
}

TEST_CASE("observation publisher: the tracker's views are its probed states, overrides ignored",
          "[gslb][health]") {
  health::CheckSpec check;
  check.rise = 1;
  check.fall = 1;
  health::HealthTracker tracker({{IpAddress::v4(192, 0, 2, 1), 0, check, true},
                                 {IpAddress::v4(192, 0, 2, 2), 1, check, true}},
                                health::UnknownPolicy::up);
  tracker.record(0, health::ProbeResult{false, health::ProbeFailure::refused, "", {}},
                 Clock::TimePoint{});
  tracker.set_endpoint_override(IpAddress::v4(192, 0, 2, 1), health::Override::force_up);
  CHECK(local_views(tracker) == std::vector<std::optional<bool>>{false, std::nullopt});
}
