#pragma once
// The simulator's network: messages in flight between Raft nodes, each with
// a seeded fate. While faults are on, a message may be dropped, duplicated,
// and is delayed by 1..max_delay ms (so messages reorder); partitions cut
// every link between two sides of the cluster, both ways, until healed.
// Messages due at the same millisecond leave in the order they were sent.
// Deterministic: every choice comes from the simulation's Rng.

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/rng.hpp"
#include "cluster/raft_types.hpp"

namespace meridian::sim {

class SimNetwork {
 public:
  explicit SimNetwork(Rng& rng) : rng_(rng) {}

  /// Draws the seed's drop, duplication and delay parameters.
  void choose_parameters() {
    drop_percent_ = rng_.below(3) == 0 ? 0 : rng_.below(10);
    dup_percent_ = rng_.below(5);
    max_delay_ = 1 + rng_.below(15);
  }

  /// The seed's network parameters, for the trace.
  std::string describe() const {
    return "drop " + std::to_string(drop_percent_) + "%, dup " + std::to_string(dup_percent_) +
           "%, delay <= " + std::to_string(max_delay_) + "ms";
  }

  /// Off: nothing is dropped or duplicated (delays remain).
  void set_faulty(bool faulty) { faulty_ = faulty; }

  void send(cluster::Message message, std::uint64_t now) {
    if (faulty_ && rng_.below(100) < drop_percent_) return;
    const int copies = faulty_ && rng_.below(100) < dup_percent_ ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      in_flight_.emplace(std::make_pair(now + 1 + rng_.below(max_delay_), sequence_++), message);
    }
  }

  /// The next message due by `now` on a link that is not cut (messages on
  /// cut links are lost), or nullopt.
  std::optional<cluster::Message> next_due(std::uint64_t now) {
    while (!in_flight_.empty() && in_flight_.begin()->first.first <= now) {
      cluster::Message message = std::move(in_flight_.begin()->second);
      in_flight_.erase(in_flight_.begin());
      if (!cut_.contains({message.from, message.to})) return message;
    }
    return std::nullopt;
  }

  bool partitioned() const { return !cut_.empty(); }
  /// Whether the link from `from` to `to` is cut now.
  bool cut(cluster::NodeId from, cluster::NodeId to) const { return cut_.contains({from, to}); }
  /// Whether faults are on, and the seed's drop and delay parameters.
  bool faulty() const { return faulty_; }
  std::uint64_t drop_percent() const { return drop_percent_; }
  std::uint64_t max_delay() const { return max_delay_; }

  /// Splits `ids` into a random side and the rest; returns the side.
  std::vector<cluster::NodeId> partition(const std::vector<cluster::NodeId>& ids) {
    std::vector<cluster::NodeId> side;
    for (cluster::NodeId id : ids) {
      if (rng_.below(2)) side.push_back(id);
    }
    for (cluster::NodeId a : ids) {
      for (cluster::NodeId b : ids) {
        const bool in_a = std::find(side.begin(), side.end(), a) != side.end();
        const bool in_b = std::find(side.begin(), side.end(), b) != side.end();
        if (in_a != in_b) cut_.insert({a, b});
      }
    }
    return side;
  }

  void heal() { cut_.clear(); }

 private:
  Rng& rng_;
  std::uint64_t drop_percent_ = 0, dup_percent_ = 0, max_delay_ = 1;
  bool faulty_ = true;
  std::multimap<std::pair<std::uint64_t, std::uint64_t>, cluster::Message>
      in_flight_;  // (due, sequence)
  std::uint64_t sequence_ = 0;
  std::set<std::pair<cluster::NodeId, cluster::NodeId>> cut_;
};

}  // namespace meridian::sim
