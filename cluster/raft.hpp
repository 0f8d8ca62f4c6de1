#pragma once
// The Raft consensus core of Meridian: an IO-free state machine in the
// style of etcd's raft RawNode. The driver (the node's cluster shell, the
// simulator, a test) feeds it ticks, messages from peers and proposals; the
// core answers with Ready batches that say what to persist, what to send and
// what to apply. The core never touches a socket, a thread, a clock or a
// global random source: time is a count of tick() calls, and randomness comes
// from a meridian::Rng seeded by the driver, so a whole cluster replays
// exactly from one seed.
//
// Features: leader election with randomized timeouts, pre-vote, check-quorum
// (with the leader lease it implies), pipelined replication with per-peer
// flow control and fast back-off, commitment of current-term entries only,
// snapshots (InstallSnapshot) for followers behind the compacted log,
// learners, single-server membership changes, leadership transfer, and
// ReadIndex for linearizable reads.
//
// The driver loop (one thread owns the Raft and its RaftLog):
//
//   on each tick interval:    raft.tick();
//   on a message from a peer: raft.step(message);   // errors: log and drop
//   on a client request:      raft.propose(data) / raft.read_index(id);
//   while (raft.has_ready()) {
//     Ready rd = raft.ready();
//     if (rd.snapshot)   log.install_snapshot(*rd.snapshot); restore the state machine from it;
//     log.save(rd.entries, rd.hard_state);                   // synced before anything below
//     send rd.messages;                                      // only now (see Ready)
//     apply rd.committed_entries in order; serve rd.read_states once applied;
//     raft.advance(rd);
//   }
//
// Log compaction is the driver's: after applying up to index i it may take a
// snapshot and call RaftLog::compact(snapshot, keep). The core notices on its
// next read of the log and sends that snapshot to followers that fall behind
// it.
//
// Thread rule: none inside; the driver serializes every call.
// Ownership: the Raft reads the driver's RaftLog through a const reference
// and keeps the not-yet-persisted tail itself; the log must outlive the Raft
// and change only through the calls of the driver loop above.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "base/rng.hpp"
#include "cluster/leader_state.hpp"
#include "cluster/log_view.hpp"
#include "cluster/membership.hpp"
#include "cluster/raft_types.hpp"
#include "store/raft_log.hpp"

namespace meridian::cluster {

/// One batch of work for the driver. Apply its parts in this order:
///
/// 1. `snapshot`: install it (RaftLog::install_snapshot) and load it into
///    the state machine.
/// 2. `entries` and `hard_state`: persist them with one synced
///    RaftLog::save(entries, hard_state).
/// 3. `messages`: send them. The etcd rule: a message may leave only after
///    the entries and hard state of the *same* Ready are durable, because it
///    may promise them (a vote, an acknowledged append, a leader's own
///    share of a commit).
/// 4. `committed_entries`: apply them to the state machine, in order
///    (including config entries, to learn about membership; the core has
///    already taken them into account). They may include entries persisted
///    only in step 2.
/// 5. `read_states`: serve each read once the state machine has applied up
///    to its index.
/// 6. Raft::advance(ready).
struct Ready {
  std::optional<SoftState> soft_state;          ///< set when leader or role changed
  std::optional<store::HardState> hard_state;   ///< set when it changed
  std::vector<store::Entry> entries;            ///< to persist (may replace a tail)
  std::optional<store::Snapshot> snapshot;      ///< received from the leader, to install
  std::vector<store::Entry> committed_entries;  ///< to apply
  std::vector<Message> messages;                ///< to send after persisting
  std::vector<ReadState> read_states;           ///< completed read-index rounds
};

/// The leader's view of one member (itself included), for status reports.
struct PeerStatus {
  NodeId id = no_node;
  bool learner = false;
  std::uint64_t match = 0;
  std::uint64_t next = 0;
  ReplicationState state = ReplicationState::probe;
  bool recent_active = false;
  std::size_t inflight = 0;  ///< unacknowledged appends
};

/// A snapshot of a node's Raft state, for `meridian cluster status`.
struct Status {
  NodeId id = no_node;
  Role role = Role::follower;
  std::uint64_t term = 0;
  NodeId vote = no_node;
  NodeId leader = no_node;
  std::uint64_t commit = 0;
  std::uint64_t applied = 0;
  std::uint64_t last_index = 0;
  store::Membership membership;      ///< the configuration in force
  NodeId transferee = no_node;       ///< leadership transfer target, if any
  std::vector<PeerStatus> progress;  ///< leader only, sorted by id
};

class Raft {
 public:
  /// Settings of one node. Ticks are the driver's unit of time (e.g. 100 ms).
  struct Config {
    NodeId id = no_node;
    /// Initial voters (normally including `id`) and learners. Used only when
    /// the log holds neither a snapshot nor a config entry, i.e. when a
    /// cluster is first created; every founding node must get the same
    /// lists. A node joining an existing cluster starts with both empty and
    /// learns the membership from the leader.
    std::vector<NodeId> peers;
    std::vector<NodeId> learners;
    /// Followers campaign after a random [election_tick, 2 * election_tick)
    /// ticks without hearing from a leader; a leader checks its quorum
    /// every election_tick ticks. Must exceed heartbeat_tick.
    std::uint32_t election_tick = 10;
    /// Ticks between a leader's heartbeats. >= 1.
    std::uint32_t heartbeat_tick = 1;
    /// Bytes of entry data per append message (at least one entry is sent).
    std::uint64_t max_size_per_msg = 1 << 20;
    /// Entries per append message (empty entries weigh nothing in bytes).
    /// >= 1; keep it within the wire format's limit (cluster/wire.hpp).
    std::uint64_t max_entries_per_msg = 4096;
    /// Appends in flight to one follower in replicate state. >= 1.
    std::size_t max_inflight_msgs = 256;
    /// Poll voters before raising the term (§9.6 of the dissertation).
    bool pre_vote = true;
    /// A leader steps down when it has not heard from a quorum within an
    /// election timeout; voters ignore elections while a leader is alive.
    bool check_quorum = true;
    /// Index the driver's state machine has already applied (a persistent
    /// state machine); 0: start applying after the snapshot.
    std::uint64_t applied = 0;
    /// Largest proposal accepted, in bytes.
    std::uint64_t max_entry_bytes = 1 << 20;
    /// Bytes of proposals the leader holds uncommitted before refusing more
    /// (one proposal is always accepted).
    std::uint64_t max_uncommitted_bytes = 64 << 20;
    /// Bytes of committed entries handed out per Ready (at least one entry).
    std::uint64_t max_apply_bytes = 64 << 20;
    /// Pending read-index requests held by the leader (and postponed until
    /// its first commit). >= 1.
    std::size_t max_pending_reads = 1024;
    /// Ticks a leader waits for a snapshot to be answered before it falls
    /// back to probing (and so sends it again if still needed). >= 1.
    std::uint32_t snapshot_retry_ticks = 30;
  };

