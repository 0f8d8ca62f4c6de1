// VerdictDecider: on the decider, the views of the observers with a live
// lease become one verdict per target; it waits a lease timeout before it
// trusts silence, keeps the last verdict (stale) when nobody live has a
// view, expires overrides and bounds the event log.

#include "gslb/verdict_decider.hpp"

#include <catch2/catch.hpp>

#include "tests/gslb/health_flow_support.hpp"

using namespace meridian;
using namespace meridian::gslb;
using namespace meridian::gslb::test;

namespace {

constexpr const char* kA = "192.0.2.1@s1/web:80";
constexpr const char* kB = "192.0.2.2@s2/web:80";

/// A follower and a decider over `bench`; observers publish through put().
struct Deciding {
  explicit Deciding(Bench& bench, Quorum quorum = Quorum::majority)
      : bench(bench),
        follower(bench.store, bench.scheduler, bench.clock, bench.logger, 30s, sink),
        decider(bench.store, bench.scheduler, bench.clock, follower,
                VerdictDecider::Settings{"n1", quorum, std::chrono::seconds(2)}) {
    follower.start([](Result<void>) {});
    bench.scheduler.run_due();
    follower.set_targets(two_targets());
  }
  /// `observer` publishes its views and renews its lease now.
  void observe(const std::string& observer, std::optional<bool> a, std::optional<bool> b) {
    bench.put(std::string(kObservationPrefix) + observer, encode_observations({{kA, a}, {kB, b}}));
    bench.store.renew_lease(observer);
  }
  /// Moves time by `step`, ticking the decider every half second.
  void run(std::chrono::milliseconds step) {
    for (auto left = step; left > 0ms; left -= 500ms) {
      bench.clock.advance(std::min<std::chrono::milliseconds>(500ms, left));
      bench.scheduler.run_due();
      decider.tick(bench.clock.now());
      bench.scheduler.run_due();
    }
  }
  std::optional<Verdict> verdict(const char* target) {
    auto text = bench.get(std::string(kVerdictPrefix) + target);
    if (!text) return std::nullopt;
    return *decode_verdict(*text);
  }

  Bench& bench;
  RecordedVerdicts sink;
  VerdictFollower follower;
  VerdictDecider decider;
};

}  // namespace

TEST_CASE("verdict decider: the majority of live observers decides, after one lease timeout",
          "[gslb][health]") {
  Bench bench;
  Deciding deciding(bench);
  deciding.observe("n1", true, false);
  deciding.observe("n2", true, false);
  deciding.observe("n3", false, false);
  deciding.run(1500ms);
  // A new decider has not yet heard every renewal: silence proves nothing.
  CHECK_FALSE(deciding.verdict(kA).has_value());
  deciding.observe("n1", true, false);
  deciding.observe("n2", true, false);
  deciding.observe("n3", false, false);
  deciding.run(1s);
  CHECK(deciding.verdict(kA) == Verdict{true, 2, 3, false});
  CHECK(deciding.verdict(kB) == Verdict{false, 0, 3, false});
  // Applied, the follower hands it on.
  CHECK(deciding.follower.verdicts() == std::vector<std::optional<bool>>{true, false});
  // Logged, with this member as the author.
  CHECK(bench.count(std::string(kEventPrefix)) == 2);
}

TEST_CASE("verdict decider: an observer whose lease lapsed no longer counts", "[gslb][health]") {
  Bench bench;
  Deciding deciding(bench);
  for (int i = 0; i < 4; ++i) {
    deciding.observe("n1", true, true);
    deciding.observe("n2", false, true);
    deciding.observe("n3", false, true);
    deciding.run(1s);
  }
  CHECK(deciding.verdict(kA) == Verdict{false, 1, 3, false});
  // n2 and n3 fall silent: n1 alone is live, and sees it up.
  for (int i = 0; i < 3; ++i) {
    deciding.observe("n1", true, true);
    deciding.run(1s);
  }
  CHECK(deciding.verdict(kA) == Verdict{true, 1, 1, false});
  CHECK(deciding.decider.observer_live("n1"));
  CHECK_FALSE(deciding.decider.observer_live("n2"));
}

TEST_CASE("verdict decider: with no live observer the last verdict stands, marked stale",
          "[gslb][health]") {
  Bench bench;
  Deciding deciding(bench);
  for (int i = 0; i < 3; ++i) {
    deciding.observe("n1", false, std::nullopt);
    deciding.run(1s);
  }
  CHECK(deciding.verdict(kA) == Verdict{false, 0, 1, false});
  CHECK_FALSE(deciding.verdict(kB).has_value());  // nobody ever had a view
  deciding.run(3s);
  CHECK(deciding.verdict(kA) == Verdict{false, 0, 1, true});
}

