#pragma once
// The one mapping from a store error to an HTTP answer, shared by every
// route that reaches the store (store, health and config routes), so that
// a client sees the same status for the same failure on every route.

#include "admin/http_server.hpp"
#include "store/replicated_store.hpp"

namespace meridian::admin {

/// The answer to a request the store could not carry out, as JSON with
/// "error": invalid 400; conflict 409; not_leader 421 with "leader" and
/// "leader_admin" when known (the CLI asks the leader then); unavailable 503
/// (retry); timeout 504 with "outcome": "unknown" (a write may still commit).
HttpResponse store_error_response(const store::StoreError& error);

}  // namespace meridian::admin
