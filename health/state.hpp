#pragma once
// The rise/fall state machine of one endpoint (HAProxy semantics), IO-free.
//
//   unknown --first probe--> up (pass) | down (fail)
//   up   --`fall` consecutive failures--> down
//   down --`rise` consecutive passes----> up
//
// A pass resets the failure streak and a failure the pass streak, so a
// flapping endpoint keeps its state. The first probe decides at once because
// a starting node runs one round of probes before it answers, and that round
// should already reflect health.

#include <chrono>
#include <cstdint>

#include "base/clock.hpp"

namespace meridian::health {

enum class Health : std::uint8_t {
  unknown,  ///< not probed yet
  up,
  down,
};

const char* to_string(Health health) noexcept;

class RiseFall {
 public:
  RiseFall(std::uint32_t rise, std::uint32_t fall) noexcept;

  /// Applies one probe result at `now`; returns true when the state changed.
  bool record(bool passed, Clock::TimePoint now) noexcept;

  Health state() const noexcept { return state_; }
  Clock::TimePoint since() const noexcept { return since_; }
  /// Consecutive passes (while down) or failures (while up) so far.
  std::uint32_t streak() const noexcept { return streak_; }
  /// True while the state could change at the next probes: down, unknown,
  /// or up with failures in a row.
  bool in_transition() const noexcept { return state_ != Health::up || streak_ > 0; }
  /// Probes needed before the state can change (1 while unknown).
  std::uint32_t probes_to_change() const noexcept;

 private:
  std::uint32_t rise_;
  std::uint32_t fall_;
  Health state_ = Health::unknown;
  std::uint32_t streak_ = 0;
  Clock::TimePoint since_{};
};

}  // namespace meridian::health
