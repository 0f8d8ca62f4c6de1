// raft_sim: the deterministic Raft cluster simulator's command line.
//
//   raft_sim --seed N [--trace]                 one run; --trace prints every event
//   raft_sim --seeds FIRST:COUNT [--budget-seconds S]
//                                               many runs; stops early when the
//                                               wall-clock budget is spent
//
// Exit status: 0 when every run passed, 1 on the first failing seed (which
// is printed with the command that reproduces it), 2 on bad usage.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "tests/sim/sim_options.hpp"
#include "tests/sim/simulation.hpp"

namespace {

void summarize(std::uint64_t seed, const meridian::sim::SimOutcome& outcome) {
  std::cout << "seed " << seed << ": " << (outcome.ok ? "ok" : "FAILED") << ", " << outcome.nodes
            << " nodes, " << outcome.sim_ms << " simulated ms, " << outcome.leaders
            << " leader terms, " << outcome.crashes << " crashes, " << outcome.partitions
            << " partitions, " << outcome.snapshots << " snapshots, "
            << (outcome.membership_changes ? "membership changed, " : "") << outcome.operations
            << " client ops (" << outcome.unknown << " unknown)"
            << (outcome.inconclusive ? ", linearizability inconclusive" : "") << "\n";
  if (!outcome.ok) std::cout << outcome.failure << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = meridian::sim::parse_sim_options(argc, argv);
  if (!options) {
    std::cerr << "usage: raft_sim --seed N [--trace] | --seeds FIRST:COUNT [--budget-seconds S]\n";
    return 2;
  }
  const bool single = options->single, trace = options->trace;
  const std::uint64_t seed = options->seed, first = options->first, count = options->count,
                      budget = options->budget_seconds;
  if (single) {
    const auto outcome = meridian::sim::run_simulation({seed, trace});
    summarize(seed, outcome);
    if (!outcome.ok) {
      std::cout << "FAILED seed " << seed << "; reproduce with raft_sim --seed " << seed
                << " --trace\n";
      return 1;
    }
    return 0;
  }

  const auto start = std::chrono::steady_clock::now();
  std::uint64_t ran = 0, operations = 0, inconclusive = 0;
  for (std::uint64_t s = first; s < first + count; ++s) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (budget > 0 && elapsed >= static_cast<double>(budget)) {
      std::cout << "time budget of " << budget << "s spent\n";
      break;
    }
    const auto outcome = meridian::sim::run_simulation({s, false});
    ++ran;
    operations += outcome.operations;
    inconclusive += outcome.inconclusive ? 1 : 0;
    if (!outcome.ok) {
      summarize(s, outcome);
      std::cout << "FAILED seed " << s << "; reproduce with raft_sim --seed " << s << " --trace\n";
      return 1;
    }
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "%llu of %llu seeds passed in %.1fs (%.1f seeds/s), %llu client ops checked, %llu "
      "inconclusive\n",
      static_cast<unsigned long long>(ran), static_cast<unsigned long long>(count), elapsed,
      elapsed > 0 ? static_cast<double>(ran) / elapsed : 0.0,
      static_cast<unsigned long long>(operations), static_cast<unsigned long long>(inconclusive));
  return 0;
}
