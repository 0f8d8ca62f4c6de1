// The RaftLog behaviour, run against both implementations: the in-memory
// reference (store/memory_raft_log.cpp) and the RocksDB log. Every test ends
// by restarting the log (a no-op in memory) and checking that nothing
// observable changed.
#include <catch2/catch.hpp>

#include "base/rng.hpp"
#include "store_test_support.hpp"

using namespace meridian;
using namespace meridian::store;
using namespace meridian::store::test;

namespace {

template <class Fixture>
void check_restart(Fixture& log) {
  const LogView before = view(*log.log);
  log.reopen();
  CHECK(view(*log.log) == before);
}

}  // namespace

TEMPLATE_TEST_CASE("raft log: an empty log has no entries and term 0 at index 0", "[store]",
                   MemoryLog, RocksLog) {
  TestType log;
  CHECK(log->first_index() == 1);
  CHECK(log->last_index() == 0);
  CHECK(log->term(0) == 0u);
  CHECK_FALSE(log->term(1).has_value());
  CHECK(log->hard_state() == HardState{});
  CHECK(log->snapshot() == Snapshot{});
  CHECK(require_ok(log->entries(1, 1, 100)).empty());
  CHECK_FALSE(log->entries(1, 2, 100).ok());
  CHECK_FALSE(log->entries(0, 1, 100).ok());
  require_ok(log->save({}, std::nullopt));  // nothing to do is fine
  check_restart(log);
  CHECK(log->last_index() == 0);
}

TEMPLATE_TEST_CASE("raft log: append, conflict truncation and hard state", "[store]", MemoryLog,
                   RocksLog) {
  TestType log;
  require_ok(log->save(run(1, 5, 1), HardState{1, 2, 2}));
  CHECK(log->last_index() == 5);
  CHECK(log->hard_state() == HardState{1, 2, 2});
  require_ok(log->save(run(4, 6, 2), std::nullopt));  // overwrites 4 and 5
  CHECK(log->last_index() == 6);
  CHECK(log->hard_state() == HardState{1, 2, 2});  // unset: unchanged
  CHECK(log->term(3) == 1u);
  CHECK(log->term(4) == 2u);
  CHECK(log->term(6) == 2u);
  CHECK_FALSE(log->term(7).has_value());
  CHECK_FALSE(log->save(run(9, 9, 2), std::nullopt).ok());  // a gap
  std::vector<Entry> expected = run(2, 3, 1);
  for (Entry& entry : run(4, 6, 2)) expected.push_back(entry);
  CHECK(require_ok(log->entries(2, 7, 1000)) == expected);

  CHECK_FALSE(log->save(run(2, 2, 3), std::nullopt).ok());  // index 2 is committed
  require_ok(log->save(run(3, 3, 3), HardState{3, 0, 2}));  // a shorter tail drops 4..6
  CHECK(log->last_index() == 3);
  CHECK(log->term(3) == 3u);
  CHECK_FALSE(log->term(4).has_value());
  CHECK(log->hard_state() == HardState{3, 0, 2});
  require_ok(log->save({}, HardState{4, 7, 2}));  // a vote alone
  CHECK(log->hard_state() == HardState{4, 7, 2});
  check_restart(log);
}

TEMPLATE_TEST_CASE("raft log: entries keep type and binary data", "[store]", MemoryLog, RocksLog) {
  TestType log;
  const std::vector<Entry> entries = {
      {1, 1, EntryType::normal, ""},
      {2, 1, EntryType::config, std::string("\0\x01\xff voters", 10)},
      {3, 2, EntryType::normal, std::string(5000, 'x')},
  };
  require_ok(log->save(entries, std::nullopt));
  CHECK(require_ok(log->entries(1, 4, 1 << 20)) == entries);
  check_restart(log);
  CHECK(require_ok(log->entries(1, 4, 1 << 20)) == entries);
}

TEMPLATE_TEST_CASE("raft log: entries stop at the byte limit after at least one entry", "[store]",
                   MemoryLog, RocksLog) {
  TestType log;
  require_ok(log->save(run(1, 12, 1), std::nullopt));  // data "e1".."e9" 2 bytes, "e10".. 3 bytes
  struct Case {
    std::uint64_t from, to, max_bytes;
    std::size_t count;
  };
  const Case cases[] = {
      {1, 13, 0, 1},    {1, 13, 1, 1},   {1, 13, 2, 1}, {1, 13, 3, 1}, {1, 13, 4, 2},
      {1, 13, 100, 12}, {8, 12, 5, 2},   {8, 12, 7, 3}, {9, 13, 6, 2}, {5, 5, 0, 0},
      {12, 13, 0, 1},   {1, 2, 1000, 1}, {3, 7, 8, 4},  {3, 7, 7, 3},
  };
  for (const Case& c : cases) {
    INFO("entries(" << c.from << ", " << c.to << ", " << c.max_bytes << ")");
    auto got = require_ok(log->entries(c.from, c.to, c.max_bytes));
    REQUIRE(got.size() == c.count);
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i].index == c.from + i);
  }
  CHECK_FALSE(log->entries(1, 14, 100).ok());  // beyond the log
  CHECK_FALSE(log->entries(6, 5, 100).ok());   // from > to
  CHECK_FALSE(log->entries(14, 14, 100).ok());
  check_restart(log);
}

