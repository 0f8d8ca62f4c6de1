#pragma once
// Replicated health, the pure part (DESIGN.md §5): how observations from
// many sites become one verdict per endpoint, and how both are stored in the
// replicated key-value state. No IO, no clock: cluster/replicated_health.hpp
// drives it.
//
// Keys (all reserved, written only by members themselves):
//   _health/obs/<node>       the node's current view of every target it probes
//   _health/lease/<node>     renewed by the node every publish interval
//   _health/verdict/<target> the verdict every member answers from
//
// Values are short text, readable with `meridian kv scan _health/`:
//   observations: one line per target, "<target>\t<u|d|?>"
//   verdict:      "<up|down> <observers up>/<observers with a view>"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace meridian::cluster {

inline constexpr std::string_view kObservationPrefix = "_health/obs/";
inline constexpr std::string_view kLeasePrefix = "_health/lease/";
inline constexpr std::string_view kVerdictPrefix = "_health/verdict/";

/// How many observers must see a target up for it to be up.
enum class Quorum : std::uint8_t {
  majority,  ///< more than half of the live observers with a view (default)
  any,       ///< at least one
  all,       ///< every one
};

/// One observer's view of the targets it probes: target key -> up (true),
/// down (false), not yet known (nullopt).
using Observations = std::map<std::string, std::optional<bool>>;

std::string encode_observations(const Observations& observations);
/// Errors on a malformed line (the value came from a member, so this is
/// damage or a newer version: the caller ignores that observer).
Result<Observations> decode_observations(std::string_view text);

struct Verdict {
  bool up = true;
  std::uint32_t observers_up = 0;
  std::uint32_t observers = 0;  ///< live observers with a view

  friend bool operator==(const Verdict&, const Verdict&) = default;
};

std::string encode_verdict(const Verdict& verdict);
Result<Verdict> decode_verdict(std::string_view text);

/// The verdict from the views of the live observers of one target
/// (nullopt entries: the observer has not decided yet). nullopt when no
/// live observer has a view: the caller keeps the last verdict (stale).
std::optional<Verdict> decide(Quorum quorum, const std::vector<std::optional<bool>>& views);

}  // namespace meridian::cluster