namespace {

/// The memory store as a member that is not the decider sees it: every
/// read and write goes through, but another member decides.
class Follower final : public store::ReplicatedStore {
 public:
  explicit Follower(store::ReplicatedStore& store) : store_(store) {}
  void write(store::KvCommand c, store::StoreCallback<store::KvResult> d) override {
    store_.write(c, d);
  }
  void write_system(store::KvCommand c, store::StoreCallback<store::KvResult> d) override {
    store_.write_system(c, d);
  }
  void write_as_decider(store::KvCommand, store::StoreCallback<store::KvResult> d) override {
    d({}, store::StoreError{store::StoreErrorKind::not_leader, "another member decides"});
  }
  void read(std::string k, store::ReadMode m,
            store::StoreCallback<std::optional<std::string>> d) override {
    store_.read(k, m, d);
  }
  void scan(std::string p, std::size_t l, store::ReadMode m,
            store::StoreCallback<store::KeyValues> d) override {
    store_.scan(p, l, m, d);
  }
  Result<store::WatchId> watch(std::string p, store::WatchCallback c) override {
    return store_.watch(p, c);
  }
  void unwatch(store::WatchId id) override { store_.unwatch(id); }
  void renew_lease(const std::string& holder) override { store_.renew_lease(holder); }
  store::LeaseRenewals lease_renewals() const override { return store_.lease_renewals(); }
  bool is_decider() const override { return false; }
  store::StoreStatus status() const override { return store_.status(); }

 private:
  store::ReplicatedStore& store_;
};

}  // namespace

TEST_CASE("verdict decider: only the decider decides", "[gslb][health]") {
  Bench bench;
  Follower elsewhere(bench.store);
  RecordedVerdicts sink;
  VerdictFollower follower(elsewhere, bench.scheduler, bench.clock, bench.logger, 30s, sink);
  follower.start([](Result<void>) {});
  follower.set_targets(two_targets());
  VerdictDecider decider(elsewhere, bench.scheduler, bench.clock, follower,
                         VerdictDecider::Settings{"n2", Quorum::majority, std::chrono::seconds(2)});
  for (int i = 0; i < 8; ++i) {
    bench.put(std::string(kObservationPrefix) + "n1",
              encode_observations({{kA, true}, {kB, true}}));
    bench.store.renew_lease("n1");
    bench.clock.advance(500ms);
    bench.scheduler.run_due();
    decider.tick(bench.clock.now());
  }
  CHECK(bench.count(std::string(kVerdictPrefix)) == 0);
  CHECK(decider.observer_live("n1"));  // it hears the renewals all the same
}

TEST_CASE("verdict decider: an override whose expiry passed is removed and logged",
          "[gslb][health]") {
  Bench bench;
  Deciding deciding(bench);
  const std::string key = std::string(kSiteOverridePrefix) + "s1";
  bench.put(key, encode_override(OperatorOverride{ForcedState::drain, bench.wall_ms(),
                                                  bench.wall_ms() + 4000, "carol",
                                                  "maintenance window"}));
  const std::string forever = std::string(kSiteOverridePrefix) + "s2";
  bench.put(forever, encode_override(OperatorOverride{ForcedState::down, bench.wall_ms(), 0, "dave",
                                                      "broken"}));
  deciding.run(3s);
  CHECK(bench.get(key).has_value());
  deciding.run(2s);
  CHECK_FALSE(bench.get(key).has_value());
  CHECK(bench.get(forever).has_value());
  bool logged = false;
  bench.store.scan(std::string(kEventPrefix), 100, store::ReadMode::local,
                   [&](store::KeyValues pairs, std::optional<store::StoreError>) {
                     for (const auto& pair : pairs) {
                       const auto event = decode_event(pair.second);
                       logged = logged || (event && event->kind == "override-expired" &&
                                           event->subject == "site s1");
                     }
                   });
  CHECK(logged);
}

TEST_CASE("verdict decider: the event log is trimmed to its bound, oldest first",
          "[gslb][health]") {
  Bench bench;
  Deciding deciding(bench);
  for (std::uint64_t i = 0; i < kMaxEvents + 25; ++i) {
    bench.put(event_key(1000 + i, "test", i),
              encode_event(Event{1000 + i, "note", "x", std::to_string(i), "t"}));
  }
  deciding.run(3s);
  CHECK(bench.count(std::string(kEventPrefix)) == kMaxEvents);
  CHECK_FALSE(bench.get(event_key(1000, "test", 0)).has_value());
  CHECK(bench.get(event_key(1000 + kMaxEvents + 24, "test", kMaxEvents + 24)).has_value());
}
