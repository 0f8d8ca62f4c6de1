#pragma once
// Private to store/ (and its tests): how the RocksDB RaftLog lays its data
// out as bytes. Pure functions, no RocksDB, so every decoder can be fed
// garbage in a unit test. Every value starts with a format version byte
// (kLogFormatVersion); a decoder rejects any other version, a short or long
// value, and any field outside its limit, with an Error naming the record.
//
//   "log"  family  key:   u64 index (8 bytes, big-endian: sorts by index)
//                  value: u8 version, u8 type, u64 term, data (the rest)
//   "meta" family  "hard_state": u8 version, u64 term, u64 vote, u64 commit
//                  "compacted":  u8 version, u64 index, u64 term
//                                (the last entry dropped from the log)
//                  "snapshot":   u8 version, u64 index, u64 term,
//                                u32 n, n x u64 voter, u32 m, m x u64 learner,
//                                u64 size, size bytes of data
//
// Integers are big-endian (base/byte_codec.hpp).

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "store/raft_log.hpp"

namespace meridian::store {

inline constexpr std::uint8_t kLogFormatVersion = 1;

/// Keys of the "meta" family.
inline constexpr std::string_view kHardStateKey = "hard_state";
inline constexpr std::string_view kCompactedKey = "compacted";
inline constexpr std::string_view kSnapshotKey = "snapshot";

/// A position in the log: an index and the term of the entry there.
struct LogPoint {
  std::uint64_t index = 0;
  std::uint64_t term = 0;

  friend bool operator==(const LogPoint&, const LogPoint&) = default;
};

/// Checks `entry` against the limits (data size, known type) before it is
/// written, so that everything written can be read back.
Result<void> check_entry(const Entry& entry);
/// Checks `snapshot` against the limits (data size, membership size).
Result<void> check_snapshot(const Snapshot& snapshot);

std::string encode_log_key(std::uint64_t index);
Result<std::uint64_t> decode_log_key(std::string_view key);

/// The value of an entry; its index is the key. Precondition: check_entry.
std::string encode_entry(const Entry& entry);
/// Decodes the value stored under `index`.
Result<Entry> decode_entry(std::uint64_t index, std::string_view value);
/// Decodes only the term of the value stored under `index` (and validates
/// the header and the data limit), without copying the data.
Result<std::uint64_t> decode_entry_term(std::uint64_t index, std::string_view value);

std::string encode_hard_state(const HardState& state);
Result<HardState> decode_hard_state(std::string_view value);

std::string encode_log_point(const LogPoint& point);
Result<LogPoint> decode_log_point(std::string_view value);

/// Precondition: check_snapshot.
std::string encode_snapshot(const Snapshot& snapshot);
Result<Snapshot> decode_snapshot(std::string_view value);

}  // namespace meridian::store
