#include <catch2/catch.hpp>

#include "config/duration.hpp"

using meridian::format_duration;
using meridian::parse_duration;
using std::chrono::milliseconds;

TEST_CASE("duration: accepted forms read as milliseconds", "[main]") {
  const std::pair<const char*, std::int64_t> kCases[] = {
      {"0", 0},
      {"10", 10'000},
      {"500ms", 500},
      {"10s", 10'000},
      {"5m", 300'000},
      {"1h", 3'600'000},
      {"7d", 604'800'000},
      {"1h30m", 5'400'000},
      {"1m500ms", 60'500},
      {"2d3h4m5s6ms", 183'845'006},
      {"0s", 0},
  };
  for (const auto& [text, ms] : kCases) {
    INFO(text);
    milliseconds value{-1};
    REQUIRE(parse_duration(text, value));
    CHECK(value.count() == ms);
  }
}

TEST_CASE("duration: malformed text is rejected and leaves the output alone", "[main]") {
  const char* const kCases[] = {"",
                                "s",
                                "-5s",
                                "+5s",
                                "5 s",
                                "1.5s",
                                "5x",
                                "5sm",
                                "30m1h",
                                "1s1s",
                                "10s5",
                                "ms",
                                "1hh",
                                " 5s",
                                "5s ",
                                "99999999999999999999",
                                "9223372036854775807s"};
  for (const char* text : kCases) {
    INFO(text);
    milliseconds value{42};
    CHECK_FALSE(parse_duration(text, value));
    CHECK(value.count() == 42);
  }
}

TEST_CASE("duration: format_duration reads back", "[main]") {
  CHECK(format_duration(milliseconds(0)) == "0s");
  CHECK(format_duration(milliseconds(100)) == "100ms");
  CHECK(format_duration(milliseconds(3'600'000)) == "1h");
  CHECK(format_duration(milliseconds(5'400'500)) == "1h30m500ms");
  for (std::int64_t ms : {1, 999, 1000, 61'001, 86'400'000, 90'061'001}) {
    milliseconds back{};
    REQUIRE(parse_duration(format_duration(milliseconds(ms)), back));
    CHECK(back.count() == ms);
  }
}
