// etcd/etcd_store.hpp against real etcd members on loopback
// (tests/etcd/etcd_process.hpp): the decider's election and its fence,
// watches across a member's death and a compaction, leases, TLS and an
// unreachable etcd. What etcd holds is read through the cluster's own
// client, never through the store under test. Timings are short (100 ms
// ticks, 2 s leases); every wait polls a condition.

#include "etcd/etcd_store.hpp"

#include <catch2/catch.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "tests/cluster/store_cluster.hpp"
#include "tests/etcd/etcd_test_support.hpp"

using namespace meridian;
using namespace meridian::etcd;
using namespace meridian::etcd::test;
using namespace std::chrono_literals;
using cluster::test::Answer;
using cluster::test::eventually;
using cluster::test::quiet;
using cluster::test::real_clock;
using cluster::test::wait_for;
using store::KvCompareAndSet;
using store::KvDelete;
using store::KvPut;
using store::KvResult;
using store::ReadMode;
using store::StoreErrorKind;

namespace json = boost::json;

namespace {

constexpr std::string_view kPrefix = "/meridian/test/";

EtcdStoreSettings settings_for(const EtcdCluster& etcd, const std::string& name,
                               const std::vector<std::size_t>& endpoints = {}) {
  EtcdStoreSettings settings;
  settings.name = name;
  settings.prefix = std::string(kPrefix);
  settings.gateway = etcd.gateway_settings(endpoints);
  settings.gateway.request_timeout = 1s;
  settings.tick = 100ms;
  settings.election_ttl = 2s;
  settings.lease_ttl = 2s;
  settings.unreachable_after = 1500ms;
  settings.request_timeout = 3s;
  return settings;
}

std::unique_ptr<EtcdStore> start_store(const EtcdStoreSettings& settings, Logger& logger = quiet(),
                                       const Clock& clock = real_clock()) {
  auto started = EtcdStore::start(settings, logger, clock);
  if (!started) FAIL("start " << settings.name << ": " << started.error().message);
  return std::move(*started);
}

Answer<KvResult> write(store::ReplicatedStore& store, store::KvCommand command) {
  return wait_for<KvResult>([&](auto done) { store.write(std::move(command), done); });
}

/// write(), which must succeed.
KvResult written(store::ReplicatedStore& store, store::KvCommand command) {
  auto answer = write(store, std::move(command));
  if (answer.error) FAIL("write: " << answer.error->message);
  return answer.value;
}

/// The member that leads, once the members agree on one.
std::size_t leader_of(const EtcdCluster& etcd) {
  std::size_t leader = 0;
  const bool found = eventually([&] {
    auto named = etcd.leader();
    if (named) leader = *named;
    return named.ok();
  });
  if (!found) FAIL("the etcd members name no leader");
  return leader;
}

/// The members other than `member`, in order.
std::vector<std::size_t> others(const EtcdCluster& etcd, std::size_t member) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < etcd.size(); ++i) {
    if (i != member) out.push_back(i);
  }
  return out;
}

Answer<KvResult> decide(store::ReplicatedStore& store, store::KvCommand command) {
  return wait_for<KvResult>([&](auto done) { store.write_as_decider(std::move(command), done); });
}

store::KeyValues scan(store::ReplicatedStore& store, const std::string& prefix, ReadMode mode) {
  auto answer =
      wait_for<store::KeyValues>([&](auto done) { store.scan(prefix, SIZE_MAX, mode, done); });
  if (answer.error) FAIL("scan " << prefix << ": " << answer.error->message);
  return answer.value;
}

/// etcd's keys under the store's prefix, as seam keys.
store::KeyValues etcd_seam_contents(const EtcdCluster& etcd, const std::string& under = "") {
  store::KeyValues out;
  for (auto& [key, value] : etcd_contents(etcd, std::string(kPrefix) + under))
    out.emplace_back(key.substr(kPrefix.size()), value);
  return out;
}

std::string describe(const std::string& key, const std::optional<std::string>& value) {
  return key + (value ? "=" + *value : " deleted");
}

std::vector<std::string> describe(const store::KeyValues& pairs) {
  std::vector<std::string> out;
  for (const auto& [key, value] : pairs) out.push_back(describe(key, value));
  return out;
}

