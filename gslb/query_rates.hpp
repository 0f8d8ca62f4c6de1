#pragma once
// The query-rate history (GET /api/v1/stats, the dashboard's rate chart):
// every kInterval, the growth of the DNS totals (gslb/query_totals.hpp)
// since the previous sample, as queries per second in total and per site,
// for the last kSamples intervals (five minutes).
//
// Pure: the caller says when a sample is due and what time it is; the
// periodic timer that drives it lives with the caller (admin/
// status_routes.cpp), the simulator or a test. Counters that went backwards
// (they never should) count as no growth.
//
// Thread rule: not thread-safe; one owner calls every method.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "gslb/query_totals.hpp"

namespace meridian::gslb {

/// One interval's rates.
struct QueryRateSample {
  std::uint64_t t_ms = 0;  ///< wall clock (Unix ms) when it was taken
  double total_qps = 0;    ///< every query
  /// Steered answers per second by the site of the first address, for the
  /// sites asked about, in the order asked.
  std::vector<std::pair<std::string, double>> sites;
};

class QueryRateHistory {
 public:
  static constexpr std::chrono::seconds kInterval{10};
  static constexpr std::size_t kSamples = 30;

  /// Starts from `first`: the first sample measures the growth since it.
  explicit QueryRateHistory(QueryTotals first) : last_(std::move(first)) {}

  /// Records the interval that ends with `now` (taken kInterval after the
  /// previous totals) at wall-clock time `t_ms`, with the rate of each of
  /// `sites` (by name, through now.site_names; a site without a slot yet
  /// answered nothing: 0). Drops the oldest sample beyond kSamples.
  void sample(QueryTotals now, const std::vector<std::string>& sites, std::uint64_t t_ms);

  /// Oldest first; at most kSamples.
  const std::deque<QueryRateSample>& samples() const noexcept { return samples_; }

 private:
  QueryTotals last_;
  std::deque<QueryRateSample> samples_;
};

}  // namespace meridian::gslb
