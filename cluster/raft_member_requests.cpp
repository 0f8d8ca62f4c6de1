// Client requests on the store thread: writes become proposals answered when
// their entry applies; linearizable reads become read-index rounds;
// membership changes and leadership transfer go through the Raft core.

#include "base/assert.hpp"
#include "cluster/node_id.hpp"
#include "cluster/raft_member_state.hpp"

namespace meridian::cluster {

namespace {

constexpr std::string_view kComponent = "store";

/// A promoted learner must be at most this many entries behind the leader,
/// so that it does not stall commits while it catches up as a voter.
constexpr std::uint64_t kPromoteMaxLag = 1000;

}  // namespace

StoreError RaftMember::Impl::not_leader_error(const std::string& reason) const {
  StoreError error{StoreErrorKind::not_leader, reason};
  const NodeId leader = raft_->leader();
  if (leader != no_node && leader != id_) {
    error.leader = name_of(leader);
    error.leader_admin = admin_of(leader);
    error.message += "; the leader is " + *error.leader;
  } else if (leader == no_node) {
    error.kind = StoreErrorKind::unavailable;
    error.message += "; no leader is known (an election may be under way)";
  }
  return error;
}

void RaftMember::Impl::track(std::uint64_t index, ProposalDone done) {
  const SteadyTime now = std::chrono::steady_clock::now();
  proposals_[index] =
      Proposal{raft_->term(), now + settings_.request_timeout, std::move(done), now};
}

// A proposal is settled by whatever entry commits at its index: its own entry
// (same term) or another leader's, which means it was dropped.
void RaftMember::Impl::settle_proposal(const store::Entry& entry, const store::KvResult& result) {
  auto it = proposals_.find(entry.index);
  if (it == proposals_.end()) return;
  Proposal proposal = std::move(it->second);
  proposals_.erase(it);
  if (proposal.term != entry.term) {
    ++proposal_latency_.failed;
    return proposal.done(
        StoreError{StoreErrorKind::unavailable,
                   "not committed: leadership changed before the write was replicated"},
        {});
  }
  proposal_latency_.record(std::chrono::steady_clock::now() - proposal.proposed);
  proposal.done(std::nullopt, result);
}

void RaftMember::Impl::propose_command(const store::KvCommand& command, bool system,
                                       bool may_forward, StoreCallback<store::KvResult> done) {
  if (auto valid = store::validate_command(command); !valid) {
    return done({}, StoreError{StoreErrorKind::invalid, valid.error().message});
  }
  if (!system && store::command_key(command).front() == '_') {
    return done({}, StoreError{StoreErrorKind::invalid,
                               "keys starting with '_' are reserved for the cluster"});
  }
  auto encoded = store::encode_command(command);
  MERIDIAN_ASSERT(encoded.ok(), "a validated command does not encode");
  if (raft_->role() != Role::leader) {
    if (may_forward) return forward(*encoded, system, std::move(done));
    return done({}, not_leader_error("this node is not the leader"));
  }
  if (auto refused = over_budget(command)) return done({}, std::move(refused));
  auto index = raft_->propose(std::move(*encoded));
  if (!index) return done({}, not_leader_error(index.error().message));
  track(*index, [done = std::move(done)](std::optional<StoreError> error, store::KvResult result) {
    done(std::move(result), std::move(error));
  });
  schedule_drain();
}

std::optional<StoreError> RaftMember::Impl::over_budget(const store::KvCommand& command) {
  const std::string& key = store::command_key(command);
  const std::optional<std::string> current = kv_->get(key);
  const std::uint64_t now = kv_->size_bytes();
  std::uint64_t after = now;
  if (current) after -= key.size() + current->size();
  const std::string* value = nullptr;
  if (const auto* put = std::get_if<store::KvPut>(&command)) value = &put->value;
  if (const auto* cas = std::get_if<store::KvCompareAndSet>(&command); cas && cas->value)
    value = &*cas->value;
  if (value) after += key.size() + value->size();
  if (after <= now || after <= settings_.max_state_bytes) return std::nullopt;
  ++over_budget_;
  return StoreError{StoreErrorKind::over_budget,
                    "the replicated state would grow to " + std::to_string(after) +
                        " bytes, past its budget of " + std::to_string(settings_.max_state_bytes) +
                        " (cluster.max_state_mb); delete keys or raise the budget"};
}

void RaftMember::Impl::when_readable(ReadMode mode,
                                     std::function<void(std::optional<StoreError>)> ready) {
  if (mode == ReadMode::local) return ready(std::nullopt);
  const std::uint64_t context = next_read_context_++;
  if (auto asked = raft_->read_index(context); !asked)
    return ready(not_leader_error(asked.error().message));
  reads_[context] =
      PendingRead{std::chrono::steady_clock::now() + settings_.request_timeout, std::move(ready)};
  schedule_drain();
}

void RaftMember::Impl::serve_reads() {
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (!it->second.indexed || it->second.index > applied_) {
      ++it;
      continue;
    }
    auto ready = std::move(it->second.ready);
    it = reads_.erase(it);
    ready(std::nullopt);
  }
}

