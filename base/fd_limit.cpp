#include "base/fd_limit.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace meridian {
namespace {

std::uint64_t from_rlim(rlim_t value) {
  return value == RLIM_INFINITY ? FdLimit::kUnlimited : static_cast<std::uint64_t>(value);
}

/// Linux's ceiling on a process's descriptors; 0 when unknown.
std::uint64_t nr_open() {
  std::ifstream file("/proc/sys/fs/nr_open");
  std::uint64_t value = 0;
  if (!(file >> value)) return 0;
  return value;
}

}  // namespace

Result<FdLimit> read_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return fail("cannot read the open-file limit (RLIMIT_NOFILE): ", std::strerror(errno));
  }
  return FdLimit{from_rlim(limit.rlim_cur), from_rlim(limit.rlim_max)};
}

Result<FdLimitRaise> raise_fd_limit() {
  auto before = read_fd_limit();
  if (!before) return before.error();
  FdLimitRaise raise{*before, *before};
  std::uint64_t target = before->hard;
  if (target == FdLimit::kUnlimited) target = nr_open();
  if (target == 0 || target <= before->soft) return raise;
  rlimit limit{};
  limit.rlim_cur = static_cast<rlim_t>(target);
  limit.rlim_max =
      before->hard == FdLimit::kUnlimited ? RLIM_INFINITY : static_cast<rlim_t>(before->hard);
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return fail("cannot raise the open-file limit (RLIMIT_NOFILE) from ",
                std::to_string(before->soft), " to ", std::to_string(target), ": ",
                std::strerror(errno));
  }
  raise.after.soft = target;
  return raise;
}

}  // namespace meridian
