#pragma once
// The replicated health's part of the admin API (DESIGN.md §5, §7):
// operator actions, verdicts and the event log, all read from and written
// to the consensus store (gslb/health_records.hpp has the records).
//
//   GET  /api/v1/verdicts               every target's replicated verdict {"target", "up", "observers_up", "observers",
//                                        "stale": no live observer is left, the last verdict stands}
//   GET  /api/v1/overrides              the operator overrides in force
//   POST /api/v1/overrides              {"endpoint": ADDR | "site": NAME, "state": "drain"|"down"|"up"|"none",
//                                        "author": A, "reason": R, "for": "2h" (optional: ends by itself)}
//   GET  /api/v1/events?limit=N[&before=ID]
//                                        the newest N entries of the event log (default 100, at most 1000)
//                                        older than event ID, newest first: {"events": [{"id", "time_ms",
//                                        "kind", "subject", "detail", "author"}], "next": ID of the last
//                                        one when there are older ones, else null}
//
// "none" removes the override. Every change is logged with its author and
// reason. Errors: 400 (bad JSON, unknown endpoint or site, bad duration),
// 503/504 as in admin/store_api.hpp.

#include <functional>
#include <string>

#include "admin/http_server.hpp"
#include "base/result.hpp"
#include "store/replicated_store.hpp"

namespace meridian::admin {

/// Says whether an override may name `name` (an endpoint address when
/// `site` is false, else a site): an error names what is known.
using OverrideTargetCheck = std::function<Result<void>(bool site, const std::string& name)>;

/// Adds the routes above. `store` must outlive the server; `check` runs on
/// the server's thread.
void add_health_routes(HttpServer& server, store::ReplicatedStore& store, std::string node_name, OverrideTargetCheck check);

}  // namespace meridian::admin
