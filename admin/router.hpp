#pragma once
// Private to admin/: HttpServer's route table. Built before the server
// starts and never changed after, so connections read it without locks.

#include <string>
#include <string_view>
#include <vector>

#include "admin/http_server.hpp"

namespace meridian::admin {

struct Route {
  http::verb method;
  /// The exact path, or for a prefix route the prefix with its '*'
  /// removed ("/api/v1/kv/").
  std::string pattern;
  bool prefix = false;
  Access access = Access::read;
  HttpServer::Handler handler;
};

/// The outcome of a lookup: a route, or why there is none.
struct RouteMatch {
  /// The route to run; null when none answers this method and path.
  const Route* route = nullptr;
  /// For a prefix route: the path after the prefix.
  std::string rest;
  /// When `route` is null but some route has the path: the methods that
  /// do, for a 405's Allow header ("GET, HEAD, POST"). Empty means 404.
  std::string allow;
};

class Router {
 public:
  /// See HttpServer::route() for the rules, asserted here.
  void add(http::verb method, std::string path, Access access, HttpServer::Handler handler);

  /// The most specific route for `method` and the decoded `path`: an exact
  /// route beats a prefix route, a longer prefix a shorter one. HEAD falls
  /// back to the GET route when no route has HEAD itself.
  RouteMatch find(http::verb method, std::string_view path) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace meridian::admin
