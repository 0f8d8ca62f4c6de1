#pragma once
// The store seam (store/replicated_store.hpp) in memory, without
// replication: one member that is the whole cluster and its decider. For
// tests of the layers above the seam, which it serves exactly as the Raft
// member does (the same KvState rules, reserved keys, leases and watches),
// and the contract test checks both against the same expectations.
//
// Every request is answered before the call returns, watchers run inside
// the write that changed their key. Thread-safe (one recursive mutex, so
// that a callback may call the store again).

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "base/clock.hpp"
#include "store/kv_state.hpp"
#include "store/lease_book.hpp"
#include "store/replicated_store.hpp"

namespace meridian::store {

class MemoryStore final : public ReplicatedStore {
 public:
  /// `self` names the only member; `clock` stamps lease renewals and must
  /// outlive the store.
  MemoryStore(const Clock& clock, std::string self);

  void write(KvCommand command, StoreCallback<KvResult> done) override;
  void write_system(KvCommand command, StoreCallback<KvResult> done) override;
  void write_as_decider(KvCommand command, StoreCallback<KvResult> done) override;
  void read(std::string key, ReadMode mode,
            StoreCallback<std::optional<std::string>> done) override;
  void scan(std::string prefix, std::size_t limit, ReadMode mode,
            StoreCallback<KeyValues> done) override;
  Result<WatchId> watch(std::string prefix, WatchCallback callback) override;
  void unwatch(WatchId id) override;
  void renew_lease(const std::string& holder) override;
  LeaseRenewals lease_renewals() const override;
  bool is_decider() const override;
  StoreStatus status() const override;

  /// For tests of what happens elsewhere in a cluster: while false, this
  /// member neither decides nor knows a leader (as a member cut off from
  /// the others), and writes fail as unavailable.
  void set_reachable(bool reachable);

 private:
  void apply(const KvCommand& command, bool system, StoreCallback<KvResult>& done);

  mutable std::recursive_mutex mutex_;
  std::string self_;
  std::unique_ptr<KvState> kv_;
  LeaseBook leases_;
  std::uint64_t index_ = 0;
  bool reachable_ = true;
};

}  // namespace meridian::store
