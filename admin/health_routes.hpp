#pragma once
// The replicated health's part of the admin API (docs/architecture.md):
// operator actions, verdicts and the event log, all read from and written
// to the consensus store (gslb/health_records.hpp has the records,
// gslb/operator_actions.hpp writes an override and its log entry).
//
//   GET  /api/v1/verdicts               every target's replicated verdict {"target", "up",
//   "observers_up", "observers",
//                                        "stale": no live observer is left, the last verdict
//                                        stands}
//   GET  /api/v1/overrides              the operator overrides in force
//   POST /api/v1/overrides              {"endpoint": ADDR | "site": NAME, "state":
//   "drain"|"down"|"up"|"none",
//                                        "author": A, "reason": R, "for": "2h" (optional: ends by
//                                        itself)}
//   GET  /api/v1/events?limit=N[&before=ID]
//                                        the newest N entries of the event log (default 100, at
//                                        most 1000) older than event ID, newest first: {"events":
//                                        [{"id", "time_ms", "kind", "subject", "detail",
//                                        "author"}], "next": ID of the last one when there are
//                                        older ones, else null}
//
// "none" removes the override. Every change is logged with its author and
// reason. Errors: 400 (bad JSON, unknown endpoint or site, bad duration),
// 503/504 as in admin/store_routes.hpp.

#include "admin/http_server.hpp"
#include "gslb/node_api.hpp"

namespace meridian::admin {

/// Adds the routes above, over node.store(); override targets are checked
/// with node.override_target_known. Precondition: the node is in a cluster
/// (node.store() is not null). `node` must outlive the server.
void add_health_routes(HttpServer& server, gslb::NodeApi& node);

}  // namespace meridian::admin
