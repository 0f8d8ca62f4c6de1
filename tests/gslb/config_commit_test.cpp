// The config-version commit protocol (gslb/config_commit.hpp) over the
// memory store: numbering, strays of lost applies, the numbers-taken and
// damaged-pointer refusals, trimming, a store that cannot write, and
// applies that race (interleaved step by step through a store whose
// answers wait in a queue).

#include "gslb/config_commit.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "store/memory_store.hpp"

using namespace meridian;
using namespace meridian::gslb;

namespace {

/// The memory store, except that every answer waits in a queue until the
/// test runs it: each request is applied when made, in the order made, and
/// its caller hears of it later, so that several commits interleave as
/// they do over a real cluster.
class QueuedStore final : public store::ReplicatedStore {
 public:
  explicit QueuedStore(store::ReplicatedStore& inner) : inner_(inner) {}

  void write(store::KvCommand command, store::StoreCallback<store::KvResult> done) override {
    inner_.write(std::move(command), later(std::move(done)));
  }
  void write_system(store::KvCommand command, store::StoreCallback<store::KvResult> done) override {
    inner_.write_system(std::move(command), later(std::move(done)));
  }
  void write_as_decider(store::KvCommand command,
                        store::StoreCallback<store::KvResult> done) override {
    inner_.write_as_decider(std::move(command), later(std::move(done)));
  }
  void read(std::string key, store::ReadMode mode,
            store::StoreCallback<std::optional<std::string>> done) override {
    inner_.read(std::move(key), mode, later(std::move(done)));
  }
  void scan(std::string prefix, std::size_t limit, store::ReadMode mode,
            store::StoreCallback<store::KeyValues> done) override {
    inner_.scan(std::move(prefix), limit, mode, later(std::move(done)));
  }
  Result<store::WatchId> watch(std::string prefix, store::WatchCallback callback) override {
    return inner_.watch(std::move(prefix), std::move(callback));
  }
  void unwatch(store::WatchId id) override { inner_.unwatch(id); }
  void renew_lease(const std::string& holder) override { inner_.renew_lease(holder); }
  store::LeaseRenewals lease_renewals() const override { return inner_.lease_renewals(); }
  bool is_decider() const override { return inner_.is_decider(); }
  store::StoreStatus status() const override { return inner_.status(); }

  /// Delivers the queued answers, oldest first, until none is left (the
  /// answers may make new requests).
  void run_all() {
    while (!queue_.empty()) {
      auto next = std::move(queue_.front());
      queue_.pop_front();
      next();
    }
  }

 private:
  template <typename T>
  store::StoreCallback<T> later(store::StoreCallback<T> done) {
    return [this, done = std::move(done)](T result, std::optional<store::StoreError> error) {
      queue_.push_back(
          [done, result = std::move(result), error]() mutable { done(std::move(result), error); });
    };
  }

  store::ReplicatedStore& inner_;
  std::deque<std::function<void()>> queue_;
};

std::string fingerprint_of(const std::string& text) {
  char out[17];
  std::snprintf(out, sizeof out, "%016zx", std::hash<std::string>{}(text));
  return out;
}

ConfigVersion record(const std::string& text, std::uint64_t rollback_of = 0) {
  ConfigVersion version;
  version.text = text;
  version.fingerprint = fingerprint_of(text);
  version.author = "tester";
  version.comment = "test";
  version.time_ms = 1'700'000'000'000;
  version.rollback_of = rollback_of;
  return version;
}

/// What one commit answered.
struct Outcome {
  bool answered = false;
  ConfigVersion committed;
  std::optional<CommitError> error;
};

CommitDone into(Outcome& outcome) {
  return [&outcome](ConfigVersion committed, std::optional<CommitError> error) {
    CHECK_FALSE(outcome.answered);
    outcome.answered = true;
    outcome.committed = std::move(committed);
    outcome.error = std::move(error);
  };
}

class Fixture {
 public:
  ManualClock clock;
  store::MemoryStore store{clock, "c1"};

  /// Commits `version` on the memory store (answered before it returns).
  Outcome commit(ConfigVersion version) {
    Outcome outcome;
    commit_config_version(store, std::move(version), into(outcome));
    REQUIRE(outcome.answered);
    return outcome;
  }

  std::optional<std::string> get(const std::string& key) {
    std::optional<std::string> out;
    store.read(key, store::ReadMode::local,
               [&](std::optional<std::string> value, std::optional<store::StoreError>) {
                 out = std::move(value);
               });
    return out;
  }

  void put(const std::string& key, const std::string& value) {
    bool ok = false;
    store.write_system(
        store::KvPut{key, value},
        [&](store::KvResult, std::optional<store::StoreError> error) { ok = !error; });
    REQUIRE(ok);
  }

  void put_record(const ConfigVersion& version) {
    put(config_version_key(version.number), encode_config_version(version));
  }

