// The RocksDB adapter: the only file of Meridian that includes RocksDB.
// Everything else in store/ sees RocksDatabase and RocksBatch, which name no
// RocksDB type (store/rocks_database.hpp).
#include "store/rocks_database.hpp"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <vector>

#include "base/assert.hpp"
#include "base/private_directory.hpp"
#include "store/rocks_raft_log.hpp"

namespace meridian::store {
namespace {

constexpr std::size_t kFamilies = 3;
// Index i names Family(i); RocksDB also insists on opening "default".
constexpr std::array<const char*, kFamilies> kFamilyNames = {"log", "meta", "state"};

// Limits on RocksDB's own files: its info log would otherwise keep up to a
// thousand files, and a WAL shared by a busy family ("log") and a quiet one
// ("state") would grow until the quiet one happens to flush.
constexpr std::size_t kInfoLogFiles = 4;
constexpr std::size_t kInfoLogBytes = 8u << 20;
constexpr std::uint64_t kMaxWalBytes = 64u << 20;

rocksdb::Slice slice(std::string_view bytes) {
  return {bytes.data(), bytes.size()};
}

Error rocks_error(const std::string& directory, std::string_view what,
                  const rocksdb::Status& status) {
  return fail("database ", directory, ": ", std::string(what), ": ", status.ToString());
}

}  // namespace

struct RocksDatabase::Impl {
  std::string directory;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // "default", then kFamilyNames

  rocksdb::ColumnFamilyHandle* handle(Family family) const {
    const auto index = static_cast<std::size_t>(family);
    MERIDIAN_ASSERT(index < kFamilies, "unknown column family");
    return handles[index + 1];
  }

  ~Impl() {
    if (!db) return;
    // Handles go before the database; Close() reports what a destructor
    // would swallow, but there is no one left to tell: a failed close loses
    // nothing synced, and buffered state is rebuilt from the log on restart.
    for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
    (void)db->Close();
  }
};

struct RocksBatch::Impl {
  const RocksDatabase::Impl* owner = nullptr;
  rocksdb::WriteBatch batch;
};

RocksBatch::RocksBatch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RocksBatch::RocksBatch(RocksBatch&&) noexcept = default;
RocksBatch& RocksBatch::operator=(RocksBatch&&) noexcept = default;
RocksBatch::~RocksBatch() = default;

void RocksBatch::put(Family family, std::string_view key, std::string_view value) {
  const auto status = impl_->batch.Put(impl_->owner->handle(family), slice(key), slice(value));
  // WriteBatch fails only when a record exceeds its 4 GiB framing, which the
  // store's own limits rule out long before.
  MERIDIAN_ASSERT(status.ok(), "RocksDB refused a batch put");
}

void RocksBatch::erase(Family family, std::string_view key) {
  const auto status = impl_->batch.Delete(impl_->owner->handle(family), slice(key));
  MERIDIAN_ASSERT(status.ok(), "RocksDB refused a batch delete");
}

void RocksBatch::erase_range(Family family, std::string_view begin, std::string_view end) {
  MERIDIAN_ASSERT(begin < end, "erase_range needs begin < end");
  const auto status =
      impl_->batch.DeleteRange(impl_->owner->handle(family), slice(begin), slice(end));
  MERIDIAN_ASSERT(status.ok(), "RocksDB refused a batch range delete");
}

std::size_t RocksBatch::size() const {
  return static_cast<std::size_t>(impl_->batch.Count());
}

RocksDatabase::RocksDatabase(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RocksDatabase::~RocksDatabase() = default;

const std::string& RocksDatabase::directory() const {
  return impl_->directory;
}

RocksBatch RocksDatabase::batch() const {
  auto impl = std::make_unique<RocksBatch::Impl>();
  impl->owner = impl_.get();
  return RocksBatch(std::move(impl));
}

Result<void> RocksDatabase::write(RocksBatch batch, Durability durability) {
  MERIDIAN_ASSERT(batch.impl_ && batch.impl_->owner == impl_.get(),
                  "batch written to another database");
  rocksdb::WriteOptions options;
  options.sync = durability == Durability::synced;
  const auto status = impl_->db->Write(options, &batch.impl_->batch);
  if (!status.ok()) return rocks_error(impl_->directory, "write", status);
  return {};
}

Result<std::optional<std::string>> RocksDatabase::get(Family family, std::string_view key) const {
  std::string value;
  const auto status =
      impl_->db->Get(rocksdb::ReadOptions(), impl_->handle(family), slice(key), &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (!status.ok()) return rocks_error(impl_->directory, "read", status);
  return std::optional<std::string>(std::move(value));
}

Result<void> RocksDatabase::scan(Family family, std::string_view from,
                                 std::optional<std::string_view> to, const Visitor& visit) const {
  rocksdb::ReadOptions options;
  rocksdb::Slice upper;  // must outlive the iterator
  if (to) {
    upper = slice(*to);
    options.iterate_upper_bound = &upper;
  }
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(options, impl_->handle(family)));
  for (it->Seek(slice(from)); it->Valid(); it->Next()) {
    const rocksdb::Slice key = it->key();
    const rocksdb::Slice value = it->value();
    if (!visit({key.data(), key.size()}, {value.data(), value.size()})) break;
  }
  // Valid() turns false both at the end and on an error; only status() tells.
  if (!it->status().ok()) return rocks_error(impl_->directory, "scan", it->status());
  return {};
}

Result<std::shared_ptr<RocksDatabase>> open_database(const std::string& directory) {
  // RocksDB creates the last directory only, with the umask's mode: a first
  // start with a data_dir whose parents do not exist yet failed. Every
  // missing one is made here, 0700 (the state is the cluster's secrets too).
  if (auto made = make_private_directories(directory); !made) {
    return fail("cannot open database ", directory, ": ", made.error().message);
  }
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.paranoid_checks = true;
  // After a crash, replay the WAL up to its first damaged record and stop
  // there: synced batches come back whole, an unsynced tail may be lost, and
  // nothing written after a lost batch is applied without it.
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  options.keep_log_file_num = kInfoLogFiles;
  options.max_log_file_size = kInfoLogBytes;
  options.max_total_wal_size = kMaxWalBytes;
  options.max_open_files = kRocksMaxOpenFiles;

  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (const char* name : kFamilyNames) families.emplace_back(name, rocksdb::ColumnFamilyOptions());

  auto impl = std::make_unique<RocksDatabase::Impl>();
  impl->directory = directory;
  rocksdb::DB* db = nullptr;
  // Fails with an "IO error ... LOCK" when another process (or another open
  // in this one) holds the directory, and with "Invalid argument" when it
  // holds column families this version does not know.
  const auto status = rocksdb::DB::Open(options, directory, families, &impl->handles, &db);
  if (!status.ok()) return fail("cannot open database ", directory, ": ", status.ToString());
  impl->db.reset(db);
  MERIDIAN_ASSERT(impl->handles.size() == kFamilies + 1,
                  "RocksDB opened the wrong column families");
  return std::make_shared<RocksDatabase>(std::move(impl));
}

}  // namespace meridian::store
