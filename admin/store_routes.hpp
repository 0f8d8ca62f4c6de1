#pragma once
// The consensus store's part of the admin API (docs/architecture.md): the
// cluster's status and membership, and raw access to the replicated
// key-value state for operators and tests.
//
//   GET    /api/v1/cluster                   this node's view: role, term, leader, indices, and
//   every
//                                            member's role, term, commit/applied index, lag,
//                                            addresses
//   POST   /api/v1/cluster/learners          {"name": N, "address": "HOST:PORT"}  add a learner
//   POST   /api/v1/cluster/promote           {"name": N}  learner -> voter
//   POST   /api/v1/cluster/remove            {"name": N}
//   POST   /api/v1/cluster/transfer-leader   {"name": N}
//   GET    /api/v1/kv?prefix=P&limit=N       keys under P (limit 1..10000, default 1000)
//   GET    /api/v1/kv/KEY                    {"key", "value"} or 404
//   PUT    /api/v1/kv/KEY                    {"value": V}
//   DELETE /api/v1/kv/KEY
//   POST   /api/v1/kv/KEY                    {"expected": V or null, "value": V or null}
//   compare-and-set
//
// Reads take ?consistency=linearizable (the default: reflects every write
// acknowledged before it) or local (this node's applied state, possibly
// stale). Mutations need the bearer token. A config version's record
// (_config/version/...) is read with its text's secrets shown as
// "<redacted>" (gslb/config_versions.hpp shown_store_value); the store keeps
// them, and only the store export (admin/store_transfer_routes.hpp), which
// needs the token, hands them out.
//
// Key writes may go to any member (a follower forwards them to the leader);
// membership changes must reach the leader.
//
// Errors (JSON {"error": ...}): 400 bad request (JSON, names, keys), 409 the
// change does not apply (e.g. already a member; a failed compare-and-set
// answers 409 with "current"), 421 this node is not the leader (membership
// changes; with "leader" and "leader_admin" when known: send it there), 503
// the store is unavailable (no leader, stopping), 504 timed out: the
// write's outcome is unknown.

#include <boost/json/object.hpp>

#include "admin/http_server.hpp"
#include "gslb/node_api.hpp"
#include "store/replicated_store.hpp"

namespace meridian::admin {

/// Adds the routes above, over node.store(). Precondition: the node is in
/// a cluster (node.store() is not null). `node` must outlive the server.
void add_store_routes(HttpServer& server, gslb::NodeApi& node);

/// The JSON document GET /api/v1/cluster answers (also for the dashboard).
boost::json::object cluster_status_json(const store::StoreStatus& status);

}  // namespace meridian::admin
