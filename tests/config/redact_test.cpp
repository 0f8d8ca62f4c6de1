// Secrets out of config texts (config/redact.hpp): which header values are
// secrets, every way YAML can write one replaced in place with the rest of
// the text as it was, the fallback when a layout is not measured, what is
// withheld whole, and the loader refusing a redacted text applied again.

#include "config/redact.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "config/config.hpp"
#include "tests/config/test_support.hpp"

using namespace meridian;

namespace {

/// kHealthConfig (line numbers matter) with `web`'s check replaced.
std::string health_config_with(const std::string& web_check) {
  return test::with("  web: { type: http, path: /healthz }", web_check, test::kHealthConfig);
}

}  // namespace

TEST_CASE("redact: which headers hold secrets", "[config][redact]") {
  for (const char* name :
       {"Authorization", "authorization", "Proxy-Authorization", "Cookie", "X-Api-Key",
        "X-Auth-Token", "X-Vault-Token", "X-Secret", "X-Password", "Api-Key", "X-Session-Id",
        "X-Amz-Security-Token", "X-Client-Credential", "PRIVATE-TOKEN"}) {
    INFO(name);
    CHECK(is_secret_header(name));
  }
  for (const char* name : {"Host", "Accept", "User-Agent", "X-Probe", "Content-Type",
                           "X-Request-Id", "Cache-Control", "X-Forwarded-For"}) {
    INFO(name);
    CHECK_FALSE(is_secret_header(name));
  }
}

