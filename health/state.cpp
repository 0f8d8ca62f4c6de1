#include "health/state.hpp"

#include "base/assert.hpp"

namespace meridian::health {

const char* to_string(Health health) noexcept {
  switch (health) {
    case Health::unknown: return "unknown";
    case Health::up: return "up";
    case Health::down: return "down";
  }
  return "?";
}

RiseFall::RiseFall(std::uint32_t rise, std::uint32_t fall) noexcept : rise_(rise), fall_(fall) {
  MERIDIAN_ASSERT(rise >= 1 && fall >= 1, "rise and fall must be at least 1");
}

bool RiseFall::record(bool passed, Clock::TimePoint now) noexcept {
  if (state_ == Health::unknown) {
    state_ = passed ? Health::up : Health::down;
    since_ = now;
    streak_ = 0;
    return true;
  }
  // The streak counts results against the current state only.
  const bool against = (state_ == Health::up) != passed;
  if (!against) {
    streak_ = 0;
    return false;
  }
  ++streak_;
  if (streak_ < (state_ == Health::up ? fall_ : rise_)) return false;
  state_ = state_ == Health::up ? Health::down : Health::up;
  since_ = now;
  streak_ = 0;
  return true;
}

std::uint32_t RiseFall::probes_to_change() const noexcept {
  switch (state_) {
    case Health::unknown: return 1;
    case Health::up: return fall_ - streak_;
    case Health::down: return rise_ - streak_;
  }
  return 1;
}

}  // namespace meridian::health
