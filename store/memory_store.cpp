#include "store/memory_store.hpp"

#include "base/assert.hpp"

namespace meridian::store {

MemoryStore::MemoryStore(const Clock& clock, std::string self)
    : self_(std::move(self)), kv_(make_memory_kv()), leases_(clock) {
  // The book hears every renewal as it applies, as on a Raft member.
  auto watched = kv_->watch(std::string(kLeasePrefix),
                            [this](const std::string& key, const std::optional<std::string>& value,
                                   std::uint64_t) { leases_.on_change(key, value); });
  MERIDIAN_ASSERT(watched.ok(), "the lease watch of a new memory store failed");
}

void MemoryStore::apply(const KvCommand& command, bool system, StoreCallback<KvResult>& done) {
  // The same refusals, in the same order, as the Raft member's.
  if (auto valid = validate_command(command); !valid) {
    return done({}, StoreError{StoreErrorKind::invalid, valid.error().message});
  }
  if (!system && command_key(command).front() == kReservedKeyMark) {
    return done({}, StoreError{StoreErrorKind::invalid,
                               "keys starting with '_' are reserved for the cluster"});
  }
  std::unique_lock lock(mutex_);
  if (!reachable_) {
    lock.unlock();
    return done({}, StoreError{StoreErrorKind::unavailable, "no leader (this member is cut off)"});
  }
  auto applied = kv_->apply(++index_, command);
  MERIDIAN_ASSERT(applied.ok(), "a memory KvState failed to apply a validated command");
  const KvResult result = *applied;
  lock.unlock();
  done(result, std::nullopt);
}

void MemoryStore::write(KvCommand command, StoreCallback<KvResult> done) {
  apply(command, false, done);
}

void MemoryStore::write_system(KvCommand command, StoreCallback<KvResult> done) {
  apply(command, true, done);
}

void MemoryStore::write_as_decider(KvCommand command, StoreCallback<KvResult> done) {
  // The only member decides while it is reachable; apply() refuses otherwise.
  apply(command, true, done);
}

void MemoryStore::read(std::string key, ReadMode mode,
                       StoreCallback<std::optional<std::string>> done) {
  std::unique_lock lock(mutex_);
  if (mode == ReadMode::linearizable && !reachable_) {
    lock.unlock();
    return done(std::nullopt,
                StoreError{StoreErrorKind::unavailable, "no leader (this member is cut off)"});
  }
  auto value = kv_->get(key);
  lock.unlock();
  done(std::move(value), std::nullopt);
}

void MemoryStore::scan(std::string prefix, std::size_t limit, ReadMode mode,
                       StoreCallback<KeyValues> done) {
  std::unique_lock lock(mutex_);
  if (mode == ReadMode::linearizable && !reachable_) {
    lock.unlock();
    return done({}, StoreError{StoreErrorKind::unavailable, "no leader (this member is cut off)"});
  }
  KeyValues pairs = kv_->scan(prefix, limit);
  lock.unlock();
  done(std::move(pairs), std::nullopt);
}

Result<WatchId> MemoryStore::watch(std::string prefix, WatchCallback callback) {
  std::lock_guard lock(mutex_);
  return kv_->watch(std::move(prefix), std::move(callback));
}

void MemoryStore::unwatch(WatchId id) {
  std::lock_guard lock(mutex_);
  kv_->unwatch(id);
}

void MemoryStore::renew_lease(const std::string& holder) {
  write_system(leases_.renewal(holder), [](const KvResult&, const std::optional<StoreError>&) {});
}

LeaseRenewals MemoryStore::lease_renewals() const {
  return leases_.renewals();
}

bool MemoryStore::is_decider() const {
  std::lock_guard lock(mutex_);
  return reachable_;
}

StoreStatus MemoryStore::status() const {
  std::lock_guard lock(mutex_);
  StoreStatus status;
  status.backend = "memory";
  status.name = self_;
  status.role = reachable_ ? Role::leader : Role::follower;
  status.leader = reachable_ ? self_ : std::string();
  status.commit = index_;
  status.applied = index_;
  status.last_index = index_;
  MemberStatus member;
  member.name = self_;
  member.voter = true;
  member.self = true;
  member.reported = true;
  member.role = status.role;
  member.commit = index_;
  member.applied = index_;
  member.last_index = index_;
  status.members.push_back(std::move(member));
  return status;
}

void MemoryStore::set_reachable(bool reachable) {
  std::lock_guard lock(mutex_);
  reachable_ = reachable;
}

}  // namespace meridian::store
