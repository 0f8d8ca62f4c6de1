// The replicated key-value state machine, run against both implementations.
#include <catch2/catch.hpp>

#include <tuple>

#include "store/kv_state.hpp"
#include "store_test_support.hpp"

using namespace meridian;
using namespace meridian::store;
using namespace meridian::store::test;

namespace {

struct MemoryKv {
  std::unique_ptr<KvState> kv = make_memory_kv();
  KvState* operator->() { return kv.get(); }
};

struct RocksKv {
  TempDir dir;
  std::shared_ptr<RocksDatabase> db = require_ok(open_database(dir.sub("db")));
  std::unique_ptr<KvState> kv = require_ok(make_rocks_kv(db));
  KvState* operator->() { return kv.get(); }
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

// One notification, as a watcher saw it.
struct Seen {
  std::string key;
  std::optional<std::string> value;
  std::uint64_t index;
  friend bool operator==(const Seen&, const Seen&) = default;
};

std::ostream& operator<<(std::ostream& out, const Seen& seen) {
  return out << seen.key << "=" << seen.value.value_or("<deleted>") << "@" << seen.index;
}

WatchCallback recorder(std::vector<Seen>& seen) {
  return [&seen](const std::string& key, const std::optional<std::string>& value,
                 std::uint64_t index) {
    seen.push_back({key, value, index});
  };
}

}  // namespace

TEMPLATE_TEST_CASE("kv state: put, get and delete", "[store]", MemoryKv, RocksKv) {
  TestType kv;
  CHECK(kv->applied_index() == 0);
  CHECK_FALSE(kv->get("a").has_value());
  CHECK(require_ok(kv->apply(1, KvPut{"a", "1"})) == KvResult{true, "1"});
  CHECK(kv->get("a") == "1");
  CHECK(require_ok(kv->apply(2, KvPut{"a", "2"})) == KvResult{true, "2"});
  CHECK(kv->get("a") == "2");
  CHECK(require_ok(kv->apply(3, KvPut{"b", std::string("\0\xff", 2)})) ==
        KvResult{true, std::string("\0\xff", 2)});
  CHECK(require_ok(kv->apply(5, KvDelete{"a"})) ==
        KvResult{true, std::nullopt});  // indices may skip
  CHECK_FALSE(kv->get("a").has_value());
  CHECK(require_ok(kv->apply(6, KvDelete{"never"})) == KvResult{true, std::nullopt});
  CHECK(kv->applied_index() == 6);
  CHECK(kv->get("b") == std::string("\0\xff", 2));
  CHECK(require_ok(kv->apply(7, KvPut{"empty", ""})) == KvResult{true, ""});
  CHECK(kv->get("empty") == "");  // present, empty: not the same as absent
}

TEMPLATE_TEST_CASE("kv state: compare-and-set succeeds only on the expected value", "[store]",
                   MemoryKv, RocksKv) {
  TestType kv;
  require_ok(kv->apply(1, KvPut{"k", "v1"}));
  // Each row: what, the command, its result, and the key's value after. (A
  // function, not an array of structs: GCC 12 warns falsely about the
  // optionals in such an array.)
  std::uint64_t index = 1;
  const auto row = [&](const char* what, const KvCompareAndSet& command, const KvResult& result,
                       const std::optional<std::string>& after) {
    INFO(what);
    CHECK(require_ok(kv->apply(++index, command)) == result);
    CHECK(kv->get(command.key) == after);
    CHECK(kv->applied_index() == index);  // a failed CAS is still applied
  };
  row("wrong expected value", {"k", "v0", "v2"}, {false, "v1"}, "v1");
  row("expected absent, but present", {"k", std::nullopt, "v2"}, {false, "v1"}, "v1");
  row("right expected value", {"k", "v1", "v2"}, {true, "v2"}, "v2");
  row("delete on match", {"k", "v2", std::nullopt}, {true, std::nullopt}, std::nullopt);
  row("expected present, but absent", {"k", "v2", "v3"}, {false, std::nullopt}, std::nullopt);
  row("create when absent", {"k", std::nullopt, "v3"}, {true, "v3"}, "v3");
  row("expected empty, value is not", {"k", "", "v4"}, {false, "v3"}, "v3");
  row("same value again", {"k", "v3", "v3"}, {true, "v3"}, "v3");
  row("delete of an absent other key", {"other", std::nullopt, std::nullopt}, {true, std::nullopt},
      std::nullopt);
}

TEMPLATE_TEST_CASE("kv state: an index at or below the applied one is ignored", "[store]", MemoryKv,
                   RocksKv) {
  TestType kv;
  std::vector<Seen> seen;
  require_ok(kv->watch("", recorder(seen)));
  require_ok(kv->apply(5, KvPut{"a", "1"}));
  CHECK(require_ok(kv->apply(5, KvPut{"a", "again"})) == KvResult{true, "1"});
  CHECK(require_ok(kv->apply(3, KvDelete{"a"})) == KvResult{true, "1"});
  CHECK(kv->get("a") == "1");
  CHECK(kv->applied_index() == 5);
  CHECK(seen == std::vector<Seen>{{"a", "1", 5}});
}

TEMPLATE_TEST_CASE("kv state: scan returns a prefix in key order, up to the limit", "[store]",
                   MemoryKv, RocksKv) {
  TestType kv;
  std::uint64_t index = 0;
  for (const char* key : {"svc/b", "svc/a", "svc", "sv", "svc/c/x", "svd", "a", "svc/\xff"}) {
    require_ok(kv->apply(++index, KvPut{key, std::string("v-") + key}));
  }
  CHECK(kv->scan("svc/", 10) == Pairs{{"svc/a", "v-svc/a"},
                                      {"svc/b", "v-svc/b"},
                                      {"svc/c/x", "v-svc/c/x"},
                                      {"svc/\xff", "v-svc/\xff"}});
  CHECK(kv->scan("svc/", 2) == Pairs{{"svc/a", "v-svc/a"}, {"svc/b", "v-svc/b"}});
  CHECK(kv->scan("svc/", 0).empty());
  CHECK(kv->scan("sv", 3) == Pairs{{"sv", "v-sv"}, {"svc", "v-svc"}, {"svc/a", "v-svc/a"}});
  CHECK(kv->scan("", 100).size() == 8);
  CHECK(kv->scan("", 100).front().first == "a");
  CHECK(kv->scan("zz", 10).empty());
  CHECK(kv->scan("svc/c/x/longer", 10).empty());
}

TEMPLATE_TEST_CASE("kv state: watches see each change of their prefix with its index", "[store]",
                   MemoryKv, RocksKv) {
  TestType kv;
  std::vector<Seen> health, all;
  const WatchId health_id = require_ok(kv->watch("health/", recorder(health)));
  require_ok(kv->watch("", recorder(all)));
  require_ok(kv->apply(1, KvPut{"health/a", "up"}));
  require_ok(kv->apply(2, KvPut{"config", "v1"}));
  require_ok(kv->apply(3, KvPut{"health/a", "up"}));                    // same value: still a write
  require_ok(kv->apply(4, KvCompareAndSet{"health/a", "down", "up"}));  // failed: silent
  require_ok(kv->apply(5, KvCompareAndSet{"health/a", "up", "down"}));
  require_ok(kv->apply(6, KvDelete{"health/b"}));  // absent: silent
  require_ok(
      kv->apply(7, KvCompareAndSet{"health/b", std::nullopt, std::nullopt}));  // no-op: silent
  require_ok(kv->apply(8, KvDelete{"health/a"}));
  CHECK(health == std::vector<Seen>{{"health/a", "up", 1},
                                    {"health/a", "up", 3},
                                    {"health/a", "down", 5},
                                    {"health/a", std::nullopt, 8}});
  CHECK(all.size() == 5);
  CHECK(all[1] == Seen{"config", "v1", 2});

  CHECK(kv->unwatch(health_id));
  CHECK_FALSE(kv->unwatch(health_id));
  require_ok(kv->apply(9, KvPut{"health/c", "up"}));
  CHECK(health.size() == 4);  // stopped
  CHECK(all.size() == 6);
}

TEMPLATE_TEST_CASE("kv state: callbacks see the new state and may unwatch themselves", "[store]",
                   MemoryKv, RocksKv) {
  TestType kv;
  std::vector<std::string> seen_inside;
  std::optional<WatchId> once;
  once = require_ok(
      kv->watch("k", [&](const std::string& key, const std::optional<std::string>&, std::uint64_t) {
        seen_inside.push_back(kv->get(key).value_or("<absent>"));
        CHECK(kv->unwatch(*once));
      }));
  int later_calls = 0;
  require_ok(
      kv->watch("k", [&](const std::string&, const std::optional<std::string>&, std::uint64_t) {
        ++later_calls;  // still called in the round where the first one left
      }));
  require_ok(kv->apply(1, KvPut{"k", "first"}));
  require_ok(kv->apply(2, KvPut{"k", "second"}));
  CHECK(seen_inside == std::vector<std::string>{"first"});
  CHECK(later_calls == 2);
}

TEMPLATE_TEST_CASE("kv state: the number of watches is limited", "[store]", MemoryKv, RocksKv) {
  TestType kv;
  std::vector<WatchId> ids;
  for (std::size_t i = 0; i < kMaxWatches; ++i)
    ids.push_back(require_ok(kv->watch("p", [](auto&&...) {})));
  auto refused = kv->watch("p", [](auto&&...) {});
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::Contains("too many watches"));
  CHECK(kv->unwatch(ids.back()));
  CHECK(kv->watch("p", [](auto&&...) {}).ok());  // room again
  CHECK_FALSE(kv->watch(std::string(kMaxKeyBytes + 1, 'p'), [](auto&&...) {}).ok());
}

