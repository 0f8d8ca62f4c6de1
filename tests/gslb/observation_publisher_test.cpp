// ObservationPublisher: this node's own views into the store, at most once
// per publish interval and only when they changed, and its lease renewed
// every interval.

#include "gslb/observation_publisher.hpp"

#include <catch2/catch.hpp>

#include <deque>
#include <functional>

#include "health/tracker.hpp"
#include "tests/gslb/health_flow_support.hpp"

using namespace meridian;
using namespace meridian::gslb;
using namespace meridian::gslb::test;

namespace {

/// The memory store, except that writes wait until the test releases them
/// (as a write to a remote store is in flight for a while).
class HeldWrites final : public store::ReplicatedStore {
 public:
  explicit HeldWrites(store::MemoryStore& inner) : inner_(inner) {}
  std::size_t held() const { return held_.size(); }
  /// Applies and answers the oldest held write.
  void release() {
    REQUIRE_FALSE(held_.empty());
    auto next = std::move(held_.front());
    held_.pop_front();
    next();
  }
  void write(store::KvCommand command, store::StoreCallback<store::KvResult> done) override {
    held_.emplace_back([this, command, done] { inner_.write(command, done); });
  }
  void write_system(store::KvCommand command, store::StoreCallback<store::KvResult> done) override {
    held_.emplace_back([this, command, done] { inner_.write_system(command, done); });
  }
  void write_as_decider(store::KvCommand command,
                        store::StoreCallback<store::KvResult> done) override {
    held_.emplace_back([this, command, done] { inner_.write_as_decider(command, done); });
  }
  void read(std::string key, store::ReadMode mode,
            store::StoreCallback<std::optional<std::string>> done) override {
    inner_.read(std::move(key), mode, std::move(done));
  }
  void scan(std::string prefix, std::size_t limit, store::ReadMode mode,
            store::StoreCallback<store::KeyValues> done) override {
    inner_.scan(std::move(prefix), limit, mode, std::move(done));
  }
  Result<store::WatchId> watch(std::string prefix, store::WatchCallback callback) override {
    return inner_.watch(std::move(prefix), std::move(callback));
  }
  void unwatch(store::WatchId id) override { inner_.unwatch(id); }
  void renew_lease(const std::string& holder) override { inner_.renew_lease(holder); }
  store::LeaseRenewals lease_renewals() const override { return inner_.lease_renewals(); }
  bool is_decider() const override { return inner_.is_decider(); }
  store::StoreStatus status() const override { return inner_.status(); }

 private:
  store::MemoryStore& inner_;
  std::deque<std::function<void()>> held_;
};

}  // namespace

TEST_CASE("observation publisher: writes the view when it changed, at most once per interval",
          "[gslb][health]") {
  Bench bench;
  ObservationPublisher publisher(bench.store, bench.scheduler, "n1", 1s);
  publisher.set_targets(two_targets());
  const std::string key = std::string(kObservationPrefix) + "n1";

  publisher.observe({true, std::nullopt});
  publisher.tick(bench.clock.now());  // the first tick publishes
  bench.scheduler.run_due();          // the store's answer comes back on the scheduler
  REQUIRE(bench.get(key).has_value());
  CHECK(*decode_observations(*bench.get(key)) ==
        Observations{{"192.0.2.1@s1/web:80", true}, {"192.0.2.2@s2/web:80", std::nullopt}});

  // A change within the interval waits for it; never once per probe.
  publisher.observe({false, std::nullopt});
  bench.clock.advance(500ms);
  publisher.tick(bench.clock.now());
  bench.scheduler.run_due();
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

TEST_CASE("observation publisher: one write at a time, so an older view never lands last",
          "[gslb][health]") {
  Bench bench;
  HeldWrites store(bench.store);
  ObservationPublisher publisher(store, bench.scheduler, "n1", 1s);
  publisher.set_targets(two_targets());
  const std::string key = std::string(kObservationPrefix) + "n1";
  publisher.observe({false, false});
  publisher.tick(bench.clock.now());
  REQUIRE(store.held() == 1);
  // The view changes while the first write is in flight (a cut-off node's
  // write that lingers): no second write races it.
  publisher.observe({true, true});
  bench.clock.advance(1s);
  publisher.tick(bench.clock.now());
  CHECK(store.held() == 1);
  store.release();
  bench.scheduler.run_due();
  CHECK(decode_observations(*bench.get(key))->at("192.0.2.1@s1/web:80") ==
        std::optional<bool>(false));
  // Once it is answered, the newest view follows and is what stays.
  bench.clock.advance(1s);
  publisher.tick(bench.clock.now());
  REQUIRE(store.held() == 1);
  store.release();
  bench.scheduler.run_due();
  CHECK(decode_observations(*bench.get(key))->at("192.0.2.1@s1/web:80") ==
        std::optional<bool>(true));
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

TEST_CASE("observation publisher: a record that is not the view is written again",
          "[gslb][health]") {
  Bench bench;
  ObservationPublisher publisher(bench.store, bench.scheduler, "n1", 1s);
  publisher.set_targets(two_targets());
  const std::string key = std::string(kObservationPrefix) + "n1";
  publisher.observe({true, true});
  publisher.tick(bench.clock.now());
  bench.scheduler.run_due();
  // A write that timed out lands late with an older view.
  Observations stale = publisher.mine();
  stale["192.0.2.1@s1/web:80"] = false;
  bench.put(key, encode_observations(stale));
  bench.clock.advance(1s);
  publisher.tick(bench.clock.now());  // sees the record differ
  bench.scheduler.run_due();
  bench.clock.advance(1s);
  publisher.tick(bench.clock.now());  // writes the view again
  bench.scheduler.run_due();
  CHECK(decode_observations(*bench.get(key))->at("192.0.2.1@s1/web:80") ==
        std::optional<bool>(true));
}
