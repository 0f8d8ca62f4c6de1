// The state machine's rules (store/kv_state_core.hpp) and the in-memory
// implementation. Every mutation decides its outcome first, persists it
// through the implementation's hook, and changes memory and notifies
// watchers only once the hook succeeded.
#include <utility>

#include "base/assert.hpp"
#include "store/kv_state_core.hpp"

namespace meridian::store {
namespace {

// What a command does to its key: whether it writes, and the value after.
struct Outcome {
  KvResult result;
  bool writes = false;
};

Outcome decide(const KvCommand& command, const std::string* current) {
  const auto current_value = current ? std::optional<std::string>(*current) : std::nullopt;
  if (const auto* put = std::get_if<KvPut>(&command)) return {{true, put->value}, true};
  if (std::holds_alternative<KvDelete>(command)) return {{true, std::nullopt}, current != nullptr};
  const auto& cas = std::get<KvCompareAndSet>(command);
  if (cas.expected != current_value) return {{false, current_value}, false};
  // Deleting an absent key changes nothing, and so notifies no one.
  return {{true, cas.value}, cas.value.has_value() || current != nullptr};
}

std::uint64_t count_bytes(const KvMap& state) {
  std::uint64_t bytes = 0;
  for (const auto& [key, value] : state) bytes += key.size() + value.size();
  return bytes;
}

class MemoryKvState final : public KvStateCore {
 protected:
  Result<void> persist_apply(std::uint64_t, const std::string*, const std::string*) override {
    return {};
  }
  Result<void> persist_restore(const KvSnapshot&) override { return {}; }
};

}  // namespace

Result<KvResult> KvStateCore::apply(std::uint64_t index, const KvCommand& command) {
  MERIDIAN_ASSERT(!notifying_, "KvState::apply called from a watch callback");
  const std::string& key = command_key(command);
  if (index <= applied_index_) return KvResult{true, get(key)};
  MERIDIAN_ASSERT(validate_command(command).ok(), "KvState::apply of a command beyond the limits");

  const auto found = state_.find(key);
  const std::string* current = found == state_.end() ? nullptr : &found->second;
  Outcome outcome = decide(command, current);
  const std::string* value = outcome.result.current ? &*outcome.result.current : nullptr;
  if (auto persisted = persist_apply(index, outcome.writes ? &key : nullptr, value); !persisted) {
    return persisted.error();
  }

  applied_index_ = index;
  if (!outcome.writes) return outcome.result;
  if (current) bytes_ -= key.size() + current->size();
  if (value) {
    bytes_ += key.size() + value->size();
    state_.insert_or_assign(key, *value);
  } else {
    state_.erase(found);
  }
  notify(key, outcome.result.current, index);
  return outcome.result;
}

std::optional<std::string> KvStateCore::get(std::string_view key) const {
  const auto found = state_.find(key);
  if (found == state_.end()) return std::nullopt;
  return found->second;
}

std::vector<std::pair<std::string, std::string>> KvStateCore::scan(std::string_view prefix,
                                                                   std::size_t limit) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = state_.lower_bound(prefix); it != state_.end() && out.size() < limit; ++it) {
    if (!it->first.starts_with(prefix)) break;
    out.emplace_back(it->first, it->second);
  }
  return out;
}

Result<void> KvStateCore::restore(std::string_view data) {
  MERIDIAN_ASSERT(!notifying_, "KvState::restore called from a watch callback");
  auto decoded = decode_kv_snapshot(data);
  if (!decoded) return decoded.error();
  if (auto persisted = persist_restore(*decoded); !persisted) return persisted;

  // The differences, by a merge of the two sorted maps; only needed when
  // someone is watching.
  std::vector<std::pair<std::string, std::optional<std::string>>> changes;
  if (!watches_.empty()) {
    auto old_it = state_.begin();
    auto new_it = decoded->state.begin();
    while (old_it != state_.end() || new_it != decoded->state.end()) {
      if (new_it == decoded->state.end() ||
          (old_it != state_.end() && old_it->first < new_it->first)) {
        changes.emplace_back(old_it->first, std::nullopt);
        ++old_it;
      } else if (old_it == state_.end() || new_it->first < old_it->first) {
        changes.emplace_back(new_it->first, new_it->second);
        ++new_it;
      } else {
        if (old_it->second != new_it->second) changes.emplace_back(new_it->first, new_it->second);
        ++old_it;
        ++new_it;
      }
    }
  }

  state_ = std::move(decoded->state);
  applied_index_ = decoded->applied_index;
  bytes_ = count_bytes(state_);
  for (const auto& [key, value] : changes) notify(key, value, applied_index_);
  return {};
}

Result<WatchId> KvStateCore::watch(std::string prefix, WatchCallback callback) {
  MERIDIAN_ASSERT(callback != nullptr, "KvState::watch needs a callback");
  if (watches_.size() >= kMaxWatches) {
    return fail("too many watches (the limit is ", std::to_string(kMaxWatches), ")");
  }
  if (prefix.size() > kMaxKeyBytes) return fail("watch prefix longer than the longest key");
  const std::uint64_t id = next_watch_++;
  watches_.emplace(
      id, Watch{std::move(prefix), std::make_shared<const WatchCallback>(std::move(callback))});
  return WatchId{id};
}

bool KvStateCore::unwatch(WatchId id) {
  return watches_.erase(static_cast<std::uint64_t>(id)) == 1;
}

void KvStateCore::load(KvSnapshot loaded) {
  MERIDIAN_ASSERT(watches_.empty(), "KvState loaded after a watch was registered");
  state_ = std::move(loaded.state);
  applied_index_ = loaded.applied_index;
  bytes_ = count_bytes(state_);
}

void KvStateCore::notify(const std::string& key, const std::optional<std::string>& value,
                         std::uint64_t index) {
  // Matches are collected first and looked up again before each call: a
  // callback may unwatch (itself or another) or watch while we iterate.
  std::vector<std::uint64_t> matching;
  for (const auto& [id, watch] : watches_) {
    if (key.starts_with(watch.prefix)) matching.push_back(id);
  }
  struct Guard {
    bool& flag;
    explicit Guard(bool& f) : flag(f) { flag = true; }
    ~Guard() { flag = false; }
  } guard(notifying_);
  for (std::uint64_t id : matching) {
    const auto found = watches_.find(id);
    if (found == watches_.end()) continue;
    const std::shared_ptr<const WatchCallback> callback = found->second.callback;
    (*callback)(key, value, index);
  }
}

Result<std::uint64_t> check_kv_snapshot(std::string_view data) {
  auto decoded = decode_kv_snapshot(data);
  if (!decoded) return decoded.error();
  return decoded->applied_index;
}

std::string empty_kv_snapshot() {
  return encode_kv_snapshot(0, {});
}

std::unique_ptr<KvState> make_memory_kv() {
  return std::make_unique<MemoryKvState>();
}

}  // namespace meridian::store
