// The dashboard's routes over real loopback connections: each asset from
// memory, byte for byte the file in admin/dashboard/, with its type and the
// headers that keep the page to its own origin; nothing else answers.

#include "admin/dashboard.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "admin/http_client.hpp"
#include "http_test_support.hpp"

using namespace meridian;
using namespace meridian::admin;
using namespace meridian::admin::test;

namespace {

std::string source_file(const std::string& name) {
  std::ifstream in(std::string(MERIDIAN_SOURCE_DIR) + "/admin/dashboard/" + name, std::ios::binary);
  REQUIRE(in);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct Fixture {
  ServerThread server{test_settings(), [](HttpServer& s) { add_dashboard_routes(s); }};

  Reply get(std::string_view target, std::string_view method = "GET") {
    RawClient raw(server.port());
    REQUIRE(raw.send(std::string(method) + " " + std::string(target) +
                     " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    auto response = raw.read_response(method == "HEAD");
    REQUIRE(response);
    return std::move(*response);
  }
};

struct Expected {
  const char* route;
  const char* file;
  const char* content_type;
};

constexpr Expected kExpected[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/assets/dashboard.css", "dashboard.css", "text/css; charset=utf-8"},
    {"/assets/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"},
    {"/assets/dom.js", "dom.js", "text/javascript; charset=utf-8"},
    {"/assets/format.js", "format.js", "text/javascript; charset=utf-8"},
    {"/assets/api.js", "api.js", "text/javascript; charset=utf-8"},
    {"/assets/header.js", "header.js", "text/javascript; charset=utf-8"},
    {"/assets/sites.js", "sites.js", "text/javascript; charset=utf-8"},
    {"/assets/map.js", "map.js", "text/javascript; charset=utf-8"},
    {"/assets/overrides.js", "overrides.js", "text/javascript; charset=utf-8"},
    {"/assets/services.js", "services.js", "text/javascript; charset=utf-8"},
    {"/assets/matrix.js", "matrix.js", "text/javascript; charset=utf-8"},
    {"/assets/cluster.js", "cluster.js", "text/javascript; charset=utf-8"},
    {"/assets/rate_chart.js", "rate_chart.js", "text/javascript; charset=utf-8"},
    {"/assets/events.js", "events.js", "text/javascript; charset=utf-8"},
    {"/assets/explain.js", "explain.js", "text/javascript; charset=utf-8"},
    {"/assets/operation_dialog.js", "operation_dialog.js", "text/javascript; charset=utf-8"},
    {"/assets/unlock.js", "unlock.js", "text/javascript; charset=utf-8"},
    {"/assets/world.js", "world.js", "text/javascript; charset=utf-8"},
    {"/assets/favicon.svg", "favicon.svg", "image/svg+xml"},
};

}  // namespace

TEST_CASE("dashboard: every asset is served from memory, byte for byte, with its type", "[admin]") {
  Fixture f;
  for (const Expected& expected : kExpected) {
    INFO(expected.route);
    const Reply reply = f.get(expected.route);
    CHECK(reply.result_int() == 200);
    CHECK(reply[http::field::content_type] == expected.content_type);
    CHECK(reply.body() == source_file(expected.file));
    CHECK(reply.body().size() > 100);
  }
  REQUIRE(dashboard_assets().size() == std::size(kExpected));
  CHECK(dashboard_assets().front().route == "/");
}

TEST_CASE("dashboard: answers revalidate and keep the page to its own origin", "[admin]") {
  Fixture f;
  for (const Expected& expected : kExpected) {
    INFO(expected.route);
    const Reply reply = f.get(expected.route);
    CHECK(reply[http::field::cache_control] == "no-cache");
    const std::string policy(reply["Content-Security-Policy"]);
    CHECK(policy.starts_with("default-src 'self'"));
    CHECK(policy == kDashboardPolicy);
    CHECK(policy.find("unsafe-inline") == std::string::npos);
    CHECK(policy.find("frame-ancestors 'none'") != std::string::npos);
    CHECK(reply["X-Frame-Options"] == "DENY");
    CHECK(reply["X-Content-Type-Options"] == "nosniff");
    CHECK_FALSE(has_cors_header(reply));
  }
}

TEST_CASE("dashboard: HEAD answers the head of GET; other methods 405", "[admin]") {
  Fixture f;
  const Reply head = f.get("/assets/dashboard.js", "HEAD");
  CHECK(head.result_int() == 200);
  CHECK(head[http::field::content_type] == "text/javascript; charset=utf-8");
  CHECK(head[http::field::content_length] == std::to_string(source_file("dashboard.js").size()));
  CHECK(f.get("/", "POST").result_int() == 405);
  CHECK(f.get("/assets/world.js", "DELETE").result_int() == 405);
}

TEST_CASE("dashboard: no other path reaches a file", "[admin]") {
  Fixture f;
  for (const char* target :
       {"/x", "/../etc/passwd", "/assets/../etc/passwd", "/assets/", "/assets", "/index.html",
        "/assets/index.html", "/assets/dashboard.css/", "/assets/DASHBOARD.CSS",
        "/assets/%2e%2e/dashboard.js", "/assets/..%2Fworld.js", "/dashboard.js", "/world.js",
        "/dom.js", "/assets/dom", "/assets/./dom.js", "//", "/assets/world.js.map",
        "/admin/dashboard/index.html"}) {
    INFO(target);
    const Reply reply = f.get(target);
    CHECK(reply.result_int() == 404);
    CHECK(reply.body().find("Meridian") == std::string::npos);
  }
  // A query string does not change what a route serves.
  const Reply queried = f.get("/?token=x");
  CHECK(queried.result_int() == 200);
  CHECK(queried.body() == source_file("index.html"));
}

TEST_CASE("dashboard: the page loads only its own assets and runs no inline script", "[admin]") {
  const std::string page = source_file("index.html");
  CHECK(page.find("http:") == std::string::npos);
  CHECK(page.find("https:") == std::string::npos);
  CHECK(page.find("//") == std::string::npos);
  CHECK_FALSE(std::regex_search(
      page, std::regex(R"(\son[a-z]+\s*=)", std::regex::icase)));  // onclick=, ...
  CHECK(page.find("style=") == std::string::npos);
  // One script, ours, by src: the entry module, which imports the others.
  std::size_t scripts = 0;
  for (std::size_t at = page.find("<script"); at != std::string::npos;
       at = page.find("<script", at + 1)) {
    ++scripts;
    const std::string tag = page.substr(at, page.find('>', at) - at);
    INFO(tag);
    CHECK(tag == "<script type=\"module\" src=\"/assets/dashboard.js\"");
    CHECK(page.compare(page.find('>', at) + 1, 9, "</script>") == 0);
  }
  CHECK(scripts == 1);
  CHECK(page.find("href=\"/assets/dashboard.css\"") != std::string::npos);
}

TEST_CASE("dashboard: every script puts data into the DOM as text and keeps the token in memory",
          "[admin]") {
  std::ptrdiff_t scripts = 0;  // as count_if counts
  for (const DashboardAsset& asset : dashboard_assets()) {
    if (!asset.route.ends_with(".js")) continue;
    ++scripts;
    INFO(asset.route);
    for (const char* banned :
         {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "localStorage",
          "sessionStorage", "document.cookie", "new Function"}) {
      INFO(banned);
      CHECK(asset.body.find(banned) == std::string_view::npos);
    }
  }
  // The loop saw every script of the table above: dashboard.js, its modules, world.js.
  CHECK(scripts == std::ranges::count_if(kExpected, [](const Expected& e) {
          return std::string_view(e.route).ends_with(".js");
        }));
  CHECK(scripts > 2);
}

TEST_CASE("dashboard: every module a script imports is served, from /assets/ only", "[admin]") {
  auto served = [](const std::string& route) {
    for (const DashboardAsset& asset : dashboard_assets()) {
      if (asset.route == route) return true;
    }
    return false;
  };
  // `import ... from "./x.js"` and `import "./x.js"`: the browser asks for /assets/x.js.
  const std::regex import_from(R"re(\bimport\b[^;"]*"([^"]*)")re");
  std::size_t imports = 0;
  for (const DashboardAsset& asset : dashboard_assets()) {
    if (!asset.route.ends_with(".js")) continue;
    const std::string body(asset.body);
    for (std::sregex_iterator it(body.begin(), body.end(), import_from), end; it != end; ++it) {
      ++imports;
      const std::string target = (*it)[1];
      INFO(asset.route << " imports " << target);
      REQUIRE(target.starts_with("./"));
      CHECK(served("/assets/" + target.substr(2)));
    }
  }
  CHECK(imports > 0);
}
