#include "tests/sim/sim_store.hpp"

#include "base/assert.hpp"

namespace meridian::sim {

using store::StoreError;
using store::StoreErrorKind;

namespace {

StoreError unavailable(const std::string& why) {
  return StoreError{StoreErrorKind::unavailable, why};
}

}  // namespace

SimStore::SimStore(SimMember& member, SimRelay& relay, Scheduler& scheduler, const Clock& clock,
                   std::function<std::string(cluster::NodeId)> name_of,
                   Clock::Duration request_timeout)
    : member_(member),
      relay_(relay),
      scheduler_(scheduler),
      name_of_(std::move(name_of)),
      request_timeout_(request_timeout),
      leases_(clock) {
  MERIDIAN_ASSERT(member_.up(), "a store over a member that is down");
  auto watched =
      member_.kv().watch(std::string(store::kLeasePrefix),
                         [this](const std::string& key, const std::optional<std::string>& value,
                                std::uint64_t) { leases_.on_change(key, value); });
  MERIDIAN_ASSERT(watched.ok(), "the lease watch failed");
}

SimStore::~SimStore() = default;

void SimStore::expire_later(std::uint64_t id) {
  std::weak_ptr<SimStore*> alive = alive_;
  scheduler_.after(request_timeout_, [alive, id] {
    auto self = alive.lock();
    if (!self) return;
    SimStore& store = **self;
    const StoreError timeout{StoreErrorKind::timeout, "no answer in time: the outcome is unknown"};
    for (auto it = store.proposals_.begin(); it != store.proposals_.end(); ++it) {
      if (it->second.id != id) continue;
      auto done = std::move(it->second.done);
      store.proposals_.erase(it);
      return done({}, timeout);
    }
    if (auto it = store.forwards_.find(id); it != store.forwards_.end()) {
      auto done = std::move(it->second);
      store.forwards_.erase(it);
      return done({}, timeout);
    }
    if (auto it = store.reads_.find(id); it != store.reads_.end()) {
      auto done = std::move(it->second);
      store.reads_.erase(it);
      done(timeout);
    }
  });
}

void SimStore::propose(store::KvCommand command, bool system, bool may_forward,
                       SimRelay::Answer done) {
  // The same refusals, in the same order, as the Raft member's.
  if (auto valid = store::validate_command(command); !valid) {
    return done({}, StoreError{StoreErrorKind::invalid, valid.error().message});
  }
  if (!system && store::command_key(command).front() == store::kReservedKeyMark) {
    return done({}, StoreError{StoreErrorKind::invalid,
                               "keys starting with '_' are reserved for the cluster"});
  }
  cluster::Raft& raft = member_.raft();
  if (raft.role() != cluster::Role::leader) {
    if (!may_forward)
      return done({}, StoreError{StoreErrorKind::not_leader, "this member is not the leader"});
    if (raft.leader() == cluster::no_node) return done({}, unavailable("no leader known"));
    const std::uint64_t id = next_id_++;
    forwards_[id] = std::move(done);
    expire_later(id);
    std::weak_ptr<SimStore*> alive = alive_;
    relay_.forward(member_.id(), raft.leader(), std::move(command), system,
                   [alive, id](store::KvResult result, std::optional<StoreError> error) {
                     auto self = alive.lock();
                     if (!self) return;
                     auto it = (*self)->forwards_.find(id);
                     if (it == (*self)->forwards_.end()) return;  // timed out already
                     auto answer = std::move(it->second);
                     (*self)->forwards_.erase(it);
                     answer(std::move(result), std::move(error));
                   });
    return;
  }
  auto encoded = store::encode_command(command);
  MERIDIAN_ASSERT(encoded.ok(), "a validated command does not encode");
  auto index = raft.propose(std::move(*encoded));
  if (!index) return done({}, StoreError{StoreErrorKind::not_leader, index.error().message});
  // A proposal left at this index by an earlier term lost it to ours.
  if (auto old = proposals_.find(*index); old != proposals_.end()) {
    auto lost = std::move(old->second.done);
    proposals_.erase(old);
    lost({}, unavailable("the write was dropped by a leader change"));
  }
  const std::uint64_t id = next_id_++;
  proposals_[*index] = Proposal{id, raft.term(), std::move(done)};
  expire_later(id);
}

void SimStore::applied(const store::Entry& entry, const std::optional<store::KvResult>& result) {
  auto it = proposals_.find(entry.index);
  if (it == proposals_.end()) return;
  Proposal proposal = std::move(it->second);
  proposals_.erase(it);
  if (entry.term != proposal.term || !result) {
    return proposal.done({}, unavailable("the write was dropped by a leader change"));
  }
  proposal.done(*result, std::nullopt);
}

void SimStore::write(store::KvCommand command, store::StoreCallback<store::KvResult> done) {
  propose(std::move(command), false, true, std::move(done));
}

void SimStore::write_system(store::KvCommand command, store::StoreCallback<store::KvResult> done) {
  propose(std::move(command), true, true, std::move(done));
}

void SimStore::write_as_decider(store::KvCommand command,
                                store::StoreCallback<store::KvResult> done) {
  propose(std::move(command), true, false, std::move(done));
}

void SimStore::read_ready(const cluster::ReadState& read) {
  auto it = reads_.find(read.context);
  if (it == reads_.end()) return;
  auto ready = std::move(it->second);
  reads_.erase(it);
  ready(std::nullopt);
}

void SimStore::read(std::string key, store::ReadMode mode,
                    store::StoreCallback<std::optional<std::string>> done) {
  if (mode == store::ReadMode::local) return done(member_.kv().get(key), std::nullopt);
  const std::uint64_t id = next_id_++;
  if (auto asked = member_.raft().read_index(id); !asked)
    return done(std::nullopt, unavailable(asked.error().message));
  reads_[id] = [this, key = std::move(key),
                done = std::move(done)](std::optional<StoreError> error) {
    if (error) return done(std::nullopt, std::move(error));
    done(member_.kv().get(key), std::nullopt);
  };
  expire_later(id);
}

void SimStore::scan(std::string prefix, std::size_t limit, store::ReadMode mode,
                    store::StoreCallback<store::KeyValues> done) {
  if (mode == store::ReadMode::local) return done(member_.kv().scan(prefix, limit), std::nullopt);
  const std::uint64_t id = next_id_++;
  if (auto asked = member_.raft().read_index(id); !asked)
    return done({}, unavailable(asked.error().message));
  reads_[id] = [this, prefix = std::move(prefix), limit,
                done = std::move(done)](std::optional<StoreError> error) {
    if (error) return done({}, std::move(error));
    done(member_.kv().scan(prefix, limit), std::nullopt);
  };
  expire_later(id);
}

Result<store::WatchId> SimStore::watch(std::string prefix, store::WatchCallback callback) {
  return member_.kv().watch(std::move(prefix), std::move(callback));
}

void SimStore::unwatch(store::WatchId id) {
  member_.kv().unwatch(id);
}

void SimStore::renew_lease(const std::string& holder) {
  write_system(leases_.renewal(holder), [](store::KvResult, std::optional<StoreError>) {});
}

store::LeaseRenewals SimStore::lease_renewals() const {
  return leases_.renewals();
}

bool SimStore::is_decider() const {
  return member_.raft().role() == cluster::Role::leader;
}

store::StoreStatus SimStore::status() const {
  const cluster::Raft& raft = member_.raft();
  store::StoreStatus status;
  status.name = name_of_(member_.id());
  status.id = member_.id();
  status.role = raft.role();
  status.term = raft.term();
  status.leader = raft.leader() == cluster::no_node ? std::string() : name_of_(raft.leader());
  status.leader_id = raft.leader();
  status.commit = raft.committed();
  status.applied = member_.applied();
  return status;
}

}  // namespace meridian::sim
