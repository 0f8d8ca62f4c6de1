#include <catch2/catch.hpp>

#include <sys/resource.h>

#include "base/fd_limit.hpp"

using namespace meridian;

namespace {

/// Restores RLIMIT_NOFILE as it was when made.
struct SavedLimit {
  rlimit saved{};
  SavedLimit() { REQUIRE(getrlimit(RLIMIT_NOFILE, &saved) == 0); }
  ~SavedLimit() { setrlimit(RLIMIT_NOFILE, &saved); }
};

}  // namespace

TEST_CASE("fd limit: read_fd_limit reports getrlimit's values", "[base]") {
  rlimit expected{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &expected) == 0);
  const auto limit = read_fd_limit();
  REQUIRE(limit.ok());
  CHECK(limit->soft ==
        (expected.rlim_cur == RLIM_INFINITY ? FdLimit::kUnlimited : expected.rlim_cur));
  CHECK(limit->hard ==
        (expected.rlim_max == RLIM_INFINITY ? FdLimit::kUnlimited : expected.rlim_max));
}

TEST_CASE("fd limit: raise_fd_limit lifts the soft limit to the hard one", "[base]") {
  SavedLimit saved;
  if (saved.saved.rlim_max == RLIM_INFINITY || saved.saved.rlim_max < 64) {
    SUCCEED("the hard limit is unlimited or tiny here: nothing to lower and raise");
    return;
  }
  rlimit lowered = saved.saved;
  lowered.rlim_cur = 32;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &lowered) == 0);

  const auto raised = raise_fd_limit();
  REQUIRE(raised.ok());
  CHECK(raised->before.soft == 32);
  CHECK(raised->after.soft == saved.saved.rlim_max);
  CHECK(raised->after.hard == saved.saved.rlim_max);
  const auto now = read_fd_limit();
  REQUIRE(now.ok());
  CHECK(now->soft == saved.saved.rlim_max);

  // Already at the hard limit: nothing changes.
  const auto again = raise_fd_limit();
  REQUIRE(again.ok());
  CHECK(again->before.soft == again->after.soft);
}
