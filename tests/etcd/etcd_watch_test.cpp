// etcd/etcd_store.hpp's watches and mirror against real etcd members on
// loopback: every change once and in order, across the SIGKILL of the
// member the watch reads from, a frozen member, and a compaction of the
// revision it would resume from.

#include "etcd/etcd_store.hpp"

#include <catch2/catch.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/etcd/etcd_store_support.hpp"

using namespace meridian;
using namespace meridian::etcd;
using namespace meridian::etcd::test;
using namespace std::chrono_literals;
using store::KvCompareAndSet;
using store::KvDelete;
using store::KvPut;
using store::ReadMode;

namespace json = boost::json;

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