  /// The version numbers whose records the store holds.
  std::set<std::uint64_t> record_numbers() {
    std::set<std::uint64_t> numbers;
    store.scan(std::string(kConfigVersionPrefix), 10'000, store::ReadMode::local,
               [&](store::KeyValues pairs, std::optional<store::StoreError>) {
                 for (const auto& [key, value] : pairs) {
                   numbers.insert(*parse_config_version_key(key));
                 }
               });
    return numbers;
  }

  /// The history from _config/current back, newest first.
  std::vector<std::uint64_t> history() {
    std::vector<std::uint64_t> numbers;
    store.scan("_config/", 10'000, store::ReadMode::local,
               [&](store::KeyValues pairs, std::optional<store::StoreError>) {
                 std::uint64_t current = 0;
                 for (const auto& [key, value] : pairs) {
                   if (key == kConfigCurrentKey) current = decode_config_number(value).value_or(0);
                 }
                 const auto versions = decode_config_versions(pairs);
                 for (const ConfigVersion* version : config_history(versions, current, 10'000)) {
                   numbers.push_back(version->number);
                 }
               });
    return numbers;
  }
};

}  // namespace

TEST_CASE("config commit: versions are numbered in order and name the one they replace",
          "[gslb][config_commit]") {
  Fixture f;
  const Outcome first = f.commit(record("sites: A\n"));
  REQUIRE_FALSE(first.error);
  CHECK(first.committed.number == 1);
  CHECK(first.committed.previous == 0);
  CHECK(f.get(std::string(kConfigCurrentKey)) == "1");

  const Outcome second = f.commit(record("sites: B\n"));
  REQUIRE_FALSE(second.error);
  CHECK(second.committed.number == 2);
  CHECK(second.committed.previous == 1);
  CHECK(second.committed.text == "sites: B\n");
  CHECK(f.get(std::string(kConfigCurrentKey)) == "2");
  // The stored record is the committed one.
  auto stored = decode_config_version(f.get(config_version_key(2)).value());
  REQUIRE(stored.ok());
  CHECK(*stored == second.committed);

  const Outcome rollback = f.commit(record("sites: A\n", 1));
  REQUIRE_FALSE(rollback.error);
  CHECK(rollback.committed.number == 3);
  CHECK(rollback.committed.rollback_of == 1);
  CHECK(f.history() == std::vector<std::uint64_t>{3, 2, 1});
}

TEST_CASE("config commit: a stray record of a lost apply is skipped, then trimmed",
          "[gslb][config_commit]") {
  Fixture f;
  REQUIRE_FALSE(f.commit(record("sites: A\n")).error);
  REQUIRE_FALSE(f.commit(record("sites: B\n")).error);
  // A lost apply's record at 3 (it read 2 too, and lost the race).
  ConfigVersion stray = record("sites: stray\n");
  stray.number = 3;
  stray.previous = 2;
  f.put_record(stray);

  const Outcome third = f.commit(record("sites: C\n"));
  REQUIRE_FALSE(third.error);
  CHECK(third.committed.number == 4);
  CHECK(third.committed.previous == 2);
  CHECK(f.history() == std::vector<std::uint64_t>{4, 2, 1});
  // The stray is at or below the committed version and not in its history.
  CHECK(f.record_numbers() == std::set<std::uint64_t>{1, 2, 4});
}

TEST_CASE("config commit: a record above the committed version is left alone",
          "[gslb][config_commit]") {
  Fixture f;
  REQUIRE_FALSE(f.commit(record("sites: A\n")).error);
  // An apply in flight has claimed 9 (its pointer move is still to come).
  ConfigVersion in_flight = record("sites: later\n");
  in_flight.number = 9;
  in_flight.previous = 1;
  f.put_record(in_flight);
  REQUIRE_FALSE(f.commit(record("sites: B\n")).error);
  CHECK(f.record_numbers() == std::set<std::uint64_t>{1, 2, 9});
}

TEST_CASE("config commit: kMaxConfigClaims numbers taken in a row refuse the commit",
          "[gslb][config_commit]") {
  Fixture f;
  REQUIRE_FALSE(f.commit(record("sites: A\n")).error);
  REQUIRE_FALSE(f.commit(record("sites: B\n")).error);
  for (std::uint64_t number = 3; number < 3 + kMaxConfigClaims; ++number) {
    ConfigVersion stray = record("sites: stray " + std::to_string(number) + "\n");
    stray.number = number;
    stray.previous = 2;
    f.put_record(stray);
  }
  const Outcome refused = f.commit(record("sites: C\n"));
  REQUIRE(refused.error);
  CHECK(refused.error->kind == CommitErrorKind::numbers_taken);
  CHECK(refused.error->message == "versions 3 to 10 are taken by other applies; try again");
  CHECK_FALSE(refused.error->store);
  CHECK(f.get(std::string(kConfigCurrentKey)) == "2");
  CHECK(f.record_numbers().size() == 2 + kMaxConfigClaims);
  // With the last of them gone, the commit takes that number (its
  // kMaxConfigClaims-th try) and trims the strays below it.
  bool deleted = false;
  f.store.write_system(
      store::KvDelete{config_version_key(2 + kMaxConfigClaims)},
      [&](store::KvResult, std::optional<store::StoreError> error) { deleted = !error; });
  REQUIRE(deleted);
  const Outcome last_try = f.commit(record("sites: C\n"));
  REQUIRE_FALSE(last_try.error);
  CHECK(last_try.committed.number == 2 + kMaxConfigClaims);
  CHECK(last_try.committed.previous == 2);
  CHECK(f.record_numbers() == std::set<std::uint64_t>{1, 2, 2 + kMaxConfigClaims});
}

TEST_CASE("config commit: a damaged pointer refuses the commit and writes nothing",
          "[gslb][config_commit]") {
  Fixture f;
  f.put(std::string(kConfigCurrentKey),
        "not a number, and rather long at that: more than forty bytes");
  const Outcome refused = f.commit(record("sites: A\n"));
  REQUIRE(refused.error);
  CHECK(refused.error->kind == CommitErrorKind::damaged_current);
  CHECK(refused.error->message ==
        "the stored current config version is damaged: 'not a number, and rather long at that: m'");
  CHECK(f.record_numbers().empty());
}

TEST_CASE("config commit: a store that cannot write says so through the store's error",
          "[gslb][config_commit]") {
  Fixture f;
  f.store.set_reachable(false);
  const Outcome refused = f.commit(record("sites: A\n"));
  REQUIRE(refused.error);
  CHECK(refused.error->kind == CommitErrorKind::store);
  REQUIRE(refused.error->store);
  CHECK(refused.error->store->kind == store::StoreErrorKind::unavailable);
  CHECK(refused.error->message == refused.error->store->message);
  f.store.set_reachable(true);
  CHECK(f.record_numbers().empty());
  CHECK_FALSE(f.get(std::string(kConfigCurrentKey)));
}

TEST_CASE("config commit: the history keeps the newest kMaxConfigVersions",
          "[gslb][config_commit]") {
  Fixture f;
  const std::uint64_t total = kMaxConfigVersions + 5;
  for (std::uint64_t i = 1; i <= total; ++i) {
    const Outcome outcome = f.commit(record("sites: " + std::to_string(i) + "\n"));
    REQUIRE_FALSE(outcome.error);
    REQUIRE(outcome.committed.number == i);
  }
  const auto numbers = f.record_numbers();
  CHECK(numbers.size() == kMaxConfigVersions);
  CHECK(*numbers.begin() == total - kMaxConfigVersions + 1);
  CHECK(*numbers.rbegin() == total);
}

TEST_CASE("config commit: of two racing applies one wins, the other changes nothing",
          "[gslb][config_commit]") {
  Fixture f;
  QueuedStore queued(f.store);
  Outcome a;
  Outcome b;
  // Both read "no current version" before either writes.
  commit_config_version(queued, record("sites: A\n"), into(a));
  commit_config_version(queued, record("sites: B\n"), into(b));
  queued.run_all();
  REQUIRE(a.answered);
  REQUIRE(b.answered);
  // A claimed 1 first and moved the pointer; B found 1 taken, claimed 2,
  // and lost the pointer to A.
  REQUIRE_FALSE(a.error);
  CHECK(a.committed.number == 1);
  REQUIRE(b.error);
  CHECK(b.error->kind == CommitErrorKind::lost_race);
  CHECK(b.error->message ==
        "another apply committed version 1 meanwhile; nothing was changed: check the history and "
        "apply again");
  CHECK(f.get(std::string(kConfigCurrentKey)) == "1");
  CHECK(f.history() == std::vector<std::uint64_t>{1});
  // The loser removed its record.
  CHECK(f.record_numbers() == std::set<std::uint64_t>{1});
}

TEST_CASE("config commit: racing rounds never both win one number", "[gslb][config_commit]") {
  Fixture f;
  REQUIRE_FALSE(f.commit(record("sites: 0\n")).error);
  QueuedStore queued(f.store);
  std::vector<std::uint64_t> won{1};
  for (int round = 0; round < 5; ++round) {
    std::vector<Outcome> outcomes(3);
    for (int i = 0; i < 3; ++i) {
      commit_config_version(queued, record("sites: " + std::to_string(round * 10 + i) + "\n"),
                            into(outcomes[i]));
    }
    queued.run_all();
    int wins = 0;
    for (const Outcome& outcome : outcomes) {
      REQUIRE(outcome.answered);
      if (!outcome.error) {
        ++wins;
        won.push_back(outcome.committed.number);
      } else {
        CHECK(outcome.error->kind == CommitErrorKind::lost_race);
        CHECK_THAT(outcome.error->message, Catch::Contains("nothing was changed"));
      }
    }
    CHECK(wins == 1);
  }
  // Every win is in the history exactly once, and nothing else is.
  std::vector<std::uint64_t> history = f.history();
  std::sort(history.begin(), history.end());
  std::sort(won.begin(), won.end());
  CHECK(history == won);
}
