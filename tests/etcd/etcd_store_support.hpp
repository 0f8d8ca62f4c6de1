#pragma once
// Helpers of the etcd store's tests (etcd_store_test.cpp,
// etcd_watch_test.cpp): stores with short timings on an EtcdCluster,
// writes that must succeed, a recorder of watch callbacks, a logger that
// keeps its lines.

#include <catch2/catch.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "etcd/etcd_store.hpp"
#include "tests/cluster/store_cluster.hpp"
#include "tests/etcd/etcd_test_support.hpp"

namespace meridian::etcd::test {

using namespace std::chrono_literals;
using cluster::test::Answer;
using cluster::test::eventually;
using cluster::test::quiet;
using cluster::test::real_clock;
using cluster::test::wait_for;

inline constexpr std::string_view kPrefix = "/meridian/test/";

inline EtcdStoreSettings settings_for(const EtcdCluster& etcd, const std::string& name,
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

inline std::unique_ptr<EtcdStore> start_store(const EtcdStoreSettings& settings,
                                              Logger& logger = quiet(),
                                              const Clock& clock = real_clock()) {
  auto started = EtcdStore::start(settings, logger, clock);
  if (!started) FAIL("start " << settings.name << ": " << started.error().message);
  return std::move(*started);
}

inline Answer<store::KvResult> write(store::ReplicatedStore& store, store::KvCommand command) {
  return wait_for<store::KvResult>([&](auto done) { store.write(std::move(command), done); });
}

/// write(), which must succeed.
inline store::KvResult written(store::ReplicatedStore& store, store::KvCommand command) {
  auto answer = write(store, std::move(command));
  if (answer.error) FAIL("write: " << answer.error->message);
  return answer.value;
}

/// The member that leads, once the members agree on one.
inline std::size_t leader_of(const EtcdCluster& etcd) {
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
inline std::vector<std::size_t> others(const EtcdCluster& etcd, std::size_t member) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < etcd.size(); ++i) {
    if (i != member) out.push_back(i);
  }
  return out;
}

inline Answer<store::KvResult> decide(store::ReplicatedStore& store, store::KvCommand command) {
  return wait_for<store::KvResult>(
      [&](auto done) { store.write_as_decider(std::move(command), done); });
}

inline store::KeyValues scan(store::ReplicatedStore& store, const std::string& prefix,
                             store::ReadMode mode) {
  auto answer =
      wait_for<store::KeyValues>([&](auto done) { store.scan(prefix, SIZE_MAX, mode, done); });
  if (answer.error) FAIL("scan " << prefix << ": " << answer.error->message);
  return answer.value;
}

/// etcd's keys under the store's prefix, as seam keys.
inline store::KeyValues etcd_seam_contents(const EtcdCluster& etcd, const std::string& under = "") {
  store::KeyValues out;
  for (auto& [key, value] : etcd_contents(etcd, std::string(kPrefix) + under))
    out.emplace_back(key.substr(kPrefix.size()), value);
  return out;
}

inline std::string describe(const std::string& key, const std::optional<std::string>& value) {
  return key + (value ? "=" + *value : " deleted");
}

inline std::vector<std::string> describe(const store::KeyValues& pairs) {
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

inline std::size_t deciders(const std::vector<const EtcdStore*>& stores) {
  std::size_t count = 0;
  for (const EtcdStore* store : stores) count += store->is_decider() ? 1 : 0;
  return count;
}

inline boost::json::object key_only(const std::string& key) {
  return boost::json::object{{"key", base64_encode(key)}};
}

}  // namespace meridian::etcd::test