TEST_CASE("redact: each way of writing a value is replaced in place, nothing else changes",
          "[config][redact]") {
  struct Case {
    const char* what;
    std::string text;
    std::string expected;
  };
  const Case cases[] = {
      {"plain, block map, with a comment",
       "checks:\n  api:\n    headers:\n      Authorization: Bearer abc123  # note\n"
       "      Accept: text/plain\n",
       "checks:\n  api:\n    headers:\n      Authorization: <redacted>  # note\n"
       "      Accept: text/plain\n"},
      {"double-quoted with escapes and a quote inside",
       "checks: { api: { headers: { Authorization: \"Bearer a\\\"b\\\\c\", X-Probe: m } } }\n",
       "checks: { api: { headers: { Authorization: \"<redacted>\", X-Probe: m } } }\n"},
      {"single-quoted with a doubled quote",
       "checks:\n  api:\n    headers: { Cookie: 'sid=a''b; x=1', Accept: '*/*' }\n",
       "checks:\n  api:\n    headers: { Cookie: '<redacted>', Accept: '*/*' }\n"},
      {"plain in a flow map, before a comma and before the brace",
       "checks: { api: { headers: { X-Api-Key: k1, X-Auth-Token: t2 } } }\n",
       "checks: { api: { headers: { X-Api-Key: <redacted>, X-Auth-Token: <redacted> } } }\n"},
      {"a literal block scalar",
       "checks:\n  api:\n    headers:\n      Authorization: |\n        Bearer abc\n\n"
       "      Accept: x\n",
       "checks:\n  api:\n    headers:\n      Authorization: <redacted>\n\n      Accept: x\n"},
      {"a folded block scalar with a chomping indicator, last in the file",
       "checks:\n  api:\n    headers:\n      Authorization: >-\n        Bearer\n        abc\n",
       "checks:\n  api:\n    headers:\n      Authorization: <redacted>\n"},
      {"a plain scalar over two lines, then a comment line",
       "checks:\n  api:\n    headers:\n      Authorization: Bearer\n        abc\n"
       "      # a comment\n      Accept: x\n",
       "checks:\n  api:\n    headers:\n      Authorization: <redacted>\n"
       "      # a comment\n      Accept: x\n"},
      {"the value on the line after its key",
       "checks:\n  api:\n    headers:\n      Authorization:\n        \"Bearer abc\"\n",
       "checks:\n  api:\n    headers:\n      Authorization:\n        \"<redacted>\"\n"},
      {"a tag and an anchor before the value, an alias elsewhere",
       "checks:\n  a:\n    headers: { Authorization: !!str &tok Bearer abc }\n"
       "  b:\n    headers: { Authorization: *tok }\n",
       "checks:\n  a:\n    headers: { Authorization: !!str &tok <redacted> }\n"
       "  b:\n    headers: { Authorization: *tok }\n"},
      {"an endpoint's check map",
       "zones:\n  - services:\n      www:\n        endpoints:\n          - { address: 192.0.2.1, "
       "check: { use: web, headers: { Authorization: Bearer e1 } } }\n",
       "zones:\n  - services:\n      www:\n        endpoints:\n          - { address: 192.0.2.1, "
       "check: { use: web, headers: { Authorization: <redacted> } } }\n"},
      {"CRLF line ends",
       "checks:\r\n  api:\r\n    headers:\r\n      Authorization: Bearer abc\r\n      Accept: "
       "x\r\n",
       "checks:\r\n  api:\r\n    headers:\r\n      Authorization: <redacted>\r\n      Accept: "
       "x\r\n"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    CHECK(redact_config_text(c.text) == c.expected);
  }
}

TEST_CASE("redact: a text without secrets comes back byte for byte", "[config][redact]") {
  for (const std::string& text :
       {test::kHealthConfig, test::kBaseConfig, std::string("sites: A\n"), std::string(""),
        std::string("# only a comment\n"), std::string("checks: { api: { headers: {} } }\n"),
        std::string("checks: { api: { headers: { X-Probe: Bearer-looking } } }\n")}) {
    CHECK(redact_config_text(text) == text);
  }
}

TEST_CASE("redact: a layout not measured in place is written out again, secrets replaced",
          "[config][redact]") {
  // A flow scalar that goes on over a line: the in-place cut would keep
  // "abc", so the check refuses it and the emitter writes the document.
  const std::string text =
      "# keep me?\nchecks: { api: { headers: { Authorization: Bearer\n    abc, Accept: x } } }\n";
  const std::string redacted = redact_config_text(text);
  CHECK(redacted.find("abc") == std::string::npos);
  CHECK(redacted.find("Bearer") == std::string::npos);
  CHECK_THAT(redacted, Catch::StartsWith("# Written out again by Meridian to hide its secrets"));
  CHECK_THAT(redacted, Catch::Contains("<redacted>"));
  CHECK_THAT(redacted, Catch::Contains("Accept: x"));
  CHECK(redacted.find("keep me") == std::string::npos);  // comments are not kept
}

TEST_CASE("redact: what cannot be read as one document is withheld whole", "[config][redact]") {
  CHECK(redact_config_text("checks: { api: { headers: { Authorization: [ }\n") == kRedacted);
  CHECK(redact_config_text("sites: A\n---\nchecks: { a: { headers: { Cookie: c } } }\n") ==
        kRedacted);
  // Deeper than the limit.
  std::string deep;
  for (std::size_t i = 0; i <= redact_limits::kMaxDepth + 1; ++i) deep += "[";
  for (std::size_t i = 0; i <= redact_limits::kMaxDepth + 1; ++i) deep += "]";
  CHECK(redact_config_text(deep) == kRedacted);
  // At the limit, fine.
  std::string shallow;
  for (std::size_t i = 0; i < redact_limits::kMaxDepth; ++i) shallow += "[";
  for (std::size_t i = 0; i < redact_limits::kMaxDepth; ++i) shallow += "]";
  CHECK(redact_config_text(shallow) == shallow);
}

TEST_CASE("redact: a whole config keeps loading, and its redacted text is refused",
          "[config][redact]") {
  const std::string config = health_config_with(
      "  web: { type: http, path: /healthz, headers: { Authorization: \"Bearer s3cret\", "
      "X-Probe: m } }");
  auto loaded = test::parse(config);
  REQUIRE(loaded.ok());
  const auto web = std::find_if(loaded->checks.begin(), loaded->checks.end(),
                                [](const health::CheckSpec& check) { return check.name == "web"; });
  REQUIRE(web != loaded->checks.end());
  CHECK(web->http.headers[0].second == "Bearer s3cret");

  const std::string redacted = redact_config_text(config);
  CHECK(redacted.find("s3cret") == std::string::npos);
  // Applying the text read back from the API would probe with the marker:
  // the loader says where and why instead.
  CHECK_THAT(test::errors_of(redacted),
             Catch::Contains("test.yaml:23:64: checks.web.headers.Authorization: expected the real "
                             "value of Authorization, found \"<redacted>\", what the admin API "
                             "shows instead of a secret: put the secret back"));
  // A header that is no secret may hold the marker's text.
  CHECK(test::parse(health_config_with("  web: { type: http, headers: { X-Probe: <redacted> } }"))
            .ok());
}
