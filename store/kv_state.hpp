#pragma once
// The replicated key-value state machine: what committed Raft entries of
// type normal do. Cluster code encodes a KvCommand into an entry's data
// (encode_command), and every node applies the committed entries in index
// order (decode_command, then KvState::apply), so that every node holds the
// same keys at the same index.
//
// Keys and values are byte strings. Keys are non-empty, at most kMaxKeyBytes;
// values at most kMaxValueBytes. Both limits are checked when a command is
// encoded (so a bad proposal is refused before it reaches the log) and when
// it is decoded (so a bad entry cannot enter the state).
//
// Two implementations with the same behaviour: make_memory_kv() (tests, the
// simulator) and make_rocks_kv() (production: the "state" column family of
// the node's database). Both keep the whole state in memory, as
// snapshot_data() must serialize all of it into one value anyway; the
// RocksDB one also writes every change through, so that a restart resumes
// from applied_index() instead of replaying the log from its snapshot.
//
// Thread rule: not thread-safe; one owner (the thread that applies committed
// entries). Readers elsewhere get copies published by that owner.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/result.hpp"

namespace meridian::store {

/// Longest key (bytes). Keys are non-empty.
inline constexpr std::size_t kMaxKeyBytes = 1024;
/// Longest value (bytes).
inline constexpr std::size_t kMaxValueBytes = 1u << 20;
/// Longest encoded snapshot accepted by restore() (the log's own limit).
inline constexpr std::size_t kMaxKvSnapshotBytes = 256u << 20;
/// Most watches registered at once on one KvState.
inline constexpr std::size_t kMaxWatches = 1024;

/// Sets `key` to `value`, creating it if absent.
struct KvPut {
  std::string key;
  std::string value;
  friend bool operator==(const KvPut&, const KvPut&) = default;
};

/// Removes `key`; nothing happens when it is absent.
struct KvDelete {
  std::string key;
  friend bool operator==(const KvDelete&, const KvDelete&) = default;
};

/// When the current value of `key` equals `expected` (nullopt: the key must
/// be absent), sets it to `value` (nullopt: deletes it); otherwise fails and
/// changes nothing.
struct KvCompareAndSet {
  std::string key;
  std::optional<std::string> expected;
  std::optional<std::string> value;
  friend bool operator==(const KvCompareAndSet&, const KvCompareAndSet&) = default;
};

using KvCommand = std::variant<KvPut, KvDelete, KvCompareAndSet>;

/// The key a command is about.
const std::string& command_key(const KvCommand& command);

/// Checks the limits (non-empty key, key and value sizes).
Result<void> validate_command(const KvCommand& command);

/// The command as entry data: u8 format version, u8 operation, then the
/// fields (store/kv_command.cpp has the layout). Fails as validate_command.
Result<std::string> encode_command(const KvCommand& command);

/// The command in `data`. Rejects an unknown version or operation, a
/// truncated or over-long input, and anything validate_command rejects.
Result<KvCommand> decode_command(std::string_view data);

/// What applying a command did.
struct KvResult {
  /// False only for a compare-and-set whose expectation did not hold.
  bool ok = true;
  /// The key's value after the command (for a failed compare-and-set: the
  /// value that did not match, so the client can retry).
  std::optional<std::string> current;

  friend bool operator==(const KvResult&, const KvResult&) = default;
};

/// Identifies a registered watch.
enum class WatchId : std::uint64_t {};

/// Called for each change of a watched key: the key, its new value (nullopt
/// when deleted) and the index of the entry (or snapshot) that changed it.
using WatchCallback = std::function<void(
    const std::string& key, const std::optional<std::string>& value, std::uint64_t index)>;

class KvState {
 public:
  virtual ~KvState() = default;

  /// Applies the command of committed entry `index`. Indices must rise, but
  /// may skip (entries that are not commands). An index <= applied_index()
  /// was applied before: it is ignored (nothing changes, no watch fires) and
  /// the result is the key's current value with ok = true, not the original
  /// outcome. Watchers of the key run before apply returns, after the state
  /// changed. A put always notifies (even of an equal value); a delete only
  /// when the key existed; a failed compare-and-set never. Errors are I/O
  /// failures of the RocksDB implementation; then nothing changed, and the
  /// owner should stop applying (the log still holds the entry).
  /// Precondition: validate_command(command) holds (decode_command ensures it).
  virtual Result<KvResult> apply(std::uint64_t index, const KvCommand& command) = 0;

  virtual std::optional<std::string> get(std::string_view key) const = 0;

  /// Up to `limit` keys starting with `prefix`, with their values, in
  /// bytewise key order.
  virtual std::vector<std::pair<std::string, std::string>> scan(std::string_view prefix,
                                                                std::size_t limit) const = 0;

  /// Index of the last applied entry (0: none), or of the restored snapshot.
  virtual std::uint64_t applied_index() const = 0;

  /// The bytes of every key and value held (what the state budget counts).
  virtual std::uint64_t size_bytes() const = 0;

  /// The whole state and applied_index(), encoded (u8 version, u64 applied
  /// index, u64 count, then count x (key, value), each a u32 length and its
  /// bytes, in key order). For the log's snapshot.
  virtual std::string snapshot_data() const = 0;

  /// Replaces the whole state, applied index included, with `data` from
  /// snapshot_data(), or fails (bad data, I/O) and changes nothing. Watchers
  /// run for every key whose value differs between the old and the new state
  /// (new or changed: its value; gone: nullopt), in key order, with the
  /// snapshot's applied index. After a crash the owner compares
  /// applied_index() with the log's snapshot and restores again if behind.
  virtual Result<void> restore(std::string_view data) = 0;

  /// Calls `callback` for every later change of a key starting with
  /// `prefix` ("" watches everything). Fails beyond kMaxWatches, or for a
  /// prefix longer than kMaxKeyBytes. Callbacks run synchronously inside
  /// apply() and restore(); they may call get, scan, watch and unwatch, but
  /// not apply or restore (an assertion).
  virtual Result<WatchId> watch(std::string prefix, WatchCallback callback) = 0;

  /// Stops a watch (even from its own callback); false if `id` is unknown.
  virtual bool unwatch(WatchId id) = 0;
};

/// Checks `data` as restore() would (format, limits, key order) without
/// keeping it: the applied index it carries, or why it cannot be restored.
Result<std::uint64_t> check_kv_snapshot(std::string_view data);

/// snapshot_data() of an empty state at index 0.
std::string empty_kv_snapshot();

/// A KvState in memory.
std::unique_ptr<KvState> make_memory_kv();

class RocksDatabase;  // store/rocks_database.hpp

/// A KvState in the "state" column family of `database`, loaded (and
/// validated) at construction. Layout: the reserved key "\x00applied" holds
/// u8 version and u64 applied index; every user key K is stored as "\x01" K
/// with its value as is. Each apply is one batch (the change and the applied
/// index) written without fsync: the Raft log, synced, is the source of
/// truth, and a change lost in a machine crash is applied again from the log
/// on restart, since the applied index is lost with it. At most one KvState
/// per database.
Result<std::unique_ptr<KvState>> make_rocks_kv(std::shared_ptr<RocksDatabase> database);

}  // namespace meridian::store