/// Every change a watch reported, in order.
struct Changes {
  struct Change {
    std::string key;
    std::optional<std::string> value;
    std::uint64_t index = 0;
  };

  store::WatchCallback callback() {
    return [this](const std::string& key, const std::optional<std::string>& value,
                  std::uint64_t index) {
      std::lock_guard lock(mutex);
      seen.push_back({key, value, index});
    };
  }
  std::vector<Change> all() const {
    std::lock_guard lock(mutex);
    return seen;
  }
  /// The values `key` took, in order.
  std::vector<std::optional<std::string>> values_of(const std::string& key) const {
    std::vector<std::optional<std::string>> out;
    for (const Change& change : all()) {
      if (change.key == key) out.push_back(change.value);
    }
    return out;
  }
  std::vector<std::string> described() const {
    std::vector<std::string> out;
    for (const Change& change : all()) out.push_back(describe(change.key, change.value));
    return out;
  }
  bool ordered() const {
    std::uint64_t last = 0;
    for (const Change& change : all()) {
      if (change.index <= last) return false;
      last = change.index;
    }
    return true;
  }

  mutable std::mutex mutex;
  std::vector<Change> seen;
};

/// A logger that keeps the store's lines, to see which path it took.
class CapturedLog {
 public:
  CapturedLog()
      : logger_(LogLevel::info, [this](std::string_view line) {
          std::lock_guard lock(mutex_);
          lines_.emplace_back(line);
        }) {}
  Logger& logger() { return logger_; }
  bool contains(std::string_view text) const {
    std::lock_guard lock(mutex_);
    for (const std::string& line : lines_) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
  std::string text() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const std::string& line : lines_) out += line + "\n";
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
  Logger logger_;
};

std::size_t deciders(const std::vector<const EtcdStore*>& stores) {
  std::size_t count = 0;
  for (const EtcdStore* store : stores) count += store->is_decider() ? 1 : 0;
  return count;
}

json::object key_only(const std::string& key) {
  return json::object{{"key", base64_encode(key)}};
}

}  // namespace

TEST_CASE("etcd store: one of two stores decides; the other takes over when it stops",
          "[etcd][store]") {
  auto etcd = start_cluster();
  auto a = start_store(settings_for(*etcd, "a"));
  auto b = start_store(settings_for(*etcd, "b"));
  REQUIRE(eventually([&] { return deciders({a.get(), b.get()}) == 1; }));
  // Never both, while they keep campaigning (a tick is 100 ms).
  const auto watch_until = std::chrono::steady_clock::now() + 1s;
  while (std::chrono::steady_clock::now() < watch_until) {
    REQUIRE(deciders({a.get(), b.get()}) == 1);
    std::this_thread::sleep_for(10ms);
  }
  EtcdStore& decider = a->is_decider() ? *a : *b;
  std::unique_ptr<EtcdStore>& other = a->is_decider() ? b : a;
  const std::string decider_name = a->is_decider() ? "a" : "b";
  CHECK(decider.status().role == store::Role::leader);
  CHECK(other->status().role == store::Role::follower);
  auto held = etcd_get(*etcd, std::string(kPrefix) + std::string(kElectionKey));
  REQUIRE(held);
  CHECK(held->value == decider_name);

  // Only the decider's decisions apply.
  auto refused = decide(*other, KvPut{"_health/verdict/t", "down"});
  REQUIRE(refused.error);
  CHECK(refused.error->kind == StoreErrorKind::not_leader);
  auto decided = decide(decider, KvPut{"_health/verdict/t", "up"});
  REQUIRE_FALSE(decided.error);
  CHECK(etcd_get(*etcd, std::string(kPrefix) + "_health/verdict/t")->value == "up");

  // stop() revokes the election lease: the other takes over within the
  // lease's time and a tick, without waiting for it to expire.
  const auto stopped = std::chrono::steady_clock::now();
  (a->is_decider() ? a : b)->stop();
  REQUIRE(eventually([&] { return other->is_decider(); }, 2100ms));
  INFO("took over after " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - stopped)
                                 .count()
                          << " ms");
  CHECK_FALSE(decider.is_decider());  // stopped: it decides nothing
  auto taken = decide(*other, KvPut{"_health/verdict/t", "taken"});
  CHECK_FALSE(taken.error);
  CHECK(etcd_get(*etcd, std::string(kPrefix) + std::string(kElectionKey))->value ==
        (decider_name == "a" ? "b" : "a"));
}

