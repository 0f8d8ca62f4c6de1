// The store thread's driver loop: ticks, peer messages, Readies (persist,
// send, apply), log compaction, node reports and the published status.

#include <boost/asio/post.hpp>
#include <cstdlib>
#include <random>

#include "base/assert.hpp"
#include "cluster/node_id.hpp"
#include "cluster/raft_member_state.hpp"
#include "store/rocks_raft_log.hpp"

namespace meridian::cluster {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kComponent = "store";
/// Bytes of log read per step while looking for config entries.
constexpr std::uint64_t kScanBytes = 4u << 20;

std::uint64_t pick_seed(std::uint64_t seed, NodeId id) {
  if (seed != 0) return seed;
  return std::random_device{}() ^ id ^
         static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace

RaftMember::Impl::Impl(RaftMemberSettings settings, Logger& logger, const Clock& clock)
    : settings_(std::move(settings)),
      logger_(logger),
      leases_(clock),
      id_(node_id_of(settings_.name)),
      work_(io_.get_executor()),
      tick_timer_(io_),
      report_timer_(io_) {}

Result<void> RaftMember::Impl::open() {
  auto database = store::open_database(settings_.data_dir);
  if (!database) return database.error();
  database_ = std::move(*database);
  auto log = store::make_rocks_log(database_);
  if (!log) return log.error();
  log_ = std::move(*log);
  auto kv = store::make_rocks_kv(database_);
  if (!kv) return kv.error();
  kv_ = std::move(*kv);
  // The state machine's writes are not synced (the log is the truth): after a
  // machine crash it may lag the log's snapshot, and then starts from it.
  if (kv_->applied_index() < log_->snapshot().index) {
    if (auto restored = kv_->restore(log_->snapshot().data); !restored) {
      // Failing here would fail every start. The snapshot was checked when
      // it arrived, so this is damage: start over (the vote is kept) and
      // catch up from the leader, which sends a snapshot of its own.
      logger_.error(kComponent, "the snapshot at index " + std::to_string(log_->snapshot().index) +
                                    " in " + settings_.data_dir + " does not restore (" +
                                    restored.error().message +
                                    "); discarding it and the log, to catch up from the leader");
      if (auto discarded = log_->discard(); !discarded) {
        return fail("cannot discard the log in ", settings_.data_dir, ": ",
                    discarded.error().message);
      }
      if (auto emptied = kv_->restore(store::empty_kv_snapshot()); !emptied) {
        return fail("cannot empty the state in ", settings_.data_dir, ": ",
                    emptied.error().message);
      }
    }
  }

  Raft::Config config;
  config.id = id_;
  for (const std::string& founder : settings_.founders) config.peers.push_back(node_id_of(founder));
  config.election_tick = settings_.election_ticks;
  config.heartbeat_tick = settings_.heartbeat_ticks;
  config.applied = kv_->applied_index();
  if (auto valid = Raft::validate(config); !valid)
    return fail("cluster settings: ", valid.error().message);
  raft_ = std::make_unique<Raft>(config, *log_, pick_seed(settings_.seed, id_));
  applied_ = std::max(config.applied, log_->snapshot().index);

  for (const PeerAddress& peer : settings_.peers) {
    if (peer.name != settings_.name)
      address_book_[node_id_of(peer.name)] = {peer.name, peer.address};
  }
  for (const auto& [key, address] : kv_->scan(kMemberKeyPrefix, store::kMaxWatches * 4)) {
    learn_address(key.substr(kMemberKeyPrefix.size()), address);
  }
  auto watched = kv_->watch(
      std::string(kMemberKeyPrefix),
      [this](const std::string& key, const std::optional<std::string>& value, std::uint64_t) {
        learn_address(key.substr(kMemberKeyPrefix.size()), value);
      });
  if (!watched) return watched.error();
  for (const auto& [key, until] : kv_->scan(kRevokedKeyPrefix, store::kMaxWatches * 4)) {
    learn_revocation(key.substr(kRevokedKeyPrefix.size()), until);
  }
  auto revocations = kv_->watch(
      std::string(kRevokedKeyPrefix),
      [this](const std::string& key, const std::optional<std::string>& value, std::uint64_t) {
        learn_revocation(key.substr(kRevokedKeyPrefix.size()), value);
      });
  if (!revocations) return revocations.error();
  // Lease renewals are stamped as they apply (store/lease_book.hpp).
  auto leases = kv_->watch(std::string(store::kLeasePrefix),
                           [this](const std::string& key, const std::optional<std::string>& value,
                                  std::uint64_t) { leases_.on_change(key, value); });
  if (!leases) return leases.error();

  TransportSettings transport = settings_.transport;
  transport.self_name = settings_.name;
  TransportEvents events;
  events.on_unreachable = [this](NodeId peer) { raft_->report_unreachable(peer); };
  events.on_snapshot_sent = [this](NodeId peer, bool ok) {
    raft_->report_snapshot(peer, ok);
    schedule_drain();
  };
  events.on_forward = [this](const ForwardFrame& frame) { on_forward(frame); };
  transport_ = std::make_unique<Transport>(
      io_, std::move(transport), logger_, [this](const Message& message) { on_message(message); },
      [this](NodeReport report) { on_report(std::move(report)); }, std::move(events));
  if (auto started = transport_->start(); !started) return started.error();
  bound_ = transport_->bound();
  for (const auto& [name, until] : revoked_) {
    if (name != settings_.name) transport_->revoke(name, until);
  }
  sync_transport_peers();

  const store::HardState hard = log_->hard_state();
  logger_.info(kComponent,
               "node " + settings_.name + " opened " + settings_.data_dir + ": term " +
                   std::to_string(hard.term) + ", commit " + std::to_string(hard.commit) +
                   ", log " + std::to_string(log_->first_index()) + ".." +
                   std::to_string(log_->last_index()) + ", applied " + std::to_string(applied_));
  publish_status();
  return {};
}

void RaftMember::Impl::run() {
  on_tick();
  on_report_timer();
  thread_ = std::thread([this] {
    try {
      io_.run();
    } catch (const std::exception& error) {
      logger_.error(kComponent, std::string("store thread failed: ") + error.what());
      std::abort();  // Raft state may be half-updated: crash-stop is the safe failure
    }
    thread_done_.set_value();
  });
}

bool RaftMember::Impl::post(std::function<void()> task) {
  std::lock_guard lock(lifecycle_mutex_);
  if (stopping_) return false;
  asio::post(io_, std::move(task));
  return true;
}

void RaftMember::Impl::shutdown() {
  {
    std::lock_guard lock(lifecycle_mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  MERIDIAN_ASSERT(!thread_.joinable() || std::this_thread::get_id() != thread_.get_id(),
                  "RaftMember stopped from its own thread");
  if (thread_.joinable()) {
    asio::post(io_, [this] {
      fail_everything(StoreError{StoreErrorKind::unavailable, "the store is stopping"});
      tick_timer_.cancel();
      report_timer_.cancel();
      transport_->stop();
      work_.reset();
    });
    // The transport closes its connections gracefully (bounded by its own
    // timeouts); should anything still hold the io_context after that, the
    // node stops anyway.
    if (thread_done_.get_future().wait_for(std::chrono::seconds(3)) != std::future_status::ready) {
      logger_.warn(kComponent, "the store thread did not finish its work in 3 s; stopping it");
      io_.stop();
    }
    thread_.join();
  }
  transport_.reset();
  raft_.reset();
  kv_.reset();
  log_.reset();
  database_.reset();
}

// ---- events -----------------------------------------------------------------

void RaftMember::Impl::on_tick() {
  raft_->tick();
  const SteadyTime now = std::chrono::steady_clock::now();
  expire_requests(now);
  check_transfer();
  schedule_drain();
  tick_timer_.expires_after(settings_.tick);
  tick_timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) on_tick();
  });
}

void RaftMember::Impl::on_message(const Message& message) {
  if (!may_speak(message.from, to_string(message.type))) return;
  if (message.type == MessageType::snapshot && message.snapshot) {
    if (auto valid = check_snapshot(*message.snapshot); !valid) {
      // Never installed, never saved; the leader sends it again after its
      // retry interval.
      ++bad_snapshots_;
      logger_.warn(kComponent, "refused a snapshot at index " +
                                   std::to_string(message.snapshot->index) + " from " +
                                   name_of(message.from) + ": " + valid.error().message);
      return;
    }
  }
  if (auto stepped = raft_->step(message); !stepped) {
    logger_.debug(kComponent, std::string("dropped a ") + to_string(message.type) + " from " +
                                  name_of(message.from) + ": " + stepped.error().message);
  }
  schedule_drain();
}

void RaftMember::Impl::on_report(NodeReport report) {
  if (!may_speak(report.from, "report")) return;
  const NodeId from = report.from;  // `report` moves below
  reports_[from] = Report{std::move(report), std::chrono::steady_clock::now()};
}

void RaftMember::Impl::on_report_timer() {
  const Status status = raft_->status();
  const auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started_at_);
  for (const auto& [id, member] : address_book_) {
    if (!is_current_member(id) && revoked_.contains(member.name)) continue;
    NodeReport report;
    report.from = id_;
    report.to = id;
    report.role = status.role;
    report.term = status.term;
    report.leader = status.leader;
    report.commit = status.commit;
    report.applied = applied_;
    report.last_index = status.last_index;
    report.snapshot_index = log_->snapshot().index;
    report.uptime_ms = static_cast<std::uint64_t>(uptime.count());
    report.admin_address = settings_.admin_address;
    transport_->send_report(report);
  }
  publish_status();
  report_timer_.expires_after(settings_.report_interval);
  report_timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) on_report_timer();
  });
}

