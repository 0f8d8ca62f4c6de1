#include <catch2/catch.hpp>

#include "admin/bearer_token.hpp"

using namespace meridian::admin;
using Verdict = BearerToken::Verdict;

TEST_CASE("bearer_token: only printable tokens without spaces are usable", "[admin]") {
  CHECK(BearerToken::make("s3cret-token_~+/=").has_value());
  for (const char* bad : {"", "two words", "tab\there", "new\nline", "\x7f"}) {
    INFO(bad);
    CHECK_FALSE(BearerToken::make(bad).has_value());
  }
}

TEST_CASE("bearer_token: check judges the Authorization header", "[admin]") {
  const auto token = BearerToken::make("s3cret");
  REQUIRE(token.has_value());
  struct Case {
    const char* header;
    Verdict verdict;
  };
  const Case cases[] = {
      {"Bearer s3cret", Verdict::ok},     {"bearer s3cret", Verdict::ok},
      {"BEARER   s3cret  ", Verdict::ok}, {"Bearer s3cre", Verdict::wrong},
      {"Bearer s3cret2", Verdict::wrong}, {"Bearer S3CRET", Verdict::wrong},
      {"Bearer x", Verdict::wrong},       {"", Verdict::missing},
      {"Bearer", Verdict::missing},       {"Bearer ", Verdict::missing},
      {"s3cret", Verdict::missing},       {"Basic czNjcmV0", Verdict::missing},
      {"Bearers3cret", Verdict::missing},
  };
  for (const Case& c : cases) {
    INFO('"' << c.header << '"');
    CHECK(token->check(c.header) == c.verdict);
  }
}
