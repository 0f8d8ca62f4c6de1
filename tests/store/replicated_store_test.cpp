// The store seam's contract (store/replicated_store.hpp), checked against
// every implementation with the same expectations: the memory store, a
// real Raft member (a single founder on loopback, RocksDB and mutual TLS)
// and the etcd store (a real single-member etcd on loopback).
// The simulator's store (tests/sim) is checked by the simulations.

#include "store/replicated_store.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "cluster/raft_member.hpp"
#include "etcd/etcd_store.hpp"
#include "store/memory_store.hpp"
#include "tests/cluster/store_cluster.hpp"
#include "tests/etcd/etcd_test_support.hpp"

using namespace meridian;
using namespace meridian::store;
using namespace std::chrono_literals;

namespace {

/// The memory store: one member, answering before the call returns.
class MemoryFixture {
 public:
  MemoryFixture() : store_(clock_, "solo") {}
  ReplicatedStore& store() { return store_; }
  ManualClock& clock() { return clock_; }
  std::string self() const { return "solo"; }
  std::string leader() const { return "solo"; }
  bool member_of_store() const { return true; }

 private:
  ManualClock clock_;
  MemoryStore store_;
};

/// A Raft member that founded a cluster alone and leads it.
class RaftFixture {
 public:
  RaftFixture() : cluster_({"solo"}) {
    auto started =
        cluster::RaftMember::start(cluster_.settings("solo", true), cluster::test::quiet(), clock_);
    if (!started.ok()) FAIL("start: " << started.error().message);
    member_ = std::move(*started);
    REQUIRE(cluster::test::eventually([&] { return member_->is_decider(); }));
  }
  ReplicatedStore& store() { return *member_; }
  ManualClock& clock() { return clock_; }
  std::string self() const { return "solo"; }
  std::string leader() const { return "solo"; }
  bool member_of_store() const { return true; }

 private:
  ManualClock clock_;
  cluster::test::TestCluster cluster_;
  std::unique_ptr<cluster::RaftMember> member_;
};

/// An etcd store alone on a fresh single-member etcd, under a prefix of
/// its own, once it decides.
class EtcdFixture {
 public:
  EtcdFixture() : etcd_(etcd::test::start_cluster()) {
    etcd::EtcdStoreSettings settings;
    settings.name = "solo";
    settings.prefix = "/meridian/contract/";
    settings.gateway = etcd_->gateway_settings();
    settings.gateway.request_timeout = 2s;
    settings.tick = 100ms;
    settings.election_ttl = 2s;
    settings.lease_ttl = 2s;
    settings.unreachable_after = 2s;
    settings.request_timeout = 3s;
    auto started = etcd::EtcdStore::start(settings, cluster::test::quiet(), clock_);
    if (!started.ok()) FAIL("start: " << started.error().message);
    store_ = std::move(*started);
    REQUIRE(cluster::test::eventually([&] { return store_->is_decider(); }));
  }
  ReplicatedStore& store() { return *store_; }
  ManualClock& clock() { return clock_; }
  std::string self() const { return "solo"; }
  /// etcd's only member leads etcd; this member is its client.
  std::string leader() const { return etcd_->name(0); }
  bool member_of_store() const { return false; }

 private:
  ManualClock clock_;
  std::unique_ptr<etcd::test::EtcdCluster> etcd_;
  std::unique_ptr<etcd::EtcdStore> store_;
};

using cluster::test::Answer;
using cluster::test::wait_for;

Answer<KvResult> write(ReplicatedStore& store, KvCommand command, bool system = false) {
  return wait_for<KvResult>([&](auto done) {
    system ? store.write_system(std::move(command), done) : store.write(std::move(command), done);
  });
}

std::optional<std::string> read(ReplicatedStore& store, const std::string& key, ReadMode mode) {
  auto answer =
      wait_for<std::optional<std::string>>([&](auto done) { store.read(key, mode, done); });
  REQUIRE_FALSE(answer.error);
  return answer.value;
}

KeyValues scan(ReplicatedStore& store, const std::string& prefix, std::size_t limit) {
  auto answer = wait_for<KeyValues>(
      [&](auto done) { store.scan(prefix, limit, ReadMode::linearizable, done); });
  REQUIRE_FALSE(answer.error);
  return answer.value;
}

}  // namespace