// Draining later, not per event, lets every message and proposal already
// queued on the io_context join the same Ready: one fsync for all of them.
void RaftMember::Impl::schedule_drain() {
  if (drain_scheduled_) return;
  drain_scheduled_ = true;
  asio::post(io_, [this] {
    drain_scheduled_ = false;
    drain();
  });
}

void RaftMember::Impl::drain() {
  bool worked = false;
  while (raft_->has_ready()) {
    Ready ready = raft_->ready();
    handle_ready(ready);
    raft_->advance(ready);
    serve_reads();
    worked = true;
  }
  if (!worked) return;
  if (raft_->membership() != synced_membership_) {
    synced_membership_ = raft_->membership();
    sync_transport_peers();  // a revoked name re-added, or a member removed
  }
  check_transfer();
  maybe_compact();
  publish_status();
}

void RaftMember::Impl::handle_ready(Ready& ready) {
  if (ready.soft_state) {
    logger_.info(
        kComponent,
        "node " + settings_.name + " is " + to_string(ready.soft_state->role) + " in term " +
            std::to_string(raft_->term()) + ", leader " +
            (ready.soft_state->leader == no_node ? "unknown" : name_of(ready.soft_state->leader)));
  }
  if (ready.snapshot) {
    if (auto installed = log_->install_snapshot(*ready.snapshot); !installed) {
      storage_failed("install a snapshot", installed.error());
    }
    if (auto restored = kv_->restore(ready.snapshot->data); !restored) {
      storage_failed("restore the state from a snapshot", restored.error());
    }
    // Proposals at or below the snapshot are either in it or lost: nobody
    // can tell which any more.
    while (!proposals_.empty() && proposals_.begin()->first <= ready.snapshot->index) {
      auto done = std::move(proposals_.begin()->second.done);
      proposals_.erase(proposals_.begin());
      ++proposal_latency_.failed;
      done(StoreError{StoreErrorKind::timeout,
                      "a snapshot replaced the log; the outcome is unknown"},
           {});
    }
    applied_ = ready.snapshot->index;
    logger_.info(kComponent, "installed a snapshot at index " + std::to_string(applied_));
  }
  if (auto saved = log_->save(ready.entries, ready.hard_state); !saved)
    storage_failed("save the log", saved.error());
  for (Message& message : ready.messages) transport_->send(std::move(message));
  for (const store::Entry& entry : ready.committed_entries) apply(entry);
  for (const ReadState& read : ready.read_states) {
    if (auto it = reads_.find(read.context); it != reads_.end()) {
      it->second.index = read.index;
      it->second.indexed = true;
    }
  }
}

