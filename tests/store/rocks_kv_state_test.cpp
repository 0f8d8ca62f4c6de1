// What only the RocksDB state machine has: restarts, its layout in the
// "state" family, damage on disk, and sharing the database with the log.
#include <catch2/catch.hpp>

#include "store/kv_state.hpp"
#include "store_test_support.hpp"

using namespace meridian;
using namespace meridian::store;
using namespace meridian::store::test;

namespace {

struct Node {
  TempDir dir;
  std::shared_ptr<RocksDatabase> db;
  std::unique_ptr<RaftLog> log;
  std::unique_ptr<KvState> kv;

  Node() { open(); }
  void open() {
    db = require_ok(open_database(dir.sub("db")));
    log = require_ok(make_rocks_log(db));
    kv = require_ok(make_rocks_kv(db));
  }
  void reopen() {
    kv.reset();
    log.reset();
    db.reset();
    open();
  }
  void plant(std::string_view key, std::optional<std::string_view> value) {
    RocksBatch batch = db->batch();
    if (value) {
      batch.put(Family::state, key, *value);
    } else {
      batch.erase(Family::state, key);
    }
    require_ok(db->write(std::move(batch), Durability::synced));
  }
  std::string reopen_error() {
    kv.reset();
    log.reset();
    db.reset();
    db = require_ok(open_database(dir.sub("db")));
    auto reopened = make_rocks_kv(db);
    REQUIRE_FALSE(reopened.ok());
    return reopened.error().message;
  }
};

const std::string kApplied = std::string(1, '\0') + "applied";

}  // namespace

TEST_CASE("kv state: a reopened rocks state keeps its data and applied index", "[store]") {
  Node node;
  require_ok(node.kv->apply(1, KvPut{"a", "1"}));
  require_ok(node.kv->apply(2, KvPut{"b", std::string(kMaxValueBytes, 'b')}));
  require_ok(node.kv->apply(3, KvCompareAndSet{"a", "1", "2"}));
  require_ok(node.kv->apply(4, KvCompareAndSet{"a", "1", "3"}));  // fails, but index 4 is applied
  require_ok(node.kv->apply(6, KvDelete{"c"}));
  const std::string before = node.kv->snapshot_data();
  node.reopen();
  CHECK(node.kv->applied_index() == 6);
  CHECK(node.kv->get("a") == "2");
  CHECK(node.kv->get("b")->size() == kMaxValueBytes);
  CHECK(node.kv->snapshot_data() == before);

  require_ok(node.kv->apply(7, KvDelete{"a"}));
  node.reopen();
  CHECK_FALSE(node.kv->get("a").has_value());
  CHECK(node.kv->applied_index() == 7);
}

TEST_CASE("kv state: a restored rocks state survives a reopen without stale keys", "[store]") {
  Node node;
  for (std::uint64_t i = 1; i <= 20; ++i)
    require_ok(node.kv->apply(i, KvPut{"old/" + std::to_string(i), "x"}));
  auto source = make_memory_kv();
  require_ok(source->apply(30, KvPut{"new/1", "y"}));
  require_ok(source->apply(31, KvPut{"old/7", "kept but changed"}));
  require_ok(node.kv->restore(source->snapshot_data()));
  node.reopen();
  CHECK(node.kv->applied_index() == 31);
  CHECK(node.kv->snapshot_data() == source->snapshot_data());
  CHECK(node.kv->scan("old/", 100).size() == 1);
}

TEST_CASE("kv state: the rocks state stores user keys under a tag, apart from its applied index",
          "[store]") {
  Node node;
  require_ok(node.kv->apply(1, KvPut{"k", "v"}));
  CHECK(require_ok(node.db->get(Family::state, "\x01k")) == "v");
  CHECK(require_ok(node.db->get(Family::state, kApplied)) ==
        std::string("\x01\0\0\0\0\0\0\0\x01", 9));
  CHECK_FALSE(require_ok(node.db->get(Family::state, "k")).has_value());
  // A user key that looks like the reserved one is just a key.
  require_ok(node.kv->apply(2, KvPut{kApplied, "user data"}));
  node.reopen();
  CHECK(node.kv->get(kApplied) == "user data");
  CHECK(node.kv->applied_index() == 2);
}

TEST_CASE("kv state: damage in the state family fails the open, naming it", "[store]") {
  struct Case {
    const char* what;
    std::string key;
    std::optional<std::string> value;
    const char* error;
  };
  const Case cases[] = {
      {"a short applied index", kApplied, "\x01\x02", "applied index: 2 bytes"},
      {"an unknown version", kApplied, std::string("\x05", 1) + std::string(8, '\0'),
       "unknown format version 5"},
      {"an untagged key", "plain", "v", "unknown key"},
      {"an empty user key", "\x01", "v", "beyond the limits"},
      {"an oversized key", "\x01" + std::string(kMaxKeyBytes + 1, 'k'), "v", "beyond the limits"},
      {"keys without an applied index", kApplied, std::nullopt, "keys without an applied index"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    Node node;
    require_ok(node.kv->apply(1, KvPut{"a", "1"}));
    node.plant(c.key, c.value);
    const std::string error = node.reopen_error();
    CHECK_THAT(error, Catch::Contains(c.error));
    CHECK_THAT(error, Catch::Contains(node.dir.path()));
  }
}

TEST_CASE("kv state: the log and the state share one database without touching each other",
          "[store]") {
  Node node;
  require_ok(node.log->save(run(1, 3, 1), HardState{1, 1, 3}));
  for (std::uint64_t i = 1; i <= 3; ++i)
    require_ok(node.kv->apply(i, KvPut{"k" + std::to_string(i), "v"}));
  require_ok(node.log->compact(Snapshot{3, 1, {{1}, {}}, node.kv->snapshot_data()}, 0));
  node.reopen();
  CHECK(node.log->snapshot().index == 3);
  CHECK(node.log->first_index() == 4);
  CHECK(node.kv->applied_index() == 3);
  // A node restarting from the log's snapshot gets the same state.
  auto fresh = make_memory_kv();
  require_ok(fresh->restore(node.log->snapshot().data));
  CHECK(fresh->snapshot_data() == node.kv->snapshot_data());
}
