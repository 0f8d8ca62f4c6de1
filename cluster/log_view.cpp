#include "cluster/log_view.hpp"

#include <algorithm>

#include "base/assert.hpp"

namespace meridian::cluster {

LogView::LogView(const store::RaftLog& log, std::uint64_t applied)
    : log_(log), offset_(log.last_index() + 1) {
  const std::uint64_t snapshot_index = log.snapshot().index;
  // Installing a snapshot raises the durable commit, so it never lags the
  // snapshot; take the maximum anyway: the commit index is safe to lose.
  committed_ = std::max(log.hard_state().commit, snapshot_index);
  MERIDIAN_ASSERT(committed_ <= log.last_index(),
                  "the durable commit index is beyond the durable log");
  applied_ = std::max(applied, snapshot_index);
  MERIDIAN_ASSERT(applied_ <= committed_, "applied beyond the commit index");
}

std::uint64_t LogView::first_index() const {
  return unstable_snapshot_ ? unstable_snapshot_->index + 1 : log_.first_index();
}

std::uint64_t LogView::last_index() const {
  if (!unstable_.empty()) return offset_ + unstable_.size() - 1;
  if (unstable_snapshot_) return unstable_snapshot_->index;
  return log_.last_index();
}

std::uint64_t LogView::last_term() const {
  const auto last = term(last_index());
  MERIDIAN_ASSERT(last.has_value(), "the term of the last entry is unknown");
  return *last;
}

std::optional<std::uint64_t> LogView::term(std::uint64_t index) const {
  if (unstable_snapshot_) {
    if (index == unstable_snapshot_->index) return unstable_snapshot_->term;
    if (index < unstable_snapshot_->index) return std::nullopt;
  }
  if (index >= offset_) {
    if (index - offset_ < unstable_.size()) return unstable_[index - offset_].term;
    return std::nullopt;
  }
  // Below the unstable tail: the durable log, which holds these indices
  // (offset_ never passes its last index + 1).
  return log_.term(index);
}

bool LogView::match_term(std::uint64_t index, std::uint64_t term) const {
  const auto ours = this->term(index);
  return ours && *ours == term;
}

bool LogView::is_up_to_date(std::uint64_t last_index, std::uint64_t last_term) const {
  const std::uint64_t our_term = this->last_term();
  return last_term > our_term || (last_term == our_term && last_index >= this->last_index());
}

Result<std::vector<store::Entry>> LogView::entries(std::uint64_t from, std::uint64_t to,
                                                   std::uint64_t max_bytes) const {
  if (from < first_index()) return fail("entries from ", std::to_string(from), " were compacted");
  MERIDIAN_ASSERT(from <= to && to <= last_index() + 1, "entries beyond the log");
  std::vector<store::Entry> out;
  std::uint64_t bytes = 0;
  if (from < offset_) {
    const std::uint64_t stable_to = std::min(to, offset_);
    auto stable = log_.entries(from, stable_to, max_bytes);
    if (!stable) return stable.error();
    out = std::move(*stable);
    // Fewer entries than asked: the byte limit was reached.
    if (out.size() < stable_to - from) return out;
    for (const store::Entry& entry : out) bytes += entry.data.size();
  }
  for (std::uint64_t index = std::max(from, offset_); index < to; ++index) {
    const store::Entry& entry = unstable_[index - offset_];
    if (!out.empty() && bytes + entry.data.size() > max_bytes) break;
    bytes += entry.data.size();
    out.push_back(entry);
  }
  return out;
}

std::uint64_t LogView::find_conflict(const std::vector<store::Entry>& entries) const {
  for (const store::Entry& entry : entries) {
    if (!match_term(entry.index, entry.term)) return entry.index;
  }
  return 0;
}

std::pair<std::uint64_t, std::uint64_t> LogView::find_conflict_by_term(std::uint64_t index,
                                                                       std::uint64_t term) const {
  for (; index > 0; --index) {
    const auto ours = this->term(index);
    // Unknown (compacted): the caller falls back to probing from here.
    if (!ours) return {index, 0};
    if (*ours <= term) return {index, *ours};
  }
  return {0, 0};
}

std::uint64_t LogView::append(const std::vector<store::Entry>& entries) {
  MERIDIAN_ASSERT(!entries.empty(), "append of nothing");
  const std::uint64_t after = entries.front().index;
  MERIDIAN_ASSERT(after > committed_, "append would overwrite committed entries");
  MERIDIAN_ASSERT(after <= last_index() + 1, "append would leave a gap");
  if (after == offset_ + unstable_.size()) {
    unstable_.insert(unstable_.end(), entries.begin(), entries.end());
  } else if (after <= offset_) {
    // Replaces durable entries too: the driver's save() truncates them.
    offset_ = after;
    unstable_ = entries;
  } else {
    unstable_.resize(after - offset_);
    unstable_.insert(unstable_.end(), entries.begin(), entries.end());
  }
  return last_index();
}

void LogView::restore(const store::Snapshot& snapshot) {
  MERIDIAN_ASSERT(snapshot.index > committed_, "restoring a snapshot older than the commit index");
  unstable_snapshot_ = snapshot;
  offset_ = snapshot.index + 1;
  unstable_.clear();
  committed_ = snapshot.index;
}

void LogView::commit_to(std::uint64_t index) {
  if (index <= committed_) return;
  MERIDIAN_ASSERT(index <= last_index(), "commit beyond the log");
  committed_ = index;
}

void LogView::applied_to(std::uint64_t index) {
  MERIDIAN_ASSERT(index <= committed_, "applied beyond the commit index");
  applied_ = std::max(applied_, index);
}

std::uint64_t LogView::apply_from() const {
  const std::uint64_t snapshot_index = unstable_snapshot_ ? unstable_snapshot_->index : 0;
  return std::max(applied_, snapshot_index) + 1;
}

std::vector<store::Entry> LogView::next_committed_entries(std::uint64_t handed_out,
                                                          std::uint64_t max_bytes) const {
  const std::uint64_t from = std::max(handed_out + 1, apply_from());
  if (from > committed_) return {};
  auto out = entries(from, committed_ + 1, max_bytes);
  // The driver compacts only what it applied, so these entries exist.
  MERIDIAN_ASSERT(out.ok(), "committed entries to apply were compacted");
  return std::move(*out);
}

const store::Snapshot& LogView::snapshot() const {
  return unstable_snapshot_ ? *unstable_snapshot_ : log_.snapshot();
}

void LogView::stable_to(std::uint64_t index, std::uint64_t term) {
  if (index < offset_ || !match_term(index, term)) return;
  // match_term succeeded at or after offset_, so the entry is unstable.
  unstable_.erase(unstable_.begin(),
                  unstable_.begin() + static_cast<std::ptrdiff_t>(index - offset_ + 1));
  offset_ = index + 1;
}

void LogView::stable_snapshot_to(std::uint64_t index) {
  if (unstable_snapshot_ && unstable_snapshot_->index == index) unstable_snapshot_.reset();
}

}  // namespace meridian::cluster
