#pragma once
// The dashboard (docs/admin-api.md): one page that reads the JSON API every two
// seconds and shows the node, its sites on a world map, the services and
// endpoints with their verdicts, the health matrix, the cluster members,
// the query rate per site, the event log, an explain box, and drain/restore
// buttons that send the operator's token with POST /api/v1/overrides. On a
// node whose reads need the token (admin.require_token_for_reads) it asks
// for the token first and sends it with every read.
//
//   GET /                        index.html
//   GET /assets/dashboard.css
//   GET /assets/dashboard.js     the entry module; it imports, from /assets/:
//       dom.js format.js api.js  helpers: elements, numbers and times, the API
//       header.js sites.js map.js overrides.js services.js matrix.js
//       cluster.js rate_chart.js events.js explain.js operation_dialog.js
//       unlock.js                one panel of the page each
//   GET /assets/world.js         the land outline of the map (an ES module)
//   GET /assets/favicon.svg
//
// The assets (admin/dashboard/) are compiled into the binary at build time
// (admin/embed_files.cmake): a request never names a file, only one of the
// exact routes above; anything else is the server's 404. Every answer
// carries "Cache-Control: no-cache" (a browser revalidates, so a new binary
// is picked up at once) and a Content-Security-Policy that lets the page
// load nothing from other origins, run no inline script, and be framed by
// no one. The page keeps the token in memory only (see dashboard.js).
// These routes are open to anyone who reaches the listener, whatever
// require_token_for_reads says (Access::open): they are the same bytes in
// every copy of the binary and hold nothing of the node, and a browser
// cannot send a bearer token with the navigation that loads the page.

#include <string_view>
#include <vector>

#include "admin/http_server.hpp"

namespace meridian::admin {

/// The Content-Security-Policy of every dashboard answer.
inline constexpr std::string_view kDashboardPolicy =
    "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One asset as it is served.
struct DashboardAsset {
  std::string_view route;         ///< the exact path ("/assets/dashboard.js")
  std::string_view content_type;  ///< with its charset
  std::string_view body;          ///< static storage: the embedded bytes
};

/// Every asset, the page first. Never empty; the same on every call.
const std::vector<DashboardAsset>& dashboard_assets();

/// Adds a GET (and so HEAD) route per asset. Precondition: before the
/// server starts; no other route has these paths.
void add_dashboard_routes(HttpServer& server);

}  // namespace meridian::admin
