#pragma once
// A linearizability checker for the simulator's client history (Wing & Gong,
// with Lowe's memoization, as in Knossos/Porcupine), for a per-key register
// with compare-and-set.
//
// The history is split by key (linearizability is compositional), and each
// key's operations are searched for a total order that respects real time
// (an operation that completed before another was invoked comes first) and
// the register's semantics. States visited as (set of linearized operations,
// register value) are memoized, so the search is exponential only in the
// concurrency, not in the history length.
//
// Operations whose outcome is unknown (a timeout, a crash of the node that
// took them) may take effect at any point after their invocation, or never;
// their reported result is ignored.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace meridian::sim {

enum class OpKind : std::uint8_t { put, get, cas };

/// One client operation. Times are simulator event numbers: distinct, so
/// "before" is unambiguous. `complete` is never for unknown outcomes.
struct Operation {
  static constexpr std::uint64_t never = std::numeric_limits<std::uint64_t>::max();

  std::uint64_t client = 0;
  OpKind kind = OpKind::put;
  std::string key;
  std::optional<std::string> value;     ///< put: the value; cas: the new value
  std::optional<std::string> expected;  ///< cas: the expected value (nullopt: absent)
  std::uint64_t invoke = 0;
  std::uint64_t complete = never;
  bool unknown = false;             ///< outcome unknown: may or may not have taken effect
  bool ok = true;                   ///< cas: whether it succeeded
  std::optional<std::string> read;  ///< get: the value read
};

struct CheckResult {
  bool linearizable = true;
  /// The search gave up (too many states): neither proven nor refuted.
  bool inconclusive = false;
  std::string key;          ///< the first key found not linearizable
  std::string explanation;  ///< its operations, for the report
};

/// Checks `history` (any order). `max_states` bounds the memo per key.
CheckResult check_linearizable(const std::vector<Operation>& history,
                               std::size_t max_states = 2'000'000);

/// One line describing `op`, for traces and failure reports.
std::string describe(const Operation& op);

}  // namespace meridian::sim
