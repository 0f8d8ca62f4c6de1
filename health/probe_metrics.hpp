#pragma once
// Probe outcomes and latencies by check name, for /metrics. One object
// lives as long as the node: the monitor of every config generation adds to
// it, so counters never go back when a reload replaces the monitor. Health
// thread only (copy it there to read elsewhere).

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "health/probe.hpp"

namespace meridian::health {

class ProbeMetrics {
 public:
  /// Upper bounds of the latency buckets, in seconds.
  static constexpr std::array<double, 12> kBounds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                  0.1,   0.25,   0.5,   1,    2.5,   5};
  /// One count per ProbeFailure (index none = passed; local_error counts
  /// probes that could not run, no verdict).
  static constexpr std::size_t kOutcomes = static_cast<std::size_t>(ProbeFailure::local_error) + 1;

  struct PerCheck {
    std::array<std::uint64_t, kOutcomes> outcomes{};
    std::array<std::uint64_t, kBounds.size() + 1> buckets{};  ///< the last: above the last bound
    double latency_sum_s = 0;
  };

  void record(const std::string& check, const ProbeResult& result);
  const std::map<std::string, PerCheck>& by_check() const noexcept { return by_check_; }

 private:
  std::map<std::string, PerCheck> by_check_;
};

}  // namespace meridian::health
