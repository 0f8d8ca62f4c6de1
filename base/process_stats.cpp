#include "base/process_stats.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace meridian {

std::optional<ProcessStats> read_process_stats() {
  ProcessStats stats;
  // statm: size resident shared text lib data dt, in pages.
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return std::nullopt;
  unsigned long long size = 0, resident = 0;
  const int read = std::fscanf(statm, "%llu %llu", &size, &resident);
  std::fclose(statm);
  if (read != 2) return std::nullopt;
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  stats.virtual_bytes = size * page;
  stats.resident_bytes = resident * page;

  if (DIR* fds = ::opendir("/proc/self/fd")) {
    while (const dirent* entry = ::readdir(fds)) {
      if (entry->d_name[0] != '.') ++stats.open_fds;
    }
    ::closedir(fds);
    if (stats.open_fds > 0) --stats.open_fds;  // the directory stream itself
  }

  timespec cpu{};
  if (::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) == 0) {
    stats.cpu_seconds = static_cast<double>(cpu.tv_sec) + static_cast<double>(cpu.tv_nsec) / 1e9;
  }
  return stats;
}

}  // namespace meridian
