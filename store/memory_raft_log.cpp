// The in-memory RaftLog: the reference behaviour of the interface, used by
// unit tests and the simulator.
#include <algorithm>

#include "base/assert.hpp"
#include "store/raft_log.hpp"

namespace meridian::store {
namespace {

class MemoryRaftLog final : public RaftLog {
 public:
  HardState hard_state() const override { return hard_state_; }
  const Snapshot& snapshot() const override { return snapshot_; }
  std::uint64_t first_index() const override { return compacted_index_ + 1; }
  std::uint64_t last_index() const override { return compacted_index_ + entries_.size(); }

  std::optional<std::uint64_t> term(std::uint64_t index) const override {
    if (index == compacted_index_) return compacted_term_;
    if (index < first_index() || index > last_index()) return std::nullopt;
    return entries_[index - first_index()].term;
  }

  Result<std::vector<Entry>> entries(std::uint64_t from, std::uint64_t to,
                                     std::uint64_t max_bytes) const override {
    if (from < first_index()) return fail("entries from ", std::to_string(from), " were compacted");
    if (to > last_index() + 1 || from > to) return fail("entries beyond the log");
    std::vector<Entry> out;
    std::uint64_t bytes = 0;
    for (std::uint64_t i = from; i < to; ++i) {
      const Entry& entry = entries_[i - first_index()];
      if (!out.empty() && bytes + entry.data.size() > max_bytes) break;
      bytes += entry.data.size();
      out.push_back(entry);
    }
    return out;
  }

  Result<void> save(const std::vector<Entry>& entries,
                    const std::optional<HardState>& hard_state) override {
    if (!entries.empty()) {
      if (auto valid = check_append(*this, entries); !valid) return valid;
      const std::uint64_t first = entries.front().index;
      entries_.resize(first - first_index());
      entries_.insert(entries_.end(), entries.begin(), entries.end());
    }
    if (hard_state) hard_state_ = *hard_state;
    return {};
  }

  Result<void> install_snapshot(const Snapshot& snapshot) override {
    if (snapshot.index <= snapshot_.index) return fail("snapshot is not newer");
    const auto term_there = term(snapshot.index);
    if (term_there && *term_there == snapshot.term && snapshot.index >= compacted_index_) {
      entries_.erase(entries_.begin(),
                     entries_.begin() + static_cast<long>(snapshot.index - compacted_index_));
    } else {
      entries_.clear();
    }
    compacted_index_ = snapshot.index;
    compacted_term_ = snapshot.term;
    snapshot_ = snapshot;
    hard_state_.commit = std::max(hard_state_.commit, snapshot.index);
    return {};
  }

  Result<void> discard() override {
    entries_.clear();
    compacted_index_ = 0;
    compacted_term_ = 0;
    snapshot_ = Snapshot{};
    hard_state_.commit = 0;
    return {};
  }

  Result<void> compact(const Snapshot& snapshot, std::uint64_t keep) override {
    if (snapshot.index + 1 < first_index() || snapshot.index > last_index()) {
      return fail("snapshot at ", std::to_string(snapshot.index), " is outside the log");
    }
    if (snapshot.index < snapshot_.index) {
      return fail("snapshot at ", std::to_string(snapshot.index), " is older than the current one");
    }
    const auto term_there = term(snapshot.index);
    if (!term_there || *term_there != snapshot.term)
      return fail("snapshot term does not match the log");
    snapshot_ = snapshot;
    const std::uint64_t drop_through = snapshot.index > keep ? snapshot.index - keep : 0;
    if (drop_through > compacted_index_) {
      compacted_term_ = *term(drop_through);
      entries_.erase(entries_.begin(),
                     entries_.begin() + static_cast<long>(drop_through - compacted_index_));
      compacted_index_ = drop_through;
    }
    return {};
  }

 private:
  HardState hard_state_;
  Snapshot snapshot_;
  std::uint64_t compacted_index_ = 0;  // last entry dropped (0: none)
  std::uint64_t compacted_term_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace

Result<void> check_append(const RaftLog& log, const std::vector<Entry>& entries) {
  if (entries.empty()) return {};
  const std::uint64_t first = entries.front().index;
  if (first < log.first_index())
    return fail("append at ", std::to_string(first), " below the compacted log");
  if (first > log.last_index() + 1)
    return fail("append at ", std::to_string(first), " leaves a gap");
  const std::uint64_t commit = log.hard_state().commit;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& entry = entries[i];
    if (entry.index != first + i) return fail("entries are not contiguous");
    // A committed entry is never replaced by a different one: that would be
    // a bug in the caller, and must not silently lose data.
    if (entry.index <= commit && entry.index <= log.last_index() &&
        log.term(entry.index) != entry.term) {
      return fail("append would overwrite committed entry ", std::to_string(entry.index));
    }
  }
  return {};
}

std::unique_ptr<RaftLog> make_memory_log() {
  return std::make_unique<MemoryRaftLog>();
}

}  // namespace meridian::store
