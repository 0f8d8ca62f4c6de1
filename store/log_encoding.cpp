// The byte layout of the RocksDB RaftLog (see store/log_encoding.hpp).
#include "store/log_encoding.hpp"

#include <vector>

#include "base/byte_codec.hpp"
#include "store/rocks_raft_log.hpp"

namespace meridian::store {
namespace {

constexpr std::size_t kEntryHeaderBytes = 1 + 1 + 8;  // version, type, term
constexpr std::size_t kHardStateBytes = 1 + 3 * 8;
constexpr std::size_t kLogPointBytes = 1 + 2 * 8;

std::string index_text(std::uint64_t index) {
  return std::to_string(index);
}

// Reads the version byte first: a value written by a newer Meridian must be
// refused by name, not misread as garbage of this version.
Result<void> check_version(ByteReader& reader, std::string_view record) {
  const std::uint8_t version = reader.u8();
  if (!reader.ok()) return fail(std::string(record), ": empty value");
  if (version != kLogFormatVersion) {
    return fail(std::string(record), ": unknown format version ", std::to_string(version));
  }
  return {};
}

Result<void> check_ids(const std::vector<std::uint64_t>& ids, std::string_view what) {
  if (ids.size() > kMaxMembershipIds) {
    return fail("snapshot membership has ", std::to_string(ids.size()), " ", std::string(what),
                ", more than the limit of ", std::to_string(kMaxMembershipIds));
  }
  return {};
}

void write_ids(ByteWriter& writer, const std::vector<std::uint64_t>& ids) {
  writer.u32(static_cast<std::uint32_t>(ids.size()));
  for (std::uint64_t id : ids) writer.u64(id);
}

// The count is checked against the limit and against the bytes left before
// anything is allocated: a corrupt count must not reserve gigabytes.
bool read_ids(ByteReader& reader, std::vector<std::uint64_t>& ids) {
  const std::uint32_t count = reader.u32();
  if (!reader.ok() || count > kMaxMembershipIds || count > reader.remaining() / 8) return false;
  ids.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) ids.push_back(reader.u64());
  return reader.ok();
}

}  // namespace

Result<void> check_entry(const Entry& entry) {
  if (entry.type != EntryType::normal && entry.type != EntryType::config) {
    return fail("entry ", index_text(entry.index), " has an unknown type ",
                std::to_string(static_cast<unsigned>(entry.type)));
  }
  if (entry.data.size() > kMaxEntryBytes) {
    return fail("entry ", index_text(entry.index), " carries ", std::to_string(entry.data.size()),
                " bytes, more than the limit of ", std::to_string(kMaxEntryBytes));
  }
  return {};
}

Result<void> check_snapshot(const Snapshot& snapshot) {
  if (snapshot.data.size() > kMaxSnapshotBytes) {
    return fail("snapshot at ", index_text(snapshot.index), " carries ",
                std::to_string(snapshot.data.size()), " bytes, more than the limit of ",
                std::to_string(kMaxSnapshotBytes));
  }
  if (auto voters = check_ids(snapshot.membership.voters, "voters"); !voters) return voters;
  return check_ids(snapshot.membership.learners, "learners");
}

std::string encode_log_key(std::uint64_t index) {
  ByteWriter writer(8);
  writer.u64(index);
  return std::move(writer).take();
}

Result<std::uint64_t> decode_log_key(std::string_view key) {
  if (key.size() != 8) return fail("log key of ", std::to_string(key.size()), " bytes, expected 8");
  ByteReader reader(key);
  return reader.u64();
}

std::string encode_entry(const Entry& entry) {
  ByteWriter writer(kEntryHeaderBytes + entry.data.size());
  writer.u8(kLogFormatVersion);
  writer.u8(static_cast<std::uint8_t>(entry.type));
  writer.u64(entry.term);
  writer.raw(entry.data);
  return std::move(writer).take();
}

