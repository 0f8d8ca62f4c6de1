#include "admin/dashboard.hpp"

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "admin/embedded_files.hpp"
#include "base/assert.hpp"

namespace meridian::admin {

namespace {

// What a file is served as, by its extension; the build embeds no other
// kinds (admin/CMakeLists.txt lists the files).
std::string_view content_type_of(const char* name) {
  const std::string_view file = name;
  if (file.ends_with(".html")) return "text/html; charset=utf-8";
  if (file.ends_with(".css")) return "text/css; charset=utf-8";
  if (file.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (file.ends_with(".svg")) return "image/svg+xml";
  MERIDIAN_ASSERT(false && "a dashboard asset of an unknown kind", name);
  std::abort();
}

// The routes come from the embedded table, fixed at build time: the page
// at "/", every other file at "/assets/NAME". A request can only ever reach
// one of these byte arrays, never the filesystem.
struct Assets {
  std::vector<std::string> routes;  ///< the storage the assets' routes view
  std::vector<DashboardAsset> list;
};

Assets build_assets() {
  Assets assets;
  assets.routes.reserve(embedded::kFileCount);  // no reallocation: the views stay valid
  for (std::size_t i = 0; i < embedded::kFileCount; ++i) {
    const embedded::EmbeddedFile& file = embedded::kFiles[i];
    const std::string_view name = file.name;
    const std::string_view body(reinterpret_cast<const char*>(file.data), file.size);
    if (name == "index.html") {
      assets.list.insert(assets.list.begin(), {"/", content_type_of(file.name), body});
    } else {
      assets.list.push_back({assets.routes.emplace_back("/assets/" + std::string(name)),
                             content_type_of(file.name), body});
    }
  }
  MERIDIAN_ASSERT(!assets.list.empty() && assets.list.front().route == "/",
                  "index.html was not embedded");
  return assets;
}

}  // namespace

const std::vector<DashboardAsset>& dashboard_assets() {
  static const Assets assets = build_assets();
  return assets.list;
}

void add_dashboard_routes(HttpServer& server) {
  for (const DashboardAsset& asset : dashboard_assets()) {
    server.route(http::verb::get, std::string(asset.route), Access::open,
                 [asset](const HttpRequest&, const Responder& respond) {
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
