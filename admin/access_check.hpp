#pragma once
// Private to admin/: whether a request may reach its route, by the route's
// Access and the Authorization header (admin/http_server.hpp lists the
// answers). One function for every kind of route, so that a read that
// needs the token (admin.require_token_for_reads, the store export) is
// refused exactly as a mutation is.
//
// Thread rule: pure; any thread.

#include <optional>
#include <string_view>

#include "admin/bearer_token.hpp"
#include "admin/http_server.hpp"

namespace meridian::admin {

/// What the server's settings say about tokens.
struct AccessPolicy {
  /// The configured token; null when there is none (then mutations and
  /// secret reads are disabled).
  const BearerToken* token = nullptr;
  /// HttpServerSettings::token_for_reads. Precondition (asserted): a token
  /// when set.
  bool token_for_reads = false;
};

/// True when a route of `access` needs the token under `policy`.
bool needs_token(Access access, const AccessPolicy& policy);

/// Nullopt when a request with `authorization` (the header's value, "" when
/// absent) may reach a route of `access`; else the answer it gets: 401
/// with "WWW-Authenticate: Bearer" when the token is missing (no header,
/// another scheme), 403 when it is wrong, 403 when the route needs a token
/// and none is configured. Every refusal has a JSON {"error"} saying why.
std::optional<HttpResponse> access_refusal(Access access, const AccessPolicy& policy,
                                           std::string_view authorization);

}  // namespace meridian::admin
