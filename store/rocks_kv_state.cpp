// The state machine in the "state" column family (layout in
// store/kv_state.hpp): KvStateCore's rules, with every change written
// through as one batch carrying the applied index.
//
// Writes are buffered, not synced. Why that is safe: the Raft log is synced
// and holds every committed entry after its snapshot; the applied index is in
// the same batch as the change it records, so after any crash the state on
// disk is exactly "everything up to applied_index()", and the owner applies
// the log again from there (or restores the log's snapshot when it has been
// compacted past that point). A synced write of the log also syncs the WAL
// these writes share, so in practice they are lost only together with the
// unsynced tail.
#include <string_view>

#include "base/assert.hpp"
#include "base/byte_codec.hpp"
#include "store/kv_state_core.hpp"
#include "store/rocks_database.hpp"

namespace meridian::store {
namespace {

// A reserved key sorts before every user key, so a scan meets it first and
// no user key can collide with it.
constexpr char kReservedTag = '\x00';
constexpr char kUserTag = '\x01';
const std::string kAppliedKey = std::string(1, kReservedTag) + "applied";
const std::string kUserBegin(1, kUserTag);
const std::string kUserEnd(1, static_cast<char>(kUserTag + 1));
constexpr std::size_t kAppliedBytes = 1 + 8;

std::string user_key(std::string_view key) {
  std::string out;
  out.reserve(1 + key.size());
  out.push_back(kUserTag);
  out.append(key);
  return out;
}

std::string encode_applied(std::uint64_t index) {
  ByteWriter writer(kAppliedBytes);
  writer.u8(kKvFormatVersion);
  writer.u64(index);
  return std::move(writer).take();
}

Result<std::uint64_t> decode_applied(std::string_view value) {
  ByteReader reader(value);
  const std::uint8_t version = reader.u8();
  const std::uint64_t index = reader.u64();
  if (!reader.ok() || !reader.at_end())
    return fail("applied index: ", std::to_string(value.size()), " bytes, expected 9");
  if (version != kKvFormatVersion)
    return fail("applied index: unknown format version ", std::to_string(version));
  return index;
}

class RocksKvState final : public KvStateCore {
 public:
  explicit RocksKvState(std::shared_ptr<RocksDatabase> db) : db_(std::move(db)) {}

  Result<void> load_from_disk();

 protected:
  Result<void> persist_apply(std::uint64_t index, const std::string* key,
                             const std::string* value) override {
    RocksBatch batch = db_->batch();
    if (key && value) batch.put(Family::state, user_key(*key), *value);
    if (key && !value) batch.erase(Family::state, user_key(*key));
    batch.put(Family::state, kAppliedKey, encode_applied(index));
    return db_->write(std::move(batch), Durability::buffered);
  }

  Result<void> persist_restore(const KvSnapshot& snapshot) override {
    RocksBatch batch = db_->batch();
    // The puts follow the range erase inside one batch, so they win: RocksDB
    // orders a batch's operations as written.
    batch.erase_range(Family::state, kUserBegin, kUserEnd);
    for (const auto& [key, value] : snapshot.state) batch.put(Family::state, user_key(key), value);
    batch.put(Family::state, kAppliedKey, encode_applied(snapshot.applied_index));
    return db_->write(std::move(batch), Durability::buffered);
  }

 private:
  Error error(const std::string& message) const {
    return fail("database ", db_->directory(), ": ", message);
  }

  std::shared_ptr<RocksDatabase> db_;
};

Result<void> RocksKvState::load_from_disk() {
  KvSnapshot loaded;
  bool has_applied = false;
  std::optional<Error> bad;
  auto scanned =
      db_->scan(Family::state, "", std::nullopt, [&](std::string_view key, std::string_view value) {
        if (key == kAppliedKey) {
          auto applied = decode_applied(value);
          if (!applied) {
            bad = applied.error();
            return false;
          }
          loaded.applied_index = *applied;
          has_applied = true;
          return true;
        }
        if (key.empty() || key.front() != kUserTag) {
          bad = fail("state: unknown key of ", std::to_string(key.size()), " bytes");
          return false;
        }
        key.remove_prefix(1);
        // What apply stores was validated; anything else was not written by us.
        if (key.empty() || key.size() > kMaxKeyBytes || value.size() > kMaxValueBytes) {
          bad = fail("state: a key of ", std::to_string(key.size()),
                     " bytes or its value is beyond the limits");
          return false;
        }
        loaded.state.emplace_hint(loaded.state.end(), key, value);
        return true;
      });
  if (!scanned) return scanned.error();
  if (bad) return error(bad->message);
  // Every batch that writes a key also writes the applied index.
  if (!has_applied && !loaded.state.empty()) return error("state: keys without an applied index");
  load(std::move(loaded));
  return {};
}

}  // namespace

Result<std::unique_ptr<KvState>> make_rocks_kv(std::shared_ptr<RocksDatabase> database) {
  MERIDIAN_ASSERT(database != nullptr, "make_rocks_kv needs a database");
  auto state = std::make_unique<RocksKvState>(std::move(database));
  if (auto loaded = state->load_from_disk(); !loaded) return loaded.error();
  return std::unique_ptr<KvState>(std::move(state));
}

}  // namespace meridian::store
