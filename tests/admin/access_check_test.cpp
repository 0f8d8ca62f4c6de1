// Who reaches which route (admin/access_check.hpp): every kind of route
// against every kind of Authorization header, with reads open and with
// admin.require_token_for_reads, with and without a configured token.

#include "admin/access_check.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

using namespace meridian::admin;

namespace {

constexpr unsigned kPass = 0;  // no refusal: the route runs

/// The status a request gets, or kPass.
unsigned status_of(Access access, const AccessPolicy& policy, std::string_view authorization) {
  const auto refusal = access_refusal(access, policy, authorization);
  return refusal ? refusal->status : kPass;
}

const char* name_of(Access access) {
  switch (access) {
    case Access::open: return "open";
    case Access::read: return "read";
    case Access::secret: return "secret";
    case Access::mutate: return "mutate";
  }
  return "?";
}

}  // namespace

TEST_CASE("access_check: each kind of route under each policy", "[admin]") {
  const auto token = BearerToken::make("s3cret");
  REQUIRE(token.has_value());
  const AccessPolicy no_token{nullptr, false};
  const AccessPolicy reads_open{&*token, false};
  const AccessPolicy reads_guarded{&*token, true};

  struct Case {
    Access access;
    const AccessPolicy* policy;
    unsigned missing;  // no Authorization header
    unsigned wrong;    // "Bearer not-it"
    unsigned right;    // "Bearer s3cret"
  };
  const Case cases[] = {
      // The dashboard's page and assets: always.
      {Access::open, &no_token, kPass, kPass, kPass},
      {Access::open, &reads_open, kPass, kPass, kPass},
      {Access::open, &reads_guarded, kPass, kPass, kPass},
      // Reads: open unless the policy guards them, then as mutations.
      {Access::read, &no_token, kPass, kPass, kPass},
      {Access::read, &reads_open, kPass, kPass, kPass},
      {Access::read, &reads_guarded, 401, 403, kPass},
      // Secret reads (the store export) and mutations: the token always;
      // off without one.
      {Access::secret, &no_token, 403, 403, 403},
      {Access::secret, &reads_open, 401, 403, kPass},
      {Access::secret, &reads_guarded, 401, 403, kPass},
      {Access::mutate, &no_token, 403, 403, 403},
      {Access::mutate, &reads_open, 401, 403, kPass},
      {Access::mutate, &reads_guarded, 401, 403, kPass},
  };
  for (const Case& c : cases) {
    INFO(name_of(c.access) << " for_reads=" << c.policy->token_for_reads
                           << " token=" << (c.policy->token != nullptr));
    CHECK(status_of(c.access, *c.policy, "") == c.missing);
    CHECK(status_of(c.access, *c.policy, "Basic czNjcmV0") == c.missing);
    CHECK(status_of(c.access, *c.policy, "Bearer not-it") == c.wrong);
    CHECK(status_of(c.access, *c.policy, "Bearer s3cret") == c.right);
    CHECK(needs_token(c.access, *c.policy) == (c.missing != kPass));
  }
}

TEST_CASE("access_check: a refusal says why, as JSON, and a 401 challenges", "[admin]") {
  const auto token = BearerToken::make("s3cret");
  REQUIRE(token.has_value());
  const AccessPolicy guarded{&*token, true};

  const auto missing = access_refusal(Access::read, guarded, "");
  REQUIRE(missing);
  CHECK(missing->status == 401);
  CHECK(missing->content_type == "application/json");
  CHECK(boost::json::parse(missing->body).at("error") ==
        "this needs \"Authorization: Bearer <admin token>\"");
  REQUIRE(missing->headers.size() == 1);
  CHECK(missing->headers[0] == std::pair<std::string, std::string>("WWW-Authenticate", "Bearer"));

  const auto wrong = access_refusal(Access::read, guarded, "Bearer s3cre");
  REQUIRE(wrong);
  CHECK(boost::json::parse(wrong->body).at("error") == "wrong admin token");
  CHECK(wrong->headers.empty());

  const AccessPolicy none{nullptr, false};
  const auto disabled = access_refusal(Access::secret, none, "Bearer s3cret");
  REQUIRE(disabled);
  CHECK(boost::json::parse(disabled->body).at("error") ==
        "this read is disabled: no admin token is configured");
  CHECK(boost::json::parse(access_refusal(Access::mutate, none, "")->body).at("error") ==
        "mutations are disabled: no admin token is configured");
}
