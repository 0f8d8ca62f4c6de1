#pragma once
// Helpers for the tests of the health flow's stages (publisher, decider,
// follower) over the memory store on a manual clock: the same store seam
// a node's Raft member implements, answered at once, and time that moves
// only when the test says so.

#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "base/scheduler.hpp"
#include "gslb/health_flow.hpp"
#include "gslb/health_records.hpp"
#include "store/memory_store.hpp"

namespace meridian::gslb::test {

using namespace std::chrono_literals;

/// A clock, a scheduler on it, and a memory store named "n1".
struct Bench {
  ManualClock clock;
  ManualScheduler scheduler{clock};
  store::MemoryStore store{clock, "n1"};
  Logger logger{LogLevel::error, [](std::string_view) {}};

  std::optional<std::string> get(const std::string& key) {
    std::optional<std::string> out;
    store.read(key, store::ReadMode::local,
               [&](std::optional<std::string> value, std::optional<store::StoreError>) {
                 out = std::move(value);
               });
    return out;
  }
  void put(const std::string& key, const std::string& value) {
    store.write_system(
        store::KvPut{key, value},
        [](store::KvResult, std::optional<store::StoreError> error) { REQUIRE_FALSE(error); });
  }
  void remove(const std::string& key) {
    store.write_system(store::KvDelete{key},
                       [](store::KvResult, std::optional<store::StoreError>) {});
  }
  std::size_t count(const std::string& prefix) {
    std::size_t out = 0;
    store.scan(
        prefix, 100'000, store::ReadMode::local,
        [&](store::KeyValues pairs, std::optional<store::StoreError>) { out = pairs.size(); });
    return out;
  }
  /// Unix ms of the clock's wall time (what records carry).
  std::uint64_t wall_ms() const { return meridian::wall_ms(clock); }
};

/// What a routing table's builder would be told, kept for the test.
class RecordedVerdicts final : public VerdictSink {
 public:
  void cluster_verdicts_changed(const std::vector<TargetAnswer>& answers) override {
    last = answers;
    ++calls;
  }
  std::vector<TargetAnswer> last;
  int calls = 0;
};

/// Two targets at two sites, as a health plan would name them.
inline std::vector<TargetInfo> two_targets() {
  return {{"192.0.2.1@s1/web:80", "192.0.2.1", "s1", {"192.0.2.1", "198.51.100.1"}},
          {"192.0.2.2@s2/web:80", "192.0.2.2", "s2", {"192.0.2.2"}}};
}

}  // namespace meridian::gslb::test