TEMPLATE_TEST_CASE("raft log: compaction keeps a tail and remembers the boundary term", "[store]",
                   MemoryLog, RocksLog) {
  TestType log;
  require_ok(log->save(run(1, 4, 1), std::nullopt));
  require_ok(log->save(run(5, 10, 2), std::nullopt));
  const Snapshot snapshot{8, 2, {{1, 2, 3}, {4}}, "state"};
  require_ok(log->compact(snapshot, 2));
  CHECK(log->snapshot() == snapshot);
  CHECK(log->first_index() == 7);
  CHECK(log->last_index() == 10);
  CHECK(log->term(6) == 2u);
  CHECK_FALSE(log->term(5).has_value());
  CHECK_FALSE(log->entries(5, 8, 100).ok());
  CHECK(require_ok(log->entries(7, 11, 100)) == run(7, 10, 2));
  CHECK_FALSE(log->compact(Snapshot{8, 3, {}, ""}, 0).ok());   // wrong term
  CHECK_FALSE(log->compact(Snapshot{11, 2, {}, ""}, 0).ok());  // beyond the log
  CHECK_FALSE(log->compact(Snapshot{5, 2, {}, ""}, 0).ok());   // already compacted
  CHECK_FALSE(log->save(run(6, 6, 2), std::nullopt).ok());     // below the compacted log
  check_restart(log);

  require_ok(log->compact(Snapshot{10, 2, {{1}, {}}, "later"}, 0));  // drops everything
  CHECK(log->first_index() == 11);
  CHECK(log->last_index() == 10);
  CHECK(log->term(10) == 2u);
  require_ok(log->compact(Snapshot{10, 2, {{1}, {}}, "again"}, 0));  // at the boundary: allowed
  CHECK(log->snapshot().data == "again");
  require_ok(log->save(run(11, 12, 3), std::nullopt));
  CHECK(log->term(12) == 3u);
  require_ok(
      log->compact(Snapshot{12, 3, {}, "big keep"}, 100));  // keep beyond the log: drops nothing
  CHECK(log->first_index() == 11);
  CHECK(log->snapshot().index == 12);
  check_restart(log);
}

TEMPLATE_TEST_CASE("raft log: installing a snapshot keeps a matching suffix only", "[store]",
                   MemoryLog, RocksLog) {
  TestType log;
  require_ok(log->save(run(1, 10, 1), HardState{1, 1, 2}));
  require_ok(log->install_snapshot(Snapshot{7, 1, {{1, 2}, {}}, "s"}));
  CHECK(log->first_index() == 8);
  CHECK(log->last_index() == 10);
  CHECK(log->term(7) == 1u);
  CHECK(log->hard_state() == HardState{1, 1, 7});
  check_restart(log);

  require_ok(log->install_snapshot(Snapshot{9, 5, {}, "conflict"}));  // term differs at 9: drop all
  CHECK(log->first_index() == 10);
  CHECK(log->last_index() == 9);
  CHECK(log->term(9) == 5u);
  check_restart(log);

  require_ok(log->save(run(10, 12, 5), HardState{5, 0, 30}));
  require_ok(log->install_snapshot(Snapshot{20, 6, {}, "t"}));  // beyond the log
  CHECK(log->first_index() == 21);
  CHECK(log->last_index() == 20);
  CHECK(log->term(20) == 6u);
  CHECK(log->hard_state().commit == 30);  // never lowered
  CHECK_FALSE(log->install_snapshot(Snapshot{15, 6, {}, "old"}).ok());
  CHECK_FALSE(log->install_snapshot(Snapshot{20, 6, {}, "same"}).ok());
  CHECK(log->snapshot().data == "t");
  check_restart(log);
}

TEMPLATE_TEST_CASE("raft log: a failed call changes nothing", "[store]", MemoryLog, RocksLog) {
  TestType log;
  require_ok(log->save(run(1, 6, 1), HardState{1, 0, 1}));
  require_ok(log->compact(Snapshot{3, 1, {}, "s"}, 1));
  const LogView before = view(*log.log);
  std::vector<Entry> broken = run(5, 7, 2);
  broken[2].index = 9;
  CHECK_FALSE(log->save(broken, HardState{9, 9, 9}).ok());        // not contiguous
  CHECK_FALSE(log->save(run(1, 2, 2), HardState{9, 9, 9}).ok());  // below the log
  CHECK_FALSE(log->save(run(8, 8, 2), HardState{9, 9, 9}).ok());  // gap
  CHECK_FALSE(log->install_snapshot(Snapshot{2, 1, {}, "old"}).ok());
  CHECK_FALSE(log->compact(Snapshot{6, 7, {}, "bad term"}, 0).ok());
  CHECK(view(*log.log) == before);
  check_restart(log);
}

