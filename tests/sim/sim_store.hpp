#pragma once
// The store seam (store/replicated_store.hpp) over a simulated Raft member
// (tests/sim/sim_member.hpp): a third implementation beside the Raft member
// of a real node and the memory store, so that the layers above the seam
// (replicated health above all) run in the simulator exactly as they run in
// a node, against leader changes, partitions, lost messages and crashes.
//
// As the real member does: a leader proposes writes and answers once its
// entry applies (an entry of another term at that index: the write was
// dropped by a leader change); a follower forwards writes to the leader it
// knows, through the simulation's relay (which may lose them); reads are
// local, or linearizable through a read-index round; lease renewals are
// stamped as they apply (store/lease_book.hpp); the leader decides. Every
// request not answered within request_timeout fails with `timeout`.
//
// Thread rule: the simulation's one thread. Callbacks run inside the call,
// inside SimMember::drive (as entries apply) or from the scheduler.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.hpp"
#include "base/scheduler.hpp"
#include "store/lease_book.hpp"
#include "store/replicated_store.hpp"
#include "tests/sim/sim_member.hpp"

namespace meridian::sim {

/// Carries a follower's write to the leader and the answer back, as the
/// simulated network would (delayed, or lost on a cut link or a crash).
class SimRelay {
 public:
  using Answer = std::function<void(store::KvResult, std::optional<store::StoreError>)>;
  virtual ~SimRelay() = default;
  /// Sends the write from `from` to `leader`; `answer` runs back on `from`
  /// if the answer makes it.
  virtual void forward(cluster::NodeId from, cluster::NodeId leader, store::KvCommand command,
                       bool system, Answer answer) = 0;
};

class SimStore final : public store::ReplicatedStore {
 public:
  /// Every reference must outlive the store; `name_of` names members.
  SimStore(SimMember& member, SimRelay& relay, Scheduler& scheduler, const Clock& clock,
           std::function<std::string(cluster::NodeId)> name_of, Clock::Duration request_timeout);
  ~SimStore() override;

  void write(store::KvCommand command, store::StoreCallback<store::KvResult> done) override;
  void write_system(store::KvCommand command, store::StoreCallback<store::KvResult> done) override;
  void write_as_decider(store::KvCommand command,
                        store::StoreCallback<store::KvResult> done) override;
  void read(std::string key, store::ReadMode mode,
            store::StoreCallback<std::optional<std::string>> done) override;
  void scan(std::string prefix, std::size_t limit, store::ReadMode mode,
            store::StoreCallback<store::KeyValues> done) override;
  Result<store::WatchId> watch(std::string prefix, store::WatchCallback callback) override;
  void unwatch(store::WatchId id) override;
  void renew_lease(const std::string& holder) override;
  store::LeaseRenewals lease_renewals() const override;
  bool is_decider() const override;
  store::StoreStatus status() const override;

  /// The leader's side of a forwarded write: propose it here.
  void propose(store::KvCommand command, bool system, bool may_forward, SimRelay::Answer done);
  /// The member applied an entry (its hook): settles the proposal there.
  void applied(const store::Entry& entry, const std::optional<store::KvResult>& result);
  /// A read-index round completed (its hook).
  void read_ready(const cluster::ReadState& read);

 private:
  /// Fails `id`'s request with a timeout if it is still pending then.
  void expire_later(std::uint64_t id);

  SimMember& member_;
  SimRelay& relay_;
  Scheduler& scheduler_;
  std::function<std::string(cluster::NodeId)> name_of_;
  const Clock::Duration request_timeout_;
  store::LeaseBook leases_;

  struct Proposal {
    std::uint64_t id = 0;
    std::uint64_t term = 0;
    SimRelay::Answer done;
  };
  std::map<std::uint64_t, Proposal> proposals_;         // by log index
  std::map<std::uint64_t, SimRelay::Answer> forwards_;  // by request id
  std::map<std::uint64_t, std::function<void(std::optional<store::StoreError>)>>
      reads_;  // by read context
  std::uint64_t next_id_ = 1;
  /// Expires with the store: timers and relayed answers that come later do nothing.
  std::shared_ptr<SimStore*> alive_ = std::make_shared<SimStore*>(this);
};

}  // namespace meridian::sim
