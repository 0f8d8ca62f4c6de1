#include "health/probe_metrics.hpp"

#include <algorithm>

namespace meridian::health {

void ProbeMetrics::record(const std::string& check, const ProbeResult& result) {
  PerCheck& entry = by_check_[check];
  ++entry.outcomes[std::min(static_cast<std::size_t>(result.failure), kOutcomes - 1)];
  const double seconds = static_cast<double>(result.latency.count()) / 1e6;
  const auto bucket = std::lower_bound(kBounds.begin(), kBounds.end(), seconds) - kBounds.begin();
  ++entry.buckets[static_cast<std::size_t>(bucket)];
  entry.latency_sum_s += seconds;
}

}  // namespace meridian::health
