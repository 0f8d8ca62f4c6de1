// Raft core, sections 1 and 3. Section 1: construction, roles, elections,
// message intake and the follower's side of replication. Section 2 (the
// leader) is in raft_leader.cpp. Section 3, at the end: Ready, advance and
// status.
#include <algorithm>
#include <limits>

#include "base/assert.hpp"
#include "cluster/raft.hpp"

namespace meridian::cluster {
namespace {

// Reads the config entries above the snapshot, in bounded chunks, so a
// restarted node uses the newest configuration in its log.
MembershipTracker load_membership(const Raft::Config& config, const store::RaftLog& log) {
  const store::Snapshot& snapshot = log.snapshot();
  store::Membership base;
  if (snapshot.index > 0) {
    base = snapshot.membership;
  } else {
    base.voters = config.peers;
    base.learners = config.learners;
  }
  auto normalized = normalize(std::move(base));
  MERIDIAN_ASSERT(normalized.ok(), "initial membership is invalid");
  MembershipTracker tracker(std::move(*normalized), snapshot.index);
  constexpr std::uint64_t chunk_bytes = 1 << 20;
  std::uint64_t from = std::max(log.first_index(), snapshot.index + 1);
  while (from <= log.last_index()) {
    auto chunk = log.entries(from, log.last_index() + 1, chunk_bytes);
    MERIDIAN_ASSERT(chunk.ok() && !chunk->empty(), "cannot read the durable log");
    tracker.on_append(*chunk);
    from = chunk->back().index + 1;
  }
  tracker.on_commit(std::max(log.hard_state().commit, snapshot.index));
  return tracker;
}

// Indices and terms beyond 2^62 are garbage (see check_envelope).
constexpr std::uint64_t max_index_or_term = std::uint64_t{1} << 62;

bool is_response(MessageType type) {
  switch (type) {
    case MessageType::vote_response:
    case MessageType::pre_vote_response:
    case MessageType::append_response:
    case MessageType::heartbeat_response:
    case MessageType::read_index_response: return true;
    default: return false;
  }
}

}  // namespace

Result<void> Raft::validate(const Config& config) {
  if (config.id == no_node) return fail("raft: id must not be 0");
  if (config.heartbeat_tick < 1) return fail("raft: heartbeat_tick must be at least 1");
  if (config.election_tick <= config.heartbeat_tick)
    return fail("raft: election_tick must exceed heartbeat_tick");
  if (config.max_entries_per_msg < 1) return fail("raft: max_entries_per_msg must be at least 1");
  if (config.max_inflight_msgs < 1) return fail("raft: max_inflight_msgs must be at least 1");
  if (config.max_pending_reads < 1) return fail("raft: max_pending_reads must be at least 1");
  if (config.snapshot_retry_ticks < 1) return fail("raft: snapshot_retry_ticks must be at least 1");
  auto membership = normalize({config.peers, config.learners});
  if (!membership) return fail("raft: peers and learners: ", membership.error().message);
  return {};
}

Raft::Raft(Config config, const store::RaftLog& log, std::uint64_t seed)
    : config_(std::move(config)),
      log_(log, config_.applied),
      rng_(seed),
      membership_(load_membership(config_, log)),
      reads_(config_.max_pending_reads) {
  MERIDIAN_ASSERT(validate(config_).ok(), "invalid raft config");
  const store::HardState hard = log.hard_state();
  term_ = hard.term;
  vote_ = hard.vote;
  reported_hard_ = hard;
  reported_soft_ = soft_state();
  reset(term_);
}

// ---- Roles ----------------------------------------------------------------

void Raft::reset(std::uint64_t term) {
  if (term_ != term) {
    term_ = term;
    vote_ = no_node;
  }
  leader_ = no_node;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  // Random spread of the timeouts keeps split votes rare (§5.2).
  randomized_election_timeout_ = config_.election_tick + rng_.below(config_.election_tick);
  votes_.clear();
  progress_.clear();
  transferee_ = no_node;
  reads_.clear();
  postponed_reads_.clear();
  uncommitted_.clear();
  uncommitted_bytes_ = 0;
}

void Raft::become_follower(std::uint64_t term, NodeId leader) {
  reset(term);
  role_ = Role::follower;
  leader_ = leader;
}

void Raft::become_pre_candidate() {
  MERIDIAN_ASSERT(role_ != Role::leader, "a leader cannot pre-campaign");
  // Neither term nor vote change: a pre-vote that fails leaves no trace.
  reset(term_);
  role_ = Role::pre_candidate;
}

void Raft::become_candidate() {
  MERIDIAN_ASSERT(role_ != Role::leader, "a leader cannot campaign");
  reset(term_ + 1);
  vote_ = config_.id;
  role_ = Role::candidate;
}

void Raft::become_leader() {
  MERIDIAN_ASSERT(role_ == Role::candidate, "only a candidate becomes leader");
  reset(term_);
  role_ = Role::leader;
  leader_ = config_.id;
  sync_progress();
  // An empty entry of the new term: committing it commits every earlier
  // entry (§5.4.2) and lets the leader serve reads (§6.4).
  append_as_leader(store::EntryType::normal, {});
}

bool Raft::promotable() const {
  return is_voter(membership_.current(), config_.id);
}

bool Raft::in_lease() const {
  return config_.check_quorum && leader_ != no_node && election_elapsed_ < config_.election_tick;
}

std::size_t Raft::quorum() const {
  return membership_.current().voters.size() / 2 + 1;
}

// ---- Elections ------------------------------------------------------------

void Raft::tick_election() {
  ++election_elapsed_;
  if (promotable() && election_elapsed_ >= randomized_election_timeout_) {
    start_campaign(config_.pre_vote ? CampaignKind::pre_election : CampaignKind::election);
  }
}

void Raft::start_campaign(CampaignKind kind) {
  MessageType type = MessageType::vote_request;
  std::uint64_t vote_term = 0;
  if (kind == CampaignKind::pre_election) {
    become_pre_candidate();
    type = MessageType::pre_vote_request;
    vote_term = term_ + 1;
  } else {
    become_candidate();
    vote_term = term_;
  }
  if (record_vote(config_.id, true) == VoteResult::won) {
    // A single voter wins alone.
    if (kind == CampaignKind::pre_election) {
      start_campaign(CampaignKind::election);
    } else {
      become_leader();
    }
    return;
  }
  for (NodeId voter : membership_.current().voters) {
    if (voter == config_.id) continue;
    Message request;
    request.type = type;
    request.to = voter;
    request.term = vote_term;
    request.index = log_.last_index();
    request.log_term = log_.last_term();
    request.transfer = kind == CampaignKind::transfer;
    send(std::move(request));
  }
}

Raft::VoteResult Raft::record_vote(NodeId voter, bool granted) {
  votes_.emplace(voter, granted);  // the first answer of each voter counts
  std::size_t yes = 0;
  std::size_t no = 0;
  for (NodeId member : membership_.current().voters) {
    const auto it = votes_.find(member);
    if (it == votes_.end()) continue;
    ++(it->second ? yes : no);
  }
  const std::size_t voters = membership_.current().voters.size();
  if (yes >= quorum()) return VoteResult::won;
  if (voters - no < quorum()) return VoteResult::lost;
  return VoteResult::pending;
}

void Raft::handle_vote_request(const Message& m) {
  const bool pre = m.type == MessageType::pre_vote_request;
  const MessageType answer = pre ? MessageType::pre_vote_response : MessageType::vote_response;
  // A vote already given to this candidate may be repeated (its request or
  // our answer was lost); a fresh vote needs no vote and no leader in this
  // term; a pre-vote is about a future term, so it binds nothing.
  const bool can_vote =
      vote_ == m.from || (vote_ == no_node && leader_ == no_node) || (pre && m.term > term_);
  Message response;
  response.type = answer;
  response.to = m.from;
  if (can_vote && log_.is_up_to_date(m.index, m.log_term)) {
    // Granted pre-votes echo the request's term so the pre-candidate counts
    // them without mistaking them for news of a newer term.
    response.term = m.term;
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from;
    }
  } else {
    response.term = term_;
    response.reject = true;
  }
  send(std::move(response));
}