TEST_CASE("etcd store: a deposed decider's write is refused by etcd though it still believes",
          "[etcd][store]") {
  // The decider reads its watch from member 0; pausing it freezes the
  // decider's view (it cannot see its election key go) while its requests
  // fail over to the other members, where its election lease stays alive.
  // A follower is paused, so that the others keep their leader.
  auto etcd = start_cluster({.members = 3});
  const std::size_t leader = leader_of(*etcd);
  const std::size_t frozen = others(*etcd, leader).front();
  const std::vector<std::size_t> rest = others(*etcd, frozen);
  CapturedLog log;
  EtcdStoreSettings deposed_settings =
      settings_for(*etcd, "deposed", {frozen, rest.front(), rest.back()});
  deposed_settings.election_ttl = 4s;        // it keeps believing while requests fail over
  deposed_settings.unreachable_after = 20s;  // and its watch waits for the frozen member
  auto deposed = start_store(deposed_settings, log.logger());
  REQUIRE(eventually([&] { return deposed->is_decider(); }));
  auto successor = start_store(settings_for(*etcd, "successor", rest));

  etcd->pause_member(frozen);
  const std::string election_key = std::string(kPrefix) + std::string(kElectionKey);
  auto removed = etcd->call(leader, "/v3/kv/deleterange", key_only(election_key));
  REQUIRE(removed.ok());
  REQUIRE_FALSE(gateway_error(*removed));
  REQUIRE(eventually([&] { return successor->is_decider(); }));
  CHECK(etcd_get(*etcd, election_key)->value == "successor");

  // The deposed decider still believes: nothing told it otherwise.
  REQUIRE(deposed->is_decider());
  auto stale = decide(*deposed, KvPut{"_health/verdict/t", "stale"});
  REQUIRE(stale.error);
  CHECK(stale.error->kind == StoreErrorKind::not_leader);
  // Refused by etcd's compare on the election key, not by its own belief.
  CHECK(log.contains("no longer decides (a fenced write was refused)"));
  CHECK_FALSE(etcd_get(*etcd, std::string(kPrefix) + "_health/verdict/t"));
  CHECK_FALSE(deposed->is_decider());
  // The successor's decisions apply.
  CHECK_FALSE(decide(*successor, KvPut{"_health/verdict/t", "fresh"}).error);
  CHECK(etcd_get(*etcd, std::string(kPrefix) + "_health/verdict/t")->value == "fresh");
  etcd->resume_member(frozen);
}

TEST_CASE("etcd store: a watch sees every change of another store once, in order",
          "[etcd][store]") {
  auto etcd = start_cluster();
  auto writer = start_store(settings_for(*etcd, "writer"));
  auto watcher = start_store(settings_for(*etcd, "watcher"));
  Changes changes;
  auto id = watcher->watch("w/", changes.callback());
  REQUIRE(id.ok());

  // What the watch must report: every put, and every delete or
  // compare-and-set that changed something (a delete of an absent key
  // notifies no one, as in store/kv_state.hpp).
  std::vector<std::string> expected;
  std::map<std::string, std::string> model;
  for (int i = 0; i < 30; ++i) {
    const std::string key = "w/" + std::to_string(i % 7);
    store::KvCommand command = KvPut{key, std::to_string(i)};
    if (i % 5 == 4) command = KvDelete{key};
    if (i % 5 == 2) command = KvCompareAndSet{key, std::nullopt, "created " + std::to_string(i)};
    auto answer = write(*writer, command);
    REQUIRE_FALSE(answer.error);
    const bool existed = model.count(key) == 1;
    if (answer.value.current) {
      model[key] = *answer.value.current;
    } else {
      model.erase(key);
    }
    if (answer.value.ok && (answer.value.current || existed))
      expected.push_back(describe(key, answer.value.current));
    written(*writer, KvPut{"x/" + std::to_string(i), "elsewhere"});
  }
  // A last change, seen last: everything before it has been delivered.
  written(*writer, KvPut{"w/end", "end"});
  expected.push_back(describe("w/end", "end"));
  REQUIRE(eventually([&] { return changes.values_of("w/end").size() == 1; }));
  CHECK(changes.described() == expected);
  CHECK(changes.ordered());
  CHECK(describe(scan(*watcher, "w/", ReadMode::local)) ==
        describe(etcd_seam_contents(*etcd, "w/")));
}

