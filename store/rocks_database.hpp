#pragma once
// The open RocksDB database of a node, behind a narrow interface that names
// no RocksDB type: store/rocks_database.cpp is the only file of Meridian
// that includes RocksDB. The RaftLog (store/rocks_raft_log.cpp) and the
// state machine (store/rocks_kv_state.cpp) share one database, opened with
// open_database() (store/rocks_raft_log.hpp), through a shared_ptr.
//
// Thread rule: RocksDatabase's methods may be called from any thread (RocksDB
// serialises writes itself); a RocksBatch belongs to one thread. The log and
// the state machine each keep their own keys and may have different owners.
//
// Tests use put/write directly to plant corrupt values: this is the raw
// interface, it knows nothing about what the bytes mean.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace meridian::store {

/// RocksDB's max_open_files: the table files it keeps open at most. Its
/// other files (write-ahead logs, the manifest, the info log, LOCK and
/// CURRENT, the directory) come on top: kRocksOtherFiles allows for them.
/// A node's descriptor budget (main/fd_budget.hpp) counts both.
inline constexpr int kRocksMaxOpenFiles = 512;
inline constexpr int kRocksOtherFiles = 32;

/// The column families of the database. Each holds one kind of data, so
/// that each has its own key space and compaction.
enum class Family : std::uint8_t {
  log,    ///< Raft log entries, keyed by big-endian index (store/log_encoding.hpp)
  meta,   ///< hard state, compaction point, snapshot (store/log_encoding.hpp)
  state,  ///< the replicated key-value state machine (store/kv_state.hpp)
};

/// Whether write() returns before or after the write reaches stable storage.
enum class Durability : std::uint8_t {
  buffered,  ///< in the WAL, not fsync'd: survives a process crash, may be lost with the machine
  synced,    ///< fsync'd before write() returns (and with it every earlier buffered write)
};

/// One atomic write: its operations are applied in order, all or none.
/// Created by RocksDatabase::batch() and written by that same database.
class RocksBatch {
 public:
  RocksBatch(RocksBatch&&) noexcept;
  RocksBatch& operator=(RocksBatch&&) noexcept;
  ~RocksBatch();

  void put(Family family, std::string_view key, std::string_view value);
  void erase(Family family, std::string_view key);
  /// Erases every key in [begin, end). Precondition: begin < end.
  void erase_range(Family family, std::string_view begin, std::string_view end);
  /// Number of operations added so far.
  std::size_t size() const;

 private:
  friend class RocksDatabase;
  struct Impl;
  explicit RocksBatch(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class RocksDatabase {
 public:
  struct Impl;
  /// Use open_database() (store/rocks_raft_log.hpp).
  explicit RocksDatabase(std::unique_ptr<Impl> impl);
  RocksDatabase(const RocksDatabase&) = delete;
  RocksDatabase& operator=(const RocksDatabase&) = delete;
  /// Closes the database (and releases its directory lock).
  ~RocksDatabase();

  /// The directory it was opened from, for error messages.
  const std::string& directory() const;

  /// An empty batch for this database.
  RocksBatch batch() const;
  /// Writes `batch` atomically. Errors name the directory and RocksDB's
  /// reason; after an error nothing of the batch was applied.
  Result<void> write(RocksBatch batch, Durability durability);

  /// The value of `key`, nullopt when absent.
  Result<std::optional<std::string>> get(Family family, std::string_view key) const;

  /// Called for each key in order; returns false to stop the scan. The views
  /// are valid only during the call.
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;
  /// Visits the keys >= `from` and, when `to` is set, < `to`, in bytewise
  /// order, until `visit` returns false. An error (I/O, a checksum mismatch)
  /// may come after some keys were visited.
  Result<void> scan(Family family, std::string_view from, std::optional<std::string_view> to,
                    const Visitor& visit) const;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian::store
