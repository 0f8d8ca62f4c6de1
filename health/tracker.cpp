#include "health/tracker.hpp"

#include <string>
#include <unordered_map>

#include "base/assert.hpp"

namespace meridian::health {

const char* to_string(Override value) noexcept {
  switch (value) {
    case Override::none: return "none";
    case Override::force_up: return "force-up";
    case Override::force_down: return "drain";
  }
  return "?";
}

HealthTracker::HealthTracker(std::vector<TargetSpec> targets, UnknownPolicy unknown)
    : targets_(std::move(targets)), states_(targets_.size()), unknown_(unknown) {
  machines_.reserve(targets_.size());
  for (const TargetSpec& target : targets_) {
    if (target.check) {
      machines_.emplace_back(target.check->rise, target.check->fall);
    } else {
      machines_.emplace_back(1, 1);  // never fed: an unchecked target is up
    }
  }
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    if (!targets_[i].check) states_[i].probed = Health::up;
  }
}

bool HealthTracker::record(std::size_t i, const ProbeResult& result, Clock::TimePoint now) {
  MERIDIAN_ASSERT(i < targets_.size() && targets_[i].check, "probe result for an unchecked target");
  if (!result.counts_as_verdict()) return false;
  TargetState& state = states_[i];
  RiseFall& machine = machines_[i];
  const bool was_usable = usable(i);
  const auto was_change = change_within(i);

  machine.record(result.ok, now);
  state.probed = machine.state();
  state.since = machine.since();
  state.streak = machine.streak();
  state.last = result;
  state.last_probe = now;
  if (!result.ok) {
    state.last_failure = to_string(result.failure);
    if (!result.detail.empty()) state.last_failure += ": " + result.detail;
  }
  return was_usable != usable(i) || was_change != change_within(i);
}

void HealthTracker::inherit(const HealthTracker& previous) {
  // Index the previous targets by address: reloads of large configs must
  // not compare every target with every other.
  std::unordered_multimap<std::string, std::size_t> by_address;
  for (std::size_t j = 0; j < previous.targets_.size(); ++j) {
    const auto& bytes = previous.targets_[j].address.bytes;
    by_address.emplace(std::string(bytes.begin(), bytes.end()), j);
  }
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    const auto& bytes = targets_[i].address.bytes;
    const auto [first, last] = by_address.equal_range(std::string(bytes.begin(), bytes.end()));
    for (auto it = first; it != last; ++it) {
      const std::size_t j = it->second;
      if (!(targets_[i] == previous.targets_[j])) continue;
      const Override endpoint_override = states_[i].endpoint_override;
      const Override site_override = states_[i].site_override;
      states_[i] = previous.states_[j];
      states_[i].endpoint_override = endpoint_override;
      states_[i].site_override = site_override;
      machines_[i] = previous.machines_[j];
      break;
    }
  }
}

std::size_t HealthTracker::set_endpoint_override(const IpAddress& address, Override value) {
  std::size_t touched = 0;
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    if (targets_[i].address == address) {
      states_[i].endpoint_override = value;
      ++touched;
    }
  }
  return touched;
}

std::size_t HealthTracker::set_site_override(std::uint32_t site, Override value) {
  std::size_t touched = 0;
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    if (targets_[i].site == site) {
      states_[i].site_override = value;
      ++touched;
    }
  }
  return touched;
}

bool HealthTracker::usable(std::size_t i) const noexcept {
  const TargetState& state = states_[i];
  switch (state.effective_override()) {
    case Override::force_up: return true;
    case Override::force_down: return false;
    case Override::none: break;
  }
  if (state.probed == Health::unknown) return unknown_ == UnknownPolicy::up;
  return state.probed == Health::up;
}

std::optional<std::chrono::milliseconds> HealthTracker::change_within(
    std::size_t i) const noexcept {
  if (!targets_[i].check || states_[i].effective_override() != Override::none) return std::nullopt;
  const RiseFall& machine = machines_[i];
  if (!machine.in_transition()) return std::nullopt;
  // The next probe is at most one interval away; each further one another.
  return machine.probes_to_change() * targets_[i].check->interval;
}

}  // namespace meridian::health