TEMPLATE_TEST_CASE("replicated store: writes apply and read back in both modes", "[store][seam]",
                   MemoryFixture, RaftFixture, EtcdFixture) {
  TestType fixture;
  ReplicatedStore& store = fixture.store();
  auto put = write(store, KvPut{"a", "1"});
  REQUIRE_FALSE(put.error);
  CHECK(put.value == KvResult{true, "1"});
  CHECK(read(store, "a", ReadMode::linearizable) == std::optional<std::string>("1"));
  CHECK(read(store, "a", ReadMode::local) == std::optional<std::string>("1"));
  CHECK(read(store, "missing", ReadMode::linearizable) == std::nullopt);

  auto removed = write(store, KvDelete{"a"});
  REQUIRE_FALSE(removed.error);
  CHECK(removed.value == KvResult{true, std::nullopt});
  CHECK(read(store, "a", ReadMode::linearizable) == std::nullopt);
}

TEMPLATE_TEST_CASE("replicated store: compare-and-set applies only when the value matches",
                   "[store][seam]", MemoryFixture, RaftFixture, EtcdFixture) {
  TestType fixture;
  ReplicatedStore& store = fixture.store();
  auto created = write(store, KvCompareAndSet{"k", std::nullopt, "v1"});
  REQUIRE_FALSE(created.error);
  CHECK(created.value == KvResult{true, "v1"});
  // The expectation fails: nothing changes, and the answer says what is there.
  auto refused = write(store, KvCompareAndSet{"k", std::nullopt, "v2"});
  REQUIRE_FALSE(refused.error);
  CHECK(refused.value == KvResult{false, "v1"});
  auto swapped = write(store, KvCompareAndSet{"k", "v1", "v3"});
  CHECK(swapped.value == KvResult{true, "v3"});
  auto deleted = write(store, KvCompareAndSet{"k", "v3", std::nullopt});
  CHECK(deleted.value == KvResult{true, std::nullopt});
  CHECK(read(store, "k", ReadMode::linearizable) == std::nullopt);
}

TEMPLATE_TEST_CASE("replicated store: reserved keys need write_system, bad commands are invalid",
                   "[store][seam]", MemoryFixture, RaftFixture, EtcdFixture) {
  TestType fixture;
  ReplicatedStore& store = fixture.store();
  auto reserved = write(store, KvPut{"_cluster/x", "1"});
  REQUIRE(reserved.error);
  CHECK(reserved.error->kind == StoreErrorKind::invalid);
  CHECK(read(store, "_cluster/x", ReadMode::linearizable) == std::nullopt);
  auto system = write(store, KvPut{"_cluster/x", "1"}, true);
  CHECK_FALSE(system.error);
  CHECK(read(store, "_cluster/x", ReadMode::linearizable) == std::optional<std::string>("1"));

  auto empty = write(store, KvPut{"", "1"});
  REQUIRE(empty.error);
  CHECK(empty.error->kind == StoreErrorKind::invalid);
  auto huge = write(store, KvPut{"big", std::string(kMaxValueBytes + 1, 'x')});
  REQUIRE(huge.error);
  CHECK(huge.error->kind == StoreErrorKind::invalid);
}

TEMPLATE_TEST_CASE("replicated store: scan returns a prefix in key order, up to the limit",
                   "[store][seam]", MemoryFixture, RaftFixture, EtcdFixture) {
  TestType fixture;
  ReplicatedStore& store = fixture.store();
  for (const std::string key : {"p/c", "p/a", "q/a", "p/b", "o"})
    REQUIRE_FALSE(write(store, KvPut{key, key}).error);
  CHECK(scan(store, "p/", 10) == KeyValues{{"p/a", "p/a"}, {"p/b", "p/b"}, {"p/c", "p/c"}});
  CHECK(scan(store, "p/", 2) == KeyValues{{"p/a", "p/a"}, {"p/b", "p/b"}});
  CHECK(scan(store, "z", 10).empty());
}