// A random history against both logs at once: any difference in outcome or
// in what the logs show is a bug in one of them. The rocks log restarts now
// and then along the way.
TEST_CASE("raft log: memory and rocks logs agree over a random history", "[store]") {
  MemoryLog memory;
  RocksLog rocks;
  Rng rng(20240611);
  std::uint64_t term = 1;
  int succeeded[10] = {};
  for (int step = 0; step < 250; ++step) {
    INFO("step " << step);
    const std::uint64_t first = memory->first_index();
    const std::uint64_t last = memory->last_index();
    bool memory_ok = false;
    bool rocks_ok = false;
    const auto kind = rng.below(10);
    switch (kind) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4: {  // append, sometimes overlapping, sometimes invalid
        if (rng.below(4) == 0) ++term;
        const std::uint64_t from = first - 1 + rng.below(last - first + 4);
        std::vector<Entry> entries = run(from, from + rng.below(4), term);
        std::optional<HardState> hard_state;
        if (rng.below(2) == 0) hard_state = HardState{term, rng.below(4), rng.below(last + 1)};
        if (from == 0) entries.clear();
        memory_ok = memory->save(entries, hard_state).ok();
        rocks_ok = rocks->save(entries, hard_state).ok();
        break;
      }
      case 5:
      case 6: {  // compact at a random point, with the right or a wrong term
        const std::uint64_t at = first - 1 + rng.below(last - first + 3);
        const std::uint64_t at_term = rng.below(5) == 0 ? 99 : memory->term(at).value_or(0);
        const Snapshot snapshot{
            at, at_term, {{1, 2, 3}, {rng.below(9)}}, "c" + std::to_string(step)};
        const std::uint64_t keep = rng.below(4);
        memory_ok = memory->compact(snapshot, keep).ok();
        rocks_ok = rocks->compact(snapshot, keep).ok();
        break;
      }
      case 7: {  // install a snapshot, inside the log or beyond it
        const std::uint64_t at = memory->snapshot().index + rng.below(last - first + 5);
        const std::uint64_t at_term = rng.below(2) == 0 ? memory->term(at).value_or(term) : term;
        const Snapshot snapshot{at, at_term, {{1}, {}}, "i" + std::to_string(step)};
        memory_ok = memory->install_snapshot(snapshot).ok();
        rocks_ok = rocks->install_snapshot(snapshot).ok();
        break;
      }
      case 8: {  // read a random range with a random byte limit
        const std::uint64_t from =
            first + rng.below(last - first + 2) - (rng.below(8) == 0 ? 1 : 0);
        const std::uint64_t to = from + rng.below(4);
        const std::uint64_t max_bytes = rng.below(12);
        auto memory_entries = memory->entries(from, to, max_bytes);
        auto rocks_entries = rocks->entries(from, to, max_bytes);
        memory_ok = memory_entries.ok();
        rocks_ok = rocks_entries.ok();
        if (memory_ok && rocks_ok) CHECK(*memory_entries == *rocks_entries);
        break;
      }
      default: rocks.reopen(); memory_ok = rocks_ok = true;
    }
    REQUIRE(memory_ok == rocks_ok);
    REQUIRE(view(*memory.log) == view(*rocks.log));
    if (memory_ok) ++succeeded[kind];
  }
  // The history reached every kind of call, not just the refusals.
  CHECK(succeeded[0] + succeeded[1] + succeeded[2] + succeeded[3] + succeeded[4] > 20);
  CHECK(succeeded[5] + succeeded[6] > 5);
  CHECK(succeeded[7] > 3);
  CHECK(succeeded[8] > 5);
  CHECK(memory->snapshot().index > 0);
}

TEMPLATE_TEST_CASE("raft log: discard drops entries and snapshot, keeps term and vote", "[store]",
                   MemoryLog, RocksLog) {
  TestType log;
  require_ok(log->save(run(1, 10, 2), HardState{2, 3, 8}));
  require_ok(log->compact(Snapshot{6, 2, {{1, 2, 3}, {}}, "state"}, 1));
  require_ok(log->discard());
  CHECK(log->first_index() == 1);
  CHECK(log->last_index() == 0);
  CHECK(log->snapshot() == Snapshot{});
  CHECK(log->hard_state() == HardState{2, 3, 0});
  CHECK(log->term(0) == 0u);
  check_restart(log);
  // The log starts over from index 1, or from a snapshot the leader sends.
  require_ok(log->save(run(1, 2, 3), std::nullopt));
  CHECK(log->last_index() == 2);
  require_ok(log->install_snapshot(Snapshot{20, 3, {{1, 2, 3}, {}}, "leader's"}));
  CHECK(log->first_index() == 21);
  check_restart(log);
}
