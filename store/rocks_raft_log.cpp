// The RaftLog on RocksDB (store/rocks_raft_log.hpp). Each mutation checks
// everything first, builds one batch, writes it synced, and only then
// updates the in-memory copy, so a failed write leaves both untouched. The
// checks mirror store/memory_raft_log.cpp, the reference behaviour.
#include "store/rocks_raft_log.hpp"

#include <algorithm>
#include <deque>
#include <optional>

#include "base/assert.hpp"
#include "store/log_encoding.hpp"
#include "store/rocks_database.hpp"

namespace meridian::store {
namespace {

// Reads and decodes one optional meta record; absent means "never written",
// the state of a fresh database.
template <class T, class Decode>
Result<std::optional<T>> read_meta(const RocksDatabase& db, std::string_view key, Decode decode) {
  auto raw = db.get(Family::meta, key);
  if (!raw) return raw.error();
  if (!raw->has_value()) return std::optional<T>();
  auto decoded = decode(**raw);
  if (!decoded) return fail("database ", db.directory(), ": ", decoded.error().message);
  return std::optional<T>(std::move(*decoded));
}

class RocksRaftLog final : public RaftLog {
 public:
  explicit RocksRaftLog(std::shared_ptr<RocksDatabase> db) : db_(std::move(db)) {}

  Result<void> load();

  HardState hard_state() const override { return hard_state_; }
  const Snapshot& snapshot() const override { return snapshot_; }
  std::uint64_t first_index() const override { return compacted_.index + 1; }
  std::uint64_t last_index() const override { return compacted_.index + terms_.size(); }

  std::optional<std::uint64_t> term(std::uint64_t index) const override {
    if (index == compacted_.index) return compacted_.term;
    if (index < first_index() || index > last_index()) return std::nullopt;
    return terms_[index - first_index()];
  }

  Result<std::vector<Entry>> entries(std::uint64_t from, std::uint64_t to,
                                     std::uint64_t max_bytes) const override;
  Result<void> save(const std::vector<Entry>& entries,
                    const std::optional<HardState>& hard_state) override;
  Result<void> install_snapshot(const Snapshot& snapshot) override;
  Result<void> compact(const Snapshot& snapshot, std::uint64_t keep) override;
  Result<void> discard() override;

 private:
  // Adds the erasure of entries [from, through] to `batch`, when not empty.
  static void erase_entries(RocksBatch& batch, std::uint64_t from, std::uint64_t through) {
    if (from > through) return;
    batch.erase_range(Family::log, encode_log_key(from), encode_log_key(through + 1));
  }

  Error error(const std::string& message) const {
    return fail("database ", db_->directory(), ": ", message);
  }

