#pragma once
// A tiny deterministic network of Raft nodes for the cluster tests: N Raft
// instances over memory logs, one thread, no clock. It drives each node the
// way the real shell must (cluster/raft.hpp): install the snapshot, persist
// entries and hard state, only then queue the Ready's messages, apply the
// committed entries, advance.
//
// Controls: cut links, isolate nodes, crash and restart them (the memory log
// survives; everything not persisted is lost), drop messages by predicate,
// observe every delivered message.
//
// Safety is checked on every step, in every test: at most one leader per
// term (election safety) and the same entry at each applied index on every
// node (state machine safety). A violation fails the running test.

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/rng.hpp"
#include "cluster/raft.hpp"
#include "store/raft_log.hpp"

namespace meridian::cluster::testing {

/// One node of the network: its durable log, its Raft (null while down),
/// and its state machine (the applied entries).
struct TestNode {
  Raft::Config config;
  std::unique_ptr<store::RaftLog> log;
  std::unique_ptr<Raft> raft;
  std::uint64_t applied_index = 0;
  std::vector<store::Entry> applied;        ///< entries applied since start/restore
  std::optional<store::Snapshot> restored;  ///< last snapshot installed
  std::vector<ReadState> reads;             ///< read states received
  int restarts = 0;
};

/// The defaults of the tests: election 10 ticks, heartbeat 1.
inline Raft::Config test_config(NodeId id, std::vector<NodeId> peers,
                                std::vector<NodeId> learners = {}) {
  Raft::Config config;
  config.id = id;
  config.peers = std::move(peers);
  config.learners = std::move(learners);
  return config;
}

class Network {
 public:
  using Tweak = std::function<void(Raft::Config&)>;

  /// A cluster founded with `voters` and `learners`, every node started.
  explicit Network(const std::vector<NodeId>& voters, std::uint64_t seed = 1, Tweak tweak = {},
                   const std::vector<NodeId>& learners = {})
      : seed_(seed), tweak_(std::move(tweak)) {
    for (NodeId id : voters) add(test_config(id, voters, learners));
    for (NodeId id : learners) add(test_config(id, voters, learners));
  }

  /// Adds and starts a node over `log` (a fresh memory log when null).
  void add(Raft::Config config, std::unique_ptr<store::RaftLog> log = nullptr) {
    if (tweak_) tweak_(config);
    TestNode& node = nodes_[config.id];
    node.config = std::move(config);
    node.log = log ? std::move(log) : store::make_memory_log();
    start(node.config.id);
  }

  TestNode& node(NodeId id) { return nodes_.at(id); }
  Raft& raft(NodeId id) {
    auto& raft = nodes_.at(id).raft;
    REQUIRE(raft != nullptr);
    return *raft;
  }
  bool up(NodeId id) const { return nodes_.at(id).raft != nullptr; }
  std::vector<NodeId> ids() const {
    std::vector<NodeId> out;
    for (const auto& [id, node] : nodes_) out.push_back(id);
    return out;
  }

  // ---- faults -------------------------------------------------------------

  void cut(NodeId a, NodeId b) {
    cut_.insert({a, b});
    cut_.insert({b, a});
  }
  void isolate(NodeId a) {
    for (const auto& [id, node] : nodes_) {
      if (id != a) cut(a, id);
    }
  }
  void heal() { cut_.clear(); }
  /// Drops a message when it returns true (after link and liveness checks).
  std::function<bool(const Message&)> drop_if;
  /// Sees every message actually delivered.
  std::function<void(const Message&)> observe;

  /// The node stops: its Raft and unpersisted state are gone, its log stays.
  void crash(NodeId id) { nodes_.at(id).raft.reset(); }
  /// A crashed node starts again over its log; its state machine restarts
  /// from the log's snapshot and re-applies committed entries.
  void start(NodeId id) {
    TestNode& node = nodes_.at(id);
    node.raft =
        std::make_unique<Raft>(node.config, *node.log, seed_ * 7919 + id * 131 + node.restarts++);
    node.applied.clear();
    node.restored.reset();
    node.applied_index = node.log->snapshot().index;
  }

  // ---- driving ------------------------------------------------------------

  /// Handles every live node's Ready until none has one.
  void process_readies() {
    bool again = true;
    while (again) {
      again = false;
      for (auto& [id, node] : nodes_) {
        while (node.raft && node.raft->has_ready()) {
          handle_ready(node);
          again = true;
        }
      }
    }
    check_election_safety();
  }

  /// Delivers every queued message once (messages sent in reply wait for
  /// the next round). Returns how many were delivered.
  std::size_t deliver_round() {
    process_readies();
    std::vector<Message> batch;
    batch.swap(queue_);
    std::size_t delivered = 0;
    for (const Message& message : batch) delivered += deliver(message) ? 1 : 0;
    process_readies();
    return delivered;
  }

  /// Delivers until no message is in flight (bounded: a livelock fails).
  void stabilize() {
    for (int round = 0; round < 10000; ++round) {
      process_readies();
      if (queue_.empty()) return;
      deliver_round();
    }
    FAIL("network did not stabilize");
  }

