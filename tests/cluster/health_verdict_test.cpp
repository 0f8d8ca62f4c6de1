#include "cluster/health_verdict.hpp"

#include <catch2/catch.hpp>

using namespace meridian::cluster;

namespace {
using Views = std::vector<std::optional<bool>>;
constexpr std::optional<bool> U = true, D = false, N = std::nullopt;
}  // namespace

TEST_CASE("health verdict: quorum rules over the live observers' views", "[cluster][health]") {
  struct Case {
    Quorum quorum;
    Views views;
    std::optional<bool> up;  // nullopt: no decision (keep the last verdict)
    std::uint32_t observers_up, observers;
  };
  const Case cases[] = {
      {Quorum::majority, {U, U, D}, true, 2, 3},
      {Quorum::majority, {U, D, D}, false, 1, 3},
      {Quorum::majority, {U, D}, false, 1, 2},  // a tie is no majority
      {Quorum::majority, {U, N, N}, true, 1, 1},  // undecided observers do not count
      {Quorum::majority, {N, N}, std::nullopt, 0, 0},
      {Quorum::majority, {}, std::nullopt, 0, 0},
      {Quorum::any, {U, D, D}, true, 1, 3},
      {Quorum::any, {D, D}, false, 0, 2},
      {Quorum::all, {U, U, D}, false, 2, 3},
      {Quorum::all, {U, U, N}, true, 2, 2},
  };
  for (const Case& c : cases) {
    INFO("quorum " << static_cast<int>(c.quorum) << ", " << c.views.size() << " views");
    const auto verdict = decide(c.quorum, c.views);
    REQUIRE(verdict.has_value() == c.up.has_value());
    if (!verdict) continue;
    CHECK(verdict->up == *c.up);
    CHECK(verdict->observers_up == c.observers_up);
    CHECK(verdict->observers == c.observers);
  }
}

TEST_CASE("health verdict: observations and verdicts round-trip as text; damage is an error", "[cluster][health]") {
  const Observations observations{{"192.0.2.1@eu/web:80", U}, {"192.0.2.2@us/none", D}, {"2001:db8::1@ap/web:80", N}};
  const std::string text = encode_observations(observations);
  CHECK(text == "192.0.2.1@eu/web:80\tu\n192.0.2.2@us/none\td\n2001:db8::1@ap/web:80\t?\n");
  CHECK(decode_observations(text).value() == observations);
  CHECK(decode_observations("").value().empty());
  for (const char* bad : {"a\tu", "a\tx\n", "\tu\n", "a u\n", "a\tuu\n"}) CHECK_FALSE(decode_observations(bad).ok());

  const Verdict verdict{false, 1, 3};
  CHECK(encode_verdict(verdict) == "down 1/3");
  CHECK(decode_verdict("down 1/3").value() == verdict);
  CHECK(decode_verdict("up 2/2").value() == Verdict{true, 2, 2});
  for (const char* bad : {"", "up", "up 1", "up 3/2", "maybe 1/1", "up -1/2", "up 1/2x"}) {
    CHECK_FALSE(decode_verdict(bad).ok());
  }
}