  std::shared_ptr<RocksDatabase> db_;
  HardState hard_state_;
  Snapshot snapshot_;
  LogPoint compacted_;               // last entry dropped (0: none), and its term
  std::deque<std::uint64_t> terms_;  // terms_[i]: term of entry first_index() + i
};

Result<void> RocksRaftLog::load() {
  auto hard_state = read_meta<HardState>(*db_, kHardStateKey, decode_hard_state);
  if (!hard_state) return hard_state.error();
  auto compacted = read_meta<LogPoint>(*db_, kCompactedKey, decode_log_point);
  if (!compacted) return compacted.error();
  auto snapshot = read_meta<Snapshot>(*db_, kSnapshotKey, decode_snapshot);
  if (!snapshot) return snapshot.error();
  hard_state_ = hard_state->value_or(HardState{});
  compacted_ = compacted->value_or(LogPoint{});
  snapshot_ = snapshot->value_or(Snapshot{});

  // Compaction only ever drops entries its snapshot covers, and both are
  // written in one batch: anything else is damage, not a state to run from.
  if (compacted_.index > snapshot_.index ||
      (compacted_.index == snapshot_.index && compacted_.term != snapshot_.term)) {
    return error("compaction point " + std::to_string(compacted_.index) +
                 " does not match snapshot " + std::to_string(snapshot_.index));
  }

  // The entries must run contiguously from the compaction point on; every
  // header is decoded now so that term() never meets a bad value later.
  std::optional<Error> bad;
  std::uint64_t expected = first_index();
  auto scanned = db_->scan(Family::log, encode_log_key(0), std::nullopt,
                           [&](std::string_view key, std::string_view value) {
                             auto index = decode_log_key(key);
                             if (!index) {
                               bad = index.error();
                               return false;
                             }
                             if (*index != expected) {
                               bad =
                                   fail("log entry ", std::to_string(*index), " found where entry ",
                                        std::to_string(expected), " was expected");
                               return false;
                             }
                             auto term = decode_entry_term(*index, value);
                             if (!term) {
                               bad = term.error();
                               return false;
                             }
                             terms_.push_back(*term);
                             ++expected;
                             return true;
                           });
  if (!scanned) return scanned.error();
  if (bad) return error(bad->message);
  return {};
}

Result<std::vector<Entry>> RocksRaftLog::entries(std::uint64_t from, std::uint64_t to,
                                                 std::uint64_t max_bytes) const {
  if (from < first_index()) return fail("entries from ", std::to_string(from), " were compacted");
  if (to > last_index() + 1 || from > to) return fail("entries beyond the log");
  std::vector<Entry> out;
  if (from == to) return out;

  std::optional<Error> bad;
  std::uint64_t bytes = 0;
  bool limited = false;
  auto scanned =
      db_->scan(Family::log, encode_log_key(from), encode_log_key(to),
                [&](std::string_view key, std::string_view value) {
                  const std::uint64_t expected = from + out.size();
                  auto index = decode_log_key(key);
                  if (!index || *index != expected) {
                    bad = fail("log entry ", std::to_string(expected), " is missing");
                    return false;
                  }
                  auto entry = decode_entry(expected, value);
                  if (!entry) {
                    bad = entry.error();
                    return false;
                  }
                  // Paired with load(): what is read must be what
                  // was written, or the cache and disk disagree.
                  if (entry->term != terms_[expected - first_index()]) {
                    bad = fail("log entry ", std::to_string(expected), " has term ",
                               std::to_string(entry->term), " on disk but ",
                               std::to_string(terms_[expected - first_index()]), " in memory");
                    return false;
                  }
                  if (!out.empty() && bytes + entry->data.size() > max_bytes) {
                    limited = true;
                    return false;
                  }
                  bytes += entry->data.size();
                  out.push_back(std::move(*entry));
                  return true;
                });
  if (!scanned) return scanned.error();
  if (bad) return error(bad->message);
  if (!limited && out.size() != to - from) {
    return error("log entries " + std::to_string(from + out.size()) + " to " +
                 std::to_string(to - 1) + " are missing");
  }
  return out;
}

Result<void> RocksRaftLog::save(const std::vector<Entry>& entries,
                                const std::optional<HardState>& hard_state) {
  RocksBatch batch = db_->batch();
  if (!entries.empty()) {
    if (auto valid = check_append(*this, entries); !valid) return valid;
    for (const Entry& entry : entries) {
      if (auto valid = check_entry(entry); !valid) return valid;
    }
    // Keys up to the new last entry are overwritten by the puts; only a
    // longer old tail needs erasing.
    const std::uint64_t new_last = entries.back().index;
    erase_entries(batch, new_last + 1, last_index());
    for (const Entry& entry : entries)
      batch.put(Family::log, encode_log_key(entry.index), encode_entry(entry));
  }
  if (hard_state) batch.put(Family::meta, kHardStateKey, encode_hard_state(*hard_state));
  if (batch.size() == 0) return {};
  // A hard state that only raises the commit index need not be synced: the
  // commit index is safe to lose (it is learned again from the leader), and
  // the WAL keeps it behind the synced entries it covers. Syncing it would
  // double the fsyncs of a busy follower.
  const bool only_commit = entries.empty() && hard_state && hard_state->term == hard_state_.term &&
                           hard_state->vote == hard_state_.vote;
  if (auto written =
          db_->write(std::move(batch), only_commit ? Durability::buffered : Durability::synced);
      !written) {
    return written;
  }

  if (!entries.empty()) {
    terms_.resize(entries.front().index - first_index());
    for (const Entry& entry : entries) terms_.push_back(entry.term);
  }
  if (hard_state) hard_state_ = *hard_state;
  return {};
}

Result<void> RocksRaftLog::install_snapshot(const Snapshot& snapshot) {
  if (snapshot.index <= snapshot_.index) return fail("snapshot is not newer");
  if (auto valid = check_snapshot(snapshot); !valid) return valid;
  const auto term_there = term(snapshot.index);
  const bool keep_suffix =
      term_there && *term_there == snapshot.term && snapshot.index >= compacted_.index;
  HardState hard_state = hard_state_;
  hard_state.commit = std::max(hard_state.commit, snapshot.index);

  RocksBatch batch = db_->batch();
  erase_entries(batch, first_index(), keep_suffix ? snapshot.index : last_index());
  batch.put(Family::meta, kCompactedKey, encode_log_point({snapshot.index, snapshot.term}));
  batch.put(Family::meta, kSnapshotKey, encode_snapshot(snapshot));
  batch.put(Family::meta, kHardStateKey, encode_hard_state(hard_state));
  if (auto written = db_->write(std::move(batch), Durability::synced); !written) return written;

  if (keep_suffix) {
    terms_.erase(terms_.begin(),
                 terms_.begin() + static_cast<long>(snapshot.index - compacted_.index));
  } else {
    terms_.clear();
  }
  compacted_ = {snapshot.index, snapshot.term};
  snapshot_ = snapshot;
  hard_state_ = hard_state;
  return {};
}

Result<void> RocksRaftLog::compact(const Snapshot& snapshot, std::uint64_t keep) {
  if (snapshot.index + 1 < first_index() || snapshot.index > last_index()) {
    return fail("snapshot at ", std::to_string(snapshot.index), " is outside the log");
  }
  if (snapshot.index < snapshot_.index)
    return fail("snapshot at ", std::to_string(snapshot.index), " is older than the current one");
  const auto term_there = term(snapshot.index);
  if (!term_there || *term_there != snapshot.term)
    return fail("snapshot term does not match the log");
  if (auto valid = check_snapshot(snapshot); !valid) return valid;
  const std::uint64_t drop_through = snapshot.index > keep ? snapshot.index - keep : 0;
  const bool drops = drop_through > compacted_.index;
  const LogPoint compacted = drops ? LogPoint{drop_through, *term(drop_through)} : compacted_;

  RocksBatch batch = db_->batch();
  batch.put(Family::meta, kSnapshotKey, encode_snapshot(snapshot));
  if (drops) {
    erase_entries(batch, first_index(), drop_through);
    batch.put(Family::meta, kCompactedKey, encode_log_point(compacted));
  }
  if (auto written = db_->write(std::move(batch), Durability::synced); !written) return written;

  snapshot_ = snapshot;
  if (drops) {
    terms_.erase(terms_.begin(),
                 terms_.begin() + static_cast<long>(drop_through - compacted_.index));
    compacted_ = compacted;
  }
  return {};
}

Result<void> RocksRaftLog::discard() {
  HardState hard_state = hard_state_;
  hard_state.commit = 0;
  RocksBatch batch = db_->batch();
  erase_entries(batch, first_index(), last_index());
  batch.put(Family::meta, kCompactedKey, encode_log_point({}));
  batch.put(Family::meta, kSnapshotKey, encode_snapshot(Snapshot{}));
  batch.put(Family::meta, kHardStateKey, encode_hard_state(hard_state));
  if (auto written = db_->write(std::move(batch), Durability::synced); !written) return written;
  terms_.clear();
  compacted_ = {};
  snapshot_ = Snapshot{};
  hard_state_ = hard_state;
  return {};
}

}  // namespace

Result<std::unique_ptr<RaftLog>> make_rocks_log(std::shared_ptr<RocksDatabase> database) {
  MERIDIAN_ASSERT(database != nullptr, "make_rocks_log needs a database");
  auto log = std::make_unique<RocksRaftLog>(std::move(database));
  if (auto loaded = log->load(); !loaded) return loaded.error();
  return std::unique_ptr<RaftLog>(std::move(log));
}

}  // namespace meridian::store
