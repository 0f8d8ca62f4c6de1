#include "admin/router.hpp"

#include <cstddef>
#include <limits>
#include <set>

#include "base/assert.hpp"

namespace meridian::admin {

namespace {

/// How specifically `route` matches `path`: 0 not at all, the prefix's
/// length for a prefix route, the maximum for an exact route.
std::size_t specificity(const Route& route, std::string_view path) {
  if (!route.prefix) return path == route.pattern ? std::numeric_limits<std::size_t>::max() : 0;
  return path.starts_with(route.pattern) ? route.pattern.size() : 0;
}

}  // namespace

void Router::add(http::verb method, std::string path, Access access, HttpServer::Handler handler) {
  MERIDIAN_ASSERT(handler != nullptr, "a route needs a handler");
  MERIDIAN_ASSERT(path.starts_with('/'), "a route path starts with '/'");
  MERIDIAN_ASSERT(method != http::verb::unknown, "a route needs a known method");
  // A GET can come from a link, an <img> or a prefetch in any page the
  // operator opens: it must never change anything, token or not.
  MERIDIAN_ASSERT(
      access != Access::mutate || (method != http::verb::get && method != http::verb::head),
      "a mutate route cannot be GET or HEAD");
  Route route{method, std::move(path), false, access, std::move(handler)};
  if (route.pattern.ends_with("/*")) {
    route.pattern.pop_back();
    route.prefix = true;
  }
  MERIDIAN_ASSERT(route.pattern.find('*') == std::string::npos,
                  "'*' may only end a route path, as \"/*\"");
  for (const Route& existing : routes_) {
    MERIDIAN_ASSERT(existing.method != route.method || existing.pattern != route.pattern ||
                        existing.prefix != route.prefix,
                    "a route for this method and path exists already");
  }
  routes_.push_back(std::move(route));
}

RouteMatch Router::find(http::verb method, std::string_view path) const {
  RouteMatch match;
  const auto best_for = [&](http::verb wanted) {
    const Route* best = nullptr;
    std::size_t best_rank = 0;
    for (const Route& route : routes_) {
      const std::size_t rank = specificity(route, path);
      if (route.method == wanted && rank > best_rank) {
        best = &route;
        best_rank = rank;
      }
    }
    return best;
  };
  match.route = best_for(method);
  if (match.route == nullptr && method == http::verb::head) match.route = best_for(http::verb::get);
  if (match.route != nullptr) {
    if (match.route->prefix) match.rest = std::string(path.substr(match.route->pattern.size()));
    return match;
  }
  std::set<std::string_view> allowed;
  for (const Route& route : routes_) {
    if (specificity(route, path) == 0) continue;
    allowed.insert(http::to_string(route.method));
    if (route.method == http::verb::get) allowed.insert(http::to_string(http::verb::head));
  }
  for (const std::string_view name : allowed) {
    if (!match.allow.empty()) match.allow += ", ";
    match.allow += name;
  }
  return match;
}

}  // namespace meridian::admin
