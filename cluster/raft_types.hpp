#pragma once
// The vocabulary of Meridian's Raft core (cluster/raft.hpp): node ids, the
// messages Raft nodes exchange, roles, and the small records the core hands
// to its driver (soft state, read states, per-peer replication state).
//
// Plain data, no behaviour. The core never sees bytes: the peer transport
// encodes a Message for the wire and decodes it back, and the driver hands
// decoded messages to Raft::step(), which validates every field, because a
// message may be stale, duplicated, or garbage.

#include <cstdint>
#include <optional>
#include <vector>

#include "store/member_role.hpp"
#include "store/raft_log.hpp"

namespace meridian::cluster {

/// A Raft node's identity, unique within a cluster and never reused. 0 is
/// not a node id: it means "none" (no vote, no known leader).
using NodeId = std::uint64_t;
inline constexpr NodeId no_node = 0;

/// What a message asks or answers. Which Message fields each type uses:
///
/// | type               | index                 | log_term           | other fields              |
/// |--------------------|-----------------------|--------------------|---------------------------|
/// | vote_request       | candidate's last index| its last term      | transfer                  |
/// | pre_vote_request   | candidate's last index| its last term      |                           |
/// | vote_response      |                       |                    | reject                    |
/// | pre_vote_response  |                       |                    | reject                    |
/// | append             | prev index            | prev term          | entries, commit           |
/// | append_response    | match / rejected index| hint term (reject) | reject, reject_hint       |
/// | heartbeat          |                       |                    | commit, context           |
/// | heartbeat_response |                       |                    | context                   |
/// | snapshot           |                       |                    | snapshot                  |
/// | timeout_now        |                       |                    |                           |
/// | read_index_request |                       |                    | context                   |
/// | read_index_response| read index            |                    | context                   |
///
/// Every message carries from, to and the sender's term (never 0).
enum class MessageType : std::uint8_t {
  /// Candidate -> voters: "vote for me in `term`". Sent after the candidate
  /// raised its term. Granted at most once per term, and only when the
  /// candidate's log (index, log_term) is at least as up to date.
  vote_request,
  /// Voter -> candidate: the answer to vote_request; `term` is the voter's.
  vote_response,
  /// Pre-candidate -> voters: "would you vote for me in `term`?" (`term` is
  /// the pre-candidate's term + 1; it has not raised its own). Changes no
  /// state at the receiver, so a node that cannot win (for example one
  /// cut off from the leader) never raises the cluster's term.
  pre_vote_request,
  /// Voter -> pre-candidate. Granted: `term` echoes the request's term.
  /// Rejected: `term` is the voter's own, which may tell the pre-candidate
  /// of a newer term.
  pre_vote_response,
  /// Leader -> follower: `entries` follow the entry at (index, log_term);
  /// the follower may commit up to min(commit, last new entry). An empty
  /// `entries` is a probe or carries the commit index.
  append,
  /// Follower -> leader. Success: the follower's log matches the leader's
  /// up to `index`. Rejection (reject = true): the entry at `index` (the
  /// append's prev index) did not match; `reject_hint` is the follower's
  /// best guess of where the logs may match (at most its last index) and
  /// `log_term` its term there, so the leader can skip a whole term per
  /// round trip (fast back-off). Also sent in answer to a stale append, to
  /// tell an old leader of the newer term.
  append_response,
  /// Leader -> follower, every heartbeat_tick: keeps followers from
  /// campaigning; `commit` is never above what the follower is known to
  /// hold; `context` names the newest pending read-index round.
  heartbeat,
  /// Follower -> leader: echoes the heartbeat's `context`.
  heartbeat_response,
  /// Leader -> follower: `snapshot` replaces the follower's log, because the
  /// entries it needs were compacted away. Answered with append_response.
  snapshot,
  /// Leader -> transfer target: "campaign now", skipping pre-vote and the
  /// voters' leader lease (leadership transfer).
  timeout_now,
  /// Follower -> leader: asks for a read index for the caller's `context`.
  read_index_request,
  /// Leader -> follower: `index` is the read index for `context`; reads are
  /// linearizable once the follower has applied up to it.
  read_index_response,
};

/// How many MessageType values exist: a decoded type at or above it is
/// garbage.
inline constexpr int message_type_count = 12;

/// A message between two Raft nodes. Owns its entries and snapshot.
struct Message {
  MessageType type = MessageType::heartbeat;
  NodeId from = no_node;
  NodeId to = no_node;
  std::uint64_t term = 0;             ///< the sender's term (see MessageType for pre-vote)
  std::uint64_t index = 0;            ///< per type, see MessageType
  std::uint64_t log_term = 0;         ///< per type, see MessageType
  std::uint64_t commit = 0;           ///< append, heartbeat: the leader's commit index (capped)
  std::uint64_t context = 0;          ///< heartbeat(_response), read_index_*: a correlation id
  std::uint64_t reject_hint = 0;      ///< append_response with reject: see MessageType
  bool reject = false;                ///< *_response: the request was refused
  bool transfer = false;              ///< vote_request: part of a leadership transfer
  std::vector<store::Entry> entries;  ///< append
  std::optional<store::Snapshot> snapshot;  ///< snapshot

