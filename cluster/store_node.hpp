#pragma once
// One member of the consensus store as it runs in `meridian serve`
// (DESIGN.md §6): the Raft core (cluster/raft.hpp) driven by a real clock,
// persisted in RocksDB (store/rocks_raft_log.hpp), applying committed
// entries to the replicated key-value state (store/kv_state.hpp), and
// talking to its peers through the mutual-TLS transport
// (cluster/transport.hpp).
//
// The store thread: a StoreNode owns one thread running its own io_context.
// Raft, the log, the KV state and the transport live on it and nowhere else.
// Every public method may be called from any thread: requests are posted to
// the store thread and answered through a callback that runs ON THE STORE
// THREAD (post it elsewhere if it does more than copy a result).
//
// The driver loop batches: messages, proposals and ticks that arrive while
// the store thread is busy are stepped into Raft first, then one Ready is
// taken, so one synced RocksDB write covers all of them (group commit).
//
// Members are named (cluster/node_id.hpp). The address book that maps names
// to peer addresses is the config's `peers` plus the replicated keys under
// kMemberKeyPrefix (written by add_learner), so nodes that joined later are
// reachable by all.
//
// Status: every member sends each peer a NodeReport once a second; status()
// merges this node's Raft view with the latest report of every member.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/ip_address.hpp"
#include "base/log.hpp"
#include "base/result.hpp"
#include "cluster/raft_types.hpp"
#include "cluster/transport.hpp"
#include "store/kv_state.hpp"

namespace meridian::cluster {

/// Keys under this prefix hold the address book ("<prefix><name>" -> address);
/// keys starting with '_' are reserved for the cluster itself.
inline constexpr std::string_view kMemberKeyPrefix = "_cluster/members/";

/// A peer the node knows at start: its name and its transport address.
struct PeerAddress {
  std::string name;
  SocketAddress address;
};

struct StoreNodeSettings {
  std::string name;                ///< this node (validate_node_name)
  std::string data_dir;            ///< RocksDB directory (created if missing)
  TransportSettings transport;     ///< listen address and TLS material; self_name is set from `name`
  std::vector<PeerAddress> peers;  ///< every member's address; this node's own entry is ignored
  /// The founding voters (names, this node included when it is one). Used
  /// only on first start with an empty data_dir; empty: this node joins an
  /// existing cluster and waits to be added (add_learner on the leader).
  std::vector<std::string> founders;
  std::chrono::milliseconds tick{100};
  std::uint32_t election_ticks = 10;  ///< election timeout = tick x election_ticks (randomized up to x2)
  std::uint32_t heartbeat_ticks = 1;
  /// Take a snapshot and compact the log after this many applied entries...
  std::uint64_t snapshot_entries = 10'000;
  /// ...keeping this many entries behind it for slow followers.
  std::uint64_t keep_entries = 1'000;
  /// A client request not answered in this time fails ("outcome unknown").
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::milliseconds report_interval{1000};
  /// Carried in NodeReports so operators' tools can find a member's admin API.
  std::string admin_address;
  std::uint64_t seed = 0;  ///< election randomness; 0 picks one from the clock
};

/// How a read sees the state.
enum class ReadMode : std::uint8_t {
  local,         ///< this node's applied state: fast, possibly stale
  linearizable,  ///< ReadIndex through the leader: reflects every write acknowledged before the read began
};

/// One member as this node sees it.
struct MemberStatus {
  std::string name;  ///< "" when the address book does not know it
  NodeId id = no_node;
  bool voter = false;
  bool self = false;
  std::optional<SocketAddress> address;
  /// From the member's latest report (or this node's own state).
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
inline constexpr std::array<double, 12> kProposalLatencyBounds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                               0.1,   0.25,   0.5,   1,    2.5,   5};

/// How long this node's own writes took from proposal (as leader, also on a
/// follower's behalf) to commit and apply: a histogram since start.
struct ProposalLatency {
  /// counts[i]: proposals in (bounds[i-1], bounds[i]]; the last one above
  /// the last bound.
  std::array<std::uint64_t, kProposalLatencyBounds.size() + 1> counts{};
  double sum_s = 0;
  /// Proposals that never committed (leadership changed, or timed out).
  std::uint64_t failed = 0;

