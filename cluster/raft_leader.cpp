// Raft core, section 2: the leader. Replication with flow control and fast
// back-off, commitment, proposals and membership changes, leadership
// transfer, and ReadIndex.
#include <algorithm>
#include <functional>

#include "base/assert.hpp"
#include "cluster/raft.hpp"

namespace meridian::cluster {

// ---- Time -----------------------------------------------------------------

void Raft::tick_leader() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= config_.election_tick) {
    election_elapsed_ = 0;
    if (config_.check_quorum && !quorum_active()) {
      // Cut off from the majority: another leader may already serve, so stop
      // accepting proposals and promising reads.
      become_follower(term_, no_node);
      return;
    }
    // A transfer gets one election timeout to complete.
    transferee_ = no_node;
  }
  for (auto& [peer, progress] : progress_) {
    if (progress.state() != ReplicationState::snapshot) continue;
    progress.tick_snapshot();
    if (progress.snapshot_ticks() >= config_.snapshot_retry_ticks) {
      // The snapshot or its answer was lost: probe again (and so resend).
      progress.become_probe();
      maybe_send_append(peer, true);
    }
  }
  if (heartbeat_elapsed_ >= config_.heartbeat_tick) {
    heartbeat_elapsed_ = 0;
    broadcast_heartbeat();
  }
}

bool Raft::quorum_active() {
  std::size_t active = 0;
  for (NodeId voter : membership_.current().voters) {
    const auto it = progress_.find(voter);
    if (voter == config_.id || (it != progress_.end() && it->second.recent_active())) ++active;
  }
  for (auto& [peer, progress] : progress_) {
    if (peer != config_.id) progress.set_recent_active(false);
  }
  return active >= quorum();
}

// ---- Messages -------------------------------------------------------------

Result<void> Raft::step_leader(const Message& m) {
  switch (m.type) {
    case MessageType::append_response:
    case MessageType::heartbeat_response:
    case MessageType::read_index_request: {
      const auto it = progress_.find(m.from);
      if (it == progress_.end()) {
        return fail("raft: ", to_string(m.type), " from node ", std::to_string(m.from),
                    ", not a member");
      }
      if (m.type == MessageType::append_response) return handle_append_response(m, it->second);
      if (m.type == MessageType::heartbeat_response) {
        handle_heartbeat_response(m, it->second);
        return {};
      }
      return handle_read_request(m.context, m.from);
    }
    case MessageType::append:
    case MessageType::heartbeat:
    case MessageType::snapshot:
      // Two leaders in one term would break election safety: a bug or a
      // forgery elsewhere, never something to obey.
      return fail("raft: ", to_string(m.type), " from node ", std::to_string(m.from),
                  " claims leadership of term ", std::to_string(term_), ", led by node ",
                  std::to_string(config_.id));
    default: return {};  // late votes, timeout_now, read answers: nothing to do
  }
}

Result<void> Raft::handle_append_response(const Message& m, Progress& progress) {
  const NodeId peer = m.from;
  if (m.reject) {
    progress.set_recent_active(true);
    // The follower's hint says where its log may match; when it also named
    // its term there, skip every entry of ours with a greater term.
    std::uint64_t hint = std::min(m.reject_hint, log_.last_index());
    if (m.log_term > 0) hint = log_.find_conflict_by_term(hint, m.log_term).first;
    if (m.index >= progress.match() && hint < progress.match()) {
      // Its log ends before what it acknowledged: it lost entries (a log
      // discarded after damage). Start over from where it ends. Lowering a
      // match never undoes a commit; a stale rejection costs one probe.
      progress.on_log_lost(hint);
      maybe_send_append(peer, true);
      return {};
    }
    if (progress.on_reject(m.index, hint)) {
      if (progress.state() == ReplicationState::replicate) progress.become_probe();
      maybe_send_append(peer, true);
    }
    return {};
  }
  if (m.index > log_.last_index()) {
    return fail("raft: node ", std::to_string(peer), " acknowledges index ",
                std::to_string(m.index), " beyond the leader's log");
  }
  progress.set_recent_active(true);
  const bool was_paused = progress.paused();
  if (!progress.on_match(m.index)) return {};
  // A probe found where the logs match, or the snapshot landed (or the
  // follower caught up otherwise): replicate from the match.
  if (progress.state() == ReplicationState::probe ||
      (progress.state() == ReplicationState::snapshot &&
       progress.match() + 1 >= log_.first_index())) {
    progress.become_replicate();
  }
  if (maybe_commit()) {
    if (role_ != Role::leader) return {};  // this commit removed the leader
    broadcast_append();
  } else if (was_paused) {
    maybe_send_append(peer, true);
  }
  // Fill the window while there is something to send.
  while (maybe_send_append(peer, false)) {}
  if (peer == transferee_ && progress.match() == log_.last_index()) {
    Message timeout;
    timeout.type = MessageType::timeout_now;
    timeout.to = peer;
    send(std::move(timeout));
  }
  return {};
}