TEMPLATE_TEST_CASE(
    "replicated store: a watch sees every later change under its prefix, in order, until unwatched",
    "[store][seam]", MemoryFixture, RaftFixture, EtcdFixture) {
  TestType fixture;
  ReplicatedStore& store = fixture.store();
  REQUIRE_FALSE(write(store, KvPut{"w/before", "0"}).error);
  struct Seen {
    std::mutex mutex;
    std::vector<std::pair<std::string, std::optional<std::string>>> changes;
    std::uint64_t last_index = 0;
    bool ordered = true;
  };
  auto seen = std::make_shared<Seen>();
  auto id = store.watch("w/", [seen](const std::string& key,
                                     const std::optional<std::string>& value, std::uint64_t index) {
    std::lock_guard lock(seen->mutex);
    seen->ordered = seen->ordered && index > seen->last_index;
    seen->last_index = index;
    seen->changes.emplace_back(key, value);
  });
  REQUIRE(id.ok());
  REQUIRE_FALSE(write(store, KvPut{"w/a", "1"}).error);
  REQUIRE_FALSE(write(store, KvPut{"x/a", "1"}).error);  // not under the prefix
  REQUIRE_FALSE(write(store, KvDelete{"w/before"}).error);
  REQUIRE_FALSE(write(store, KvCompareAndSet{"w/a", "1", "2"}).error);
  const std::vector<std::pair<std::string, std::optional<std::string>>> expected{
      {"w/a", "1"}, {"w/before", std::nullopt}, {"w/a", "2"}};
  {
    std::lock_guard lock(seen->mutex);
    CHECK(seen->changes == expected);
    CHECK(seen->ordered);
  }
  store.unwatch(*id);
  REQUIRE_FALSE(write(store, KvPut{"w/b", "1"}).error);
  // A write after the unwatch is applied after it: read back, then look.
  CHECK(read(store, "w/b", ReadMode::linearizable) == std::optional<std::string>("1"));
  std::lock_guard lock(seen->mutex);
  CHECK(seen->changes == expected);
}

TEMPLATE_TEST_CASE("replicated store: lease renewals are stamped with this member's clock",
                   "[store][seam]", MemoryFixture, RaftFixture, EtcdFixture) {
  TestType fixture;
  ReplicatedStore& store = fixture.store();
  CHECK(store.lease_renewals().count("observer-1") == 0);
  fixture.clock().advance(5s);
  const Clock::TimePoint first = fixture.clock().now();
  store.renew_lease("observer-1");
  REQUIRE(
      cluster::test::eventually([&] { return store.lease_renewals().count("observer-1") == 1; }));
  CHECK(store.lease_renewals().at("observer-1") == first);
  // Each renewal is a change (a new value), stamped when it applies.
  fixture.clock().advance(1s);
  store.renew_lease("observer-1");
  REQUIRE(cluster::test::eventually(
      [&] { return store.lease_renewals().at("observer-1") == first + std::chrono::seconds(1); }));
  // The renewals are replicated records, under the lease prefix.
  CHECK(read(store, std::string(kLeasePrefix) + "observer-1", ReadMode::linearizable).has_value());
}

TEMPLATE_TEST_CASE("replicated store: the decider's own writes apply while it decides",
                   "[store][seam]", MemoryFixture, RaftFixture, EtcdFixture) {
  TestType fixture;
  ReplicatedStore& store = fixture.store();
  auto decided = wait_for<KvResult>([&](auto done) {
    store.write_as_decider(KvPut{"_health/verdict/t", "up 1/1"}, done);
  });
  REQUIRE_FALSE(decided.error);
  CHECK(read(store, "_health/verdict/t", ReadMode::linearizable) ==
        std::optional<std::string>("up 1/1"));
}

// A member of its own store (memory, Raft) leads it and lists itself; an
// external store's member is its client, not one of its members, so the
// status names the store's own leader (etcd's member) and lists no self.
TEMPLATE_TEST_CASE("replicated store: the only member decides and names the store's leader",
                   "[store][seam]", MemoryFixture, RaftFixture, EtcdFixture) {
  TestType fixture;
  ReplicatedStore& store = fixture.store();
  CHECK(store.is_decider());
  StoreStatus status;
  // An external store learns its leader and members from status calls.
  CHECK(cluster::test::eventually([&] {
    status = store.status();
    return status.leader == fixture.leader() && status.members.size() == 1;
  }));
  CHECK(status.role == Role::leader);
  CHECK(status.leader == fixture.leader());
  REQUIRE(status.members.size() == 1);
  CHECK(status.members[0].self == fixture.member_of_store());
  CHECK(status.members[0].voter);
}

TEST_CASE("memory store: a member cut off neither decides nor accepts writes", "[store][seam]") {
  ManualClock clock;
  MemoryStore store(clock, "solo");
  store.set_reachable(false);
  CHECK_FALSE(store.is_decider());
  CHECK(store.status().leader.empty());
  auto stale = wait_for<KvResult>([&](auto done) {
    store.write_as_decider(KvPut{"_d", "1"}, done);
  });
  CHECK(stale.error);
  auto refused = write(store, KvPut{"a", "1"});
  REQUIRE(refused.error);
  CHECK(refused.error->kind == StoreErrorKind::unavailable);
  // Its own applied state stays readable locally.
  auto local = wait_for<std::optional<std::string>>(
      [&](auto done) { store.read("a", ReadMode::local, done); });
  CHECK_FALSE(local.error);
  store.set_reachable(true);
  CHECK(store.is_decider());
  CHECK_FALSE(write(store, KvPut{"a", "1"}).error);
}