void RaftMember::Impl::add_learner(const std::string& name, SocketAddress address,
                                   StoreCallback<bool> done) {
  if (auto valid = validate_node_name(name); !valid) {
    return done(false, StoreError{StoreErrorKind::invalid, valid.error().message});
  }
  if (raft_->role() != Role::leader)
    return done(false, not_leader_error("this node is not the leader"));
  // Before "already a member": a different name with the same id would
  // otherwise be taken for the member itself.
  if (auto unique = check_id_unique(name, known_names()); !unique) {
    return done(false, StoreError{StoreErrorKind::conflict, unique.error().message});
  }
  const NodeId id = node_id_of(name);
  if (is_member(raft_->membership(), id))
    return done(false, StoreError{StoreErrorKind::conflict, name + " is already a member"});
  // First the address, so that every member can reach the learner by the
  // time it is added; then the membership change.
  auto encoded = store::encode_command(
      store::KvPut{std::string(kMemberKeyPrefix) + name, address.to_string()});
  MERIDIAN_ASSERT(encoded.ok(), "an address does not encode");
  auto index = raft_->propose(std::move(*encoded));
  if (!index) return done(false, not_leader_error(index.error().message));
  track(*index, [this, name, done = std::move(done)](std::optional<StoreError> error,
                                                     const store::KvResult&) mutable {
    if (error) return done(false, std::move(error));
    change_membership(ChangeKind::add_learner, name, std::move(done));
  });
  schedule_drain();
}

void RaftMember::Impl::change_membership(ChangeKind kind, const std::string& name,
                                         StoreCallback<bool> done) {
  if (auto valid = validate_node_name(name); !valid) {
    return done(false, StoreError{StoreErrorKind::invalid, valid.error().message});
  }
  if (raft_->role() != Role::leader)
    return done(false, not_leader_error("this node is not the leader"));
  const NodeId id = node_id_of(name);
  if (kind == ChangeKind::promote_learner) {
    if (!is_learner(raft_->membership(), id))
      return done(false, StoreError{StoreErrorKind::conflict, name + " is not a learner"});
    for (const PeerStatus& peer : raft_->status().progress) {
      if (peer.id != id) continue;
      const std::uint64_t last = raft_->status().last_index;
      if (peer.match + kPromoteMaxLag < last) {
        return done(false,
                    StoreError{StoreErrorKind::conflict,
                               name + " is " + std::to_string(last - peer.match) +
                                   " entries behind the leader; promote it once it has caught up"});
      }
    }
  }
  auto index = raft_->propose_membership(MembershipChange{kind, id});
  if (!index) {
    StoreError error = raft_->role() == Role::leader
                           ? StoreError{StoreErrorKind::conflict, index.error().message}
                           : not_leader_error(index.error().message);
    return done(false, std::move(error));
  }
  logger_.info(kComponent, std::string("proposed ") + to_string(kind) + " of " + name);
  track(*index, [done = std::move(done)](std::optional<StoreError> error, const store::KvResult&) {
    // Read before the move: arguments are evaluated in no set order.
    const bool changed = !error;
    done(changed, std::move(error));
  });
  schedule_drain();
}

void RaftMember::Impl::remove_member(const std::string& name, StoreCallback<bool> done) {
  if (auto valid = validate_node_name(name); !valid) {
    return done(false, StoreError{StoreErrorKind::invalid, valid.error().message});
  }
  if (name == settings_.name) {
    // Its own certificate would be revoked under it: move the lead first.
    return done(false, StoreError{StoreErrorKind::conflict,
                                  "a member cannot remove itself; remove " + name +
                                      " through another member (transfer the lead first)"});
  }
  if (!is_current_member(node_id_of(name))) {
    // Already out (a remove whose revocation failed, or one from before
    // revocations): revoke, which is idempotent.
    if (!revoked_.contains(name) && !address_book_.contains(node_id_of(name))) {
      return done(false, StoreError{StoreErrorKind::conflict, name + " is not a member"});
    }
    return revoke_certificates(name, std::move(done));
  }
  change_membership(
      ChangeKind::remove, name,
      [this, name, done = std::move(done)](bool removed, std::optional<StoreError> error) mutable {
        if (!removed) return done(false, std::move(error));
        revoke_certificates(name, std::move(done));
      });
}