void Raft::handle_heartbeat_response(const Message& m, Progress& progress) {
  progress.on_heartbeat_response();
  if (progress.match() < log_.last_index()) maybe_send_append(m.from, true);
  if (m.context != 0 && !reads_.empty()) {
    reads_.ack(m.from, m.context);
    release_reads();
  }
}

// ---- Replication ----------------------------------------------------------

bool Raft::maybe_send_append(NodeId to, bool send_if_empty) {
  Progress& progress = progress_.at(to);
  if (progress.paused()) return false;
  const std::uint64_t previous = progress.next() - 1;
  const auto previous_term = log_.term(previous);
  const std::uint64_t last = log_.last_index();
  Result<std::vector<store::Entry>> entries = std::vector<store::Entry>{};
  if (progress.next() <= last) {
    const std::uint64_t end = std::min(last + 1, progress.next() + config_.max_entries_per_msg);
    entries = log_.entries(progress.next(), end, config_.max_size_per_msg);
  }
  // The entries it needs were compacted away: only a snapshot helps.
  if (!previous_term || !entries.ok()) return send_snapshot(to, progress);
  if (entries->empty() && !send_if_empty) return false;
  Message append;
  append.type = MessageType::append;
  append.to = to;
  append.index = previous;
  append.log_term = *previous_term;
  append.commit = log_.committed();
  if (!entries->empty()) progress.on_entries_sent(entries->back().index);
  append.entries = std::move(*entries);
  send(std::move(append));
  return true;
}

bool Raft::send_snapshot(NodeId to, Progress& progress) {
  const store::Snapshot& snapshot = log_.snapshot();
  // A compacted log always has a snapshot (RaftLog's contract).
  MERIDIAN_ASSERT(snapshot.index > 0, "entries are compacted but there is no snapshot");
  progress.become_snapshot(snapshot.index);
  Message message;
  message.type = MessageType::snapshot;
  message.to = to;
  message.snapshot = snapshot;
  send(std::move(message));
  return true;
}

void Raft::broadcast_append() {
  for (const auto& [peer, progress] : progress_) {
    if (peer != config_.id) maybe_send_append(peer, true);
  }
}

void Raft::broadcast_heartbeat() {
  const std::uint64_t round = reads_.last_round();
  for (const auto& [peer, progress] : progress_) {
    if (peer == config_.id) continue;
    Message heartbeat;
    heartbeat.type = MessageType::heartbeat;
    heartbeat.to = peer;
    // Never ahead of what the follower holds: it cannot know whether its
    // entries beyond the match agree with ours.
    heartbeat.commit = std::min(progress.match(), log_.committed());
    heartbeat.context = round;
    send(std::move(heartbeat));
  }
}

// ---- Commitment -----------------------------------------------------------

