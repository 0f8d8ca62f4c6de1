#pragma once
// Helpers for the store/ tests: a temporary directory per test, entry runs,
// and the two RaftLog fixtures the shared behaviour tests run against.

#include <stdlib.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "store/raft_log.hpp"
#include "store/rocks_database.hpp"
#include "store/rocks_raft_log.hpp"

namespace meridian::store::test {

/// A fresh directory under the system temp dir, removed with everything in
/// it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "meridian-store-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  /// The directory itself.
  const std::string& path() const { return path_; }
  /// A path inside it (not created).
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// The value of a Result that must be ok; fails the test with its message.
template <class T>
T require_ok(Result<T> result) {
  if (!result.ok()) FAIL("unexpected error: " << result.error().message);
  return std::move(result).value();
}

inline void require_ok(Result<void> result) {
  if (!result.ok()) FAIL("unexpected error: " << result.error().message);
}

/// Entries first..last, all of `term`, with data "e<index>".
inline std::vector<Entry> run(std::uint64_t first, std::uint64_t last, std::uint64_t term) {
  std::vector<Entry> out;
  for (std::uint64_t i = first; i <= last; ++i)
    out.push_back(Entry{i, term, EntryType::normal, "e" + std::to_string(i)});
  return out;
}

/// A RaftLog under test; `reopen()` simulates a restart (a no-op in memory).
struct MemoryLog {
  static constexpr bool persistent = false;
  std::unique_ptr<RaftLog> log = make_memory_log();
  RaftLog* operator->() { return log.get(); }
  void reopen() {}
};

struct RocksLog {
  static constexpr bool persistent = true;
  TempDir dir;
  std::shared_ptr<RocksDatabase> db;
  std::unique_ptr<RaftLog> log;

  RocksLog() { open(); }
  RaftLog* operator->() { return log.get(); }
  void open() {
    db = require_ok(open_database(dir.sub("db")));
    log = require_ok(make_rocks_log(db));
  }
  /// Closes the database (all handles to it) and opens it again.
  void reopen() {
    log.reset();
    db.reset();
    open();
  }
};

/// Every entry of `log`, read in one call.
inline std::vector<Entry> all_entries(const RaftLog& log) {
  return require_ok(log.entries(log.first_index(), log.last_index() + 1, ~std::uint64_t{0}));
}

/// Everything a RaftLog shows, for comparing two logs (or one across a
/// restart).
struct LogView {
  HardState hard_state;
  Snapshot snapshot;
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::optional<std::uint64_t> boundary_term;  // term(first - 1)
  std::vector<Entry> entries;

  friend bool operator==(const LogView&, const LogView&) = default;
};

inline LogView view(const RaftLog& log) {
  return {log.hard_state(),
          log.snapshot(),
          log.first_index(),
          log.last_index(),
          log.term(log.first_index() - 1),
          all_entries(log)};
}

inline std::ostream& operator<<(std::ostream& out, const LogView& v) {
  out << "{hard_state " << v.hard_state.term << "/" << v.hard_state.vote << "/"
      << v.hard_state.commit << ", snapshot " << v.snapshot.index << "@" << v.snapshot.term << " ("
      << v.snapshot.data.size() << " bytes), first " << v.first << ", last " << v.last << ", terms";
  for (const Entry& entry : v.entries) out << " " << entry.term;
  return out << "}";
}

}  // namespace meridian::store::test