TEMPLATE_TEST_CASE("kv state: restore replaces the state and notifies each difference", "[store]",
                   MemoryKv, RocksKv) {
  TestType kv;
  require_ok(kv->apply(1, KvPut{"same", "s"}));
  require_ok(kv->apply(2, KvPut{"changed", "old"}));
  require_ok(kv->apply(3, KvPut{"gone", "g"}));

  auto source = make_memory_kv();
  require_ok(source->apply(4, KvPut{"same", "s"}));
  require_ok(source->apply(5, KvPut{"changed", "new"}));
  require_ok(source->apply(9, KvPut{"added", "a"}));

  std::vector<Seen> seen;
  require_ok(kv->watch("", recorder(seen)));
  require_ok(kv->restore(source->snapshot_data()));
  CHECK(kv->applied_index() == 9);
  CHECK(kv->scan("", 10) == Pairs{{"added", "a"}, {"changed", "new"}, {"same", "s"}});
  CHECK(seen ==
        std::vector<Seen>{{"added", "a", 9}, {"changed", "new", 9}, {"gone", std::nullopt, 9}});
  CHECK(kv->snapshot_data() == source->snapshot_data());
}

TEMPLATE_TEST_CASE("kv state: bad snapshot data is refused and changes nothing", "[store]",
                   MemoryKv, RocksKv) {
  TestType kv;
  require_ok(kv->apply(4, KvPut{"keep", "me"}));
  const std::string before = kv->snapshot_data();
  auto other = make_memory_kv();
  require_ok(other->apply(7, KvPut{"x", "y"}));
  require_ok(other->apply(8, KvPut{"z", "w"}));
  const std::string good = other->snapshot_data();

  std::vector<std::string> bad = {"", "\x02", good.substr(0, good.size() - 1), good + "!"};
  std::string unordered = good;  // swap the one-letter keys x and z
  std::swap(unordered[unordered.find('x')], unordered[unordered.find('z')]);
  bad.push_back(unordered);
  for (const std::string& data : bad) {
    INFO("data of " << data.size() << " bytes");
    CHECK_FALSE(kv->restore(data).ok());
    CHECK(kv->snapshot_data() == before);
  }
}