void RaftMember::Impl::apply(const store::Entry& entry) {
  MERIDIAN_ASSERT(entry.index == applied_ + 1, "entries applied out of order");
  store::KvResult result;
  if (entry.type == store::EntryType::normal && !entry.data.empty()) {
    auto command = store::decode_command(entry.data);
    if (!command) {
      // Proposals are validated before they enter the log, so this is a bug
      // or a newer version's entry; skipping keeps every node identical.
      logger_.error(kComponent, "entry " + std::to_string(entry.index) +
                                    " is not a command; skipped: " + command.error().message);
    } else {
      auto applied = kv_->apply(entry.index, *command);
      if (!applied) storage_failed("apply entry " + std::to_string(entry.index), applied.error());
      result = std::move(*applied);
    }
  }
  applied_ = entry.index;
  settle_proposal(entry, result);
}

// ---- compaction -------------------------------------------------------------

void RaftMember::Impl::maybe_compact() {
  const std::uint64_t snapshot_index = log_->snapshot().index;
  if (applied_ < snapshot_index + settings_.snapshot_entries) return;
  if (applied_ < compact_retry_at_) return;
  if (applied_ < log_->first_index() || applied_ > log_->last_index()) return;
  store::Snapshot snapshot;
  snapshot.index = applied_;
  snapshot.term = *log_->term(applied_);
  snapshot.membership = membership_at(applied_);
  snapshot.data = kv_->snapshot_data();
  if (auto compacted = log_->compact(snapshot, settings_.keep_entries); !compacted) {
    // The log is intact, only longer than wished: serve on and try again
    // after the next batch of entries. A disk that cannot write fails the
    // next save, which does stop the node.
    ++compaction_failures_;
    compact_retry_at_ = applied_ + std::max<std::uint64_t>(1, settings_.snapshot_entries / 10);
    logger_.warn(kComponent, "cannot compact the log in " + settings_.data_dir +
                                 " (will retry): " + compacted.error().message);
    return;
  }
  logger_.info(kComponent, "snapshot at index " + std::to_string(snapshot.index) + " (" +
                               std::to_string(snapshot.data.size()) + " bytes); log starts at " +
                               std::to_string(log_->first_index()));
}

