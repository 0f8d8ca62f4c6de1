#pragma once
// One member of the consensus store as it runs in `meridian serve`
// (docs/architecture.md), and the built-in implementation of the store seam
// (store/replicated_store.hpp): the Raft core (cluster/raft.hpp) driven by a real clock,
// persisted in RocksDB (store/rocks_raft_log.hpp), applying committed
// entries to the replicated key-value state (store/kv_state.hpp), and
// talking to its peers through the mutual-TLS transport
// (cluster/transport.hpp).
//
// The store thread: a RaftMember owns one thread running its own io_context.
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
// Only members speak: Raft messages, forwarded writes and reports are taken
// only from a member of the latest membership this node knows, or from a
// node in its address book whose certificates are not revoked (so a node
// that has not learnt of a newer member yet, and a learner waiting to be
// added, still hear from the cluster). Everything else is dropped and
// counted (TransportCounters::not_member). remove() revokes the removed
// member's certificates (kRevokedKeyPrefix; the transport refuses them).
//
// Snapshots are checked before Raft sees them: one whose state does not
// decode, whose applied index is not its own, or whose membership has no
// voter is dropped and counted (bad_snapshots); the leader sends it again
// after its retry interval. A saved snapshot that no longer restores at
// start is discarded with the log (term and vote kept), and the node
// catches up from the leader instead of failing on every start.
//
// Status: every member sends each peer a NodeReport once a second; status()
// merges this node's Raft view with the latest report of every member.
//
// The decider is the leader; leases are renewal writes stamped by each
// member's clock as they apply (store/lease_book.hpp).

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.hpp"
#include "base/ip_address.hpp"
#include "base/log.hpp"
#include "base/result.hpp"
#include "cluster/raft_types.hpp"
#include "cluster/transport.hpp"
#include "store/kv_state.hpp"
#include "store/lease_book.hpp"
#include "store/replicated_store.hpp"

namespace meridian::cluster {

/// Keys under this prefix hold the address book ("<prefix><name>" -> address);
/// keys starting with '_' are reserved for the cluster itself.
inline constexpr std::string_view kMemberKeyPrefix = "_cluster/members/";

/// Keys under this prefix revoke a removed member's certificates
/// ("<prefix><name>" -> decimal seconds since the Unix epoch: certificates
/// naming <name> issued at or before then are refused). Written by remove().
inline constexpr std::string_view kRevokedKeyPrefix = "_cluster/revoked/";

/// A peer the node knows at start: its name and its transport address.
struct PeerAddress {
  std::string name;
  SocketAddress address;
};

struct RaftMemberSettings {
  std::string name;             ///< this node (validate_node_name)
  std::string data_dir;         ///< RocksDB directory (created if missing)
  TransportSettings transport;  ///< listen address and TLS material; self_name is set from `name`
  std::vector<PeerAddress> peers;  ///< every member's address; this node's own entry is ignored
  /// The founding voters (names, this node included when it is one). Used
  /// only on first start with an empty data_dir; empty: this node joins an
  /// existing cluster and waits to be added (add_learner on the leader).
  std::vector<std::string> founders;
  std::chrono::milliseconds tick{100};
  std::uint32_t election_ticks =
      10;  ///< election timeout = tick x election_ticks (randomized up to x2)
  std::uint32_t heartbeat_ticks = 1;
  /// Take a snapshot and compact the log after this many applied entries...
  std::uint64_t snapshot_entries = 10'000;
  /// ...keeping this many entries behind it for slow followers.
  std::uint64_t keep_entries = 1'000;
  /// The replicated state's budget: a write that would grow the keys and
  /// values past it is refused (StoreErrorKind::over_budget) by the leader
  /// as it proposes; deletes and shrinking writes always pass. Writes in
  /// flight together may pass it by their own size, never more.
  std::uint64_t max_state_bytes = std::uint64_t{64} << 20;
  /// A client request not answered in this time fails ("outcome unknown").
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::milliseconds report_interval{1000};
  /// Carried in NodeReports so operators' tools can find a member's admin API.
  std::string admin_address;
  std::uint64_t seed = 0;  ///< election randomness; 0 picks one from the clock
};

// The seam's types, as the Raft member's code has always named them.
using store::kProposalLatencyBounds;
using store::MemberStatus;
using store::ProposalLatency;
using store::ReadMode;
using store::StoreCallback;
using store::StoreError;
using store::StoreErrorKind;
using store::StoreStatus;

class RaftMember final : public store::ReplicatedStore, public store::MembershipControl {
 public:
  /// Opens the database, checks the settings, starts the transport and the
  /// store thread. Errors name what failed (database path, listen address,
  /// TLS files, a bad name). `clock` stamps lease renewals (the seam's
  /// lease_renewals()); it must outlive the member.
  static Result<std::unique_ptr<RaftMember>> start(RaftMemberSettings settings, Logger& logger,
                                                   const Clock& clock);