Result<void> Raft::step_candidate(const Message& m) {
  switch (m.type) {
    case MessageType::append:
    case MessageType::heartbeat:
    case MessageType::snapshot:
      // A leader of this term exists: the election is lost.
      become_follower(term_, m.from);
      return step_follower(m);
    case MessageType::vote_response:
    case MessageType::pre_vote_response: {
      const bool ours = (role_ == Role::candidate) == (m.type == MessageType::vote_response);
      if (!ours || !is_voter(membership_.current(), m.from)) return {};
      switch (record_vote(m.from, !m.reject)) {
        case VoteResult::won:
          if (role_ == Role::pre_candidate) {
            start_campaign(CampaignKind::election);
          } else {
            become_leader();
          }
          break;
        case VoteResult::lost: become_follower(term_, no_node); break;
        case VoteResult::pending: break;
      }
      return {};
    }
    default: return {};  // timeout_now, reads and stale answers mean nothing here
  }
}

// ---- Message intake -------------------------------------------------------

Result<void> Raft::check_envelope(const Message& m) const {
  if (static_cast<int>(m.type) >= message_type_count) {
    return fail("raft: unknown message type ", std::to_string(static_cast<int>(m.type)));
  }
  const std::string what = std::string("raft: ") + to_string(m.type);
  if (m.to != config_.id)
    return fail(what, " for node ", std::to_string(m.to), " reached node ",
                std::to_string(config_.id));
  if (m.from == no_node || m.from == config_.id)
    return fail(what, " from invalid sender ", std::to_string(m.from));
  if (m.term == 0) return fail(what, " without a term");
  // Far beyond any real cluster's lifetime; bounding them keeps every
  // "index + 1" and "term + 1" below overflow.
  const bool in_range = m.term <= max_index_or_term && m.index <= max_index_or_term &&
                        m.log_term <= max_index_or_term && m.commit <= max_index_or_term &&
                        m.reject_hint <= max_index_or_term &&
                        (!m.snapshot || (m.snapshot->index <= max_index_or_term &&
                                         m.snapshot->term <= max_index_or_term));
  if (!in_range) return fail(what, " with an index or term out of range");
  return {};
}