// The membership in force at `index`: the newest config entry at or below it,
// else the snapshot's, else the founders'.
store::Membership RaftMember::Impl::membership_at(std::uint64_t index) const {
  const store::Snapshot& snapshot = log_->snapshot();
  std::optional<store::Membership> found;
  for (std::uint64_t from = std::max(snapshot.index + 1, log_->first_index()); from <= index;) {
    auto entries = log_->entries(from, index + 1, kScanBytes);
    if (!entries) storage_failed("read the log", entries.error());
    for (const store::Entry& entry : *entries) {
      if (entry.type != store::EntryType::config) continue;
      auto config = decode_config(entry.data);
      MERIDIAN_ASSERT(config.ok(), "a committed config entry does not decode");
      found = config->membership;
    }
    from = entries->back().index + 1;
  }
  if (found) return *found;
  if (snapshot.index > 0) return snapshot.membership;
  store::Membership founders;
  for (const std::string& founder : settings_.founders)
    founders.voters.push_back(node_id_of(founder));
  auto normalized = normalize(std::move(founders));
  MERIDIAN_ASSERT(normalized.ok(), "founders do not form a membership");
  return *normalized;
}

// ---- address book and status ----------------------------------------------------

void RaftMember::Impl::learn_address(const std::string& name,
                                     const std::optional<std::string>& address) {
  if (!validate_node_name(name) || name == settings_.name) return;
  const NodeId id = node_id_of(name);
  SocketAddress parsed;
  if (!address || !SocketAddress::parse(*address, parsed)) {
    if (!address) return;  // kept: a removed member's address does no harm
    logger_.warn(kComponent, "ignoring the bad address '" + *address + "' of member " + name);
    return;
  }
  address_book_[id] = {name, parsed};
  sync_transport_peers();
}

