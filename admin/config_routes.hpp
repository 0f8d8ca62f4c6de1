#pragma once
// Cluster-wide config versions in the admin API (docs/architecture.md): commit a
// new version of the shared config through any node, list and read the
// versions, roll back, and see which version this node serves. The records
// are in gslb/config_versions.hpp, the commit protocol in
// gslb/config_commit.hpp; gslb/config_follower.hpp makes every node switch
// to the current version.
//
//   GET  /api/v1/config                     this node: {"node", "file", "committed": N|null (newest
//   it has seen),
//                                            "serving": N|null (null: its own file), "fingerprint"
//                                            (served), "committed_fingerprint", "file_fingerprint",
//                                            "file_matches_committed": bool|null, "error": why the
//                                            committed version does not load here, or null}
//   POST /api/v1/config                     {"yaml": TEXT, "name": NAME (for errors; default
//   "<applied config>"),
//                                            "author": A, "comment": C} -> {"version", "previous",
//                                            "fingerprint", "ignored": [node-local sections in
//                                            TEXT, which every node ignores]}
//   POST /api/v1/config/rollback            {"version": N, "author", "comment"}: commits the text
//   of N as a new
//                                            version -> {"version", "rollback_of", ...}
//   GET  /api/v1/config/history?limit=N     {"current": N|null, "versions": [{"version", "time_ms",
//   "author",
//                                            "comment", "fingerprint", "previous": N|null,
//                                            "rollback_of": N|null, "current"}]}: the chain from
//                                            the current version back, newest first, without texts
//   GET  /api/v1/config/versions/N          one version with its "text", each secret
//                                            (a check's Authorization header, ...) shown
//                                            as "<redacted>" (config/redact.hpp)
//
// Reads take ?consistency=linearizable (default) or local, as in
// admin/store_routes.hpp.
//
// Applying: the receiving node validates TEXT's shared sections with its
// own node-local sections, exactly as it would load them (every error, one
// per line, "NAME:LINE:COLUMN: ..."), then writes the version record and
// moves _config/current to it with a compare-and-set. Nothing changes when
// validation fails, or when another apply moved _config/current meanwhile
// (409: apply again). Versions beyond the newest kMaxConfigVersions are
// deleted by the applier.
//
// Errors (JSON {"error": ...}): 400 a bad request, or an invalid config
// (then also "errors": [lines]); 404 no such version; 409 a concurrent
// apply won; 503 no leader; 504 the outcome is unknown.

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <string>

#include "admin/http_server.hpp"
#include "gslb/config_status.hpp"
#include "gslb/node_api.hpp"

namespace meridian::admin {

/// GET /api/v1/config's document for `status` (also the status route's
/// "config").
boost::json::object config_status_json(const std::string& node_name,
                                       const gslb::ConfigNodeStatus& status);

/// Adds the routes above, over node.store(); texts are validated with
/// node.validate_config and committed with gslb/config_commit.hpp.
/// Validation parses YAML and zone files, which may take a while: it runs
/// on `work` (an io_context run by some thread that is neither the
/// server's, which also serves DNS over TCP in a node, nor the store's).
/// Precondition: the node is in a cluster (node.store() is not null).
/// `work` and `node` must outlive the server.
void add_config_routes(HttpServer& server, boost::asio::io_context& work, gslb::NodeApi& node);

}  // namespace meridian::admin
