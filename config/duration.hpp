#pragma once
// Durations as operators write them in the config: "500ms", "10s", "5m",
// "1h", "7d", compounds such as "1h30m", or a plain integer meaning seconds.

#include <chrono>
#include <string>
#include <string_view>

namespace meridian {

/// Parses `text` into `out`. Accepted: a plain non-negative integer (seconds),
/// or one or more NUMBER UNIT pairs with units ms, s, m, h, d, largest first
/// and each at most once ("1h30m", not "30m1h"). No signs, spaces or
/// fractions. Returns false on anything else or on overflow; `out` is
/// untouched then.
bool parse_duration(std::string_view text, std::chrono::milliseconds& out) noexcept;

/// Text that parse_duration reads back as `value` (>= 0), largest units
/// first: "1h30m", "500ms", "0s".
std::string format_duration(std::chrono::milliseconds value);

}  // namespace meridian
