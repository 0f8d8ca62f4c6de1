#pragma once
// The times a query is answered at, read once per UDP batch or TCP query by
// the servers (the answerer itself reads no clock). Coarse clocks: a few
// milliseconds of resolution is plenty for cookies and rate limiting, and
// they cost no system call.

#include <ctime>  // clock_gettime, CLOCK_*_COARSE

#include <cstdint>

namespace meridian::dns {

struct QueryTime {
  std::uint32_t unix_s = 0;        ///< wall clock, seconds (cookies)
  std::uint64_t monotonic_ms = 0;  ///< monotonic milliseconds (rate limiting)
};

inline QueryTime query_time_now() noexcept {
  timespec wall{};
  timespec steady{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &wall);
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &steady);
  return QueryTime{static_cast<std::uint32_t>(wall.tv_sec),
                   static_cast<std::uint64_t>(steady.tv_sec) * 1000 +
                       static_cast<std::uint64_t>(steady.tv_nsec) / 1'000'000};
}

}  // namespace meridian::dns
