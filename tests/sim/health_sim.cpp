// health_sim: the whole-cluster simulator's command line
// (tests/sim/health_simulation.hpp).
//
//   health_sim --seed N [--trace]                 one run; --trace prints every event
//   health_sim --seeds FIRST:COUNT [--budget-seconds S]
//                                                 many runs; with a budget, stops early
//                                                 when the wall-clock budget is spent
//                                                 (a soak), else runs every seed
//
// Exit status: 0 when every run passed, 1 on the first failing seed (printed
// with the command that replays it), 2 on bad usage.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

#include "tests/sim/health_simulation.hpp"
#include "tests/sim/sim_options.hpp"

namespace {

void summarize(std::uint64_t seed, const meridian::sim::HealthSimOutcome& outcome) {
  std::cout << "seed " << seed << ": " << (outcome.ok ? "ok" : "FAILED") << ", " << outcome.nodes
            << " nodes" << (outcome.stable_world ? " (stable world)" : "") << ", " << outcome.sim_ms
            << " simulated ms, " << outcome.leaders << " leader terms, " << outcome.crashes
            << " crashes, " << outcome.partitions << " partitions, " << outcome.fallbacks
            << " fallbacks, " << outcome.flips << " verdict flips, " << outcome.overrides
            << " overrides, " << outcome.probes << " probes, " << outcome.answers_compared
            << " answer comparisons\n";
  if (!outcome.ok) std::cout << outcome.failure << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = meridian::sim::parse_sim_options(argc, argv);
  if (!options) {
    std::cerr
        << "usage: health_sim --seed N [--trace] | --seeds FIRST:COUNT [--budget-seconds S]\n";
    return 2;
  }
  if (options->single) {
    const auto outcome = meridian::sim::run_health_simulation({options->seed, options->trace});
    summarize(options->seed, outcome);
    if (!outcome.ok) {
      std::cout << "FAILED seed " << options->seed << "; replay with health_sim --seed "
                << options->seed << " --trace\n";
      return 1;
    }
    return 0;
  }
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t ran = 0, flips = 0, fallbacks = 0, overrides = 0, compared = 0;
  for (std::uint64_t s = options->first; s < options->first + options->count; ++s) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (options->budget_seconds > 0 && elapsed >= static_cast<double>(options->budget_seconds)) {
      std::cout << "time budget of " << options->budget_seconds << "s spent\n";
      break;
    }
    const auto outcome = meridian::sim::run_health_simulation({s, false});
    ++ran;
    flips += outcome.flips;
    fallbacks += outcome.fallbacks;
    overrides += outcome.overrides;
    compared += outcome.answers_compared;
    if (!outcome.ok) {
      summarize(s, outcome);
      std::cout << "FAILED seed " << s << "; replay with health_sim --seed " << s << " --trace\n";
      return 1;
    }
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "%llu of %llu seeds passed in %.1fs (%.1f seeds/s): %llu verdict flips, %llu fallbacks, "
      "%llu overrides, %llu answer comparisons\n",
      static_cast<unsigned long long>(ran), static_cast<unsigned long long>(options->count),
      elapsed, elapsed > 0 ? static_cast<double>(ran) / elapsed : 0.0,
      static_cast<unsigned long long>(flips), static_cast<unsigned long long>(fallbacks),
      static_cast<unsigned long long>(overrides), static_cast<unsigned long long>(compared));
  return 0;
}
