#pragma once
// The store seam (store/replicated_store.hpp) on an etcd v3 cluster the
// operator runs, with Meridian nodes as its clients (the JSON gateway,
// etcd/gateway.hpp). An alternative to the built-in Raft member for shops
// that already trust etcd; every layer above the seam works unchanged.
//
// - Keys: every seam key K is etcd key PREFIX+K, so one etcd cluster can
//   hold several Meridian clusters (one prefix each).
// - The mirror: the member keeps the whole prefix in memory (a KvState),
//   loaded with one range read, then kept current by one watch over the
//   prefix. Local reads and scans are answered from it; watches fire from
//   it, in etcd's revision order. After a disconnect the watch resumes from
//   the last revision seen, so no change is missed or doubled; when etcd
//   has compacted that revision away, the mirror is loaded again and only
//   the differences fire. A watch whose member shows no sign of life (a
//   message, or a status answer that names a leader) for
//   `unreachable_after` is resumed the same way through the member the
//   calls reach: a frozen member keeps its connection open and silent.
// - Writes are etcd puts, deletes and transactions (compare-and-set: a
//   compare on the value, or on create_revision = 0 for "absent"). A write
//   is answered once etcd committed it and the mirror has caught up with
//   its revision (or after a second, if the watch lags), so a member reads
//   its own writes.
// - Liveness: renew_lease() keeps this member's etcd lease alive and
//   rewrites its record under kLeasePrefix, attached to the lease: renewals
//   are stamped as they reach the mirror (store/lease_book.hpp), and a
//   member that dies disappears with its lease.
// - The decider: the member whose put of the election key (PREFIX
//   kElectionKey) under its own election lease won a transaction on
//   create_revision = 0 decides while it keeps that lease alive.
//   write_as_decider() is a transaction that compares the election key's
//   create_revision with the one it won: a deposed decider's write is
//   refused, whatever it believes.
// - Unreachable etcd: status() stops naming a leader once no lease renewal
//   has gone through for `unreachable_after` (a renewal needs etcd's leader,
//   so an etcd member cut off from its quorum, which still answers status
//   calls, does not count); replicated health then behaves as on a cut-off
//   member of the built-in store (keeps its last verdicts, falls back to its
//   own probes after local_fallback_after).
// - What etcd does not have: membership() is null (etcd's membership is
//   etcd's own business); transport counters and proposal latencies stay
//   zero.
//
// Thread rule: one thread of its own runs the gateway, the mirror and every
// callback (the store thread, as with the Raft member); every public method
// may be called from any thread, watch() not from that one.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "base/result.hpp"
#include "etcd/gateway.hpp"
#include "store/replicated_store.hpp"

namespace meridian::etcd {

/// The seam key of the election (under the prefix; reserved: '_').
inline constexpr std::string_view kElectionKey = "_decider";

struct EtcdStoreSettings {
  std::string name;    ///< this member (the holder of its lease, the decider's name)
  std::string prefix;  ///< every key under it, e.g. "/meridian/prod/"; not empty
  GatewaySettings gateway;
  /// This member's liveness lease (the observer lease of health:).
  std::chrono::milliseconds lease_ttl{5000};
  /// The decider's lease: a decider that stops renewing it is replaced
  /// after at most this long.
  std::chrono::milliseconds election_ttl{3000};
  /// Keepalives, campaigns and status calls run this often.
  std::chrono::milliseconds tick{500};
  /// No lease renewal through etcd's leader for this long: no leader is known.
  std::chrono::milliseconds unreachable_after{3000};
  /// A request not answered in this time fails with `timeout`.
  std::chrono::milliseconds request_timeout{5000};
};

class EtcdStore final : public store::ReplicatedStore {
 public:
  /// Checks the settings, starts the store thread and loads the mirror,
  /// waiting up to request_timeout for it (as a Raft member starts with its
  /// disk's state, so a node's first answers follow the store); a member
  /// that cannot reach etcd in that time starts cut off and loads in the
  /// background. Errors: bad settings or TLS material. `clock` stamps lease
  /// renewals and times the decider's lease; it must outlive the store.
  static Result<std::unique_ptr<EtcdStore>> start(EtcdStoreSettings settings, Logger& logger,
                                                  const Clock& clock);
  ~EtcdStore() override;  // stops
  EtcdStore(const EtcdStore&) = delete;
  EtcdStore& operator=(const EtcdStore&) = delete;

  /// Revokes this member's leases (so others see it leave at once), stops
  /// the watch and the thread; pending callbacks get a "stopping" error.
  /// Idempotent.
  void stop();

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
  /// The etcd cluster as this member sees it: its leader (by member name),
  /// term, raft index, revision, members with their client address and
  /// whether this member reaches them; role "leader" while it decides.
  store::StoreStatus status() const override;

  struct Impl;

 private:
  explicit EtcdStore(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace meridian::etcd