TEST_CASE("etcd store: a watch loses nothing and doubles nothing when its member is killed",
          "[etcd][store]") {
  // The watcher reads from the leader, which dies: its watch moves to
  // another member while they elect a new leader. The writer writes
  // through the others.
  auto etcd = start_cluster({.members = 3});
  const std::size_t leader = leader_of(*etcd);
  const std::vector<std::size_t> rest = others(*etcd, leader);
  auto watcher = start_store(settings_for(*etcd, "watcher", {leader, rest[0], rest[1]}));
  auto writer = start_store(settings_for(*etcd, "writer", {rest[0], rest[1], leader}));
  Changes changes;
  REQUIRE(watcher->watch("s/", changes.callback()).ok());

  // 200 changes: four compare-and-sets on each of 50 keys, each applied
  // exactly once (a retry after a lost answer finds its own value).
  constexpr int kKeys = 50;
  constexpr int kRounds = 4;
  std::map<std::string, std::string> final_values;
  int count = 0;
  for (int round = 0; round < kRounds; ++round) {
    for (int k = 0; k < kKeys; ++k) {
      if (count++ == 70) etcd->kill_member(leader);
      const std::string key = "s/" + std::to_string(k);
      const std::optional<std::string> before =
          round == 0 ? std::nullopt : std::optional<std::string>(std::to_string(round - 1));
      const std::string after = std::to_string(round);
      bool applied = false;
      for (int attempt = 0; attempt < 20 && !applied; ++attempt) {
        auto answer = write(*writer, KvCompareAndSet{key, before, after});
        if (!answer.error) {
          applied = answer.value.ok || answer.value.current == after;
          REQUIRE((applied || answer.value.current == before));
        } else {
          std::this_thread::sleep_for(100ms);  // a retry's pace, not an assertion
        }
      }
      REQUIRE(applied);
      final_values[key] = after;
    }
  }
  REQUIRE(eventually(
      [&] {
        for (const auto& [key, value] : final_values) {
          auto values = changes.values_of(key);
          if (values.empty() || values.back() != value) return false;
        }
        return true;
      },
      20s));
  const std::vector<std::optional<std::string>> every_round{"0", "1", "2", "3"};
  for (const auto& [key, value] : final_values) {
    CAPTURE(key);
    CHECK(changes.values_of(key) == every_round);
  }
  CHECK(changes.ordered());
  // The mirror is etcd's content, key for key.
  CHECK(describe(scan(*watcher, "s/", ReadMode::local)) ==
        describe(etcd_seam_contents(*etcd, "s/")));
  // Everything under the prefix too (the election key may move: look again then).
  store::KeyValues local;
  store::KeyValues linearizable;
  CHECK(eventually([&] {
    local = scan(*watcher, "", ReadMode::local);
    linearizable = scan(*watcher, "", ReadMode::linearizable);
    return local == linearizable;
  }));
  CHECK(describe(local) == describe(linearizable));
}

TEST_CASE("etcd store: a watch on a frozen member resumes through another in unreachable_after",
          "[etcd][store]") {
  // A frozen member (SIGSTOP) keeps the watch's connection open and says
  // nothing; the others go on changing keys.
  auto etcd = start_cluster({.members = 3});
  const std::size_t leader = leader_of(*etcd);
  const std::size_t frozen = others(*etcd, leader).front();
  const std::vector<std::size_t> rest = others(*etcd, frozen);
  const EtcdStoreSettings settings =
      settings_for(*etcd, "follower", {frozen, rest.front(), rest.back()});
  auto follower = start_store(settings);
  auto writer = start_store(settings_for(*etcd, "writer", rest));
  const auto local = [&] {
    return wait_for<std::optional<std::string>>(
               [&](auto done) { follower->read("k", ReadMode::local, done); })
        .value;
  };
  written(*writer, KvPut{"k", "0"});
  REQUIRE(eventually([&] { return local() == std::optional<std::string>("0"); }));

  etcd->pause_member(frozen);
  const auto paused = std::chrono::steady_clock::now();
  written(*writer, KvPut{"k", "1"});
  // The status calls' failover (a gateway timeout), then unreachable_after.
  CHECK(eventually([&] { return local() == std::optional<std::string>("1"); },
                   settings.gateway.request_timeout + settings.unreachable_after + 2s));
  INFO("followed again after " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - paused)
                                      .count()
                               << " ms");
  written(*writer, KvPut{"k", "2"});
  CHECK(eventually([&] { return local() == std::optional<std::string>("2"); }));
  etcd->resume_member(frozen);
}

