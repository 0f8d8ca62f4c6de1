#include "cluster/leader_state.hpp"

#include <algorithm>

#include "base/assert.hpp"

namespace meridian::cluster {

Inflights::Inflights(std::size_t capacity) : buffer_(capacity) {
  MERIDIAN_ASSERT(capacity >= 1, "an inflight window needs room for one append");
}

void Inflights::add(std::uint64_t last_index) {
  MERIDIAN_ASSERT(!full(), "append sent with a full inflight window");
  buffer_[(start_ + count_) % buffer_.size()] = last_index;
  ++count_;
}

void Inflights::free_up_to(std::uint64_t index) {
  while (count_ > 0 && buffer_[start_] <= index) free_first();
}

void Inflights::free_first() {
  if (count_ == 0) return;
  start_ = (start_ + 1) % buffer_.size();
  --count_;
}

Progress::Progress(std::uint64_t next, std::size_t max_inflight, bool learner)
    : next_(next), learner_(learner), inflights_(max_inflight) {}

void Progress::become_probe() {
  // After a snapshot, the peer holds at least the snapshot: probe from
  // there rather than from an old match.
  if (state_ == ReplicationState::snapshot) {
    next_ = std::max(match_ + 1, pending_snapshot_ + 1);
  } else {
    next_ = match_ + 1;
  }
  state_ = ReplicationState::probe;
  probe_sent_ = false;
  pending_snapshot_ = 0;
  snapshot_ticks_ = 0;
  inflights_.reset();
}

void Progress::on_log_lost(std::uint64_t last) {
  match_ = std::min(match_, last);
  state_ = ReplicationState::replicate;  // so become_probe starts from the match
  become_probe();
}

void Progress::become_replicate() {
  state_ = ReplicationState::replicate;
  next_ = match_ + 1;
  probe_sent_ = false;
  pending_snapshot_ = 0;
  snapshot_ticks_ = 0;
  inflights_.reset();
}

void Progress::become_snapshot(std::uint64_t snapshot_index) {
  state_ = ReplicationState::snapshot;
  probe_sent_ = false;
  pending_snapshot_ = snapshot_index;
  snapshot_ticks_ = 0;
  inflights_.reset();
}

bool Progress::paused() const noexcept {
  switch (state_) {
    case ReplicationState::probe: return probe_sent_;
    case ReplicationState::replicate: return inflights_.full();
    case ReplicationState::snapshot: return true;
  }
  return true;
}

void Progress::on_heartbeat_response() {
  recent_active_ = true;
  probe_sent_ = false;
  if (state_ == ReplicationState::replicate && inflights_.full()) inflights_.free_first();
}

void Progress::on_snapshot_failed() {
  pending_snapshot_ = 0;
  become_probe();
}

void Progress::on_entries_sent(std::uint64_t last_index) {
  switch (state_) {
    case ReplicationState::replicate:
      MERIDIAN_ASSERT(last_index >= next_, "sent entries behind next");
      next_ = last_index + 1;
      inflights_.add(last_index);
      break;
    case ReplicationState::probe: probe_sent_ = true; break;
    case ReplicationState::snapshot:
      MERIDIAN_ASSERT(false, "entries sent while a snapshot is pending");
  }
}

bool Progress::on_match(std::uint64_t index) {
  bool updated = false;
  if (index > match_) {
    match_ = index;
    updated = true;
    probe_sent_ = false;
  }
  next_ = std::max(next_, index + 1);
  inflights_.free_up_to(index);
  return updated;
}

bool Progress::on_reject(std::uint64_t rejected, std::uint64_t hint) {
  if (state_ == ReplicationState::replicate) {
    // Rejections at or below the match come from appends sent before it.
    if (rejected <= match_) return false;
    // Everything after the match is in doubt: restart there.
    next_ = match_ + 1;
    return true;
  }
  // Probe (or snapshot): only the answer to the latest probe counts.
  if (next_ == 0 || next_ - 1 != rejected) return false;
  next_ = std::max(std::min(rejected, hint + 1), match_ + 1);
  probe_sent_ = false;
  return true;
}

std::uint64_t ReadIndexQueue::last_round() const noexcept {
  return requests_.empty() ? 0 : requests_.back().round;
}

std::uint64_t ReadIndexQueue::add(std::uint64_t context, NodeId from, std::uint64_t index,
                                  NodeId leader) {
  MERIDIAN_ASSERT(!full(), "read-index queue overflow");
  Request request;
  request.round = next_round_++;
  request.context = context;
  request.from = from;
  request.index = index;
  request.acks.insert(leader);
  requests_.push_back(std::move(request));
  return requests_.back().round;
}

void ReadIndexQueue::ack(NodeId node, std::uint64_t round) {
  // A heartbeat of round r left after every request of round <= r arrived,
  // so its answer confirms leadership for all of them.
  for (Request& request : requests_) {
    if (request.round > round) break;
    request.acks.insert(node);
  }
}

std::vector<ReadIndexQueue::Request> ReadIndexQueue::release(
    const std::function<bool(const std::set<NodeId>&)>& has_quorum) {
  std::size_t confirmed = 0;  // requests [0, confirmed) are released
  for (std::size_t i = 0; i < requests_.size(); ++i) {
    if (has_quorum(requests_[i].acks)) confirmed = i + 1;
  }
  std::vector<Request> out(
      std::make_move_iterator(requests_.begin()),
      std::make_move_iterator(requests_.begin() + static_cast<std::ptrdiff_t>(confirmed)));
  requests_.erase(requests_.begin(), requests_.begin() + static_cast<std::ptrdiff_t>(confirmed));
  return out;
}

}  // namespace meridian::cluster
