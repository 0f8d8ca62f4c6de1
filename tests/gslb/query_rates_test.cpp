// The query-rate history (gslb/query_rates.hpp): rates from successive
// totals, per site through the slot names, bounded to kSamples.

#include "gslb/query_rates.hpp"

#include <catch2/catch.hpp>

using namespace meridian;
using namespace meridian::gslb;

namespace {

/// Totals with `queries` in all and `by_site` answers in slots 0, 1, ...
/// named `names`.
QueryTotals totals(std::uint64_t queries, std::vector<std::uint64_t> by_site,
                   std::vector<std::string> names) {
  QueryTotals out;
  out.queries = queries;
  out.by_site = std::move(by_site);
  out.by_site.resize(8);
  out.site_names = std::move(names);
  return out;
}

}  // namespace

TEST_CASE("query rates: the growth of one interval, in total and per site", "[gslb][query_rates]") {
  QueryRateHistory history(totals(100, {10, 20}, {"eu", "us"}));
  CHECK(history.samples().empty());
  // 10 s later: 250 more queries, eu answered 50 more, us 0, and a new
  // site "ap" took slot 2 with 30.
  history.sample(totals(350, {60, 20, 30}, {"eu", "us", "ap"}), {"us", "eu", "ap", "nowhere"},
                 1'000);
  REQUIRE(history.samples().size() == 1);
  const QueryRateSample& sample = history.samples().front();
  CHECK(sample.t_ms == 1'000);
  CHECK(sample.total_qps == Approx(25.0));
  // In the order asked; a site without a slot answered nothing.
  REQUIRE(sample.sites.size() == 4);
  CHECK(sample.sites[0] == std::pair<std::string, double>{"us", 0.0});
  CHECK(sample.sites[1].first == "eu");
  CHECK(sample.sites[1].second == Approx(5.0));
  CHECK(sample.sites[2].first == "ap");
  CHECK(sample.sites[2].second == Approx(3.0));
  CHECK(sample.sites[3] == std::pair<std::string, double>{"nowhere", 0.0});

  // The next interval measures from the previous sample.
  history.sample(totals(360, {61, 20, 30}, {"eu", "us", "ap"}), {"eu"}, 2'000);
  REQUIRE(history.samples().size() == 2);
  CHECK(history.samples().back().total_qps == Approx(1.0));
  CHECK(history.samples().back().sites.at(0).second == Approx(0.1));
}

TEST_CASE("query rates: counters that went back count as no growth", "[gslb][query_rates]") {
  QueryRateHistory history(totals(100, {50}, {"eu"}));
  history.sample(totals(40, {10}, {"eu"}), {"eu"}, 1);
  CHECK(history.samples().back().total_qps == 0.0);
  CHECK(history.samples().back().sites.at(0).second == 0.0);
  // Without a view there are no sites: the total alone.
  history.sample(totals(140, {10}, {"eu"}), {}, 2);
  CHECK(history.samples().back().total_qps == Approx(10.0));
  CHECK(history.samples().back().sites.empty());
}

TEST_CASE("query rates: the last kSamples intervals, oldest first", "[gslb][query_rates]") {
  QueryRateHistory history(totals(0, {}, {}));
  for (std::uint64_t i = 1; i <= QueryRateHistory::kSamples + 5; ++i) {
    history.sample(totals(i * 10, {}, {}), {}, i);
  }
  REQUIRE(history.samples().size() == QueryRateHistory::kSamples);
  CHECK(history.samples().front().t_ms == 6);
  CHECK(history.samples().back().t_ms == QueryRateHistory::kSamples + 5);
  CHECK(QueryRateHistory::kInterval == std::chrono::seconds(10));
}
