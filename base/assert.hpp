#pragma once
// Assertions for bugs: a broken invariant aborts with its location and a
// message. Expected failures use Result (base/result.hpp) instead. Always on,
// also in release builds: a node that continues after a broken invariant could
// serve wrong answers or corrupt state.

#include <cstdio>
#include <cstdlib>

#define MERIDIAN_ASSERT(condition, message)                                                      \
  do {                                                                                           \
    if (!(condition)) [[unlikely]] {                                                             \
      std::fprintf(stderr, "%s:%d: assertion failed: %s (%s)\n", __FILE__, __LINE__, #condition, \
                   message);                                                                     \
      std::abort();                                                                              \
    }                                                                                            \
  } while (false)
