#include "base/clock.hpp"

namespace meridian {

std::uint64_t wall_ms(const Clock& clock) noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock.wall_now().time_since_epoch())
          .count());
}

Clock::TimePoint SystemClock::now() const noexcept {
  return std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
}

std::chrono::system_clock::time_point SystemClock::wall_now() const noexcept {
  return std::chrono::system_clock::now();
}

Clock::TimePoint ManualClock::now() const noexcept {
  return TimePoint(Duration(elapsed_.load(std::memory_order_acquire)));
}

std::chrono::system_clock::time_point ManualClock::wall_now() const noexcept {
  // A fixed, recognisable epoch (2026-01-01T00:00:00Z) keeps traces stable.
  constexpr std::chrono::seconds kEpoch{1767225600};
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          kEpoch + Duration(elapsed_.load(std::memory_order_acquire))));
}

void ManualClock::advance(Duration step) noexcept {
  if (step.count() > 0) elapsed_.fetch_add(step.count(), std::memory_order_acq_rel);
}

}  // namespace meridian
