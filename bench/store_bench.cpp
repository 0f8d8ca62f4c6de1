// Consensus store benchmark (bench/store.sh): three members of the store,
// each with its own RocksDB (every append fsync'd) and mutual TLS on
// loopback, and N concurrent clients writing to the leader. Prints commits/s
// and commit latency percentiles per client count. Not a test: numbers only.
//
//   store_bench [--seconds S] [--clients 1,16,256] [--value-bytes B] [--dir DIR]

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/log.hpp"
#include "cluster/certs.hpp"
#include "cluster/raft_member.hpp"

using namespace meridian;
using namespace meridian::cluster;
using Stopwatch = std::chrono::steady_clock;

namespace {

/// Each client cycles through this many keys, so the state (and each
/// snapshot of it) stays the size of a large GSLB deployment's: 256 clients
/// x 100 keys x ~120 bytes, about 3 MB.
constexpr std::uint64_t kKeysPerClient = 100;

struct Options {
  double seconds = 5;
  std::vector<int> clients{1, 16, 64, 256};
  std::size_t value_bytes = 100;
  std::string dir;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--seconds") {
      options.seconds = std::stod(value);
    } else if (flag == "--value-bytes") {
      options.value_bytes = std::stoul(value);
    } else if (flag == "--dir") {
      options.dir = value;
    } else if (flag == "--clients") {
      options.clients.clear();
      std::stringstream list(value);
      for (std::string item; std::getline(list, item, ',');)
        options.clients.push_back(std::stoi(item));
    } else {
      std::cerr << "unknown flag " << flag << "\n";
      std::exit(2);
    }
  }
  return options;
}

/// One round: `clients` loops, each writing as soon as its previous write
/// committed, for `seconds`.
struct Round {
  std::mutex mutex;
  std::vector<double> latencies_ms;
  std::atomic<std::uint64_t> errors{0};
  std::atomic<bool> running{true};
  std::atomic<int> active{0};
};

void client_loop(RaftMember& leader, std::shared_ptr<Round> round, int client,
                 std::uint64_t sequence, const std::string& value) {
  if (!round->running) {
    --round->active;
    return;
  }
  const auto started = Stopwatch::now();
  const std::string key =
      "bench/" + std::to_string(client) + "/" + std::to_string(sequence % kKeysPerClient);
  leader.write(store::KvPut{key, value}, [&leader, round, client, sequence, value, started](
                                             store::KvResult, std::optional<StoreError> error) {
    const double ms = std::chrono::duration<double, std::milli>(Stopwatch::now() - started).count();
    if (error) {
      ++round->errors;
    } else {
      std::lock_guard lock(round->mutex);
      round->latencies_ms.push_back(ms);
    }
    client_loop(leader, round, client, sequence + 1, value);
  });
}

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  const std::size_t index =
      std::min(values.size() - 1, static_cast<std::size_t>(p * static_cast<double>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index),
                   values.end());
  return values[index];
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  std::string dir = options.dir;
  if (dir.empty()) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "meridian-store-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return 1;
    dir = pattern;
  }
  Logger logger(LogLevel::warn);
  auto ca = create_ca({"store bench CA", {}, {}});
  if (!ca) return 1;

  const std::vector<std::string> names{"bench-1", "bench-2", "bench-3"};
  std::vector<PeerAddress> peers;
  for (std::size_t i = 0; i < names.size(); ++i) {
    peers.push_back(
        {names[i], {IpAddress::v4(127, 0, 0, 1), static_cast<std::uint16_t>(17411 + i)}});
  }
  SystemClock clock;
  std::vector<std::unique_ptr<RaftMember>> nodes;
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto cert = issue_node_certificate(*ca, {names[i], {names[i]}, {}});
    if (!cert) return 1;
    RaftMemberSettings settings;
    settings.name = names[i];
    settings.data_dir = dir + "/" + names[i];
    settings.transport.listen = peers[i].address;
    settings.transport.ca_pem = ca->certificate_pem;
    settings.transport.cert_pem = cert->certificate_pem;
    settings.transport.key_pem = cert->key_pem;
    settings.peers = peers;
    settings.founders = names;
    settings.request_timeout = std::chrono::seconds(10);
    auto node = RaftMember::start(settings, logger, clock);
    if (!node) {
      std::cerr << "cannot start " << names[i] << ": " << node.error().message << "\n";
      return 1;
    }
    nodes.push_back(std::move(*node));
  }
  RaftMember* leader = nullptr;
  for (int wait = 0; wait < 100 && leader == nullptr; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (auto& node : nodes) {
      if (node->status().role == Role::leader) leader = node.get();
    }
  }
  if (leader == nullptr) {
    std::cerr << "no leader elected\n";
    return 1;
  }

  const std::string value(options.value_bytes, 'x');
  std::printf(
      "3 members, RocksDB with fsync, mutual TLS on loopback; %zu-byte values, %llu keys per "
      "client, "
      "snapshot every 10000 entries, %.0f s per round\n",
      options.value_bytes, static_cast<unsigned long long>(kKeysPerClient), options.seconds);
  std::printf("%8s %12s %10s %10s %10s %8s\n", "clients", "commits/s", "p50 ms", "p99 ms", "max ms",
              "errors");
  for (const int clients : options.clients) {
    auto round = std::make_shared<Round>();
    round->active = clients;
    const auto started = Stopwatch::now();
    for (int client = 0; client < clients; ++client) client_loop(*leader, round, client, 0, value);
    std::this_thread::sleep_for(std::chrono::duration<double>(options.seconds));
    round->running = false;
    const double elapsed = std::chrono::duration<double>(Stopwatch::now() - started).count();
    for (int wait = 0; wait < 200 && round->active > 0; ++wait)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::vector<double> latencies;
    {
      std::lock_guard lock(round->mutex);
      latencies = round->latencies_ms;
    }
    const double commits = static_cast<double>(latencies.size()) / elapsed;
    const double p50 = percentile(latencies, 0.50);
    const double p99 = percentile(latencies, 0.99);
    const double max =
        latencies.empty() ? 0 : *std::max_element(latencies.begin(), latencies.end());
    std::printf("%8d %12.0f %10.2f %10.2f %10.2f %8llu\n", clients, commits, p50, p99, max,
                static_cast<unsigned long long>(round->errors.load()));
    std::fflush(stdout);
  }
  const StoreStatus status = leader->status();
  std::printf("leader %s: term %llu, commit %llu, log %llu..%llu, snapshot at %llu\n",
              status.name.c_str(), static_cast<unsigned long long>(status.term),
              static_cast<unsigned long long>(status.commit),
              static_cast<unsigned long long>(status.first_index),
              static_cast<unsigned long long>(status.last_index),
              static_cast<unsigned long long>(status.snapshot_index));
  nodes.clear();
  if (options.dir.empty()) std::filesystem::remove_all(dir);
  return 0;
}
