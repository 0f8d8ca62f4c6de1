#pragma once
// A cluster of real RaftMember members (RocksDB, mutual TLS on loopback) in
// one process, for the store node's tests and the replicated health's.
// Timing is real but short (20 ms ticks); every wait is bounded and polls a
// condition, never sleeps as an assertion.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "cluster/certs.hpp"
#include "cluster/raft_member.hpp"
#include "tests/store/store_test_support.hpp"

namespace meridian::cluster::test {

using namespace std::chrono_literals;
using meridian::store::test::TempDir;

/// The machine's clock, which stamps the members' lease renewals.
inline const Clock& real_clock() {
  static const SystemClock clock;
  return clock;
}

inline Logger& quiet() {
  static Logger logger = std::getenv("MERIDIAN_TEST_LOG") != nullptr
                             ? Logger(LogLevel::debug)
                             : Logger(LogLevel::error, [](std::string_view) {});
  return logger;
}

inline const IssuedCertificate& test_ca() {
  static const IssuedCertificate ca = [] {
    auto created = create_ca({"store node test CA", {}, {}});
    REQUIRE(created.ok());
    return *created;
  }();
  return ca;
}

inline const IssuedCertificate& cert_for(const std::string& name) {
  static std::map<std::string, IssuedCertificate> certs;
  auto it = certs.find(name);
  if (it == certs.end()) {
    auto issued = issue_node_certificate(test_ca(), {name, {name}, {}});
    REQUIRE(issued.ok());
    it = certs.emplace(name, *issued).first;
  }
  return it->second;
}

// A port that was free a moment ago: the kernel rarely hands an ephemeral
// port out again right away.
inline std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

template <typename T>
struct Answer {
  T value{};
  std::optional<StoreError> error;
};

template <typename T, typename Call>
Answer<T> wait_for(Call call) {
  auto promise = std::make_shared<std::promise<Answer<T>>>();
  auto future = promise->get_future();
  call([promise](T value, std::optional<StoreError> error) {
    promise->set_value(Answer<T>{std::move(value), std::move(error)});
  });
  REQUIRE(future.wait_for(10s) == std::future_status::ready);
  return future.get();
}

inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

/// A cluster of named members on loopback, each with its own data dir.
class TestCluster {
 public:
  explicit TestCluster(std::vector<std::string> founders) : founders_(std::move(founders)) {
    for (const std::string& name : founders_)
      addresses_[name] = {IpAddress::v4(127, 0, 0, 1), free_port()};
  }

  RaftMemberSettings settings(const std::string& name, bool founding) {
    if (!addresses_.count(name)) addresses_[name] = {IpAddress::v4(127, 0, 0, 1), free_port()};
    RaftMemberSettings s;
    s.name = name;
    s.data_dir = dir_.sub(name);
    s.transport.listen = addresses_[name];
    s.transport.ca_pem = test_ca().certificate_pem;
    s.transport.cert_pem = cert_for(name).certificate_pem;
    s.transport.key_pem = cert_for(name).key_pem;
    s.transport.backoff_min = 20ms;
    s.transport.backoff_max = 200ms;
    for (const auto& [peer, address] : addresses_) s.peers.push_back({peer, address});
    if (founding) s.founders = founders_;
    s.tick = 20ms;
    s.election_ticks = 10;
    s.heartbeat_ticks = 1;
    s.snapshot_entries = snapshot_entries;
    s.max_state_bytes = max_state_bytes;
    s.keep_entries = 5;
    s.request_timeout = 3s;
    s.report_interval = 100ms;
    s.admin_address = "127.0.0.1:" + std::to_string(8000 + nodes_.size());
    s.seed = 1 + nodes_.size();
    return s;
  }

  RaftMember& start(const std::string& name, bool founding = true) {
    auto node = RaftMember::start(settings(name, founding), quiet(), real_clock());
    if (!node.ok()) FAIL("start " << name << ": " << node.error().message);
    nodes_[name] = std::move(*node);
    return *nodes_[name];
  }
  void start_all() {
    for (const std::string& name : founders_) start(name);
  }
  void stop(const std::string& name) { nodes_.erase(name); }
  RaftMember& node(const std::string& name) { return *nodes_.at(name); }

  /// The member every running node agrees leads, once there is one.
  std::string leader() {
    std::string found;
    REQUIRE(eventually([&] {
      std::string agreed;
      for (auto& [name, node] : nodes_) {
        const StoreStatus status = node->status();
        if (status.leader.empty() || (!agreed.empty() && agreed != status.leader)) return false;
        agreed = status.leader;
      }
      found = agreed;
      return !found.empty() && nodes_.count(found) &&
             nodes_.at(found)->status().role == Role::leader;
    }));
    return found;
  }
  std::string follower() {
    const std::string lead = leader();
    for (auto& [name, node] : nodes_) {
      if (name != lead) return name;
    }
    FAIL("no follower");
    return {};
  }
  std::map<std::string, std::unique_ptr<RaftMember>>& nodes() { return nodes_; }
  SocketAddress address(const std::string& name) { return addresses_.at(name); }

  std::uint64_t snapshot_entries = 10'000;
  std::uint64_t max_state_bytes = std::uint64_t{64} << 20;
  /// The data directory of `name` (after start or settings).
  std::string data_dir(const std::string& name) { return dir_.sub(name); }

 private:
  TempDir dir_;
  std::vector<std::string> founders_;
  std::map<std::string, SocketAddress> addresses_;
  std::map<std::string, std::unique_ptr<RaftMember>> nodes_;
};

inline Answer<store::KvResult> put(RaftMember& node, const std::string& key,
                                   const std::string& value) {
  return wait_for<store::KvResult>([&](auto done) { node.write(store::KvPut{key, value}, done); });
}

inline std::optional<std::string> get(RaftMember& node, const std::string& key,
                                      ReadMode mode = ReadMode::linearizable) {
  auto answer =
      wait_for<std::optional<std::string>>([&](auto done) { node.read(key, mode, done); });
  if (answer.error) FAIL("read " << key << ": " << answer.error->message);
  return answer.value;
}

}  // namespace meridian::cluster::test