bool Raft::maybe_commit() {
  const auto& voters = membership_.current().voters;
  if (voters.empty()) return false;
  std::vector<std::uint64_t> matches;
  matches.reserve(voters.size());
  for (NodeId voter : voters) {
    const auto it = progress_.find(voter);
    matches.push_back(it == progress_.end() ? 0 : it->second.match());
  }
  std::sort(matches.begin(), matches.end(), std::greater<>());
  const std::uint64_t replicated = matches[quorum() - 1];
  if (replicated <= log_.committed()) return false;
  // Only an entry of the current term is committed by counting replicas;
  // earlier ones commit with it (§5.4.2, figure 8).
  if (log_.term(replicated) != term_) return false;
  commit_to(replicated);
  on_leader_commit();
  return true;
}

void Raft::on_leader_commit() {
  const std::uint64_t committed = log_.committed();
  while (!uncommitted_.empty() && uncommitted_.front().first <= committed) {
    uncommitted_bytes_ -= uncommitted_.front().second;
    uncommitted_.pop_front();
  }
  if (!is_voter(membership_.current(), config_.id) && !membership_.pending(committed)) {
    // Our own removal (or never a voter) is committed: leave the cluster to
    // the remaining voters (§4.2.2).
    become_follower(term_, no_node);
    return;
  }
  if (!postponed_reads_.empty() && log_.term(committed) == term_) {
    auto postponed = std::move(postponed_reads_);
    postponed_reads_.clear();
    for (const auto& [context, from] : postponed) {
      (void)handle_read_request(context, from);  // fails only when full: the read is dropped
    }
  }
}

// ---- Proposals and membership ---------------------------------------------

std::uint64_t Raft::append_as_leader(store::EntryType type, std::string data) {
  store::Entry entry;
  entry.index = log_.last_index() + 1;
  entry.term = term_;
  entry.type = type;
  entry.data = std::move(data);
  const std::uint64_t index = entry.index;
  uncommitted_.emplace_back(index, entry.data.size());
  uncommitted_bytes_ += entry.data.size();
  append_entries({std::move(entry)});
  if (type == store::EntryType::config) sync_progress();
  if (const auto self = progress_.find(config_.id); self != progress_.end())
    self->second.on_match(index);
  if (maybe_commit() && role_ != Role::leader) return index;
  broadcast_append();
  return index;
}

void Raft::sync_progress() {
  const store::Membership& membership = membership_.current();
  const bool new_leader = progress_.empty();
  for (const auto* group : {&membership.voters, &membership.learners}) {
    for (NodeId node : *group) {
      const bool learner = group == &membership.learners;
      auto [it, added] =
          progress_.try_emplace(node, log_.last_index() + 1, config_.max_inflight_msgs, learner);
      it->second.set_learner(learner);
      if (node == config_.id) {
        it->second.on_match(log_.last_index());
        it->second.become_replicate();
        it->second.set_recent_active(true);
      } else if (added && !new_leader) {
        // A member added now gets a full election timeout before it counts
        // as silent for check-quorum.
        it->second.set_recent_active(true);
      }
    }
  }
  std::erase_if(progress_, [&](const auto& item) { return !is_member(membership, item.first); });
  if (transferee_ != no_node && !is_voter(membership, transferee_)) transferee_ = no_node;
}

Error Raft::not_leader() const {
  const std::string leader = leader_ == no_node ? "unknown" : std::to_string(leader_);
  return fail("raft: node ", std::to_string(config_.id), " is not the leader (leader: ", leader,
              ")");
}

Result<std::uint64_t> Raft::propose(std::string data) {
  if (role_ != Role::leader) return not_leader();
  if (transferee_ != no_node) {
    return fail("raft: leadership transfer to node ", std::to_string(transferee_), " in progress");
  }
  if (data.size() > config_.max_entry_bytes) {
    return fail("raft: proposal of ", std::to_string(data.size()),
                " bytes exceeds max_entry_bytes");
  }
  if (uncommitted_bytes_ > 0 && uncommitted_bytes_ + data.size() > config_.max_uncommitted_bytes) {
    return fail("raft: ", std::to_string(uncommitted_bytes_),
                " bytes of proposals are not committed yet");
  }
  return append_as_leader(store::EntryType::normal, std::move(data));
}