Result<void> Raft::check_content(const Message& m) const {
  const std::string what =
      std::string("raft: ") + to_string(m.type) + " from " + std::to_string(m.from);
  switch (m.type) {
    case MessageType::append: {
      if (m.log_term > m.term) return fail(what, ": previous term above the message term");
      if (m.entries.size() > std::numeric_limits<std::uint64_t>::max() - m.index)
        return fail(what, ": index overflow");
      std::uint64_t previous_term = m.log_term;
      for (std::size_t i = 0; i < m.entries.size(); ++i) {
        const store::Entry& entry = m.entries[i];
        if (entry.index != m.index + 1 + i) return fail(what, ": entries are not contiguous");
        if (entry.term < previous_term || entry.term > m.term)
          return fail(what, ": entry terms out of order");
        previous_term = entry.term;
        if (entry.type == store::EntryType::config) {
          auto decoded = decode_config(entry.data);
          if (!decoded) return fail(what, ": ", decoded.error().message);
        } else if (entry.type != store::EntryType::normal) {
          return fail(what, ": unknown entry type");
        }
      }
      return {};
    }
    case MessageType::vote_request:
    case MessageType::pre_vote_request:
      if (m.log_term > m.term) return fail(what, ": last log term above the message term");
      return {};
    case MessageType::heartbeat:
      // A commit beyond our log is answered, not followed (handle_heartbeat).
      return {};
    case MessageType::snapshot: {
      if (!m.snapshot) return fail(what, ": no snapshot");
      if (m.snapshot->index == 0 || m.snapshot->term == 0 || m.snapshot->term > m.term) {
        return fail(what, ": snapshot index or term out of range");
      }
      auto membership = normalize(m.snapshot->membership);
      if (!membership || membership->voters.empty())
        return fail(what, ": snapshot membership is invalid");
      return {};
    }
    default: return {};
  }
}

Result<void> Raft::step(const Message& m) {
  if (auto ok = check_envelope(m); !ok) return ok;
  if (auto ok = check_content(m); !ok) return ok;

  if (m.term > term_) {
    const bool vote_request =
        m.type == MessageType::vote_request || m.type == MessageType::pre_vote_request;
    if (vote_request && in_lease() && !m.transfer) {
      // Leader lease (check-quorum): a leader was heard from within the
      // minimum election timeout, so this candidate is disruptive (removed,
      // or partitioned and back); ignore it without raising our term.
      return {};
    }
    if (m.type == MessageType::pre_vote_request ||
        (m.type == MessageType::pre_vote_response && !m.reject)) {
      // A pre-vote request raises nothing; a granted pre-vote carries the
      // pre-candidate's future term.
    } else {
      const bool from_leader = m.type == MessageType::append || m.type == MessageType::heartbeat ||
                               m.type == MessageType::snapshot;
      become_follower(m.term, from_leader ? m.from : no_node);
    }
  } else if (m.term < term_) {
    if ((config_.check_quorum || config_.pre_vote) &&
        (m.type == MessageType::heartbeat || m.type == MessageType::append)) {
      // A stale leader (say, partitioned and back) keeps sending; tell it
      // our term so it steps down. Without this, under pre-vote, a node with
      // a higher term could never be reached by it nor win an election.
      Message response;
      response.type = MessageType::append_response;
      response.to = m.from;
      send(std::move(response));
    } else if (m.type == MessageType::pre_vote_request) {
      Message response;
      response.type = MessageType::pre_vote_response;
      response.to = m.from;
      response.reject = true;
      send(std::move(response));
    }
    return {};  // anything else from an older term is stale
  }

  if (m.type == MessageType::vote_request || m.type == MessageType::pre_vote_request) {
    handle_vote_request(m);
    return {};
  }
  return step_by_role(m);
}