TEST_CASE("etcd store: after a compaction a resumed watch reloads, and only differences fire",
          "[etcd][store]") {
  // The follower reaches one member only; while it is dead the others
  // change the keys and compact the history the follower would resume
  // from. A follower member dies, so that the others keep their leader.
  auto etcd = start_cluster({.members = 3});
  const std::size_t leader = leader_of(*etcd);
  const std::size_t lost = others(*etcd, leader).front();
  CapturedLog log;
  auto follower = start_store(settings_for(*etcd, "follower", {lost}), log.logger());
  auto writer = start_store(settings_for(*etcd, "writer", others(*etcd, lost)));
  for (const std::string key : {"c/keep", "c/change", "c/gone"}) written(*writer, KvPut{key, "0"});
  REQUIRE(eventually([&] { return scan(*follower, "c/", ReadMode::local).size() == 3; }));
  Changes changes;
  REQUIRE(follower->watch("c/", changes.callback()).ok());

  etcd->kill_member(lost);
  for (int i = 1; i <= 5; ++i) written(*writer, KvPut{"c/change", std::to_string(i)});
  written(*writer, KvDelete{"c/gone"});
  written(*writer, KvPut{"c/new", "1"});
  const std::int64_t revision = etcd_revision(*etcd);
  auto compacted =
      etcd->call(leader, "/v3/kv/compaction",
                 json::object{{"revision", std::to_string(revision)}, {"physical", true}});
  REQUIRE(compacted.ok());
  REQUIRE_FALSE(gateway_error(*compacted));
  CHECK(changes.all().empty());

  REQUIRE(etcd->restart_member(lost).ok());
  const store::KeyValues expected{{"c/change", "5"}, {"c/keep", "0"}, {"c/new", "1"}};
  REQUIRE(eventually([&] { return scan(*follower, "c/", ReadMode::local) == expected; }, 20s));
  CHECK(etcd_seam_contents(*etcd, "c/") == expected);
  // It took the reload path (the watch from its old revision was canceled).
  INFO(log.text());
  CHECK(log.contains("compacted to " + std::to_string(revision)));
  // Only what differs fired, once each, with the current value.
  CHECK(changes.values_of("c/change") == std::vector<std::optional<std::string>>{"5"});
  CHECK(changes.values_of("c/gone") == std::vector<std::optional<std::string>>{std::nullopt});
  CHECK(changes.values_of("c/new") == std::vector<std::optional<std::string>>{"1"});
  CHECK(changes.values_of("c/keep").empty());
  CHECK(changes.all().size() == 3);
  // And the watch goes on from the reloaded revision.
  written(*writer, KvPut{"c/after", "1"});
  REQUIRE(eventually([&] { return changes.values_of("c/after").size() == 1; }));
}

TEST_CASE("etcd store: a lease renewal reaches the other stores; stop() revokes it",
          "[etcd][store]") {
  auto etcd = start_cluster();
  auto holder = start_store(settings_for(*etcd, "holder"));
  auto observer = start_store(settings_for(*etcd, "observer"));
  holder->renew_lease("x");
  REQUIRE(eventually([&] { return observer->lease_renewals().count("x") == 1; }));
  const std::string record = std::string(kPrefix) + std::string(store::kLeasePrefix) + "x";
  auto held = etcd_get(*etcd, record);
  REQUIRE(held);
  CHECK(held->lease != 0);  // attached to the holder's lease: it dies with it
  // Each renewal is seen again.
  const Clock::TimePoint first = observer->lease_renewals().at("x");
  holder->renew_lease("x");
  REQUIRE(eventually([&] { return observer->lease_renewals().at("x") > first; }));

  holder->stop();
  CHECK_FALSE(etcd_get(*etcd, record));
  REQUIRE(eventually([&] { return observer->lease_renewals().count("x") == 0; }));
}

