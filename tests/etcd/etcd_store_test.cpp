// etcd/etcd_store.hpp against real etcd members on loopback
// (tests/etcd/etcd_process.hpp): the decider's election and its fence,
// leases, TLS, dead and frozen members, and writes and scans at their
// edges. Its watches are etcd_watch_test.cpp's. What etcd holds is read
// through the cluster's own client, never through the store under test.
// Timings are short (100 ms ticks, 2 s leases); every wait polls a
// condition.

#include "etcd/etcd_store.hpp"

#include <catch2/catch.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "tests/etcd/etcd_store_support.hpp"

using namespace meridian;
using namespace meridian::etcd;
using namespace meridian::etcd::test;
using namespace std::chrono_literals;
using store::KvCompareAndSet;
using store::KvDelete;
using store::KvPut;
using store::KvResult;
using store::ReadMode;
using store::StoreErrorKind;

namespace json = boost::json;

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
