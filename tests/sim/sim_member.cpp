#include "tests/sim/sim_member.hpp"

#include <stdexcept>

namespace meridian::sim {

SimMember::SimMember(cluster::Raft::Config config, std::uint64_t seed, Rng& rng,
                     SimNetwork& network)
    : config_(std::move(config)), seed_(seed), rng_(rng), network_(network) {
  start();
}

void SimMember::start() {
  raft_ =
      std::make_unique<cluster::Raft>(config_, *log_, seed_ * 7919 + config_.id * 131 + boots_++);
  kv_ = store::make_memory_kv();
  const store::Snapshot& snapshot = log_->snapshot();
  if (snapshot.index > 0 && !kv_->restore(snapshot.data).ok())
    throw std::runtime_error("restore failed");
  applied_ = snapshot.index;
  unsynced_.reset();
  reads_.clear();
}

void SimMember::crash() {
  raft_.reset();
  kv_.reset();
  unsynced_.reset();
  reads_.clear();
}

void SimMember::drive(std::uint64_t now_ms) {
  now_ms_ = now_ms;
  while (raft_) {
    if (unsynced_) {
      if (durable_at_ > now_ms) return;
      sync();
    } else if (raft_->has_ready()) {
      unsynced_ = raft_->ready();
      durable_at_ = now_ms + rng_.below(4);
    } else {
      return;
    }
  }
}

bool SimMember::compact(const store::Membership& membership, std::uint64_t keep) {
  if (!raft_ || unsynced_) return false;
  const std::uint64_t index = applied_;
  if (index <= log_->snapshot().index || index < log_->first_index() || index > log_->last_index())
    return false;
  store::Snapshot snapshot;
  snapshot.index = index;
  snapshot.term = *log_->term(index);
  snapshot.membership = membership;
  snapshot.data = kv_->snapshot_data();
  if (!log_->compact(snapshot, keep).ok()) throw std::runtime_error("compact failed");
  return true;
}

void SimMember::sync() {
  cluster::Ready ready = std::move(*unsynced_);
  unsynced_.reset();
  if (ready.soft_state && hooks.soft_state) hooks.soft_state(*ready.soft_state);
  if (ready.snapshot) {
    if (!log_->install_snapshot(*ready.snapshot).ok())
      throw std::runtime_error("install_snapshot failed");
    if (!kv_->restore(ready.snapshot->data).ok()) throw std::runtime_error("kv restore failed");
    applied_ = ready.snapshot->index;
    if (hooks.installed) hooks.installed(applied_);
  }
  if (auto saved = log_->save(ready.entries, ready.hard_state); !saved)
    throw std::runtime_error(saved.error().message);
  for (cluster::Message& message : ready.messages) network_.send(std::move(message), now_ms_);
  // A hook may crash nothing here: the simulation acts between steps.
  for (const store::Entry& entry : ready.committed_entries) apply(entry);
  for (const cluster::ReadState& read : ready.read_states) reads_.push_back(read);
  raft_->advance(ready);
  std::erase_if(reads_, [&](const cluster::ReadState& read) {
    if (read.index > applied_) return false;
    if (hooks.read_ready) hooks.read_ready(read);
    return true;
  });
}

void SimMember::apply(const store::Entry& entry) {
  if (entry.index != applied_ + 1) {
    throw std::runtime_error("n" + std::to_string(config_.id) + " applies " +
                             std::to_string(entry.index) + " after " + std::to_string(applied_));
  }
  applied_ = entry.index;
  std::optional<store::KvResult> result;
  if (entry.type == store::EntryType::normal && !entry.data.empty()) {
    auto command = store::decode_command(entry.data);
    if (!command) throw std::runtime_error("undecodable entry at " + std::to_string(entry.index));
    auto applied = kv_->apply(entry.index, *command);
    if (!applied) throw std::runtime_error("kv apply failed");
    result = *applied;
  }
  if (hooks.applied) hooks.applied(entry, result);
}

}  // namespace meridian::sim