  /// Checks a Config: ids, tick ratios and limits. An error names the field.
  static Result<void> validate(const Config& config);

  /// Starts (or restarts) a node over `log`, as a follower with the log's
  /// term, vote and commit index, and no known leader. The membership is the
  /// newest config entry in the log, else the snapshot's, else Config's.
  /// `seed` drives the randomized election timeouts. Precondition:
  /// validate(config) succeeds (asserted); `log` outlives the Raft.
  Raft(Config config, const store::RaftLog& log, std::uint64_t seed);
  Raft(const Raft&) = delete;
  Raft& operator=(const Raft&) = delete;

  // ---- Inputs -------------------------------------------------------------

  /// Advances logical time by one tick: elections for followers and
  /// candidates; heartbeats, check-quorum and timeouts for a leader.
  void tick();

  /// Processes one message from a peer. Stale messages (older terms,
  /// superseded answers) are ignored, or answered with this node's term, and
  /// return success. Garbage (wrong recipient, unknown type or sender, term
  /// 0, malformed entries, indices beyond the log, a second leader in a term)
  /// returns an error and changes nothing that matters for safety.
  Result<void> step(const Message& message);

  /// Leader only: appends `data` as a normal entry and replicates it.
  /// Returns its index; it is committed when it appears in a Ready's
  /// committed_entries (it may still be lost if leadership changes first).
  /// Errors: not the leader (the message names the known leader, also
  /// available as leader(), so the caller can forward), leadership transfer
  /// in progress, too large, too many uncommitted bytes.
  Result<std::uint64_t> propose(std::string data);

  /// Leader only: proposes one membership change, in force on every node as
  /// soon as it is appended there. Errors: not the leader, transfer in
  /// progress, the leader has not yet committed an entry of its term (the
  /// dissertation's fix for single-server changes), a previous change is not
  /// yet committed, or the change does not apply (see apply_change). A
  /// removed leader keeps leading until its removal commits, then steps down.
  Result<std::uint64_t> propose_membership(const MembershipChange& change);

  /// Leader only: hands leadership to voter `target`. Proposals are refused
  /// meanwhile; the leader catches the target up, then sends timeout_now and
  /// the target campaigns at once. Aborted when not done within an election
  /// timeout. Repeating a transfer in progress is a no-op; another target
  /// replaces it.
  Result<void> transfer_leadership(NodeId target);

  /// Asks for a linearizable read, identified by the caller's `context`. On
  /// a leader: once it has committed an entry in its term and a quorum has
  /// answered a heartbeat sent after the request, a ReadState(context,
  /// commit index) appears in a Ready. On a follower: forwarded to the
  /// leader; the answer appears the same way. Lost on leadership changes
  /// (retry after a timeout). Errors: no leader known, too many pending.
  Result<void> read_index(std::uint64_t context);

  /// Starts an election now (pre-vote first when enabled). Errors: already
  /// the leader, or not a voter.
  Result<void> campaign();