Result<std::uint64_t> Raft::propose_membership(const MembershipChange& change) {
  if (role_ != Role::leader) return not_leader();
  if (transferee_ != no_node) {
    return fail("raft: leadership transfer to node ", std::to_string(transferee_), " in progress");
  }
  const std::uint64_t committed = log_.committed();
  if (log_.term(committed) != term_) {
    // A new leader's configuration may still be superseded by an
    // uncommitted change of a previous leader (the single-server bug found
    // after the dissertation): wait until our first entry commits.
    return fail("raft: the leader has not committed an entry of its term yet");
  }
  if (membership_.pending(committed)) {
    return fail("raft: membership change at index ", std::to_string(membership_.current_index()),
                " is not committed yet");
  }
  auto next = apply_change(membership_.current(), change);
  if (!next) return fail("raft: ", to_string(change.kind), ": ", next.error().message);
  return append_as_leader(store::EntryType::config, encode_config({change, std::move(*next)}));
}

// ---- Leadership transfer --------------------------------------------------

Result<void> Raft::transfer_leadership(NodeId target) {
  if (role_ != Role::leader) return not_leader();
  if (target == config_.id) return fail("raft: node ", std::to_string(target), " already leads");
  if (!is_voter(membership_.current(), target))
    return fail("raft: node ", std::to_string(target), " is not a voter");
  if (transferee_ == target) return {};
  transferee_ = target;
  election_elapsed_ = 0;  // the transfer's deadline
  Progress& progress = progress_.at(target);
  if (progress.match() == log_.last_index()) {
    Message timeout;
    timeout.type = MessageType::timeout_now;
    timeout.to = target;
    send(std::move(timeout));
  } else {
    maybe_send_append(target, true);
  }
  return {};
}

// ---- Reads ----------------------------------------------------------------

Result<void> Raft::handle_read_request(std::uint64_t context, NodeId from) {
  if (log_.term(log_.committed()) != term_) {
    // Until it commits an entry of its term, a new leader's commit index may
    // lag the previous leader's: the read waits for that first commit.
    if (postponed_reads_.size() >= config_.max_pending_reads)
      return fail("raft: too many pending reads");
    postponed_reads_.emplace_back(context, from);
    return {};
  }
  if (reads_.full()) return fail("raft: too many pending reads");
  reads_.add(context, from, log_.committed(), config_.id);
  release_reads();  // a single voter confirms alone
  if (!reads_.empty()) broadcast_heartbeat();
  return {};
}

void Raft::release_reads() {
  const auto& voters = membership_.current().voters;
  const std::size_t needed = quorum();
  auto released = reads_.release([&](const std::set<NodeId>& acks) {
    const auto count =
        std::count_if(voters.begin(), voters.end(), [&](NodeId v) { return acks.contains(v); });
    return static_cast<std::size_t>(count) >= needed;
  });
  for (const auto& request : released) answer_read(request.from, request.context, request.index);
}

void Raft::answer_read(NodeId to, std::uint64_t context, std::uint64_t index) {
  if (to == config_.id) {
    read_states_.push_back({context, index});
    return;
  }
  Message answer;
  answer.type = MessageType::read_index_response;
  answer.to = to;
  answer.context = context;
  answer.index = index;
  send(std::move(answer));
}

// ---- Transport reports ----------------------------------------------------

void Raft::report_unreachable(NodeId peer) {
  if (role_ != Role::leader) return;
  const auto it = progress_.find(peer);
  if (it != progress_.end() && it->second.state() == ReplicationState::replicate)
    it->second.become_probe();
}

void Raft::report_snapshot(NodeId peer, bool succeeded) {
  if (role_ != Role::leader) return;
  const auto it = progress_.find(peer);
  if (it == progress_.end() || it->second.state() != ReplicationState::snapshot) return;
  if (succeeded) {
    it->second.become_probe();
  } else {
    it->second.on_snapshot_failed();
  }
}

}  // namespace meridian::cluster
