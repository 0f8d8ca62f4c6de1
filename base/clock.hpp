#pragma once
// Time behind an interface, so cores can run on virtual time in tests and in
// the simulator. Only base/ and the IO shells read the real clocks.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace meridian {

/// Monotonic time as every core sees it.
class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

  virtual ~Clock() = default;
  /// The current monotonic time. Thread-safe in every implementation.
  virtual TimePoint now() const noexcept = 0;
  /// Wall-clock seconds since the Unix epoch, for display and records only.
  virtual std::chrono::system_clock::time_point wall_now() const noexcept = 0;
};

/// `clock`'s wall time in whole milliseconds since the Unix epoch: what
/// records and views carry (set_ms, time_ms, built_ms).
std::uint64_t wall_ms(const Clock& clock) noexcept;

/// The machine's clocks.
class SystemClock final : public Clock {
 public:
  TimePoint now() const noexcept override;
  std::chrono::system_clock::time_point wall_now() const noexcept override;
};

/// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  TimePoint now() const noexcept override;
  std::chrono::system_clock::time_point wall_now() const noexcept override;
  /// Moves both clocks forward by `step` (never backwards).
  void advance(Duration step) noexcept;

 private:
  std::atomic<Duration::rep> elapsed_{0};
};

}  // namespace meridian
