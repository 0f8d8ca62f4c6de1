#pragma once
// The store seam (docs/architecture.md): the replicated key-value
// store as the layers above it see it. The admin API, replicated health,
// config versions, operator overrides and the event log use this interface
// and nothing else of the store, so the built-in Raft member
// (cluster/raft_member.hpp), the in-memory store of the tests
// (store/memory_store.hpp), the simulator's (tests/sim) and a backend on an
// external store are interchangeable.
//
// What every backend provides:
//   - write: put, delete and compare-and-set (store::KvCommand), applied in
//     one total order on every member; acknowledged once applied.
//   - read and scan: one key, or the keys under a prefix, from this member's
//     applied state (ReadMode::local) or linearizably.
//   - watch: every applied change under a prefix, in apply order.
//   - leases: each member keeps its lease alive by renewing it; every member
//     learns when each holder last renewed, by its own clock.
//   - the decider: at most one member at a time decides for the cluster
//     (with the Raft member, the leader); is_decider() says whether this is
//     the one, and write_as_decider() writes only while it still is (fenced:
//     a deposed decider's write is refused).
//   - status: who leads, the term, the indices, the members.
// Membership changes (add a learner, promote, remove, transfer the lead)
// are a separate facet, MembershipControl, for backends that manage their
// own membership.
//
// Thread rule: every method may be called from any thread except a
// callback's own (callbacks may run on a thread of the store's, or, in the
// memory store, before the call returns). Callbacks must be quick: copy the
// result, or post it elsewhere.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.hpp"
#include "base/ip_address.hpp"
#include "base/result.hpp"
#include "store/kv_state.hpp"
#include "store/member_role.hpp"

namespace meridian::store {

/// How a read sees the state.
enum class ReadMode : std::uint8_t {
  local,         ///< this member's applied state: fast, possibly stale
  linearizable,  ///< reflects every write acknowledged before the read began
};

/// Why a request was not carried out.
enum class StoreErrorKind : std::uint8_t {
  invalid,      ///< a bad request (name, key, value): retrying cannot help
  conflict,     ///< the change does not apply to the current state (e.g. already a member)
  not_leader,   ///< only the leader does this; `leader` names it when known
  unavailable,  ///< no leader, stopping, or the write was dropped by a leader change: retry
  timeout,      ///< no answer in time: the outcome is unknown, a write may still commit
  over_budget,  ///< the write would grow the replicated state past its budget
  // (keep over_budget last, or move kLastErrorKind in cluster/write_forwarding.cpp)
};

/// A request that could not be carried out.
struct StoreError {
  StoreError() = default;
  StoreError(StoreErrorKind error_kind, std::string text)
      : kind(error_kind), message(std::move(text)) {}