  /// The transport could not reach `peer`: a leader stops pipelining to it.
  void report_unreachable(NodeId peer);
  /// The transport finished sending a snapshot to `peer`: a leader resumes
  /// probing (success or not; on failure the snapshot is sent again).
  void report_snapshot(NodeId peer, bool succeeded);

  // ---- Outputs ------------------------------------------------------------

  /// True when a Ready has something to do. False while a Ready is out
  /// (between ready() and advance()).
  bool has_ready() const;
  /// Takes the pending batch. Precondition: no Ready is out (asserted).
  Ready ready();
  /// Reports that `ready` (the last one taken) was fully handled as the
  /// Ready comment describes. Messages, proposals and ticks may be fed
  /// between ready() and advance(); their effects go to the next Ready.
  void advance(const Ready& ready);

  // ---- Observation --------------------------------------------------------

  Status status() const;
  NodeId id() const noexcept { return config_.id; }
  Role role() const noexcept { return role_; }
  std::uint64_t term() const noexcept { return term_; }
  NodeId leader() const noexcept { return leader_; }
  std::uint64_t committed() const noexcept { return log_.committed(); }
  /// The configuration in force (the newest in the log).
  const store::Membership& membership() const noexcept { return membership_.current(); }

 private:
  enum class CampaignKind : std::uint8_t {
    pre_election,  ///< poll with pre-vote requests first
    election,      ///< raise the term and ask for votes
    transfer,      ///< as election, bypassing the voters' leader lease
  };
  /// Where an election stands after an answer.
  enum class VoteResult : std::uint8_t {
    pending,  ///< neither a quorum of grants nor of refusals yet
    won,      ///< a quorum of voters granted
    lost,     ///< enough refusals that no quorum can grant
  };

  // Section 1 (raft.cpp): roles, elections, stepping, follower handling.
  void reset(std::uint64_t term);
  void become_follower(std::uint64_t term, NodeId leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  bool promotable() const;
  bool in_lease() const;
  std::size_t quorum() const;
  void start_campaign(CampaignKind kind);
  VoteResult record_vote(NodeId voter, bool granted);
  void tick_election();
  Result<void> check_envelope(const Message& message) const;
  Result<void> check_content(const Message& message) const;
  Result<void> step_by_role(const Message& message);
  void handle_vote_request(const Message& message);
  Result<void> step_candidate(const Message& message);
  Result<void> step_follower(const Message& message);
  Result<void> handle_append(const Message& message);
  Result<void> handle_heartbeat(const Message& message);
  void handle_snapshot(const Message& message);
  void append_entries(const std::vector<store::Entry>& entries);
  void commit_to(std::uint64_t index);
  void send(Message message);

  // Section 2 (raft_leader.cpp): replication, commitment, proposals,
  // membership, transfer and reads on the leader.
  void tick_leader();
  Result<void> step_leader(const Message& message);
  std::uint64_t append_as_leader(store::EntryType type, std::string data);
  void sync_progress();
  bool maybe_send_append(NodeId to, bool send_if_empty);
  bool send_snapshot(NodeId to, Progress& progress);
  void broadcast_append();
  void broadcast_heartbeat();
  bool maybe_commit();
  void on_leader_commit();
  bool quorum_active();
  Result<void> handle_append_response(const Message& message, Progress& progress);
  void handle_heartbeat_response(const Message& message, Progress& progress);
  Result<void> handle_read_request(std::uint64_t context, NodeId from);
  void release_reads();
  void answer_read(NodeId to, std::uint64_t context, std::uint64_t index);
  Error not_leader() const;

  // Section 3 (end of raft.cpp): Ready, advance, status.
  SoftState soft_state() const { return {leader_, role_}; }
  store::HardState hard_state() const { return {term_, vote_, log_.committed()}; }

  Config config_;
  LogView log_;
  Rng rng_;
  MembershipTracker membership_;

  Role role_ = Role::follower;
  std::uint64_t term_ = 0;
  NodeId vote_ = no_node;
  NodeId leader_ = no_node;
  std::uint64_t election_elapsed_ = 0;   // ticks since the leader was heard / this leader checked
  std::uint64_t heartbeat_elapsed_ = 0;  // leader: ticks since the last heartbeat
  std::uint64_t randomized_election_timeout_ = 0;
  std::map<NodeId, bool> votes_;  // (pre-)candidate: answers so far

  // Leader only (cleared by reset()).
  std::map<NodeId, Progress> progress_;
  NodeId transferee_ = no_node;
  ReadIndexQueue reads_;
  std::vector<std::pair<std::uint64_t, NodeId>> postponed_reads_;    // (context, from)
  std::deque<std::pair<std::uint64_t, std::uint64_t>> uncommitted_;  // (index, bytes)
  std::uint64_t uncommitted_bytes_ = 0;

  // Output not yet taken by ready().
  std::vector<Message> messages_;
  std::vector<ReadState> read_states_;
  SoftState reported_soft_;
  store::HardState reported_hard_;
  bool ready_out_ = false;
};

}  // namespace meridian::cluster
