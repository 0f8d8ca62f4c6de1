#include "gslb/health_records.hpp"

#include <catch2/catch.hpp>

using namespace meridian::gslb;

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
      {Quorum::majority, {U, U, D}, true, 2, 3},      {Quorum::majority, {U, D, D}, false, 1, 3},
      {Quorum::majority, {U, D}, false, 1, 2},    // a tie is no majority
      {Quorum::majority, {U, N, N}, true, 1, 1},  // undecided observers do not count
      {Quorum::majority, {N, N}, std::nullopt, 0, 0}, {Quorum::majority, {}, std::nullopt, 0, 0},
      {Quorum::any, {U, D, D}, true, 1, 3},           {Quorum::any, {D, D}, false, 0, 2},
      {Quorum::all, {U, U, D}, false, 2, 3},          {Quorum::all, {U, U, N}, true, 2, 2},
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

TEST_CASE("health verdict: observations and verdicts round-trip as text; damage is an error",
          "[cluster][health]") {
  const Observations observations{
      {"192.0.2.1@eu/web:80", U}, {"192.0.2.2@us/none", D}, {"2001:db8::1@ap/web:80", N}};
  const std::string text = encode_observations(observations);
  CHECK(text == "192.0.2.1@eu/web:80\tu\n192.0.2.2@us/none\td\n2001:db8::1@ap/web:80\t?\n");
  CHECK(decode_observations(text).value() == observations);
  CHECK(decode_observations("").value().empty());
  for (const char* bad : {"a\tu", "a\tx\n", "\tu\n", "a u\n", "a\tuu\n"})
    CHECK_FALSE(decode_observations(bad).ok());

  const Verdict verdict{false, 1, 3};
  CHECK(encode_verdict(verdict) == "down 1/3");
  CHECK(decode_verdict("down 1/3").value() == verdict);
  CHECK(decode_verdict("up 2/2").value() == Verdict{true, 2, 2});
  CHECK(encode_verdict(Verdict{true, 2, 3, true}) == "up 2/3 stale");
  CHECK(decode_verdict("up 2/3 stale").value() == Verdict{true, 2, 3, true});
  for (const char* bad : {"", "up", "up 1", "up 3/2", "maybe 1/1", "up -1/2", "up 1/2x"}) {
    CHECK_FALSE(decode_verdict(bad).ok());
  }
}

TEST_CASE("health verdict: overrides and events round-trip as text; bad operator text is refused",
          "[cluster][health]") {
  const OperatorOverride drain{ForcedState::drain, 1'700'000'000'000, 1'700'000'360'000,
                               "alice@ops", "kernel update"};
  CHECK(encode_override(drain) == "drain\t1700000000000\t1700000360000\talice@ops\tkernel update");
  CHECK(decode_override(encode_override(drain)).value() == drain);
  const OperatorOverride up{ForcedState::up, 5, 0, "", ""};
  CHECK(decode_override(encode_override(up)).value() == up);
  for (const char* bad :
       {"", "drain", "sleep\t1\t0\ta\tr", "drain\tx\t0\ta\tr", "drain\t1\t0\ta"}) {
    CHECK_FALSE(decode_override(bad).ok());
  }
  CHECK(parse_forced_state("down") == ForcedState::down);
  CHECK_FALSE(parse_forced_state("none").has_value());

  CHECK(validate_action_text("kernel update, ticket OPS-12", "reason").ok());
  CHECK_FALSE(validate_action_text("two\tfields", "reason").ok());
  CHECK_FALSE(validate_action_text("two\nlines", "reason").ok());
  CHECK_FALSE(validate_action_text(std::string(kMaxActionText + 1, 'x'), "reason").ok());
  CHECK(validate_action_text("", "reason").ok());

  // Tabs and newlines in free text cannot break the record.
  const Event event{1'700'000'000'000, "override", "site eu-west", "drain: a\tb\nc", "alice"};
  const Event decoded = decode_event(encode_event(event)).value();
  CHECK(decoded.detail == "drain: a b c");
  CHECK(decoded.subject == "site eu-west");
  CHECK_FALSE(decode_event("x\tverdict\ta\tb\tc").ok());
  CHECK_FALSE(decode_event("1\t\ta\tb\tc").ok());

  // Keys sort by time, so the log reads in order with a prefix scan.
  CHECK(event_key(999, "n1", 1) < event_key(1000, "n1", 1));
  CHECK(event_key(1000, "n2", 1) < event_key(1'000'000'000'000, "n1", 1));
  CHECK(event_key(1000, "n1", 7).starts_with(kEventPrefix));
}