Result<std::uint64_t> decode_entry_term(std::uint64_t index, std::string_view value) {
  const std::string record = "log entry " + index_text(index);
  ByteReader reader(value);
  if (auto version = check_version(reader, record); !version) return version.error();
  const std::uint8_t type = reader.u8();
  const std::uint64_t term = reader.u64();
  if (!reader.ok())
    return fail(record, ": truncated header (", std::to_string(value.size()), " bytes)");
  if (type > static_cast<std::uint8_t>(EntryType::config)) {
    return fail(record, ": unknown entry type ", std::to_string(type));
  }
  if (reader.remaining() > kMaxEntryBytes) return fail(record, ": data beyond the limit");
  return term;
}

Result<Entry> decode_entry(std::uint64_t index, std::string_view value) {
  auto term = decode_entry_term(index, value);
  if (!term) return term.error();
  Entry entry;
  entry.index = index;
  entry.term = *term;
  entry.type = static_cast<EntryType>(static_cast<std::uint8_t>(value[1]));
  entry.data.assign(value.substr(kEntryHeaderBytes));
  return entry;
}

std::string encode_hard_state(const HardState& state) {
  ByteWriter writer(kHardStateBytes);
  writer.u8(kLogFormatVersion);
  writer.u64(state.term);
  writer.u64(state.vote);
  writer.u64(state.commit);
  return std::move(writer).take();
}

Result<HardState> decode_hard_state(std::string_view value) {
  ByteReader reader(value);
  if (auto version = check_version(reader, "hard state"); !version) return version.error();
  HardState state;
  state.term = reader.u64();
  state.vote = reader.u64();
  state.commit = reader.u64();
  if (!reader.ok() || !reader.at_end()) {
    return fail("hard state: ", std::to_string(value.size()), " bytes, expected ",
                std::to_string(kHardStateBytes));
  }
  return state;
}

std::string encode_log_point(const LogPoint& point) {
  ByteWriter writer(kLogPointBytes);
  writer.u8(kLogFormatVersion);
  writer.u64(point.index);
  writer.u64(point.term);
  return std::move(writer).take();
}

Result<LogPoint> decode_log_point(std::string_view value) {
  ByteReader reader(value);
  if (auto version = check_version(reader, "compaction point"); !version) return version.error();
  LogPoint point;
  point.index = reader.u64();
  point.term = reader.u64();
  if (!reader.ok() || !reader.at_end()) {
    return fail("compaction point: ", std::to_string(value.size()), " bytes, expected ",
                std::to_string(kLogPointBytes));
  }
  return point;
}

std::string encode_snapshot(const Snapshot& snapshot) {
  const Membership& members = snapshot.membership;
  ByteWriter writer(1 + 8 + 8 + 4 + 4 + 8 * (members.voters.size() + members.learners.size()) + 8 +
                    snapshot.data.size());
  writer.u8(kLogFormatVersion);
  writer.u64(snapshot.index);
  writer.u64(snapshot.term);
  write_ids(writer, members.voters);
  write_ids(writer, members.learners);
  writer.u64(snapshot.data.size());
  writer.raw(snapshot.data);
  return std::move(writer).take();
}

Result<Snapshot> decode_snapshot(std::string_view value) {
  ByteReader reader(value);
  if (auto version = check_version(reader, "snapshot"); !version) return version.error();
  Snapshot snapshot;
  snapshot.index = reader.u64();
  snapshot.term = reader.u64();
  if (!read_ids(reader, snapshot.membership.voters) ||
      !read_ids(reader, snapshot.membership.learners)) {
    return fail("snapshot: truncated or oversized membership");
  }
  const std::uint64_t size = reader.u64();
  if (!reader.ok() || size > kMaxSnapshotBytes || size != reader.remaining()) {
    return fail("snapshot: data size field ", std::to_string(size), " does not match the ",
                std::to_string(reader.remaining()), " bytes stored");
  }
  snapshot.data.assign(reader.rest());
  return snapshot;
}

}  // namespace meridian::store