  friend bool operator==(const Message&, const Message&) = default;
};

/// What a node currently is. Transitions (term T):
///
///   follower      --election timeout, pre_vote on-->  pre_candidate (T)
///   follower      --election timeout, pre_vote off, or timeout_now--> candidate (T+1)
///   pre_candidate --pre-votes from a quorum-->        candidate (T+1)
///   candidate     --votes from a quorum-->            leader (T)
///   any           --message with a higher term, a leader at T, or a lost
///                   election-->                       follower
///   leader        --no quorum heard within an election timeout (check
///                   quorum), or its own removal committed--> follower (T)
///
/// Learners and removed nodes stay followers: only voters campaign.
/// (store/member_role.hpp: the roles, shared with the store seam's status.)
using Role = store::Role;
using store::to_string;

inline constexpr const char* to_string(MessageType type) noexcept {
  switch (type) {
    case MessageType::vote_request: return "vote-request";
    case MessageType::vote_response: return "vote-response";
    case MessageType::pre_vote_request: return "pre-vote-request";
    case MessageType::pre_vote_response: return "pre-vote-response";
    case MessageType::append: return "append";
    case MessageType::append_response: return "append-response";
    case MessageType::heartbeat: return "heartbeat";
    case MessageType::heartbeat_response: return "heartbeat-response";
    case MessageType::snapshot: return "snapshot";
    case MessageType::timeout_now: return "timeout-now";
    case MessageType::read_index_request: return "read-index-request";
    case MessageType::read_index_response: return "read-index-response";
  }
  return "?";
}

/// State that is not persisted: who leads, and this node's role. Reported
/// in a Ready when it changes.
struct SoftState {
  NodeId leader = no_node;
  Role role = Role::follower;

  friend bool operator==(const SoftState&, const SoftState&) = default;
};

/// A completed read-index round: a read for `context` is linearizable once
/// the state machine has applied up to `index`.
struct ReadState {
  std::uint64_t context = 0;
  std::uint64_t index = 0;

  friend bool operator==(const ReadState&, const ReadState&) = default;
};

/// How the leader replicates to one peer (etcd's progress states):
///
///   probe     --append accepted-->             replicate
///   replicate --append rejected / unreachable--> probe
///   any       --needed entries compacted-->     snapshot
///   snapshot  --snapshot acknowledged, reported, or timed out--> probe
enum class ReplicationState : std::uint8_t {
  /// The leader does not know where the peer's log matches: one append per
  /// heartbeat interval, backing off on each rejection.
  probe,
  /// The logs match up to `match`: appends are pipelined, at most
  /// max_inflight_msgs unacknowledged at a time (flow control).
  replicate,
  /// A snapshot is on its way; nothing else is sent until it is answered.
  snapshot,
};

inline constexpr const char* to_string(ReplicationState state) noexcept {
  switch (state) {
    case ReplicationState::probe: return "probe";
    case ReplicationState::replicate: return "replicate";
    case ReplicationState::snapshot: return "snapshot";
  }
  return "?";
}

}  // namespace meridian::cluster
