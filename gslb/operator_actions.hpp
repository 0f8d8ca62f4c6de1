#pragma once
// Operator overrides as an operator sets them (docs/architecture.md):
// which endpoints and sites an override may name, and writing one (or
// removing it) together with its entry in the event log. The records are
// in gslb/health_records.hpp; every node's verdict follower
// (gslb/verdict_follower.hpp) applies them, and the decider expires them.
//
// The request's texts arrive as the admin API received them
// (POST /api/v1/overrides); error messages name its fields.
//
// Thread rule: override_target_known and parse_override_duration are pure.
// OperatorActions may be used from any thread but a store callback's;
// `done` runs once, on a thread of the store's or before set_override
// returns, and must be quick.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.hpp"
#include "base/result.hpp"
#include "config/config.hpp"
#include "gslb/health_records.hpp"
#include "store/replicated_store.hpp"

namespace meridian::gslb {

/// Whether an operator override may name `name`: a site of `config` (when
/// `site`), else an address its endpoints answer with or are probed at.
/// Errors say what is not known.
Result<void> override_target_known(const Config& config, bool site, const std::string& name);

/// Longest scheduled override: a year.
inline constexpr std::chrono::milliseconds kMaxOverrideDuration{365ull * 24 * 3600 * 1000};

/// "90s", "30m", "2h", "7d": a whole positive number and one unit, at most
/// kMaxOverrideDuration; nullopt otherwise.
std::optional<std::chrono::milliseconds> parse_override_duration(std::string_view text);

/// The author of an action that names none.
inline constexpr std::string_view kDefaultActionAuthor = "admin API";

/// One override change, as an operator asked for it.
struct OverrideRequest {
  bool site = false;     ///< `name` is a site (else an endpoint address)
  std::string name;      ///< checked with override_target_known beforehand
  std::string state;     ///< "drain", "down", "up", or "none" (remove the override)
  std::string author;    ///< empty: kDefaultActionAuthor
  std::string reason;    ///< may be empty
  std::string duration;  ///< parse_override_duration's format; empty: until removed
};

/// What an applied change left in the store.
struct OverrideWritten {
  std::string key;  ///< the override's key (kSiteOverridePrefix or kEndpointOverridePrefix + name)
  std::optional<OperatorOverride> value;  ///< in force now; nullopt: removed
};

/// Why a change was not applied.
enum class OverrideErrorKind : std::uint8_t {
  invalid,  ///< a bad state, author, reason or duration: nothing was written
  store,    ///< the store did not write the override: `store` says why
};

struct OverrideError {
  OverrideErrorKind kind = OverrideErrorKind::invalid;
  std::string message;
  std::optional<store::StoreError> store;  ///< with kind store
};

using OverrideDone =
    std::function<void(OverrideWritten written, std::optional<OverrideError> error)>;

class OperatorActions {
 public:
  /// `node` names this node: its event-log entries are written as
  /// "<node>-api", so their keys never meet those of its health loop.
  /// `store` (also until every write in flight is answered) and `clock`
  /// (whose wall time stamps the override and the event) must outlive the
  /// object.
  OperatorActions(store::ReplicatedStore& store, const Clock& clock, const std::string& node);

  /// Checks `request` (state, author, reason, duration, in that order),
  /// writes or deletes the override, and once that is applied, logs the
  /// action (an event the caller does not wait for: the action is in force
  /// whether or not its log entry follows).
  void set_override(const OverrideRequest& request, OverrideDone done);

 private:
  store::ReplicatedStore& store_;
  const Clock& clock_;
  const std::string writer_;
  /// Of this writer's event keys; shared with writes in flight, which may
  /// outlive the object.
  std::shared_ptr<std::atomic<std::uint64_t>> sequence_ =
      std::make_shared<std::atomic<std::uint64_t>>(0);
};

}  // namespace meridian::gslb
