#pragma once
// The durable half of Raft: the log, the hard state, and snapshots of the
// state machine, behind one interface with an in-memory implementation (for
// tests and the simulator) and a RocksDB one (store/rocks_raft_log.cpp).
//
// Raft's safety rests on one promise kept here: when save() returns, what it
// was given is on stable storage (fsync'd), so a vote or an append is
// acknowledged only after its write is durable.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace meridian::store {

/// What an entry carries.
enum class EntryType : std::uint8_t {
  normal,  ///< application data (a state machine command), or empty (a new leader's no-op)
  config,  ///< a membership change (cluster/ encodes it in data)
};

struct Entry {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  EntryType type = EntryType::normal;
  std::string data;

  friend bool operator==(const Entry&, const Entry&) = default;
};

/// The state a node must never forget (Raft figure 2), plus the commit
/// index, which speeds restart (it is safe to lose, never to exceed).
struct HardState {
  std::uint64_t term = 0;
  std::uint64_t vote = 0;  ///< node id voted for in `term`; 0: none
  std::uint64_t commit = 0;

  friend bool operator==(const HardState&, const HardState&) = default;
};

/// Voters and learners of a configuration, as node ids.
struct Membership {
  std::vector<std::uint64_t> voters;
  std::vector<std::uint64_t> learners;

  friend bool operator==(const Membership&, const Membership&) = default;
};

/// A snapshot: the state machine's data up to `index`, the term of that
/// entry, and the membership in force there.
struct Snapshot {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  Membership membership;
  std::string data;  ///< opaque to the log; the state machine's encoding

  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

/// The persistent log. Indices are contiguous from first_index() to
/// last_index(); entries before first_index() were compacted away, and are
/// covered by the snapshot: first_index() - 1 <= snapshot().index (a node
/// may keep a tail of entries its snapshot already covers, for slow
/// followers). Not thread-safe: one owner.
class RaftLog {
 public:
  virtual ~RaftLog() = default;

  virtual HardState hard_state() const = 0;
  /// The latest snapshot (index 0 when none).
  virtual const Snapshot& snapshot() const = 0;
  virtual std::uint64_t first_index() const = 0;
  /// first_index() - 1 when the log holds no entries.
  virtual std::uint64_t last_index() const = 0;
  /// Term of entry `index`, for first_index() - 1 <= index <= last_index()
  /// (the term of the last compacted entry is remembered); nullopt outside.
  virtual std::optional<std::uint64_t> term(std::uint64_t index) const = 0;
  /// Entries in [from, to), from >= first_index(), to <= last_index() + 1,
  /// stopping early (after at least one entry) once `max_bytes` of data is
  /// reached.
  virtual Result<std::vector<Entry>> entries(std::uint64_t from, std::uint64_t to,
                                             std::uint64_t max_bytes) const = 0;

  /// Durably: drops every entry >= entries.front().index (a conflict
  /// truncation), appends `entries` (contiguous, starting at most at
  /// last_index() + 1), and then stores `hard_state` if set. Returns once all
  /// of it is synced, with one exception: a save of no entries whose hard
  /// state differs from the stored one only in its commit index may return
  /// before that is synced (the commit index is safe to lose, never to
  /// exceed, and the write is ordered after every synced entry it covers).
  /// Either may be empty/unset.
  virtual Result<void> save(const std::vector<Entry>& entries,
                            const std::optional<HardState>& hard_state) = 0;

  /// Durably installs `snapshot` received from the leader (newer than the
  /// current one): entries up to snapshot.index are dropped, later ones kept
  /// only if the entry at snapshot.index has snapshot.term (else the whole
  /// log is dropped); the commit index rises to snapshot.index.
  virtual Result<void> install_snapshot(const Snapshot& snapshot) = 0;

  /// Durably records `snapshot` taken by this node's own state machine
  /// (first_index() - 1 <= snapshot.index <= last_index(), with the log's
  /// term there) and drops entries up to snapshot.index - `keep` (log
  /// compaction, keeping a tail of `keep` entries for slow followers).
  virtual Result<void> compact(const Snapshot& snapshot, std::uint64_t keep) = 0;

  /// Durably drops every entry and the snapshot, keeping the term and vote
  /// (commit back to 0): the log of a node that starts over and catches up
  /// from the leader, when what it saved cannot be used (a snapshot that no
  /// longer restores). Never throws away a vote, so Raft's election safety
  /// holds; the entries this node acknowledged are lost as with a lost disk.
  virtual Result<void> discard() = 0;
};

/// The checks every RaftLog makes before an append, stated once so the
/// implementations cannot drift: `entries` must be contiguous, start within
/// [first_index(), last_index() + 1], and never replace a committed entry
/// (index <= hard_state().commit) with one of another term.
Result<void> check_append(const RaftLog& log, const std::vector<Entry>& entries);

/// A RaftLog in memory. `save` "syncs" instantly. For tests and the
/// simulator (which models crashes by keeping or discarding whole saves).
std::unique_ptr<RaftLog> make_memory_log();

}  // namespace meridian::store
