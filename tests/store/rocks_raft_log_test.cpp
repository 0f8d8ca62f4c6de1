// What only the RocksDB log has: restarts, damage on disk, the directory
// lock, and its size limits. The shared behaviour is in raft_log_test.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "store/log_encoding.hpp"
#include "store_test_support.hpp"

using namespace meridian;
using namespace meridian::store;
using namespace meridian::store::test;

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

// Writes raw bytes into the database, bypassing the log, as damage would.
void plant(RocksDatabase& db, Family family, std::string_view key,
           std::optional<std::string_view> value) {
  RocksBatch batch = db.batch();
  if (value) {
    batch.put(family, key, *value);
  } else {
    batch.erase(family, key);
  }
  require_ok(db.write(std::move(batch), Durability::synced));
}

// Reopens the database under `log` and returns the error make_rocks_log
// reports (failing the test if it succeeds).
std::string reopen_error(RocksLog& log) {
  log.log.reset();
  log.db.reset();
  log.db = require_ok(open_database(log.dir.sub("db")));
  auto reopened = make_rocks_log(log.db);
  REQUIRE_FALSE(reopened.ok());
  return reopened.error().message;
}

}  // namespace

TEST_CASE("rocks log: reopening after each kind of mutation recovers exactly", "[store]") {
  RocksLog log;
  const auto check_reopen = [&log](const char* after) {
    INFO("after " << after);
    const LogView before = view(*log.log);
    log.reopen();
    CHECK(view(*log.log) == before);
  };
  require_ok(log->save(run(1, 6, 1), std::nullopt));
  check_reopen("an append");
  require_ok(log->save({}, HardState{2, 3, 4}));
  check_reopen("a vote");
  CHECK(log->hard_state() == HardState{2, 3, 4});
  require_ok(log->save(run(5, 8, 2), HardState{2, 3, 3}));
  check_reopen("a conflict truncation with a longer tail");
  require_ok(log->save(run(4, 4, 3), std::nullopt));
  check_reopen("a conflict truncation with a shorter tail");
  CHECK(log->last_index() == 4);
  require_ok(log->save(run(5, 9, 3), std::nullopt));
  const Snapshot taken{7, 3, {{1, 2, 3}, {9, 10}}, std::string("state\0bytes", 11)};
  require_ok(log->compact(taken, 2));
  check_reopen("a compaction keeping a tail");
  CHECK(log->snapshot() == taken);
  CHECK(log->first_index() == 6);
  require_ok(log->compact(Snapshot{8, 3, {{1, 2, 3}, {}}, "s8"}, 0));
  check_reopen("a compaction keeping nothing");
  CHECK(log->term(8) == 3u);
  require_ok(log->install_snapshot(Snapshot{9, 3, {{4, 5, 6}, {}}, "from leader"}));
  check_reopen("a snapshot install keeping the suffix");
  require_ok(log->save(run(10, 11, 3), std::nullopt));
  require_ok(log->install_snapshot(Snapshot{40, 7, {{4}, {}}, std::string(100000, 'z')}));
  check_reopen("a snapshot install dropping the log");
  CHECK(log->first_index() == 41);
  CHECK(log->hard_state() == HardState{2, 3, 40});
  CHECK(log->snapshot().data.size() == 100000);
}

TEST_CASE("rocks log: a corrupt entry is an error from entries and from reopening", "[store]") {
  RocksLog log;
  require_ok(log->save(run(1, 5, 1), std::nullopt));
  plant(*log.db, Family::log, encode_log_key(3), "\x01garbage");
  CHECK(require_ok(log->entries(1, 3, 100)).size() == 2);  // before the damage: fine
  auto damaged = log->entries(1, 6, 100);
  REQUIRE_FALSE(damaged.ok());
  CHECK_THAT(damaged.error().message, Catch::Contains("log entry 3"));
  CHECK(log->term(3) == 1u);  // from memory, as validated at open
  CHECK_THAT(reopen_error(log), Catch::Contains("log entry 3"));
}

TEST_CASE("rocks log: an entry whose term differs from the cached one is an error", "[store]") {
  RocksLog log;
  require_ok(log->save(run(1, 3, 1), std::nullopt));
  plant(*log.db, Family::log, encode_log_key(2),
        encode_entry(Entry{2, 9, EntryType::normal, "e2"}));
  auto read = log->entries(1, 4, 100);
  REQUIRE_FALSE(read.ok());
  CHECK_THAT(read.error().message, Catch::Contains("term 9 on disk"));
}

