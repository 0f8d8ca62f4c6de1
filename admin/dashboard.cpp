#include "admin/dashboard.hpp"

#include <cstdlib>
#include <cstring>
#include <string>

#include "admin/embedded_files.hpp"
#include "base/assert.hpp"

namespace meridian::admin {

namespace {

struct Served {
  const char* file;  ///< the name embed_files.cmake gave it
  std::string_view route;
  std::string_view content_type;
};

// The routes are fixed here, not derived from file names: a request can
// only ever reach one of these byte arrays.
constexpr Served kServed[] = {
    {"index.html", "/", "text/html; charset=utf-8"},
    {"dashboard.css", "/assets/dashboard.css", "text/css; charset=utf-8"},
    // The entry module; the modules it imports (relative to /assets/) follow.
    {"dashboard.js", "/assets/dashboard.js", "text/javascript; charset=utf-8"},
    {"dom.js", "/assets/dom.js", "text/javascript; charset=utf-8"},
    {"format.js", "/assets/format.js", "text/javascript; charset=utf-8"},
    {"api.js", "/assets/api.js", "text/javascript; charset=utf-8"},
    {"header.js", "/assets/header.js", "text/javascript; charset=utf-8"},
    {"sites.js", "/assets/sites.js", "text/javascript; charset=utf-8"},
    {"map.js", "/assets/map.js", "text/javascript; charset=utf-8"},
    {"overrides.js", "/assets/overrides.js", "text/javascript; charset=utf-8"},
    {"services.js", "/assets/services.js", "text/javascript; charset=utf-8"},
    {"matrix.js", "/assets/matrix.js", "text/javascript; charset=utf-8"},
    {"cluster.js", "/assets/cluster.js", "text/javascript; charset=utf-8"},
    {"rate_chart.js", "/assets/rate_chart.js", "text/javascript; charset=utf-8"},
    {"events.js", "/assets/events.js", "text/javascript; charset=utf-8"},
    {"explain.js", "/assets/explain.js", "text/javascript; charset=utf-8"},
    {"operation_dialog.js", "/assets/operation_dialog.js", "text/javascript; charset=utf-8"},
    {"world.js", "/assets/world.js", "text/javascript; charset=utf-8"},
    {"favicon.svg", "/assets/favicon.svg", "image/svg+xml"},
};

std::string_view embedded_file(const char* name) {
  for (std::size_t i = 0; i < embedded::kFileCount; ++i) {
    const embedded::EmbeddedFile& file = embedded::kFiles[i];
    if (std::strcmp(file.name, name) == 0) {
      return {reinterpret_cast<const char*>(file.data), file.size};
    }
  }
  // A build that embeds other files than this table serves is a bug
  // (admin/CMakeLists.txt lists them); the message names the missing one.
  MERIDIAN_ASSERT(false && "a dashboard asset was not embedded", name);
  std::abort();
}

std::vector<DashboardAsset> build_assets() {
  std::vector<DashboardAsset> assets;
  for (const Served& served : kServed) {
    assets.push_back({served.route, served.content_type, embedded_file(served.file)});
  }
  return assets;
}

}  // namespace

const std::vector<DashboardAsset>& dashboard_assets() {
  static const std::vector<DashboardAsset> assets = build_assets();
  return assets;
}

void add_dashboard_routes(HttpServer& server) {
  for (const DashboardAsset& asset : dashboard_assets()) {
    server.route(http::verb::get, std::string(asset.route), Access::read, [asset](HttpRequest, Responder respond) {
      HttpResponse response;
      response.content_type = std::string(asset.content_type);
      response.body = std::string(asset.body);
      response.headers = {{"Cache-Control", "no-cache"},
                          {"Content-Security-Policy", std::string(kDashboardPolicy)},
                          {"X-Frame-Options", "DENY"},
                          {"Referrer-Policy", "no-referrer"}};
      respond(std::move(response));
    });
  }
}

}  // namespace meridian::admin