Result<void> Raft::step_by_role(const Message& m) {
  switch (role_) {
    case Role::leader: return step_leader(m);
    case Role::candidate:
    case Role::pre_candidate: return step_candidate(m);
    case Role::follower: return step_follower(m);
  }
  return {};
}

// ---- Follower -------------------------------------------------------------

Result<void> Raft::step_follower(const Message& m) {
  switch (m.type) {
    case MessageType::append:
    case MessageType::heartbeat:
    case MessageType::snapshot:
      election_elapsed_ = 0;
      leader_ = m.from;
      if (m.type == MessageType::append) return handle_append(m);
      if (m.type == MessageType::heartbeat) return handle_heartbeat(m);
      handle_snapshot(m);
      return {};
    case MessageType::timeout_now:
      // Leadership transfer: campaign at once, even when the lease holds.
      if (promotable()) start_campaign(CampaignKind::transfer);
      return {};
    case MessageType::read_index_response: read_states_.push_back({m.context, m.index}); return {};
    default:
      // Answers to a role we no longer have, or requests for a leader.
      MERIDIAN_ASSERT(is_response(m.type) || m.type == MessageType::read_index_request,
                      "unhandled message");
      return {};
  }
}

Result<void> Raft::handle_append(const Message& m) {
  Message response;
  response.type = MessageType::append_response;
  response.to = m.from;
  if (m.index < log_.committed()) {
    // Our log matches up to the commit index: say so, the leader jumps ahead.
    response.index = log_.committed();
    send(std::move(response));
    return {};
  }
  if (log_.match_term(m.index, m.log_term)) {
    const std::uint64_t last_new = m.index + m.entries.size();
    const std::uint64_t conflict = log_.find_conflict(m.entries);
    if (conflict != 0) {
      // Entries above the commit index only (m.index >= committed), so a
      // conflict never reaches a committed entry.
      append_entries({m.entries.begin() + static_cast<std::ptrdiff_t>(conflict - m.index - 1),
                      m.entries.end()});
    }
    // Commit only what is known to match the leader: not past last_new.
    commit_to(std::min(m.commit, last_new));
    response.index = last_new;
    send(std::move(response));
    return {};
  }
  // Mismatch at m.index: hint the largest index whose term is at most the
  // leader's term there, so the leader skips whole terms (fast back-off).
  const auto [hint_index, hint_term] =
      log_.find_conflict_by_term(std::min(m.index, log_.last_index()), m.log_term);
  response.index = m.index;
  response.reject = true;
  response.reject_hint = hint_index;
  response.log_term = hint_term;
  send(std::move(response));
  return {};
}

Result<void> Raft::handle_heartbeat(const Message& m) {
  if (m.commit > log_.last_index()) {
    // The leader caps the commit at what it believes we hold, so we lost
    // entries we acknowledged (a log discarded at start, raft_member.hpp).
    // Following it could commit entries never sent to us; instead say where
    // our log ends, so the leader replicates from there (or sends a snapshot).
    Message response;
    response.type = MessageType::append_response;
    response.to = m.from;
    response.index = m.commit;
    response.reject = true;
    response.reject_hint = log_.last_index();
    send(std::move(response));
    return {};
  }
  commit_to(m.commit);
  Message response;
  response.type = MessageType::heartbeat_response;
  response.to = m.from;
  response.context = m.context;
  send(std::move(response));
  return {};
}

