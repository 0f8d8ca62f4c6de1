#pragma once
// Replicated health, the pure part (docs/architecture.md): how observations from
// many sites become one verdict per endpoint, and how both are stored in the
// replicated key-value state. No IO, no clock: gslb/replicated_health.hpp
// drives it.
//
// Keys (all reserved, written only by members themselves):
//   _health/obs/<node>       the node's current view of every target it probes
//   _health/lease/<node>     renewed by the node every publish interval
//   _health/verdict/<target> the verdict every member answers from
//   _ops/override/endpoint/<address>, _ops/override/site/<site>
//                            an operator's decision (OperatorOverride)
//   _events/<time>-<node>-<n> one entry of the event log (Event)
//
// Values are short text, readable with `meridian kv scan _health/`:
//   observations: one line per target, "<target>\t<u|d|?>"
//   verdict:      "<up|down> <observers up>/<observers with a view>[ stale]"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace meridian::gslb {

inline constexpr std::string_view kObservationPrefix = "_health/obs/";
inline constexpr std::string_view kLeasePrefix = "_health/lease/";
inline constexpr std::string_view kVerdictPrefix = "_health/verdict/";
inline constexpr std::string_view kEndpointOverridePrefix = "_ops/override/endpoint/";
inline constexpr std::string_view kSiteOverridePrefix = "_ops/override/site/";
inline constexpr std::string_view kEventPrefix = "_events/";
/// The event log keeps this many entries; the leader deletes older ones.
inline constexpr std::size_t kMaxEvents = 1000;
/// Longest author or reason of an operator action, in bytes.
inline constexpr std::size_t kMaxActionText = 256;

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
  /// No live observer has a view any more: the last verdict stands, but
  /// nobody is watching (every observer of it is silent).
  bool stale = false;

  friend bool operator==(const Verdict&, const Verdict&) = default;
};

std::string encode_verdict(const Verdict& verdict);
Result<Verdict> decode_verdict(std::string_view text);

/// What an operator decided for an endpoint or a site.
enum class ForcedState : std::uint8_t {
  drain,  ///< out of answers (planned: maintenance)
  down,   ///< out of answers (known broken)
  up,     ///< in answers whatever the probes say
};
const char* to_string(ForcedState state) noexcept;
/// Parses "drain", "down" or "up".
std::optional<ForcedState> parse_forced_state(std::string_view text) noexcept;

struct OperatorOverride {
  ForcedState state = ForcedState::drain;
  std::uint64_t set_ms = 0;      ///< wall clock (Unix ms) when it was set
  std::uint64_t expires_ms = 0;  ///< wall clock when it ends by itself; 0: never
  std::string author;            ///< at most kMaxActionText, no tab or newline
  std::string reason;            ///< likewise

  friend bool operator==(const OperatorOverride&, const OperatorOverride&) = default;
};

/// "<state>\t<set_ms>\t<expires_ms>\t<author>\t<reason>"
std::string encode_override(const OperatorOverride& value);
Result<OperatorOverride> decode_override(std::string_view text);
/// Checks author and reason (length, no tab, newline or control character).
Result<void> validate_action_text(std::string_view text, std::string_view what);

/// One entry of the event log: a verdict change or an operator action.
struct Event {
  std::uint64_t time_ms = 0;  ///< wall clock (Unix ms)
  std::string kind;           ///< "verdict", "override", "override-expired", "override-removed"
  std::string subject;        ///< the target key, "endpoint ADDR" or "site NAME"
  std::string detail;         ///< e.g. "down 0/3", "drain until ...", the reason
  std::string author;         ///< the operator, or the node that decided

  friend bool operator==(const Event&, const Event&) = default;
};

/// Five tab-separated fields; tabs and newlines inside them become spaces.
std::string encode_event(const Event& event);
Result<Event> decode_event(std::string_view text);
/// The key of an event: time first, so keys sort by time.
std::string event_key(std::uint64_t time_ms, std::string_view node, std::uint64_t sequence);

/// The verdict from the views of the live observers of one target
/// (nullopt entries: the observer has not decided yet). nullopt when no
/// live observer has a view: the caller keeps the last verdict (stale).
std::optional<Verdict> decide(Quorum quorum, const std::vector<std::optional<bool>>& views);

}  // namespace meridian::gslb
