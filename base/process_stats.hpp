#pragma once
// This process's resource use, read from /proc (Linux): for the
// process_* metrics and the node status.

#include <cstdint>
#include <optional>

namespace meridian {

struct ProcessStats {
  std::uint64_t resident_bytes = 0;  ///< resident set size
  std::uint64_t virtual_bytes = 0;
  std::uint64_t open_fds = 0;
  double cpu_seconds = 0;  ///< user + system
};

/// nullopt when /proc cannot be read (not Linux, or no procfs mounted).
std::optional<ProcessStats> read_process_stats();

}  // namespace meridian
