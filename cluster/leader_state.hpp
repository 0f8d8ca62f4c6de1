#pragma once
// The leader's bookkeeping, all of it dropped when the leader steps down:
//
// - Progress: the leader's view of one peer's log (etcd's Progress): how far
//   it matches, what to send next, and the flow control (Inflights) that
//   keeps the leader from flooding a slow or unreachable follower. States and
//   their transitions are documented on ReplicationState
//   (cluster/raft_types.hpp). In short: probe sends one append per heartbeat
//   interval until the peer accepts one; replicate pipelines appends, at most
//   `max_inflight` unacknowledged; snapshot waits for a snapshot to land.
// - ReadIndexQueue: the pending ReadIndex rounds (Raft dissertation §6.4): a
//   read asked at commit index C is linearizable once the leader has proved,
//   by a heartbeat round acknowledged by a quorum, that it was still the
//   leader after the read arrived. Each request gets a round number, sent as
//   the heartbeat context; a response echoing round r confirms every request
//   of round r or earlier. Pending reads are dropped on stepping down; their
//   callers time out and retry.
//
// Ownership: the leader's Raft owns one Progress per member (itself
// included) and one ReadIndexQueue. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <set>
#include <vector>

#include "cluster/raft_types.hpp"

namespace meridian::cluster {

/// A bounded FIFO of the last indices of unacknowledged appends sent to one
/// peer. An acknowledgement of index i frees every append ending at or
/// before i.
class Inflights {
 public:
  /// `capacity` >= 1: the most appends in flight at once.
  explicit Inflights(std::size_t capacity);

  bool full() const noexcept { return count_ == buffer_.size(); }
  std::size_t count() const noexcept { return count_; }
  std::size_t capacity() const noexcept { return buffer_.size(); }

  /// Records an append ending at `last_index`. Precondition: !full(), and
  /// indices are added in increasing order.
  void add(std::uint64_t last_index);
  /// Frees every append ending at or before `index`.
  void free_up_to(std::uint64_t index);
  /// Frees the oldest append (a heartbeat response proves the peer alive,
  /// so the window may move even when acknowledgements were lost).
  void free_first();
  void reset() noexcept { start_ = count_ = 0; }

 private:
  std::vector<std::uint64_t> buffer_;  // ring
  std::size_t start_ = 0;
  std::size_t count_ = 0;
};

/// The leader's view of one peer: match, next, replication state, window.
class Progress {
 public:
  /// A peer in probe state, next to be sent `next`, nothing known to match.
  Progress(std::uint64_t next, std::size_t max_inflight, bool learner);

  std::uint64_t match() const noexcept { return match_; }
  std::uint64_t next() const noexcept { return next_; }
  ReplicationState state() const noexcept { return state_; }
  bool learner() const noexcept { return learner_; }
  void set_learner(bool learner) noexcept { learner_ = learner; }
  const Inflights& inflights() const noexcept { return inflights_; }
  /// The snapshot index being sent (snapshot state only).
  std::uint64_t pending_snapshot() const noexcept { return pending_snapshot_; }

  /// Heard from since the last check-quorum round.
  bool recent_active() const noexcept { return recent_active_; }
  void set_recent_active(bool active) noexcept { recent_active_ = active; }

  void become_probe();
  void become_replicate();
  void become_snapshot(std::uint64_t snapshot_index);

  /// True when nothing may be sent now: probe with an append outstanding,
  /// replicate with a full window, or snapshot.
  bool paused() const noexcept;
  /// The peer answered a heartbeat: it is alive, so allow the next probe,
  /// and in replicate state with a full window free its oldest slot (the
  /// acknowledgements may have been lost).
  void on_heartbeat_response();
  /// Sending the snapshot failed: probe again from the match.
  void on_snapshot_failed();

  /// An append ending at `last_index` was sent (with entries): replicate
  /// advances `next` optimistically and takes a window slot; probe waits.
  void on_entries_sent(std::uint64_t last_index);
  /// The peer acknowledged a match up to `index`. Returns true when that is
  /// news (match rose). Stale acknowledgements change nothing.
  bool on_match(std::uint64_t index);
  /// The peer rejected the append after `rejected`; `hint` is where the logs
  /// may match. Returns false for a stale rejection (ignored).
  bool on_reject(std::uint64_t rejected, std::uint64_t hint);
  /// The peer's log ends at `last`, before its match: it lost entries it had
  /// acknowledged. Match drops to `last` and the peer is probed from there.
  void on_log_lost(std::uint64_t last);

  /// Ticks spent in snapshot state without an answer (for the retry).
  std::uint32_t snapshot_ticks() const noexcept { return snapshot_ticks_; }
  void tick_snapshot() noexcept { ++snapshot_ticks_; }

 private:
  std::uint64_t match_ = 0;
  std::uint64_t next_;
  ReplicationState state_ = ReplicationState::probe;
  bool probe_sent_ = false;
  bool recent_active_ = false;
  bool learner_;
  std::uint64_t pending_snapshot_ = 0;
  std::uint32_t snapshot_ticks_ = 0;
  Inflights inflights_;
};

/// The leader's pending read-index requests, oldest first (see the top).
class ReadIndexQueue {
 public:
  /// A read waiting for its quorum.
  struct Request {
    std::uint64_t round = 0;    ///< heartbeat context confirming it
    std::uint64_t context = 0;  ///< the caller's id for the read
    NodeId from = no_node;      ///< who asked (the leader itself, or a follower)
    std::uint64_t index = 0;    ///< the commit index when it arrived
    std::set<NodeId> acks;      ///< nodes that confirmed the round
  };

  /// `capacity` bounds the queue (a limit, not a hint).
  explicit ReadIndexQueue(std::size_t capacity) : capacity_(capacity) {}

  bool full() const noexcept { return requests_.size() >= capacity_; }
  bool empty() const noexcept { return requests_.empty(); }
  std::size_t size() const noexcept { return requests_.size(); }
  /// The newest round (0 when none is pending): the heartbeat context.
  std::uint64_t last_round() const noexcept;

  /// Queues a read and returns its round. `leader` acknowledges it at once.
  /// Precondition: !full().
  std::uint64_t add(std::uint64_t context, NodeId from, std::uint64_t index, NodeId leader);
  /// `node` answered the heartbeat of `round`.
  void ack(NodeId node, std::uint64_t round);
  /// Removes and returns, oldest first, every request up to the newest one
  /// whose acknowledgements satisfy `has_quorum`.
  std::vector<Request> release(const std::function<bool(const std::set<NodeId>&)>& has_quorum);
  void clear() noexcept { requests_.clear(); }

 private:
  std::size_t capacity_;
  std::uint64_t next_round_ = 1;
  std::deque<Request> requests_;
};

}  // namespace meridian::cluster
