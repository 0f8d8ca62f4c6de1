#pragma once
// The Raft core's view of its log: the durable store::RaftLog (read-only
// here) plus the tail the core has appended but the driver has not yet
// persisted, and a received snapshot not yet installed (etcd's "unstable"
// log), together with the commit and applied indices.
//
//   durable log (RaftLog)   [first ........ stable entries .......]
//   unstable tail                              [offset .... last]   <- newer wins
//   pending snapshot        replaces everything up to its index
//
// The driver persists unstable() (through RaftLog::save / install_snapshot)
// and then reports it with stable_to() / stable_snapshot_to(). Until then
// the unstable tail wins over durable entries at the same indices (a
// follower may truncate entries it already persisted).
//
// Ownership: owned by one Raft; holds a reference to the driver's RaftLog,
// which must outlive it. Not thread-safe.

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "store/raft_log.hpp"

namespace meridian::cluster {

class LogView {
 public:
  /// Starts with an empty unstable tail over `log`, committed at the log's
  /// hard-state commit and applied at max(applied, the snapshot's index).
  LogView(const store::RaftLog& log, std::uint64_t applied);

  std::uint64_t first_index() const;
  std::uint64_t last_index() const;
  std::uint64_t last_term() const;
  /// Term of entry `index`, from first_index() - 1 to last_index(); nullopt
  /// outside (compacted, or beyond the log).
  std::optional<std::uint64_t> term(std::uint64_t index) const;
  bool match_term(std::uint64_t index, std::uint64_t term) const;
  /// Raft's election restriction (§5.4.1): is a log ending at
  /// (last_index, last_term) at least as up to date as this one?
  bool is_up_to_date(std::uint64_t last_index, std::uint64_t last_term) const;

  /// Entries in [from, to), stopping after at least one once `max_bytes` of
  /// data is reached. Errors when `from` was compacted away.
  Result<std::vector<store::Entry>> entries(std::uint64_t from, std::uint64_t to,
                                            std::uint64_t max_bytes) const;

  /// The index of the first entry of `entries` that this log lacks or holds
  /// with another term; 0 when every entry matches.
  std::uint64_t find_conflict(const std::vector<store::Entry>& entries) const;
  /// The largest index <= `index` whose term is <= `term`, with that term
  /// (fast back-off, both sides); (index, 0) when the term there is unknown.
  std::pair<std::uint64_t, std::uint64_t> find_conflict_by_term(std::uint64_t index,
                                                                std::uint64_t term) const;

  /// Appends `entries` (contiguous), replacing any entries at or after the
  /// first one's index. Precondition: committed() < front().index <=
  /// last_index() + 1. Returns the new last index.
  std::uint64_t append(const std::vector<store::Entry>& entries);
  /// Replaces the whole log with `snapshot` (received from a leader, newer
  /// than the commit index); committed() becomes its index.
  void restore(const store::Snapshot& snapshot);

  std::uint64_t committed() const noexcept { return committed_; }
  /// Raises the commit index. Precondition: index <= last_index().
  void commit_to(std::uint64_t index);
  std::uint64_t applied() const noexcept { return applied_; }
  /// The driver applied up to `index` (or installed a snapshot there).
  void applied_to(std::uint64_t index);

  /// Committed entries not yet handed out for applying, starting after
  /// `handed_out` (>= applied), at most `max_bytes` (at least one entry).
  std::vector<store::Entry> next_committed_entries(std::uint64_t handed_out,
                                                   std::uint64_t max_bytes) const;
  /// First index the state machine still needs: after applied() and after
  /// a pending snapshot.
  std::uint64_t apply_from() const;

  /// The newest snapshot: the pending one, else the durable one.
  const store::Snapshot& snapshot() const;
  const std::vector<store::Entry>& unstable_entries() const noexcept { return unstable_; }
  const std::optional<store::Snapshot>& unstable_snapshot() const noexcept {
    return unstable_snapshot_;
  }
  /// The driver persisted unstable entries up to `index`, which had `term`
  /// when handed out; ignored when the tail changed since (a truncation).
  void stable_to(std::uint64_t index, std::uint64_t term);
  /// The driver installed the pending snapshot at `index`.
  void stable_snapshot_to(std::uint64_t index);

 private:
  const store::RaftLog& log_;
  std::optional<store::Snapshot> unstable_snapshot_;
  std::uint64_t offset_;  // index of unstable_[0]
  std::vector<store::Entry> unstable_;
  std::uint64_t committed_;
  std::uint64_t applied_;
};

}  // namespace meridian::cluster