  /// Ticks every live node `n` times, stabilizing after each tick.
  void tick_all(int n = 1) {
    for (int i = 0; i < n; ++i) {
      for (auto& [id, node] : nodes_) {
        if (node.raft) node.raft->tick();
      }
      stabilize();
    }
  }

  /// Makes `id` campaign and settles the election; returns the leader.
  NodeId elect(NodeId id) {
    REQUIRE(raft(id).campaign().ok());
    stabilize();
    return leader();
  }

  /// The live leader with the highest term (0: none).
  NodeId leader() const {
    NodeId best = no_node;
    std::uint64_t best_term = 0;
    for (const auto& [id, node] : nodes_) {
      if (node.raft && node.raft->role() == Role::leader && node.raft->term() >= best_term) {
        best = id;
        best_term = node.raft->term();
      }
    }
    return best;
  }

  /// Proposes `data` at `id` (which must lead) and stabilizes.
  std::uint64_t propose(NodeId id, const std::string& data) {
    auto index = raft(id).propose(data);
    REQUIRE(index.ok());
    stabilize();
    return *index;
  }

  /// The data of the normal, non-empty entries `id` applied, in order.
  std::vector<std::string> applied_data(NodeId id) {
    std::vector<std::string> out;
    for (const auto& entry : node(id).applied) {
      if (entry.type == store::EntryType::normal && !entry.data.empty()) out.push_back(entry.data);
    }
    return out;
  }

  std::vector<Message>& queue() { return queue_; }
  /// Every term that had a leader, with that leader.
  const std::map<std::uint64_t, NodeId>& leaders_by_term() const { return leaders_; }
  /// Step errors seen (garbage must be rejected, real traffic never is).
  const std::vector<std::string>& step_errors() const { return step_errors_; }

  /// Delivers one queued message (by position), as a fault-injecting
  /// scheduler would. Returns whether it reached a live node.
  bool deliver_at(std::size_t position) {
    Message message = std::move(queue_.at(position));
    queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(position));
    const bool delivered = deliver(message);
    process_readies();
    return delivered;
  }

 private:
  bool deliver(const Message& message) {
    if (!nodes_.contains(message.to) || !up(message.to)) return false;
    if (cut_.contains({message.from, message.to})) return false;
    if (drop_if && drop_if(message)) return false;
    if (observe) observe(message);
    auto result = nodes_.at(message.to).raft->step(message);
    if (!result) step_errors_.push_back(result.error().message);
    return true;
  }

  void handle_ready(TestNode& node) {
    Ready ready = node.raft->ready();
    if (ready.snapshot) {
      if (!node.log->install_snapshot(*ready.snapshot).ok()) FAIL("install_snapshot failed");
      node.restored = *ready.snapshot;
      node.applied.clear();
      node.applied_index = ready.snapshot->index;
    }
    if (auto saved = node.log->save(ready.entries, ready.hard_state); !saved)
      FAIL(saved.error().message);
    // Only now, with the Ready durable, may its messages leave.
    for (Message& message : ready.messages) queue_.push_back(std::move(message));
    for (const store::Entry& entry : ready.committed_entries) {
      if (entry.index != node.applied_index + 1)
        FAIL("node " << node.config.id << " applies out of order");
      node.applied_index = entry.index;
      node.applied.push_back(entry);
      const auto [it, first] = committed_.emplace(entry.index, entry);
      if (!first && !(it->second == entry))
        FAIL("two different entries committed at index " << entry.index);
    }
    for (const ReadState& read : ready.read_states) node.reads.push_back(read);
    node.raft->advance(ready);
  }

  void check_election_safety() {
    for (const auto& [id, node] : nodes_) {
      if (!node.raft || node.raft->role() != Role::leader) continue;
      const auto [it, first] = leaders_.emplace(node.raft->term(), id);
      if (!first && it->second != id) FAIL("two leaders in term " << node.raft->term());
    }
  }

  std::uint64_t seed_;
  Tweak tweak_;
  std::map<NodeId, TestNode> nodes_;
  std::vector<Message> queue_;
  std::set<std::pair<NodeId, NodeId>> cut_;
  std::map<std::uint64_t, store::Entry> committed_;  // index -> the entry every node applied there
  std::map<std::uint64_t, NodeId> leaders_;          // term -> its leader
  std::vector<std::string> step_errors_;
};

/// Entries 1..n with the given terms (terms[i] is the term of index i + 1).
inline std::vector<store::Entry> entries_with_terms(const std::vector<std::uint64_t>& terms,
                                                    std::uint64_t first_index = 1) {
  std::vector<store::Entry> out;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    store::Entry entry;
    entry.index = first_index + i;
    entry.term = terms[i];
    entry.data = "e" + std::to_string(entry.index) + "t" + std::to_string(entry.term);
    out.push_back(entry);
  }
  return out;
}

/// A memory log holding `terms` and a hard state (term, vote, commit).
inline std::unique_ptr<store::RaftLog> log_with(const std::vector<std::uint64_t>& terms,
                                                store::HardState hard) {
  auto log = store::make_memory_log();
  REQUIRE(log->save(entries_with_terms(terms), hard).ok());
  return log;
}

}  // namespace meridian::cluster::testing