void Raft::handle_snapshot(const Message& m) {
  const store::Snapshot& snapshot = *m.snapshot;
  Message response;
  response.type = MessageType::append_response;
  response.to = m.from;
  if (snapshot.index <= log_.committed()) {
    response.index = log_.committed();  // nothing new: we are further along
  } else if (log_.match_term(snapshot.index, snapshot.term)) {
    // Our log already holds the snapshot's last entry: commit instead of
    // throwing the log away.
    commit_to(snapshot.index);
    response.index = log_.last_index();
  } else {
    log_.restore(snapshot);
    membership_.reset(*normalize(snapshot.membership), snapshot.index);
    response.index = log_.last_index();
  }
  send(std::move(response));
}

void Raft::append_entries(const std::vector<store::Entry>& entries) {
  if (entries.empty()) return;
  log_.append(entries);
  membership_.on_append(entries);
}

void Raft::commit_to(std::uint64_t index) {
  if (index <= log_.committed()) return;
  log_.commit_to(index);
  membership_.on_commit(index);
}

void Raft::send(Message message) {
  message.from = config_.id;
  if (message.term == 0) message.term = term_;
  messages_.push_back(std::move(message));
}

// ---- Inputs ---------------------------------------------------------------

void Raft::tick() {
  if (role_ == Role::leader) {
    tick_leader();
  } else {
    tick_election();
  }
}

Result<void> Raft::campaign() {
  if (role_ == Role::leader)
    return fail("raft: node ", std::to_string(config_.id), " is already the leader");
  if (!promotable()) return fail("raft: node ", std::to_string(config_.id), " is not a voter");
  start_campaign(config_.pre_vote ? CampaignKind::pre_election : CampaignKind::election);
  return {};
}

Result<void> Raft::read_index(std::uint64_t context) {
  if (role_ == Role::leader) return handle_read_request(context, config_.id);
  if (leader_ == no_node) return fail("raft: no leader known for a read");
  Message request;
  request.type = MessageType::read_index_request;
  request.to = leader_;
  request.context = context;
  send(std::move(request));
  return {};
}

// ---- Section 3: Ready, advance, status ------------------------------------

bool Raft::has_ready() const {
  if (ready_out_) return false;
  return soft_state() != reported_soft_ || hard_state() != reported_hard_ ||
         !log_.unstable_entries().empty() || log_.unstable_snapshot().has_value() ||
         !messages_.empty() || !read_states_.empty() || log_.apply_from() <= log_.committed();
}

Ready Raft::ready() {
  // One batch at a time: the next may only be taken once this one is
  // durable, or messages could promise what is not yet on disk.
  MERIDIAN_ASSERT(!ready_out_, "ready() called again before advance()");
  Ready ready;
  if (soft_state() != reported_soft_) {
    reported_soft_ = soft_state();
    ready.soft_state = reported_soft_;
  }
  if (hard_state() != reported_hard_) {
    reported_hard_ = hard_state();
    ready.hard_state = reported_hard_;
  }
  ready.entries = log_.unstable_entries();
  ready.snapshot = log_.unstable_snapshot();
  ready.committed_entries = log_.next_committed_entries(log_.applied(), config_.max_apply_bytes);
  ready.messages = std::move(messages_);
  messages_.clear();
  ready.read_states = std::move(read_states_);
  read_states_.clear();
  ready_out_ = true;
  return ready;
}

void Raft::advance(const Ready& ready) {
  MERIDIAN_ASSERT(ready_out_, "advance() without a ready()");
  ready_out_ = false;
  if (ready.snapshot) {
    log_.stable_snapshot_to(ready.snapshot->index);
    log_.applied_to(ready.snapshot->index);
  }
  // Entries truncated by a newer leader since ready() stay unstable: the
  // term check in stable_to notices.
  if (!ready.entries.empty()) log_.stable_to(ready.entries.back().index, ready.entries.back().term);
  if (!ready.committed_entries.empty()) log_.applied_to(ready.committed_entries.back().index);
}

Status Raft::status() const {
  Status status;
  status.id = config_.id;
  status.role = role_;
  status.term = term_;
  status.vote = vote_;
  status.leader = leader_;
  status.commit = log_.committed();
  status.applied = log_.applied();
  status.last_index = log_.last_index();
  status.membership = membership_.current();
  status.transferee = transferee_;
  for (const auto& [peer, progress] : progress_) {
    PeerStatus peer_status;
    peer_status.id = peer;
    peer_status.learner = progress.learner();
    peer_status.match = progress.match();
    peer_status.next = progress.next();
    peer_status.state = progress.state();
    peer_status.recent_active = progress.recent_active();
    peer_status.inflight = progress.inflights().count();
    status.progress.push_back(peer_status);
  }
  return status;
}

}  // namespace meridian::cluster
