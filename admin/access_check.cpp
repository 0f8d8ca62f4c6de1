#include "admin/access_check.hpp"

#include "base/assert.hpp"

namespace meridian::admin {

bool needs_token(Access access, const AccessPolicy& policy) {
  MERIDIAN_ASSERT(!policy.token_for_reads || policy.token != nullptr,
                  "reads cannot need a token when there is none");
  switch (access) {
    case Access::open: return false;
    case Access::read: return policy.token_for_reads;
    case Access::secret:
    case Access::mutate: return true;
  }
  MERIDIAN_ASSERT(false, "an Access value without a rule");
  return true;
}

std::optional<HttpResponse> access_refusal(Access access, const AccessPolicy& policy,
                                           std::string_view authorization) {
  if (!needs_token(access, policy)) return std::nullopt;
  if (policy.token == nullptr) {
    // Only mutations and secret reads get here (reads need a token only
    // when one is configured): they are off, whatever the client sends.
    return error_response(403, access == Access::mutate
                                   ? "mutations are disabled: no admin token is configured"
                                   : "this read is disabled: no admin token is configured");
  }
  switch (policy.token->check(authorization)) {
    case BearerToken::Verdict::ok: return std::nullopt;
    case BearerToken::Verdict::missing: {
      HttpResponse response =
          error_response(401, "this needs \"Authorization: Bearer <admin token>\"");
      response.headers.emplace_back("WWW-Authenticate", "Bearer");
      return response;
    }
    case BearerToken::Verdict::wrong: return error_response(403, "wrong admin token");
  }
  MERIDIAN_ASSERT(false, "a token verdict without an answer");
  return error_response(403, "wrong admin token");
}

}  // namespace meridian::admin
