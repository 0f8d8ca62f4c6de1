#include <catch2/catch.hpp>

#include "admin/url.hpp"

using namespace meridian::admin;

TEST_CASE("url: percent_decode decodes escapes and rejects malformed ones", "[admin]") {
  struct Case {
    const char* text;
    bool plus_as_space;
    const char* decoded;  // nullptr: rejected
  };
  const Case cases[] = {
      {"plain", false, "plain"},
      {"a%2Fb", false, "a/b"},
      {"a%2fb%20c", false, "a/b c"},
      {"%e2%82%AC", false, "\xe2\x82\xac"},
      {"a+b", false, "a+b"},
      {"a+b", true, "a b"},
      {"%2B", true, "+"},
      {"", false, ""},
      {"%", false, nullptr},
      {"%4", false, nullptr},
      {"a%4", false, nullptr},
      {"%zz", false, nullptr},
      {"%4g", false, nullptr},
      {"%00", false, nullptr},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    const auto decoded = percent_decode(c.text, c.plus_as_space);
    if (c.decoded == nullptr) {
      CHECK_FALSE(decoded.has_value());
    } else {
      REQUIRE(decoded.has_value());
      CHECK(*decoded == c.decoded);
    }
  }
}

TEST_CASE("url: percent_encode escapes all but unreserved bytes and round-trips", "[admin]") {
  CHECK(percent_encode("a/b c") == "a%2Fb%20c");
  CHECK(percent_encode("AZaz09-._~") == "AZaz09-._~");
  CHECK(percent_encode("+&=?#%") == "%2B%26%3D%3F%23%25");
  CHECK(percent_encode("\xe2\x82\xac") == "%E2%82%AC");
  for (const char* text : {"", "x", "key/with spaces & ampersands", "100%", "\x01\x7f\xff"}) {
    INFO(text);
    CHECK(percent_decode(percent_encode(text), true) == std::string(text));
  }
}

TEST_CASE("url: parse_query splits, decodes and keeps the last repeated key", "[admin]") {
  const auto query =
      parse_query("name=www.example.com&client=192.0.2.1&flag&x=1%262&y=a+b&&x2=&x=3");
  REQUIRE(query.has_value());
  const std::map<std::string, std::string> expected = {{"name", "www.example.com"},
                                                       {"client", "192.0.2.1"},
                                                       {"flag", ""},
                                                       {"x", "3"},
                                                       {"y", "a b"},
                                                       {"x2", ""}};
  CHECK(*query == expected);
  CHECK(parse_query("")->empty());
  CHECK(parse_query("a=%zz") == std::nullopt);
  CHECK(parse_query("%=1") == std::nullopt);
  CHECK(parse_query("a=b=c")->at("a") == "b=c");
}