TEST_CASE("etcd store: with TLS, a store with the CA's certificate works, others get nothing",
          "[etcd][store]") {
  auto etcd = start_cluster({.tls = true});
  auto trusted = start_store(settings_for(*etcd, "trusted"));
  REQUIRE(eventually([&] { return trusted->is_decider(); }));
  written(*trusted, KvPut{"k", "secret"});
  CHECK(etcd_get(*etcd, std::string(kPrefix) + "k")->value == "secret");
  REQUIRE(eventually([&] { return !trusted->status().leader.empty(); }));

  auto foreign = foreign_client_certificate();
  REQUIRE(foreign.ok());
  EtcdStoreSettings intruder_settings = settings_for(*etcd, "intruder");
  intruder_settings.gateway.cert_pem = foreign->certificate_pem;
  intruder_settings.gateway.key_pem = foreign->key_pem;
  auto intruder = start_store(intruder_settings);
  EtcdStoreSettings anonymous_settings = settings_for(*etcd, "anonymous");
  anonymous_settings.gateway.cert_pem.clear();
  anonymous_settings.gateway.key_pem.clear();
  auto anonymous = start_store(anonymous_settings);

  for (EtcdStore* outsider : {intruder.get(), anonymous.get()}) {
    auto refused = write(*outsider, KvPut{"k", "overwritten"});
    REQUIRE(refused.error);
    CHECK(refused.error->kind == StoreErrorKind::unavailable);
    auto read = wait_for<std::optional<std::string>>(
        [&](auto done) { outsider->read("k", ReadMode::linearizable, done); });
    CHECK(read.error);
    CHECK_FALSE(read.value);
    // Its mirror never loaded: nothing to read locally either.
    CHECK(scan(*outsider, "", ReadMode::local).empty());
    CHECK(outsider->status().leader.empty());
    CHECK_FALSE(outsider->is_decider());
  }
  CHECK(etcd_get(*etcd, std::string(kPrefix) + "k")->value == "secret");
  CHECK(trusted->is_decider());
}

TEST_CASE("etcd store: with every member dead it knows no leader; it recovers by itself",
          "[etcd][store]") {
  auto etcd = start_cluster({.members = 3});
  const EtcdStoreSettings settings = settings_for(*etcd, "alone");
  auto store = start_store(settings);
  REQUIRE(eventually([&] { return store->is_decider() && !store->status().leader.empty(); }));
  written(*store, KvPut{"k", "1"});

  for (std::size_t i = 0; i < etcd->size(); ++i) etcd->kill_member(i);
  const auto killed = std::chrono::steady_clock::now();
  // A tick of slack for the status call that notices.
  CHECK(eventually([&] { return store->status().leader.empty(); },
                   settings.unreachable_after + 2 * settings.tick));
  CHECK(eventually([&] { return !store->is_decider(); }, settings.election_ttl + settings.tick));
  INFO("cut off after " << std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - killed)
                               .count()
                        << " ms");
  const auto asked = std::chrono::steady_clock::now();
  auto refused = write(*store, KvPut{"k", "2"});
  REQUIRE(refused.error);
  CHECK(refused.error->kind == StoreErrorKind::unavailable);
  CHECK(std::chrono::steady_clock::now() - asked < settings.request_timeout);
  // Its own copy stays readable.
  auto local = wait_for<std::optional<std::string>>(
      [&](auto done) { store->read("k", ReadMode::local, done); });
  CHECK(local.value == std::optional<std::string>("1"));

  REQUIRE(etcd->restart_members({0, 1, 2}).ok());
  CHECK(eventually([&] { return !store->status().leader.empty(); }, 15s));
  CHECK(eventually([&] { return store->is_decider(); }, 15s));
  // Writes go through, and its watch follows again: a change made in etcd
  // directly reaches its mirror.
  REQUIRE(eventually([&] { return !write(*store, KvPut{"k", "3"}).error; }, 15s));
  auto put =
      etcd->call_any("/v3/kv/put", json::object{{"key", base64_encode(std::string(kPrefix) + "k")},
                                                {"value", base64_encode("4")}});
  REQUIRE(put.ok());
  CHECK(eventually([&] {
    auto now = wait_for<std::optional<std::string>>(
        [&](auto done) { store->read("k", ReadMode::local, done); });
    return now.value == std::optional<std::string>("4");
  }));
}

