#pragma once
// Moving the replicated state between stores (the built-in Raft store and
// etcd; docs/operating-a-cluster.md "Moving to etcd and back"):
//
//   GET  /api/v1/store/export    {"format": "meridian-store", "version": 1, "backend",
//                                 "node", "exported_ms", "entries": [{"key", "value"}]}
//   POST /api/v1/store/import    {"format", "version", "entries": [...],
//                                 "begin": bool, "replace": bool, "keep": [KEY...]}
//
// What moves is what operators and the event log made and what no live
// node remakes: config versions (_config/), overrides (_ops/), the event
// log (_events/) and the operators' own keys (no leading '_'). Health
// records (observations, leases, verdicts), the built-in store's member
// records and etcd's election key are remade by the nodes of the store they
// run on within seconds, so they stay behind.
//
// Export reads the whole state in one linearizable scan (one consistent
// point), ordered so an import written in that order is always coherent:
// config versions first, the pointer to the current version last.
//
// Import writes the entries in the order given. A client sends a large
// state in several requests (each under the admin server's body limit):
// the first has "begin": true, where the store must hold no transferable
// state (409 otherwise), unless "replace": true, when every transferable key
// not listed in "keep" (the whole import's keys) is deleted first. Answers
// {"written": N, "deleted": M}; a key outside what moves is a 400 naming it.
// Both need the bearer token: the import writes, and the export hands out
// the config versions as stored, with the secrets that every other route
// shows as "<redacted>" (docs/security.md), since an import must restore
// them.

#include "admin/http_server.hpp"
#include "gslb/node_api.hpp"

namespace meridian::admin {

/// Adds the two routes above; `node` has a store and outlives `server`.
void add_store_transfer_routes(HttpServer& server, gslb::NodeApi& node);

}  // namespace meridian::admin