  StoreErrorKind kind = StoreErrorKind::conflict;
  std::string message;
  std::optional<std::string> leader;  ///< with not_leader: the leader's name
  std::string leader_admin;           ///< with not_leader: its admin address, when known
};

/// The answer to a request: the result, or why there is none.
template <typename T>
using StoreCallback = std::function<void(T result, std::optional<StoreError> error)>;

/// Keys and values of a scan, in bytewise key order.
using KeyValues = std::vector<std::pair<std::string, std::string>>;

/// One member as this member sees it.
struct MemberStatus {
  std::string name;  ///< "" when the address book does not know it
  std::uint64_t id = 0;
  bool voter = false;
  bool self = false;
  std::optional<SocketAddress> address;
  /// From the member's latest report (or this member's own state).
  bool reported = false;
  Role role = Role::follower;
  std::uint64_t term = 0;
  std::uint64_t commit = 0;
  std::uint64_t applied = 0;
  std::uint64_t last_index = 0;
  std::string admin_address;
  std::chrono::milliseconds report_age{0};  ///< since the report arrived
  /// Leader only: the replication match index and entries behind the leader.
  std::optional<std::uint64_t> match;
  std::optional<std::uint64_t> lag;
  bool reachable = true;  ///< leader only: heard from recently
};

/// Upper bounds, in seconds, of the proposal latency buckets.
inline constexpr std::array<double, 12> kProposalLatencyBounds{
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

/// How long this member's own writes took from proposal (as leader, also on
/// a follower's behalf) to commit and apply: a histogram since start.
struct ProposalLatency {
  /// counts[i]: proposals in (bounds[i-1], bounds[i]]; the last one above
  /// the last bound.
  std::array<std::uint64_t, kProposalLatencyBounds.size() + 1> counts{};
  double sum_s = 0;
  /// Proposals that never committed (leadership changed, or timed out).
  std::uint64_t failed = 0;

  void record(std::chrono::duration<double> took) noexcept;
};

/// Messages between members, as counted by the backend's transport and the
/// member that drives it.
struct TransportCounters {
  std::uint64_t sent = 0;      ///< messages and reports written (a snapshot once, when complete)
  std::uint64_t received = 0;  ///< messages and reports handed to their handler
  std::uint64_t dropped =
      0;  ///< not sent: queue full, unknown peer, too large, lost with a connection
  std::uint64_t coalesced = 0;  ///< heartbeats and reports replaced by a newer one while queued
  std::uint64_t rejected_handshakes = 0;  ///< incoming connections refused before any frame
  std::uint64_t bad_frames =
      0;  ///< malformed incoming frames or chunk sequences (connection closed)
  std::uint64_t wrong_sender = 0;  ///< frames whose `from` is not the authenticated peer
  /// Frames from an authenticated peer that is not a member (nor, on a node
  /// that is not one yet, in its address book), dropped by the member.
  std::uint64_t not_member = 0;
  /// Handshakes (either direction) refused, and connections closed, because
  /// the peer's certificate is revoked (`cluster remove`).
  std::uint64_t revoked_certificates = 0;
  /// Snapshots received that did not decode, refused before installing.
  std::uint64_t bad_snapshots = 0;
  // The caps on incoming connections (cluster/transport.hpp):
  /// Closed at accept: the source address already had that many handshakes
  /// in progress.
  std::uint64_t refused_handshake_limit = 0;
  /// Closed at accept: the transport held max_incoming_connections.
  std::uint64_t refused_server_limit = 0;
  /// Authenticated connections closed because their peer opened more than
  /// its cap (the oldest goes).
  std::uint64_t closed_peer_limit = 0;
  /// Handshakes (TLS and hello) cut off by the handshake timeout; also
  /// counted in rejected_handshakes.
  std::uint64_t handshake_timeouts = 0;
};

/// Where this member stands; fields a backend does not have stay zero.
struct StoreStatus {
  std::string backend = "raft";  ///< "raft" (the built-in store), "etcd", "memory"
  std::string name;
  std::uint64_t id = 0;
  Role role = Role::follower;
  std::uint64_t term = 0;
  std::string leader;  ///< name, "" when none is known
  std::uint64_t leader_id = 0;
  std::uint64_t commit = 0;
  std::uint64_t applied = 0;
  std::uint64_t first_index = 0;
  std::uint64_t state_bytes = 0;          ///< keys and values in the replicated state
  std::uint64_t state_budget_bytes = 0;   ///< their budget (0: none)
  std::uint64_t writes_over_budget = 0;   ///< writes refused for the budget (as leader)
  std::uint64_t compaction_failures = 0;  ///< log compactions that failed (retried)
  std::uint64_t last_index = 0;
  std::uint64_t snapshot_index = 0;
  std::uint64_t revision = 0;         ///< the store's revision, when it has one (etcd)
  std::vector<MemberStatus> members;  ///< voters then learners, by name
  TransportCounters transport;
  ProposalLatency proposal_latency;
};

/// When each lease holder's latest renewal reached this member, by its
/// clock (the Clock the backend was given).
using LeaseRenewals = std::map<std::string, Clock::TimePoint>;

/// Keys starting with '_' are reserved for the cluster's own records
/// (write_system); clients may write every other key (write).
inline constexpr char kReservedKeyMark = '_';
/// Where lease renewals are recorded: "<prefix><holder>" -> a counter.
inline constexpr std::string_view kLeasePrefix = "_health/lease/";

class MembershipControl;

class ReplicatedStore {
 public:
  virtual ~ReplicatedStore() = default;

  /// Applies `command` (put, delete, or compare-and-set) to the replicated
  /// state and answers once it is applied, with the key's value after it
  /// (or, for a compare-and-set that failed, the value that did not match,
  /// and ok = false). Keys starting with '_' are refused (invalid).
  virtual void write(KvCommand command, StoreCallback<KvResult> done) = 0;
  /// write() for the cluster's own records: may write the reserved keys.
  virtual void write_system(KvCommand command, StoreCallback<KvResult> done) = 0;

  /// write_system() for the decider's own decisions (verdicts, expired
  /// overrides, the event log's bound): applied only while this member still
  /// holds the decider's role at the store, so that a deposed decider's late
  /// write is refused (not_leader) instead of overwriting a newer decision.
  /// Never forwarded to another member.
  virtual void write_as_decider(KvCommand command, StoreCallback<KvResult> done) = 0;

  /// One key's value (nullopt when absent).
  virtual void read(std::string key, ReadMode mode,
                    StoreCallback<std::optional<std::string>> done) = 0;
  /// Up to `limit` keys starting with `prefix`, with their values, in key order.
  virtual void scan(std::string prefix, std::size_t limit, ReadMode mode,
                    StoreCallback<KeyValues> done) = 0;

  /// Calls `callback` for every later applied change under `prefix` (key,
  /// new value or nullopt when deleted, the index that changed it), in apply
  /// order, on the store's thread. Registered before it returns. Errors:
  /// too many watches, a prefix too long, the store stopping.
  virtual Result<WatchId> watch(std::string prefix, WatchCallback callback) = 0;
  /// Stops a watch; its callback may still run once if a change is under way.
  virtual void unwatch(WatchId id) = 0;

  /// Renews `holder`'s lease (the caller renews its own, at a steady
  /// interval shorter than any timeout it is judged by). Fire and forget: a
  /// renewal lost with a leader change is simply made up by the next one.
  virtual void renew_lease(const std::string& holder) = 0;
  /// When this member last saw each holder renew, by its own clock, so that
  /// liveness is judged without comparing the clocks of different members.
  virtual LeaseRenewals lease_renewals() const = 0;

  /// Whether this member is the one that decides for the cluster now
  /// (verdicts, expiries, trimming). At most one member at a time believes
  /// it in a healthy cluster; a deposed decider's writes still go through
  /// the store's order, so a stale decision is overwritten, never merged.
  virtual bool is_decider() const = 0;
  /// Where this member stands (leader, term, indices, members).
  virtual StoreStatus status() const = 0;

  /// The membership facet, or null when the backend manages membership
  /// itself (an external store).
  virtual MembershipControl* membership() { return nullptr; }
};

/// Changes to who the members are (the Raft member implements them; an
/// external store's members are its own business). Each answers once the
/// change is applied here. Only the leader does these: elsewhere they fail
/// with not_leader, naming it.
class MembershipControl {
 public:
  virtual ~MembershipControl() = default;
  /// Records `address` in the address book, then adds `name` as a learner.
  virtual void add_learner(std::string name, SocketAddress address, StoreCallback<bool> done) = 0;
  /// Makes a caught-up learner a voter.
  virtual void promote(std::string name, StoreCallback<bool> done) = 0;
  /// Takes a voter or learner out.
  virtual void remove(std::string name, StoreCallback<bool> done) = 0;
  /// Answers once `name` leads (or fails after an election timeout).
  virtual void transfer_leadership(std::string name, StoreCallback<bool> done) = 0;
};

}  // namespace meridian::store