TEST_CASE("etcd store: with etcd frozen it stops deciding in time, and every request is answered",
          "[etcd][store]") {
  // A frozen member (SIGSTOP) accepts connections and answers nothing:
  // only the store's own clocks end what it believes and what it waits for.
  auto etcd = start_cluster();
  EtcdStoreSettings settings = settings_for(*etcd, "frozen");
  settings.gateway.request_timeout = 20s;  // the gateway alone would wait this long
  settings.request_timeout = 1500ms;
  auto store = start_store(settings);
  REQUIRE(eventually([&] { return store->is_decider() && !store->status().leader.empty(); }));

  etcd->pause_member(0);
  const auto paused = std::chrono::steady_clock::now();
  CHECK(
      eventually([&] { return !store->is_decider(); }, settings.election_ttl + 2 * settings.tick));
  CHECK(eventually([&] { return store->status().leader.empty(); },
                   settings.unreachable_after + 2 * settings.tick));
  INFO("cut off after " << std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - paused)
                               .count()
                        << " ms");
  const auto asked = std::chrono::steady_clock::now();
  auto late = write(*store, KvPut{"k", "1"});
  REQUIRE(late.error);
  CHECK(late.error->kind == StoreErrorKind::timeout);
  CHECK(std::chrono::steady_clock::now() - asked < settings.request_timeout + 1s);

  // stop() answers what is still waiting.
  auto pending = std::make_shared<std::promise<std::optional<store::StoreError>>>();
  store->write(KvPut{"k", "2"}, [pending](const KvResult&, std::optional<store::StoreError> error) {
    pending->set_value(std::move(error));
  });
  store->stop();
  auto answered = pending->get_future();
  REQUIRE(answered.wait_for(0s) == std::future_status::ready);
  CHECK(answered.get().has_value());
  CHECK_FALSE(store->is_decider());
  etcd->resume_member(0);
}

TEST_CASE("etcd store: a delete that finds nothing is answered at once", "[etcd][store]") {
  // On a clock that never moves: the answer cannot be the mirror wait's
  // deadline, only the write's own outcome.
  auto etcd = start_cluster();
  ManualClock clock;
  auto store = start_store(settings_for(*etcd, "solo"), quiet(), clock);
  // Its own election is a change under the prefix too: let it settle.
  REQUIRE(eventually([&] { return store->is_decider(); }));
  written(*store, KvPut{"k", "1"});
  // Another prefix moves etcd's revision past the mirror's.
  auto elsewhere = etcd->call(
      0, "/v3/kv/put",
      json::object{{"key", base64_encode("/elsewhere/k")}, {"value", base64_encode("1")}});
  REQUIRE(elsewhere.ok());
  auto removed = write(*store, KvDelete{"missing"});
  REQUIRE_FALSE(removed.error);
  CHECK(removed.value == KvResult{true, std::nullopt});
  auto swapped = write(*store, KvCompareAndSet{"missing", std::nullopt, std::nullopt});
  REQUIRE_FALSE(swapped.error);
  CHECK(swapped.value == KvResult{true, std::nullopt});
}

TEST_CASE("etcd store: scans honour every limit, from none to SIZE_MAX", "[etcd][store]") {
  auto etcd = start_cluster();
  auto store = start_store(settings_for(*etcd, "solo"));
  for (const std::string key : {"p/a", "p/b", "p/c"}) written(*store, KvPut{key, key});
  for (ReadMode mode : {ReadMode::local, ReadMode::linearizable}) {
    CAPTURE(mode == ReadMode::local);
    const auto limited = [&](std::size_t limit) {
      auto answer =
          wait_for<store::KeyValues>([&](auto done) { store->scan("p/", limit, mode, done); });
      if (answer.error) FAIL("scan: " << answer.error->message);
      return answer.value.size();
    };
    CHECK(limited(0) == 0);
    CHECK(limited(2) == 2);
    CHECK(limited(SIZE_MAX) == 3);
  }
}
