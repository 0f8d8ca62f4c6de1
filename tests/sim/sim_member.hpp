#pragma once
// One Raft member of a simulated cluster: the Raft core over a memory log
// (its durable disk), a memory KvState (its state machine), and the Ready it
// has taken but not yet made durable, which a crash loses. The simulation
// owns the clock (whole milliseconds) and the network; a member only turns
// Readies into durable state, messages on the network and applied entries,
// following the driver loop of cluster/raft.hpp.
//
// Disk: a member holds a taken Ready as its unsynced buffer until a seeded
// moment (0-3 ms later); only then is it saved, its messages sent, its
// committed entries applied and its reads served, and advance() called. A
// crash discards the buffer with the Raft and the KV state; a restart
// rebuilds the Raft from the durable log and the KV from its snapshot (Raft
// re-applies the committed entries after it).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/rng.hpp"
#include "cluster/raft.hpp"
#include "store/kv_state.hpp"
#include "store/raft_log.hpp"
#include "tests/sim/sim_network.hpp"

namespace meridian::sim {

class SimMember {
 public:
  /// What the member tells its simulation, as it happens.
  struct Hooks {
    /// An entry was applied: its command's result when it held one.
    std::function<void(const store::Entry& entry, const std::optional<store::KvResult>& result)>
        applied;
    /// A read-index round completed and the state has caught up with it.
    std::function<void(const cluster::ReadState& read)> read_ready;
    /// The Raft's soft state changed (role or leader).
    std::function<void(const cluster::SoftState& soft)> soft_state;
    /// A snapshot from the leader replaced the state.
    std::function<void(std::uint64_t index)> installed;
  };

  /// A member `config.id` that starts at once. `seed` and `boots` make each
  /// incarnation's election randomness distinct and reproducible.
  SimMember(cluster::Raft::Config config, std::uint64_t seed, Rng& rng, SimNetwork& network);

  bool up() const noexcept { return raft_ != nullptr; }
  cluster::NodeId id() const noexcept { return config_.id; }
  /// How many times the member has started (1 after construction).
  std::uint64_t incarnation() const noexcept { return boots_; }

  /// Starts the member from its durable log (after a crash).
  void start();
  /// Loses the Raft, the KV state and the unsynced Ready.
  void crash();
  /// Compacts the durable log up to the applied index (a snapshot of the
  /// KV state, with `membership` in force there), keeping `keep` entries.
  /// False when there is nothing to compact or a Ready is out.
  bool compact(const store::Membership& membership, std::uint64_t keep);
  /// Takes Readies and makes them durable when their moment has come.
  /// Throws std::runtime_error when the memory log refuses a write (a bug).
  void drive(std::uint64_t now_ms);

  /// The running Raft, KV state and durable log (precondition: up() for
  /// the first two).
  cluster::Raft& raft() { return *raft_; }
  const cluster::Raft& raft() const { return *raft_; }
  store::KvState& kv() { return *kv_; }
  const store::KvState& kv() const { return *kv_; }
  const store::RaftLog& log() const { return *log_; }
  /// The last entry applied (or the snapshot's index).
  std::uint64_t applied() const noexcept { return applied_; }
  /// True while a taken Ready waits for its moment.
  bool unsynced() const noexcept { return unsynced_.has_value(); }

  Hooks hooks;

 private:
  void sync();
  void apply(const store::Entry& entry);

  cluster::Raft::Config config_;
  std::uint64_t seed_;
  Rng& rng_;
  SimNetwork& network_;
  std::unique_ptr<store::RaftLog> log_ = store::make_memory_log();
  std::unique_ptr<cluster::Raft> raft_;  // null while down
  std::unique_ptr<store::KvState> kv_;
  std::optional<cluster::Ready> unsynced_;
  std::uint64_t durable_at_ = 0;
  std::uint64_t now_ms_ = 0;
  std::uint64_t applied_ = 0;
  std::vector<cluster::ReadState> reads_;  // waiting for the apply
  std::uint64_t boots_ = 0;
};

}  // namespace meridian::sim
