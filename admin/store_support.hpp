#pragma once
// What the store-backed API routes (store_api, health_api, config_api) share:
// one mapping from a store error to an HTTP answer, so a client sees the
// same status for the same failure on every route, and the parsing of their
// request bodies and read modes.

#include <boost/json/object.hpp>
#include <cstdint>

#include "admin/http_server.hpp"
#include "base/result.hpp"
#include "store/replicated_store.hpp"

namespace meridian::admin {

/// The answer to a request the store could not carry out, as JSON with
/// "error": invalid 400; conflict 409; not_leader 421 with "leader" and
/// "leader_admin" when known (the CLI asks the leader then); unavailable 503
/// (retry); timeout 504 with "outcome": "unknown" (a write may still commit).
HttpResponse store_error_response(const store::StoreError& error);

/// The JSON object of a request body, or an error naming what is wrong.
Result<boost::json::object> object_body(const HttpRequest& request);

/// `?consistency=linearizable` (the default) or `local`.
Result<store::ReadMode> read_mode(const HttpRequest& request);

/// Milliseconds since the Unix epoch (the times records carry).
std::uint64_t wall_ms();

}  // namespace meridian::admin