TEST_CASE("kv state: snapshots move between the memory and rocks implementations", "[store]") {
  auto memory = make_memory_kv();
  for (std::uint64_t i = 1; i <= 50; ++i) {
    require_ok(memory->apply(i, KvPut{"key/" + std::to_string(i % 17), std::string(i, 'v')}));
  }
  require_ok(memory->apply(51, KvDelete{"key/3"}));
  RocksKv rocks;
  require_ok(rocks->restore(memory->snapshot_data()));
  CHECK(rocks->snapshot_data() == memory->snapshot_data());
  CHECK(rocks->applied_index() == 51);

  auto back = make_memory_kv();
  require_ok(back->restore(rocks->snapshot_data()));
  CHECK(back->scan("", 100) == memory->scan("", 100));
  CHECK(back->applied_index() == 51);
}

TEMPLATE_TEST_CASE("kv state: size_bytes counts keys and values through every change", "[store]",
                   MemoryKv, RocksKv) {
  TestType kv;
  CHECK(kv->size_bytes() == 0);
  require_ok(kv->apply(1, KvPut{"ab", "1234"}));
  CHECK(kv->size_bytes() == 6);
  require_ok(kv->apply(2, KvPut{"ab", "12"}));
  CHECK(kv->size_bytes() == 4);
  require_ok(kv->apply(3, KvCompareAndSet{"c", std::nullopt, std::string("xyz")}));
  CHECK(kv->size_bytes() == 8);
  require_ok(kv->apply(4, KvDelete{"ab"}));
  CHECK(kv->size_bytes() == 4);
  const std::string data = kv->snapshot_data();
  require_ok(kv->restore(empty_kv_snapshot()));
  CHECK(kv->size_bytes() == 0);
  require_ok(kv->restore(data));
  CHECK(kv->size_bytes() == 4);
}

TEST_CASE("kv state: check_kv_snapshot reads the index or says why not", "[store]") {
  auto kv = make_memory_kv();
  require_ok(kv->apply(7, KvPut{"k", "v"}));
  auto index = check_kv_snapshot(kv->snapshot_data());
  REQUIRE(index.ok());
  CHECK(*index == 7);
  CHECK(*check_kv_snapshot(empty_kv_snapshot()) == 0);
  CHECK_FALSE(check_kv_snapshot("").ok());
  CHECK_FALSE(check_kv_snapshot("not a state").ok());
  std::string truncated = kv->snapshot_data();
  truncated.pop_back();
  CHECK_FALSE(check_kv_snapshot(truncated).ok());
}