  void record(std::chrono::duration<double> took) noexcept;
};

struct StoreStatus {
  std::string name;
  NodeId id = no_node;
  Role role = Role::follower;
  std::uint64_t term = 0;
  std::string leader;  ///< name, "" when none is known
  NodeId leader_id = no_node;
  std::uint64_t commit = 0;
  std::uint64_t applied = 0;
  std::uint64_t first_index = 0;
  std::uint64_t last_index = 0;
  std::uint64_t snapshot_index = 0;
  std::vector<MemberStatus> members;  ///< voters then learners, by name
  TransportCounters transport;
  ProposalLatency proposal_latency;
};

/// Why a request was not carried out.
enum class StoreErrorKind : std::uint8_t {
  invalid,      ///< a bad request (name, key, value): retrying cannot help
  conflict,     ///< the change does not apply to the current state (e.g. already a member)
  not_leader,   ///< only the leader does this; `leader` names it when known
  unavailable,  ///< no leader, stopping, or the write was dropped by a leader change: retry
  timeout,      ///< no answer in time: the outcome is unknown, a write may still commit
};

/// A request that could not be carried out.
struct StoreError {
  StoreError() = default;
  StoreError(StoreErrorKind error_kind, std::string text) : kind(error_kind), message(std::move(text)) {}

  StoreErrorKind kind = StoreErrorKind::conflict;
  std::string message;
  std::optional<std::string> leader;  ///< with not_leader: the leader's name
  std::string leader_admin;           ///< with not_leader: its admin address, when known
};

template <typename T>
using StoreCallback = std::function<void(T result, std::optional<StoreError> error)>;

class StoreNode {
 public:
  /// Opens the database, checks the settings, starts the transport and the
  /// store thread. Errors name what failed (database path, listen address,
  /// TLS files, a bad name).
  static Result<std::unique_ptr<StoreNode>> start(StoreNodeSettings settings, Logger& logger);

  ~StoreNode();  // stops
  StoreNode(const StoreNode&) = delete;
  StoreNode& operator=(const StoreNode&) = delete;

  /// Stops the transport and the store thread; pending callbacks get a
  /// "stopping" error. Idempotent.
  void stop();

  /// Proposes `command` and answers once it is applied on the leader. A
  /// follower forwards it to the leader (one hop) and relays the answer.
  /// Keys starting with '_' are refused (reserved for the cluster).
  void write(store::KvCommand command, StoreCallback<store::KvResult> done);
  /// write() for the node's own subsystems: may write the reserved keys.
  void write_system(store::KvCommand command, StoreCallback<store::KvResult> done);

  /// Reads one key.
  void read(std::string key, ReadMode mode, StoreCallback<std::optional<std::string>> done);

  /// Up to `limit` keys starting with `prefix`.
  void scan(std::string prefix, std::size_t limit, ReadMode mode,
            StoreCallback<std::vector<std::pair<std::string, std::string>>> done);

  /// Membership (leader only). add_learner records the address in the
  /// address book, then adds the node as a learner; promote requires the
  /// learner to be caught up; remove takes a voter or learner out;
  /// transfer_leadership answers once `name` leads (or fails after an
  /// election timeout). Each answers once the change is applied here.
  void add_learner(std::string name, SocketAddress address, StoreCallback<bool> done);
  void promote(std::string name, StoreCallback<bool> done);
  void remove(std::string name, StoreCallback<bool> done);
  void transfer_leadership(std::string name, StoreCallback<bool> done);

  /// Registers a watch on the KV state (store/kv_state.hpp); the callback
  /// runs on the store thread for every applied change under `prefix`.
  /// Waits until it is registered.
  Result<store::WatchId> watch(std::string prefix, store::WatchCallback callback);

  /// The latest status (published after every batch); any thread.
  StoreStatus status() const;

  /// The transport's bound address (after start).
  SocketAddress bound() const;

  struct Impl;

 private:
  explicit StoreNode(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace meridian::cluster
