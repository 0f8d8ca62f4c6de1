#include <catch2/catch.hpp>

#include "admin/router.hpp"

using namespace meridian::admin;

namespace {

HttpServer::Handler tagged(std::string tag) {
  return [tag](HttpRequest, Responder respond) { respond(error_response(200, tag)); };
}

}  // namespace

TEST_CASE("router: exact beats prefix, longer prefix beats shorter, HEAD falls back to GET",
          "[admin]") {
  Router router;
  router.add(http::verb::get, "/api/v1/status", Access::read, tagged("status"));
  router.add(http::verb::get, "/api/v1/*", Access::read, tagged("v1"));
  router.add(http::verb::get, "/api/v1/kv/*", Access::read, tagged("kv"));
  router.add(http::verb::put, "/api/v1/kv/*", Access::mutate, tagged("kv put"));
  router.add(http::verb::post, "/api/v1/status", Access::mutate, tagged("status post"));

  struct Case {
    http::verb method;
    const char* path;
    const char* pattern;  // nullptr: no route
    const char* rest;
    const char* allow;
  };
  const Case cases[] = {
      {http::verb::get, "/api/v1/status", "/api/v1/status", "", ""},
      {http::verb::head, "/api/v1/status", "/api/v1/status", "", ""},
      {http::verb::post, "/api/v1/status", "/api/v1/status", "", ""},
      {http::verb::get, "/api/v1/kv/a/b", "/api/v1/kv/", "a/b", ""},
      {http::verb::get, "/api/v1/kv/", "/api/v1/kv/", "", ""},
      {http::verb::put, "/api/v1/kv/x", "/api/v1/kv/", "x", ""},
      {http::verb::get, "/api/v1/kv", "/api/v1/", "kv", ""},
      {http::verb::get, "/api/v1/status/x", "/api/v1/", "status/x", ""},
      {http::verb::delete_, "/api/v1/kv/x", nullptr, "", "GET, HEAD, PUT"},
      {http::verb::put, "/api/v1/status", nullptr, "", "GET, HEAD, POST"},
      {http::verb::put, "/api/v1/other", nullptr, "", "GET, HEAD"},
      {http::verb::get, "/api/v2/status", nullptr, "", ""},
      {http::verb::get, "/", nullptr, "", ""},
      {http::verb::get, "/api/v1", nullptr, "", ""},
  };
  for (const Case& c : cases) {
    INFO(http::to_string(c.method) << " " << c.path);
    const RouteMatch match = router.find(c.method, c.path);
    if (c.pattern == nullptr) {
      CHECK(match.route == nullptr);
      CHECK(match.allow == c.allow);
    } else {
      REQUIRE(match.route != nullptr);
      CHECK(match.route->pattern == c.pattern);
      CHECK(match.rest == c.rest);
    }
  }
}

TEST_CASE("router: HEAD prefers an explicit HEAD route", "[admin]") {
  Router router;
  router.add(http::verb::get, "/x", Access::read, tagged("get"));
  router.add(http::verb::head, "/x", Access::read, tagged("head"));
  const RouteMatch match = router.find(http::verb::head, "/x");
  REQUIRE(match.route != nullptr);
  CHECK(match.route->method == http::verb::head);
}