TEST_CASE("rocks log: a missing entry, a stray key or a bad meta record fails the open",
          "[store]") {
  struct Case {
    const char* what;
    Family family;
    std::string key;
    std::optional<std::string> value;  // nullopt: erase the key
    const char* error;
  };
  const Case cases[] = {
      {"a hole", Family::log, encode_log_key(3), std::nullopt,
       "log entry 4 found where entry 3 was expected"},
      {"an entry before the log", Family::log, encode_log_key(0),
       encode_entry(Entry{0, 1, EntryType::normal, ""}), "log entry 0 found where entry 1"},
      {"a short key", Family::log, "abc", "\x01\x00", "log key of 3 bytes"},
      {"an unknown entry version", Family::log, encode_log_key(2),
       std::string("\x02\x00", 2) + std::string(8, '\0'), "unknown format version 2"},
      {"an unknown entry type", Family::log, encode_log_key(2),
       std::string("\x01\x07", 2) + std::string(8, '\0'), "unknown entry type 7"},
      {"a short entry", Family::log, encode_log_key(2), std::string("\x01\x00\x00", 3),
       "truncated header"},
      {"an empty hard state", Family::meta, std::string(kHardStateKey), "",
       "hard state: empty value"},
      {"a long hard state", Family::meta, std::string(kHardStateKey),
       encode_hard_state({1, 2, 3}) + "x", "hard state: 26 bytes"},
      {"a short compaction point", Family::meta, std::string(kCompactedKey), "\x01\x02",
       "compaction point: 2 bytes"},
      {"a compaction point past the snapshot", Family::meta, std::string(kCompactedKey),
       encode_log_point({3, 1}), "does not match snapshot"},
      {"a snapshot with a bad version", Family::meta, std::string(kSnapshotKey), "\x09rest",
       "snapshot: unknown format version 9"},
      {"a snapshot with a wrong data size", Family::meta, std::string(kSnapshotKey),
       encode_snapshot(Snapshot{1, 1, {}, "abc"}) + "d", "does not match the 4 bytes stored"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    RocksLog log;
    require_ok(log->save(run(1, 5, 1), HardState{1, 0, 1}));
    plant(*log.db, c.family, c.key, c.value);
    const std::string error = reopen_error(log);
    CHECK_THAT(error, Catch::Contains(c.error));
    CHECK_THAT(error, Catch::Contains(log.dir.path()));  // names the database
  }
}

TEST_CASE("rocks log: a second open of one directory fails on the lock", "[store]") {
  TempDir dir;
  auto first = require_ok(open_database(dir.path()));
  auto second = open_database(dir.path());
  REQUIRE_FALSE(second.ok());
  CHECK_THAT(second.error().message, Catch::Contains(dir.path()));
  CHECK_THAT(lower(second.error().message), Catch::Contains("lock"));
  first.reset();  // closing releases the lock
  CHECK(open_database(dir.path()).ok());
}

TEST_CASE("rocks log: open fails cleanly where no database can be", "[store]") {
  TempDir dir;
  const std::string file = dir.sub("plain-file");
  { std::ofstream(file) << "not a directory"; }
  auto opened = open_database(file + "/db");
  REQUIRE_FALSE(opened.ok());
  CHECK_THAT(opened.error().message, Catch::Contains("cannot open database " + file));
}

TEST_CASE("rocks log: entry and snapshot sizes are limited", "[store]") {
  RocksLog log;
  require_ok(log->save(run(1, 2, 1), std::nullopt));
  const LogView before = view(*log.log);

  std::vector<Entry> big = {Entry{3, 1, EntryType::normal, std::string(kMaxEntryBytes + 1, 'b')}};
  auto saved = log->save(big, HardState{5, 5, 5});
  REQUIRE_FALSE(saved.ok());
  CHECK_THAT(saved.error().message, Catch::Contains("more than the limit"));

  std::vector<Entry> odd = {Entry{3, 1, static_cast<EntryType>(7), "x"}};
  CHECK_FALSE(log->save(odd, std::nullopt).ok());

  Snapshot huge{2, 1, {}, std::string(kMaxSnapshotBytes + 1, 's')};
  auto compacted = log->compact(huge, 0);
  REQUIRE_FALSE(compacted.ok());
  CHECK_THAT(compacted.error().message, Catch::Contains("more than the limit"));
  huge.index = 5;
  CHECK_FALSE(log->install_snapshot(huge).ok());
  huge.data = std::string();
  CHECK(view(*log.log) == before);

  Snapshot crowded{2, 1, {std::vector<std::uint64_t>(kMaxMembershipIds + 1, 1), {}}, ""};
  auto refused = log->compact(crowded, 0);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::Contains("voters"));
  crowded.membership.voters.resize(kMaxMembershipIds);
  require_ok(log->compact(crowded, 0));  // at the limit: fine, and readable again
  log.reopen();
  CHECK(log->snapshot().membership.voters.size() == kMaxMembershipIds);
  CHECK(log->first_index() == 3);
}

TEST_CASE("rocks log: an entry at the size limit is stored and read back", "[store]") {
  RocksLog log;
  const Entry big{1, 1, EntryType::normal, std::string(kMaxEntryBytes, 'B')};
  require_ok(log->save({big}, std::nullopt));
  log.reopen();
  auto read = require_ok(log->entries(1, 2, 0));
  REQUIRE(read.size() == 1);
  CHECK(read[0] == big);
}

TEST_CASE("rocks database: a data_dir with missing parents is created, 0700 each",
          "[store][rocks]") {
  TempDir dir;
  const std::string data_dir = dir.sub("var/lib/meridian/data");
  auto db = open_database(data_dir);
  REQUIRE(db.ok());
  for (const std::string& made : {dir.sub("var"), dir.sub("var/lib"), data_dir}) {
    INFO(made);
    CHECK((std::filesystem::status(made).permissions() & std::filesystem::perms::all) ==
          std::filesystem::perms::owner_all);
  }
  // A parent that is a file: the error names it.
  std::ofstream(dir.sub("a-file")) << "x";
  auto refused = open_database(dir.sub("a-file/data"));
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::Contains("a-file"));
}
