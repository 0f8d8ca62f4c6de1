#pragma once
// The health of every probed target and the operator's overrides, IO-free:
// probe results and override changes go in, the effective health of each
// target and how soon it could change come out. The routing table is built
// from this; the admin API will show it. Not thread-safe: one owner (the
// monitor's strand) calls it; others read snapshots.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/ip_address.hpp"
#include "health/check.hpp"
#include "health/probe.hpp"
#include "health/state.hpp"

namespace meridian::health {

/// One thing to watch: an address at a site, probed with `check` (or never,
/// when `check` is empty: such a target is always up unless overridden).
struct TargetSpec {
  IpAddress address;
  std::uint32_t site = 0;
  std::optional<CheckSpec> check;
  /// False when, in a cluster, other sites' nodes probe it (check.probe_from):
  /// this node sends it no probes and keeps no view of its own.
  bool probed_here = true;
  friend bool operator==(const TargetSpec&, const TargetSpec&) = default;
};

/// An operator's decision that beats the probes.
enum class Override : std::uint8_t {
  none,
  force_up,    ///< answer it whatever the probes say
  force_down,  ///< drain: never answer it (unless nothing else is left)
};

const char* to_string(Override value) noexcept;

/// What an unprobed (unknown) target counts as in answers.
enum class UnknownPolicy : std::uint8_t { up, down };

/// Everything known about one target.
struct TargetState {
  Health probed = Health::unknown;  ///< from probes only
  Clock::TimePoint since{};         ///< of the probed state
  std::uint32_t streak = 0;         ///< results in a row against the probed state
  std::optional<ProbeResult> last;  ///< the last probe's result
  Clock::TimePoint last_probe{};
  std::string last_failure;  ///< reason of the latest failure, kept after recovery
  Override endpoint_override = Override::none;
  Override site_override = Override::none;

  /// The override in force: the endpoint's beats its site's.
  Override effective_override() const noexcept {
    return endpoint_override != Override::none ? endpoint_override : site_override;
  }
};

class HealthTracker {
 public:
  HealthTracker(std::vector<TargetSpec> targets, UnknownPolicy unknown);

  std::size_t size() const noexcept { return targets_.size(); }
  const TargetSpec& target(std::size_t i) const noexcept { return targets_[i]; }
  const TargetState& state(std::size_t i) const noexcept { return states_[i]; }

  /// Records a probe of target `i`. Returns true when answers or their TTLs
  /// may change: the usable verdict flipped or a transition began, moved or
  /// ended. A result that is no verdict (ProbeResult::counts_as_verdict():
  /// the probe could not run here) changes nothing and returns false: a
  /// node short of descriptors must not mark its targets down.
  bool record(std::size_t i, const ProbeResult& result, Clock::TimePoint now);

  /// Takes over the probe state (not the overrides) of every target that
  /// `previous` also has, so a config reload does not forget health.
  void inherit(const HealthTracker& previous);

  /// Sets the override of every target at `address` (all checks). Returns
  /// the number of targets touched (0: no such endpoint).
  std::size_t set_endpoint_override(const IpAddress& address, Override value);
  /// Sets the override of every target at `site`. Returns targets touched.
  std::size_t set_site_override(std::uint32_t site, Override value);

  /// Whether answers may use target `i`: the override, else the probed state
  /// (unknown counted per the UnknownPolicy).
  bool usable(std::size_t i) const noexcept;
  /// How soon target `i`'s usability could change on its own (by probes):
  /// nullopt when stable (up with no failure streak, or overridden).
  std::optional<std::chrono::milliseconds> change_within(std::size_t i) const noexcept;

 private:
  std::vector<TargetSpec> targets_;
  std::vector<TargetState> states_;
  std::vector<RiseFall> machines_;
  UnknownPolicy unknown_;
};

}  // namespace meridian::health
