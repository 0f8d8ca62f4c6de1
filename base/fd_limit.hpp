#pragma once
// The process's open-file limit (RLIMIT_NOFILE): read it, and raise the
// soft limit to the hard one at a node's start. Every connection, probe and
// database file a node holds is a descriptor; the soft limit is often 1024
// (the shell's or systemd's default) while the hard limit allows far more,
// and a process may raise its own soft limit up to the hard one.

#include <cstdint>

#include "base/result.hpp"

namespace meridian {

/// RLIMIT_NOFILE. kUnlimited stands for RLIM_INFINITY.
struct FdLimit {
  static constexpr std::uint64_t kUnlimited = UINT64_MAX;
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

/// The current limit. Errors name the system's reason.
Result<FdLimit> read_fd_limit();

/// The limit before and after raise_fd_limit().
struct FdLimitRaise {
  FdLimit before;
  FdLimit after;
};

/// Raises the soft limit to the hard limit. When the hard limit is
/// unlimited (which Linux does not allow as a soft limit for descriptors),
/// to the kernel's per-process ceiling (/proc/sys/fs/nr_open), else left
/// as it is. Never lowers anything. Errors name the system's reason; the
/// limit is then unchanged.
Result<FdLimitRaise> raise_fd_limit();

}  // namespace meridian
