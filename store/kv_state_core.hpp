#pragma once
// Private to store/: the behaviour both KvState implementations share (the
// map, the rules of apply, watches, the snapshot encoding), so that the
// memory and RocksDB state machines cannot drift apart. An implementation
// only says how a change is persisted, through two hooks called before the
// in-memory state changes: when a hook fails, nothing changes.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "store/kv_state.hpp"

namespace meridian::store {

/// The keys and values of a state, in bytewise key order.
using KvMap = std::map<std::string, std::string, std::less<>>;

/// A decoded snapshot_data() value.
struct KvSnapshot {
  std::uint64_t applied_index = 0;
  KvMap state;
};

inline constexpr std::uint8_t kKvFormatVersion = 1;

/// snapshot_data()'s encoding (layout in store/kv_state.hpp).
std::string encode_kv_snapshot(std::uint64_t applied_index, const KvMap& state);
/// Rejects a wrong version, truncation, trailing bytes, keys out of order or
/// repeated, and keys or values beyond the limits.
Result<KvSnapshot> decode_kv_snapshot(std::string_view data);

class KvStateCore : public KvState {
 public:
  Result<KvResult> apply(std::uint64_t index, const KvCommand& command) final;
  std::optional<std::string> get(std::string_view key) const final;
  std::vector<std::pair<std::string, std::string>> scan(std::string_view prefix,
                                                        std::size_t limit) const final;
  std::uint64_t applied_index() const final { return applied_index_; }
  std::uint64_t size_bytes() const final { return bytes_; }
  std::string snapshot_data() const final { return encode_kv_snapshot(applied_index_, state_); }
  Result<void> restore(std::string_view data) final;
  Result<WatchId> watch(std::string prefix, WatchCallback callback) final;
  bool unwatch(WatchId id) final;

 protected:
  /// Persists entry `index`: `key` set to `*value`, or erased when `value`
  /// is null; with no key, only the applied index moves.
  virtual Result<void> persist_apply(std::uint64_t index, const std::string* key,
                                     const std::string* value) = 0;
  /// Persists the replacement of the whole state by `snapshot`.
  virtual Result<void> persist_restore(const KvSnapshot& snapshot) = 0;

  /// Sets the state loaded by an implementation at construction (no watch
  /// can exist yet).
  void load(KvSnapshot loaded);

 private:
  struct Watch {
    std::string prefix;
    std::shared_ptr<const WatchCallback> callback;  // shared: a callback may unwatch itself
  };

  // Runs the watchers of `key`, in registration order.
  void notify(const std::string& key, const std::optional<std::string>& value, std::uint64_t index);

  KvMap state_;
  std::uint64_t applied_index_ = 0;
  std::uint64_t bytes_ = 0;  // keys and values in state_
  std::map<std::uint64_t, Watch> watches_;
  std::uint64_t next_watch_ = 1;
  bool notifying_ = false;  // apply/restore from a callback is a bug
};

}  // namespace meridian::store
