// VerdictFollower: the replicated verdicts and operator overrides as this
// member applied them, handed to the routing table's builder, and fallback
// when the member is cut off.

#include "gslb/verdict_follower.hpp"

#include <catch2/catch.hpp>

#include "tests/gslb/health_flow_support.hpp"

using namespace meridian;
using namespace meridian::gslb;
using namespace meridian::gslb::test;

namespace {

/// A follower started over `bench`, with two_targets().
struct Following {
  explicit Following(Bench& bench, std::chrono::milliseconds fallback_after = 5s)
      : follower(bench.store, bench.scheduler, bench.clock, bench.logger, fallback_after, sink) {
    follower.start([this](Result<void> result) { loaded = result.ok(); });
    bench.scheduler.run_due();
    follower.set_targets(two_targets());
  }
  RecordedVerdicts sink;
  VerdictFollower follower;
  bool loaded = false;
};

std::string verdict_key(const std::string& target) {
  return std::string(kVerdictPrefix) + target;
}

}  // namespace

TEST_CASE("verdict follower: what the store holds is applied before it says loaded",
          "[gslb][health]") {
  Bench bench;
  bench.put(verdict_key("192.0.2.1@s1/web:80"), encode_verdict(Verdict{false, 0, 3, false}));
  Following following(bench);
  CHECK(following.loaded);
  CHECK(following.follower.verdicts() == std::vector<std::optional<bool>>{false, std::nullopt});
  CHECK(following.follower.verdict("192.0.2.1@s1/web:80") == Verdict{false, 0, 3, false});
}

TEST_CASE("verdict follower: each applied verdict reaches the sink, flips are counted",
          "[gslb][health]") {
  Bench bench;
  Following following(bench);
  const int before = following.sink.calls;
  bench.put(verdict_key("192.0.2.2@s2/web:80"), encode_verdict(Verdict{true, 2, 3, false}));
  bench.scheduler.run_due();  // watch callbacks are handed to the scheduler's thread
  CHECK(following.sink.calls > before);
  REQUIRE(following.sink.last.size() == 2);
  CHECK(following.sink.last[1] == TargetAnswer{std::nullopt, true, false});
  CHECK(following.follower.verdict_changes() == 0);  // the first verdict is no flip
  bench.put(verdict_key("192.0.2.2@s2/web:80"), encode_verdict(Verdict{false, 1, 3, false}));
  bench.put(verdict_key("192.0.2.2@s2/web:80"), encode_verdict(Verdict{false, 0, 3, false}));
  bench.scheduler.run_due();
  CHECK(following.sink.last[1].verdict == std::optional<bool>(false));
  CHECK(following.follower.verdict_changes() == 1);
}

TEST_CASE(
    "verdict follower: an endpoint's override beats its site's, by probed or answered address",
    "[gslb][health]") {
  Bench bench;
  Following following(bench);
  const OperatorOverride drain{ForcedState::drain, 1, 0, "alice", "maintenance"};
  const OperatorOverride up{ForcedState::up, 1, 0, "bob", "the probe is wrong"};
  bench.put(std::string(kSiteOverridePrefix) + "s1", encode_override(drain));
  bench.put(std::string(kSiteOverridePrefix) + "s2", encode_override(drain));
  // Named by an address the endpoint answers, not the one it is probed at.
  bench.put(std::string(kEndpointOverridePrefix) + "198.51.100.1", encode_override(up));
  bench.scheduler.run_due();
  const auto answers = following.follower.answers();
  CHECK(answers[0].forced == std::optional<bool>(true));
  CHECK(answers[1].forced == std::optional<bool>(false));
  CHECK(following.sink.last == answers);
  bench.remove(std::string(kEndpointOverridePrefix) + "198.51.100.1");
  bench.scheduler.run_due();
  CHECK(following.follower.answers()[0].forced == std::optional<bool>(false));
}

TEST_CASE(
    "verdict follower: cut off for local_fallback_after, it falls back, and returns with a leader",
    "[gslb][health]") {
  Bench bench;
  Following following(bench, 3s);
  bench.put(verdict_key("192.0.2.1@s1/web:80"), encode_verdict(Verdict{true, 3, 3, false}));
  bench.scheduler.run_due();
  following.follower.tick(bench.clock.now());
  CHECK_FALSE(following.follower.fallback());

  bench.store.set_reachable(false);  // no leader known from now on
  for (int i = 0; i < 6; ++i) {      // 3 s in half-second ticks: not yet
    bench.clock.advance(500ms);
    following.follower.tick(bench.clock.now());
  }
  CHECK_FALSE(following.follower.fallback());
  bench.clock.advance(500ms);
  following.follower.tick(bench.clock.now());
  CHECK(following.follower.fallback());
  // Its own probes come first now; the verdict is kept for the rest.
  CHECK(following.sink.last[0].local_first);
  CHECK(following.follower.answers()[0].verdict == std::optional<bool>(true));
  CHECK(following.follower.verdicts() ==
        std::vector<std::optional<bool>>{std::nullopt, std::nullopt});

  bench.store.set_reachable(true);
  bench.clock.advance(500ms);
  following.follower.tick(bench.clock.now());
  CHECK_FALSE(following.follower.fallback());
  CHECK_FALSE(following.sink.last[0].local_first);
}

TEST_CASE("verdict follower: a record it cannot read is ignored, not applied", "[gslb][health]") {
  Bench bench;
  Following following(bench);
  bench.put(verdict_key("192.0.2.1@s1/web:80"), "sideways 1/2");
  bench.put(std::string(kSiteOverridePrefix) + "s1", "not an override");
  bench.scheduler.run_due();
  CHECK(following.follower.verdicts() ==
        std::vector<std::optional<bool>>{std::nullopt, std::nullopt});
  CHECK(following.follower.answers()[0].forced == std::nullopt);
}

TEST_CASE("verdict follower: stopped, it ignores what the store applies later", "[gslb][health]") {
  Bench bench;
  Following following(bench);
  following.follower.stop();
  bench.put(verdict_key("192.0.2.1@s1/web:80"), encode_verdict(Verdict{false, 0, 1, false}));
  bench.scheduler.run_due();
  CHECK_FALSE(following.follower.verdict("192.0.2.1@s1/web:80").has_value());
}
