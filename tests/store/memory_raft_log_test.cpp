#include <catch2/catch.hpp>

#include "store/raft_log.hpp"

using namespace meridian::store;

namespace {
std::vector<Entry> run(std::uint64_t first, std::uint64_t last, std::uint64_t term) {
  std::vector<Entry> out;
  for (std::uint64_t i = first; i <= last; ++i)
    out.push_back(Entry{i, term, EntryType::normal, "e" + std::to_string(i)});
  return out;
}
}  // namespace

TEST_CASE("memory log: append, conflict truncation and hard state", "[store]") {
  auto log = make_memory_log();
  CHECK(log->first_index() == 1);
  CHECK(log->last_index() == 0);
  CHECK(log->term(0) == 0u);
  REQUIRE(log->save(run(1, 5, 1), HardState{1, 2, 3}).ok());
  CHECK(log->last_index() == 5);
  CHECK(log->hard_state() == HardState{1, 2, 3});
  REQUIRE(log->save(run(4, 6, 2), std::nullopt).ok());  // overwrites 4 and 5
  CHECK(log->last_index() == 6);
  CHECK(log->term(3) == 1u);
  CHECK(log->term(4) == 2u);
  CHECK_FALSE(log->save(run(9, 9, 2), std::nullopt).ok());  // a gap
  auto entries = log->entries(2, 7, 1000);
  REQUIRE(entries.ok());
  CHECK(entries->size() == 5);
  auto limited = log->entries(2, 7, 3);
  REQUIRE(limited.ok());
  CHECK(limited->size() == 1);  // at least one entry, then the byte limit
}

TEST_CASE("memory log: compaction keeps a tail and remembers the boundary term", "[store]") {
  auto log = make_memory_log();
  REQUIRE(log->save(run(1, 10, 1), std::nullopt).ok());
  REQUIRE(log->compact(Snapshot{8, 1, {{1, 2, 3}, {}}, "state"}, 2).ok());
  CHECK(log->snapshot().index == 8);
  CHECK(log->first_index() == 7);
  CHECK(log->term(6) == 1u);
  CHECK_FALSE(log->term(5).has_value());
  CHECK_FALSE(log->entries(5, 8, 100).ok());
  CHECK_FALSE(log->compact(Snapshot{8, 3, {}, ""}, 0).ok());  // wrong term
}

TEST_CASE("memory log: installing a snapshot keeps a matching suffix only", "[store]") {
  auto log = make_memory_log();
  REQUIRE(log->save(run(1, 10, 1), std::nullopt).ok());
  REQUIRE(log->install_snapshot(Snapshot{7, 1, {}, "s"}).ok());
  CHECK(log->first_index() == 8);
  CHECK(log->last_index() == 10);
  CHECK(log->hard_state().commit == 7);
  REQUIRE(log->install_snapshot(Snapshot{20, 4, {}, "t"}).ok());
  CHECK(log->first_index() == 21);
  CHECK(log->last_index() == 20);
  CHECK(log->term(20) == 4u);
  CHECK_FALSE(log->install_snapshot(Snapshot{15, 4, {}, "old"}).ok());
}

TEST_CASE("memory log: committed entries are never overwritten, snapshots never go back",
          "[store]") {
  auto log = make_memory_log();
  REQUIRE(log->save(run(1, 5, 1), HardState{1, 1, 3}).ok());
  auto overwrite = log->save(run(3, 4, 2), std::nullopt);
  REQUIRE_FALSE(overwrite.ok());
  CHECK_THAT(overwrite.error().message, Catch::Contains("overwrite committed entry 3"));
  CHECK(log->term(3) == 1u);
  CHECK(log->save(run(4, 6, 2), std::nullopt).ok());  // beyond the commit: a normal conflict
  REQUIRE(log->compact(Snapshot{5, 2, {}, "s"}, 0).ok());
  CHECK(log->compact(Snapshot{5, 2, {}, "again"}, 0).ok());  // the same index again is fine
  auto older = log->compact(Snapshot{4, 2, {}, "old"}, 0);
  CHECK_FALSE(older.ok());
}
