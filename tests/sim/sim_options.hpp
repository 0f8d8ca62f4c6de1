#pragma once
// The command line both simulators share: one seed (replay, with a trace),
// or a range of seeds with an optional wall-clock budget.

#include <cstdint>
#include <optional>
#include <string_view>

namespace meridian::sim {

struct SimCommandLine {
  bool single = false;  ///< --seed N: one run
  std::uint64_t seed = 0;
  bool trace = false;
  std::uint64_t first = 0, count = 0;  ///< --seeds FIRST:COUNT
  std::uint64_t budget_seconds = 0;    ///< 0: no budget, every seed runs
};

/// `--seed N [--trace]` or `--seeds FIRST:COUNT [--budget-seconds S]`;
/// nullopt on anything else.
inline std::optional<SimCommandLine> parse_sim_options(int argc, char** argv) {
  const auto parse_u64 = [](std::string_view text, std::uint64_t& out) {
    if (text.empty()) return false;
    std::uint64_t value = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return false;
      value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out = value;
    return true;
  };
  SimCommandLine options;
  bool many = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--trace") {
      options.trace = true;
    } else if (arg == "--seed" && has_value) {
      if (!parse_u64(argv[++i], options.seed)) return std::nullopt;
      options.single = true;
    } else if (arg == "--seeds" && has_value) {
      const std::string_view range = argv[++i];
      const auto colon = range.find(':');
      if (colon == std::string_view::npos || !parse_u64(range.substr(0, colon), options.first) ||
          !parse_u64(range.substr(colon + 1), options.count)) {
        return std::nullopt;
      }
      many = true;
    } else if (arg == "--budget-seconds" && has_value) {
      if (!parse_u64(argv[++i], options.budget_seconds)) return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  if (options.single == many) return std::nullopt;
  return options;
}

}  // namespace meridian::sim