  ~RaftMember() override;  // stops
  RaftMember(const RaftMember&) = delete;
  RaftMember& operator=(const RaftMember&) = delete;

  /// Stops the transport and the store thread; pending callbacks get a
  /// "stopping" error. Idempotent.
  void stop();

  // ---- the store seam ----
  /// Proposes `command` and answers once it is applied on the leader. A
  /// follower forwards it to the leader (one hop) and relays the answer.
  /// Keys starting with '_' are refused (reserved for the cluster).
  void write(store::KvCommand command, StoreCallback<store::KvResult> done) override;
  /// write() for the node's own subsystems: may write the reserved keys.
  void write_system(store::KvCommand command, StoreCallback<store::KvResult> done) override;
  /// Proposed only as leader (not forwarded): the term fences it.
  void write_as_decider(store::KvCommand command, StoreCallback<store::KvResult> done) override;
  /// Reads one key; linearizable reads take a read-index round.
  void read(std::string key, ReadMode mode,
            StoreCallback<std::optional<std::string>> done) override;
  /// Up to `limit` keys starting with `prefix`.
  void scan(std::string prefix, std::size_t limit, ReadMode mode,
            StoreCallback<store::KeyValues> done) override;
  /// Registers a watch on the KV state (store/kv_state.hpp); the callback
  /// runs on the store thread for every applied change under `prefix`.
  /// Waits until it is registered: not from the store thread.
  Result<store::WatchId> watch(std::string prefix, store::WatchCallback callback) override;
  void unwatch(store::WatchId id) override;
  void renew_lease(const std::string& holder) override;
  store::LeaseRenewals lease_renewals() const override;
  /// The leader decides.
  bool is_decider() const override;
  /// The latest status (published after every batch).
  StoreStatus status() const override;
  store::MembershipControl* membership() override { return this; }

  // ---- membership (leader only) ----
  /// add_learner records the address in the address book, then adds the
  /// node as a learner; promote requires the learner to be caught up;
  /// remove takes a voter or learner out and then revokes its certificates
  /// (a name that is no longer a member is only revoked again, so a remove
  /// whose revocation failed can be repeated); transfer_leadership answers once
  /// `name` leads (or fails after an election timeout). Each answers once
  /// the change is applied here.
  void add_learner(std::string name, SocketAddress address, StoreCallback<bool> done) override;
  void promote(std::string name, StoreCallback<bool> done) override;
  void remove(std::string name, StoreCallback<bool> done) override;
  void transfer_leadership(std::string name, StoreCallback<bool> done) override;

  /// Replaces this node's certificate and key for new peer connections
  /// (a renewal: open connections keep theirs). On error the old ones stay.
  /// Waits for the store thread: not from it.
  Result<void> reload_credentials(std::string cert_pem, std::string key_pem);

  /// The transport's bound address (after start).
  SocketAddress bound() const;

  struct Impl;

 private:
  explicit RaftMember(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace meridian::cluster