std::string RaftMember::Impl::name_of(NodeId id) const {
  if (id == id_) return settings_.name;
  if (auto it = address_book_.find(id); it != address_book_.end()) return it->second.name;
  return "#" + std::to_string(id);
}

std::vector<std::string> RaftMember::Impl::known_names() const {
  std::vector<std::string> names{settings_.name};
  for (const auto& [id, member] : address_book_) names.push_back(member.name);
  return names;
}

std::string RaftMember::Impl::admin_of(NodeId id) const {
  if (id == id_) return settings_.admin_address;
  if (auto it = reports_.find(id); it != reports_.end()) return it->second.report.admin_address;
  return {};
}

void RaftMember::Impl::publish_status() {
  const Status raft = raft_->status();
  const SteadyTime now = std::chrono::steady_clock::now();
  StoreStatus status;
  status.name = settings_.name;
  status.id = id_;
  status.role = raft.role;
  status.term = raft.term;
  status.leader_id = raft.leader;
  status.leader = raft.leader == no_node ? "" : name_of(raft.leader);
  status.commit = raft.commit;
  status.applied = applied_;
  status.first_index = log_->first_index();
  status.last_index = log_->last_index();
  status.snapshot_index = log_->snapshot().index;
  status.transport = transport_->counters();
  status.transport.not_member = not_member_;
  status.transport.bad_snapshots = bad_snapshots_;
  status.state_bytes = kv_->size_bytes();
  status.state_budget_bytes = settings_.max_state_bytes;
  status.writes_over_budget = over_budget_;
  status.compaction_failures = compaction_failures_;
  status.proposal_latency = proposal_latency_;

  auto describe = [&](NodeId id, bool voter) {
    MemberStatus member;
    member.id = id;
    member.voter = voter;
    member.self = id == id_;
    member.name = name_of(id);
    if (auto it = address_book_.find(id); it != address_book_.end())
      member.address = it->second.address;
    if (member.self) {
      member.reported = true;
      member.role = raft.role;
      member.term = raft.term;
      member.commit = raft.commit;
      member.applied = applied_;
      member.last_index = raft.last_index;
      member.admin_address = settings_.admin_address;
      member.address = bound_;
    } else if (auto it = reports_.find(id); it != reports_.end()) {
      const NodeReport& report = it->second.report;
      member.reported = true;
      member.role = report.role;
      member.term = report.term;
      member.commit = report.commit;
      member.applied = report.applied;
      member.last_index = report.last_index;
      member.admin_address = report.admin_address;
      member.report_age =
          std::chrono::duration_cast<std::chrono::milliseconds>(now - it->second.at);
    }
    for (const PeerStatus& peer : raft.progress) {
      if (peer.id != id) continue;
      member.match = peer.match;
      member.lag = raft.last_index > peer.match ? raft.last_index - peer.match : 0;
      member.reachable = peer.recent_active || member.self;
    }
    status.members.push_back(std::move(member));
  };
  for (NodeId id : raft.membership.voters) describe(id, true);
  for (NodeId id : raft.membership.learners) describe(id, false);
  std::stable_sort(status.members.begin(), status.members.end(),
                   [](const MemberStatus& a, const MemberStatus& b) {
                     return a.voter != b.voter ? a.voter : a.name < b.name;
                   });

  std::lock_guard lock(status_mutex_);
  published_ = std::move(status);
}

void RaftMember::Impl::storage_failed(const std::string& what, const Error& error) const {
  // Raft's promises rest on the disk; a node that cannot write must not go on
  // voting or acknowledging. Crash-stop; the operator fixes the disk and
  // restarts, and the node recovers from what was synced.
  logger_.error(kComponent, "cannot " + what + ": " + error.message + "; stopping the process");
  std::abort();
}

}  // namespace meridian::cluster
