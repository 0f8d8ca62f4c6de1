#pragma once
// Private to cluster/raft_member*.cpp and write_forwarding.cpp: the state of
// a RaftMember and the functions that run on its store thread.
// raft_member_loop.cpp drives Raft (ticks, messages, Readies, compaction,
// reports, status); raft_member_requests.cpp turns client requests into
// proposals and read-index rounds; write_forwarding.cpp passes a follower's
// writes to the leader.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "cluster/membership.hpp"
#include "cluster/raft.hpp"
#include "cluster/raft_member.hpp"
#include "cluster/transport.hpp"
#include "cluster/wire.hpp"
#include "store/kv_state.hpp"
#include "store/raft_log.hpp"

namespace meridian::store {
class RocksDatabase;
}

namespace meridian::cluster {

using SteadyTime = std::chrono::steady_clock::time_point;

struct RaftMember::Impl {
  Impl(RaftMemberSettings settings, Logger& logger, const Clock& clock);

  // ---- raft_member_loop.cpp ----
  Result<void> open();  // database, log, state, Raft, transport (before the thread starts)
  void run();           // starts the store thread
  void shutdown();      // from any thread but the store thread; idempotent
  /// Runs `task` on the store thread; false (and `task` dropped) once stopping.
  bool post(std::function<void()> task);

  void on_tick();
  void on_report_timer();
  void on_message(const Message& message);
  void on_report(NodeReport report);
  /// Whether `from` may speak to this node (see raft_member.hpp); counts
  /// and logs (rate-limited) what it drops.
  bool may_speak(NodeId from, const char* what);
  /// Whether `id` is in the latest membership Raft knows.
  bool is_current_member(NodeId id) const;
  /// Whether a snapshot message is safe to hand to Raft.
  Result<void> check_snapshot(const store::Snapshot& snapshot) const;
  /// A certificate revocation replicated under kRevokedKeyPrefix.
  void learn_revocation(const std::string& name, const std::optional<std::string>& value);
  /// Adds to the transport every address-book peer that may be reached (a
  /// member, or not revoked) and removes the others.
  void sync_transport_peers();

  void schedule_drain();
  void drain();
  void handle_ready(Ready& ready);
  void apply(const store::Entry& entry);
  void maybe_compact();
  store::Membership membership_at(std::uint64_t index) const;
  void learn_address(const std::string& name, const std::optional<std::string>& address);
  void publish_status();
  std::string name_of(NodeId id) const;
  /// The names this member knows: its own, its peers' and every node whose
  /// address was replicated (removed ones too: their ids stay taken).
  std::vector<std::string> known_names() const;
  std::string admin_of(NodeId id) const;
  [[noreturn]] void storage_failed(const std::string& what, const Error& error) const;

  // ---- raft_member_requests.cpp ----
  /// Completion of a proposal: the entry committed at its index (error unset,
  /// result from the state machine), or it did not / its fate is unknown.
  using ProposalDone = std::function<void(std::optional<StoreError>, store::KvResult)>;
  /// Validates and proposes `command` (leader), or forwards it to the
  /// leader when `may_forward`. `system` allows the reserved '_' keys.
  void propose_command(const store::KvCommand& command, bool system, bool may_forward,
                       StoreCallback<store::KvResult> done);
  void when_readable(ReadMode mode, std::function<void(std::optional<StoreError>)> ready);
  void add_learner(const std::string& name, SocketAddress address, StoreCallback<bool> done);
  void change_membership(ChangeKind kind, const std::string& name, StoreCallback<bool> done);
  /// Removes `name` (when still a member), then revokes its certificates.
  void remove_member(const std::string& name, StoreCallback<bool> done);
  /// Replicates the revocation of `name`'s certificates issued until now.
  void revoke_certificates(const std::string& name, StoreCallback<bool> done);
  void transfer_leadership(const std::string& name, StoreCallback<bool> done);
  StoreError not_leader_error(const std::string& reason) const;
  /// Why a write is refused: it would grow the state past max_state_bytes.
  std::optional<StoreError> over_budget(const store::KvCommand& command);

  // ---- write_forwarding.cpp ----
  void forward(const std::string& command, bool system, StoreCallback<store::KvResult> done);
  void on_forward(const ForwardFrame& frame);
  void track(std::uint64_t index, ProposalDone done);
  void settle_proposal(const store::Entry& entry, const store::KvResult& result);
  void serve_reads();
  void expire_requests(SteadyTime now);
  void check_transfer();
  void fail_everything(const StoreError& error);

  RaftMemberSettings settings_;
  Logger& logger_;
  store::LeaseBook leases_;
  NodeId id_;
  SteadyTime started_at_ = std::chrono::steady_clock::now();

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::promise<void> thread_done_;  // set when io_.run() returns
  std::mutex lifecycle_mutex_;      // guards stopping_ against post() racing shutdown()
  bool stopping_ = false;

  std::shared_ptr<store::RocksDatabase> database_;
  std::unique_ptr<store::RaftLog> log_;
  std::unique_ptr<store::KvState> kv_;
  std::unique_ptr<Raft> raft_;
  std::unique_ptr<Transport> transport_;
  SocketAddress bound_;
  boost::asio::steady_timer tick_timer_;
  boost::asio::steady_timer report_timer_;
  bool drain_scheduled_ = false;
  std::uint64_t applied_ = 0;  // last entry applied (any type), or the snapshot's index

  struct Member {
    std::string name;
    SocketAddress address;
  };
  std::map<NodeId, Member> address_book_;
  /// Revoked names -> certificates issued up to then are refused (Unix s).
  std::map<std::string, std::int64_t> revoked_;
  store::Membership synced_membership_;  // the membership sync_transport_peers last saw
  std::uint64_t not_member_ = 0;         // frames dropped by may_speak
  std::uint64_t bad_snapshots_ = 0;      // snapshot messages refused by check_snapshot
  std::uint64_t over_budget_ = 0;        // writes refused by check_budget
  std::uint64_t compaction_failures_ = 0;
  std::uint64_t compact_retry_at_ = 0;  // after a failed compaction: not before this index
  SteadyTime not_member_logged_{};      // the last warning about a non-member
  struct Report {
    NodeReport report;
    SteadyTime at;
  };
  std::map<NodeId, Report> reports_;

  struct Proposal {
    std::uint64_t term = 0;
    SteadyTime deadline;
    ProposalDone done;
    SteadyTime proposed;
  };
  std::map<std::uint64_t, Proposal> proposals_;  // by log index
  ProposalLatency proposal_latency_;
  struct PendingRead {
    SteadyTime deadline;
    std::function<void(std::optional<StoreError>)> ready;
    std::uint64_t index = 0;  // the read index, once known
    bool indexed = false;
  };
  std::map<std::uint64_t, PendingRead> reads_;  // by read-index context
  std::uint64_t next_read_context_ = 1;
  struct PendingForward {
    SteadyTime deadline;
    StoreCallback<store::KvResult> done;
  };
  std::map<std::uint64_t, PendingForward> forwards_;  // by request id
  std::uint64_t next_forward_id_ = 1;
  struct Transfer {
    NodeId target = no_node;
    SteadyTime deadline;
    StoreCallback<bool> done;
  };
  std::optional<Transfer> transfer_;

  mutable std::mutex status_mutex_;
  StoreStatus published_;
};

}  // namespace meridian::cluster
