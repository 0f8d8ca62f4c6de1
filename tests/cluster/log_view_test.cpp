// LogView: the durable log plus the unstable tail, as the Raft core sees it.
#include <catch2/catch.hpp>

#include "cluster/log_view.hpp"
#include "raft_network.hpp"

using namespace meridian;
using namespace meridian::cluster;
using namespace meridian::cluster::testing;

namespace {

std::vector<std::uint64_t> terms(const LogView& view, std::uint64_t from, std::uint64_t to) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t i = from; i <= to; ++i) out.push_back(view.term(i).value_or(0));
  return out;
}

}  // namespace

TEST_CASE("log view: the unstable tail extends and overrides the durable log", "[cluster]") {
  auto log = log_with({1, 1, 2}, {2, 0, 1});
  LogView view(*log, 0);
  CHECK(view.first_index() == 1);
  CHECK(view.last_index() == 3);
  CHECK(view.last_term() == 2);
  CHECK(view.committed() == 1);

  view.append(entries_with_terms({3, 3}, 4));
  CHECK(view.last_index() == 5);
  CHECK(terms(view, 1, 5) == std::vector<std::uint64_t>{1, 1, 2, 3, 3});
  CHECK(view.unstable_entries().size() == 2);

  // A new leader replaces durable entry 3 onwards.
  view.append(entries_with_terms({4}, 3));
  CHECK(view.last_index() == 3);
  CHECK(terms(view, 1, 3) == std::vector<std::uint64_t>{1, 1, 4});
  CHECK_FALSE(view.term(4).has_value());
  auto all = view.entries(1, 4, 1000);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  CHECK((*all)[2].term == 4);

  // Persisting a stale batch (handed out before the truncation) is ignored.
  view.stable_to(5, 3);
  CHECK(view.unstable_entries().size() == 1);
  REQUIRE(log->save(view.unstable_entries(), std::nullopt).ok());
  view.stable_to(3, 4);
  CHECK(view.unstable_entries().empty());
  CHECK(view.last_index() == 3);
  CHECK(*view.term(3) == 4);
}

TEST_CASE("log view: entries stop at max_bytes but return at least one", "[cluster]") {
  auto log = log_with({1, 1, 1}, {1, 0, 0});
  LogView view(*log, 0);
  view.append(entries_with_terms({1, 1}, 4));  // data "e4t1", "e5t1": 4 bytes each
  CHECK(view.entries(1, 6, 0)->size() == 1);
  CHECK(view.entries(1, 6, 8)->size() == 2);
  CHECK(view.entries(2, 6, 12)->size() == 3);  // across the durable/unstable seam
  CHECK(view.entries(4, 6, 100)->size() == 2);
}

TEST_CASE("log view: conflict search for appends and fast back-off", "[cluster]") {
  auto log = log_with({1, 1, 1, 4, 4, 5, 5, 6, 6, 6}, {6, 0, 0});
  LogView view(*log, 0);
  CHECK(view.find_conflict(entries_with_terms({1, 1}, 2)) == 0);
  CHECK(view.find_conflict(entries_with_terms({4, 5}, 5)) == 0);
  CHECK(view.find_conflict(entries_with_terms({4, 6}, 5)) == 6);
  CHECK(view.find_conflict(entries_with_terms({6, 7}, 10)) == 11);
  struct Case {
    std::uint64_t index, term, expect_index, expect_term;
  };
  const Case cases[] = {
      {10, 6, 10, 6}, {10, 5, 7, 5}, {10, 3, 3, 1}, {10, 7, 10, 6}, {5, 4, 5, 4}, {3, 0, 0, 0},
  };
  for (const Case& c : cases) {
    INFO("index " << c.index << " term " << c.term);
    const auto [index, term] = view.find_conflict_by_term(c.index, c.term);
    CHECK(index == c.expect_index);
    CHECK(term == c.expect_term);
  }
  CHECK(view.is_up_to_date(10, 6));
  CHECK_FALSE(view.is_up_to_date(9, 6));
  CHECK(view.is_up_to_date(1, 7));
}

TEST_CASE("log view: a compacted prefix and a pending snapshot", "[cluster]") {
  auto log = log_with({1, 1, 2, 2}, {2, 0, 4});
  REQUIRE(log->compact(store::Snapshot{3, 2, {{1}, {}}, "s3"}, 0).ok());
  LogView view(*log, 0);
  CHECK(view.applied() == 3);
  CHECK(view.first_index() == 4);
  CHECK(*view.term(3) == 2);
  CHECK_FALSE(view.term(2).has_value());
  CHECK_FALSE(view.entries(2, 5, 100).ok());
  CHECK(view.apply_from() == 4);
  CHECK(view.next_committed_entries(3, 100).size() == 1);

  view.restore(store::Snapshot{9, 3, {{1}, {}}, "s9"});
  CHECK(view.committed() == 9);
  CHECK(view.first_index() == 10);
  CHECK(view.last_index() == 9);
  CHECK(*view.term(9) == 3);
  CHECK_FALSE(view.term(4).has_value());
  CHECK(view.apply_from() == 10);
  CHECK(view.next_committed_entries(3, 100).empty());
  CHECK(view.snapshot().index == 9);
  REQUIRE(log->install_snapshot(*view.unstable_snapshot()).ok());
  view.stable_snapshot_to(9);
  view.applied_to(9);
  CHECK_FALSE(view.unstable_snapshot().has_value());
  CHECK(view.last_index() == 9);
  CHECK(view.first_index() == 10);
  view.append(entries_with_terms({3}, 10));
  CHECK(view.last_index() == 10);
}
