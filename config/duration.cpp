#include "config/duration.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>

namespace meridian {
namespace {

struct Unit {
  std::string_view suffix;
  std::int64_t ms;
};

// Largest first: a compound must list its parts in this order, which also
// rules out a unit given twice.
constexpr std::array<Unit, 5> kUnits{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

// Reads the unit at the front of `text`; "ms" must win over "m".
int match_unit(std::string_view text, std::size_t& length) noexcept {
  if (text.starts_with("ms")) {
    length = 2;
    return 4;
  }
  for (int i = 0; i < 4; ++i) {
    if (text.starts_with(kUnits[static_cast<std::size_t>(i)].suffix)) {
      length = 1;
      return i;
    }
  }
  return -1;
}

}  // namespace

bool parse_duration(std::string_view text, std::chrono::milliseconds& out) noexcept {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  if (text.empty()) return false;
  std::int64_t total = 0;
  int previous_unit = -1;
  bool plain = true;
  while (!text.empty()) {
    std::int64_t number = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    // from_chars accepts a leading '-'; durations are never negative.
    if (ec != std::errc() || end == text.data() || text.front() == '-') return false;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    if (text.empty()) {
      // A bare number: seconds, but only as the whole text.
      if (!plain) return false;
      if (number > kMax / 1000) return false;
      out = std::chrono::milliseconds(number * 1000);
      return true;
    }
    plain = false;
    std::size_t length = 0;
    const int unit = match_unit(text, length);
    if (unit < 0 || unit <= previous_unit) return false;
    previous_unit = unit;
    text.remove_prefix(length);
    const std::int64_t scale = kUnits[static_cast<std::size_t>(unit)].ms;
    if (number > kMax / scale || total > kMax - number * scale) return false;
    total += number * scale;
  }
  out = std::chrono::milliseconds(total);
  return true;
}

std::string format_duration(std::chrono::milliseconds value) {
  std::int64_t rest = value.count();
  if (rest <= 0) return rest == 0 ? "0s" : "-" + format_duration(-value);
  std::string text;
  for (const Unit& unit : kUnits) {
    if (rest >= unit.ms) {
      text += std::to_string(rest / unit.ms);
      text += unit.suffix;
      rest %= unit.ms;
    }
  }
  return text;
}

}  // namespace meridian
