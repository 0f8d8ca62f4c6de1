#include <catch2/catch.hpp>

#include <map>
#include <vector>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "base/result.hpp"
#include "base/rng.hpp"

using namespace meridian;

TEST_CASE("rng: one seed gives one sequence", "[base]") {
  Rng a(123);
  Rng b(123);
  Rng c(124);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next();
    CHECK(x == b.next());
    differs = differs || x != c.next();
  }
  CHECK(differs);
}

TEST_CASE("rng: below() is in range and roughly uniform", "[base]") {
  Rng rng(7);
  std::map<std::uint64_t, int> counts;
  for (int i = 0; i < 60000; ++i) {
    const auto v = rng.below(6);
    REQUIRE(v < 6);
    ++counts[v];
  }
  for (const auto& [value, count] : counts) CHECK(std::abs(count - 10000) < 500);
}

TEST_CASE("clock: the manual clock moves only when told", "[base]") {
  ManualClock clock;
  const auto start = clock.now();
  CHECK(clock.now() == start);
  clock.advance(std::chrono::seconds(5));
  CHECK(clock.now() - start == std::chrono::seconds(5));
  clock.advance(std::chrono::seconds(-1));  // never backwards
  CHECK(clock.now() - start == std::chrono::seconds(5));
  SystemClock system;
  const auto first = system.now();
  const auto second = system.now();
  CHECK(first <= second);
}

TEST_CASE("result: values and errors", "[base]") {
  Result<int> good = 4;
  REQUIRE(good.ok());
  CHECK(*good == 4);
  Result<int> bad = fail("no ", "luck");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "no luck");
  Result<void> done;
  CHECK(done.ok());
  Result<void> failed = Error{"x"};
  CHECK_FALSE(failed.ok());
}

TEST_CASE("log: lines below the threshold are dropped", "[base]") {
  std::vector<std::string> lines;
  Logger logger(LogLevel::warn, [&](std::string_view line) { lines.emplace_back(line); });
  logger.info("dns", "hidden");
  logger.warn("dns", "shown");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "WARN dns: shown\n");
  LogLevel level;
  CHECK(parse_log_level("debug", level));
  CHECK(level == LogLevel::debug);
  CHECK_FALSE(parse_log_level("verbose", level));
}