void RaftMember::Impl::revoke_certificates(const std::string& name, StoreCallback<bool> done) {
  // Every certificate naming it issued until now; one issued later (for a
  // node re-added under the same name) is not affected.
  const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  propose_command(store::KvPut{std::string(kRevokedKeyPrefix) + name, std::to_string(now_s)}, true,
                  false,
                  [this, name, done = std::move(done)](const store::KvResult&,
                                                       std::optional<StoreError> error) mutable {
                    if (error) {
                      error->message = name +
                                       " is removed, but revoking its certificates "
                                       "failed (run remove again): " +
                                       error->message;
                      return done(false, std::move(error));
                    }
                    logger_.info(kComponent, "revoked the certificates of " + name);
                    done(true, std::nullopt);
                  });
}

void RaftMember::Impl::transfer_leadership(const std::string& name, StoreCallback<bool> done) {
  if (auto valid = validate_node_name(name); !valid) {
    return done(false, StoreError{StoreErrorKind::invalid, valid.error().message});
  }
  const NodeId target = node_id_of(name);
  if (raft_->leader() == target) return done(true, std::nullopt);
  if (raft_->role() != Role::leader)
    return done(false, not_leader_error("this node is not the leader"));
  if (auto started = raft_->transfer_leadership(target); !started) {
    return done(false, StoreError{StoreErrorKind::conflict, started.error().message});
  }
  if (transfer_)
    transfer_->done(false,
                    StoreError{StoreErrorKind::conflict, "replaced by a transfer to " + name});
  // The core aborts a transfer after an election timeout; allow twice that.
  const auto timeout = settings_.tick * settings_.election_ticks * 2;
  transfer_ = Transfer{target, std::chrono::steady_clock::now() + timeout, std::move(done)};
  schedule_drain();
}

void RaftMember::Impl::check_transfer() {
  if (!transfer_) return;
  if (raft_->leader() == transfer_->target) {
    auto done = std::move(transfer_->done);
    transfer_.reset();
    return done(true, std::nullopt);
  }
  if (std::chrono::steady_clock::now() < transfer_->deadline) return;
  auto done = std::move(transfer_->done);
  const std::string target = name_of(transfer_->target);
  transfer_.reset();
  done(false,
       StoreError{StoreErrorKind::timeout, "leadership did not move to " + target + " in time"});
}

void RaftMember::Impl::expire_requests(SteadyTime now) {
  for (auto it = proposals_.begin(); it != proposals_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    auto done = std::move(it->second.done);
    it = proposals_.erase(it);
    ++proposal_latency_.failed;
    done(StoreError{StoreErrorKind::timeout,
                    "timed out waiting for the write to commit; it may still commit"},
         {});
  }
  for (auto it = forwards_.begin(); it != forwards_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    auto done = std::move(it->second.done);
    it = forwards_.erase(it);
    done({}, StoreError{StoreErrorKind::timeout,
                        "timed out waiting for the leader's answer; the write may still commit"});
  }
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    auto ready = std::move(it->second.ready);
    it = reads_.erase(it);
    StoreError error = not_leader_error("timed out waiting for the leader to confirm the read");
    error.kind = StoreErrorKind::timeout;
    ready(std::move(error));
  }
}

void RaftMember::Impl::fail_everything(const StoreError& error) {
  auto forwards = std::move(forwards_);
  forwards_.clear();
  for (auto& [id, forward] : forwards) forward.done({}, error);
  auto proposals = std::move(proposals_);
  proposals_.clear();
  for (auto& [index, proposal] : proposals) proposal.done(error, {});
  auto reads = std::move(reads_);
  reads_.clear();
  for (auto& [context, read] : reads) read.ready(error);
  if (transfer_) {
    auto done = std::move(transfer_->done);
    transfer_.reset();
    done(false, error);
  }
}

}  // namespace meridian::cluster
