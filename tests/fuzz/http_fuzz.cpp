// libFuzzer target for the admin API's request readers, built with clang by
// run_fuzz.sh: the bytes a client sends on a connection, read as
// admin/http_server.cpp reads them (Boost.Beast's request_parser with the
// server's limits: the head within max_header_bytes, eager off, the body
// limit set only after the checks), then every piece of Meridian's own
// code that sees those bytes, before authentication and after:
//   - the target: percent_decode of the path, parse_query (admin/url);
//   - the Host header (admin/host_check, DNS rebinding);
//   - the route lookup (admin/router) and the token check
//     (admin/access_check, admin/bearer_token);
//   - the body and query readers the routes share (admin/json_fields:
//     object_body and the field readers, parse_positive, limit_parameter,
//     read_mode) and the check of authors and comments
//     (gslb::validate_action_text), for the fields the routes read.
// The route handlers themselves need a running node and are not called.
//
// The first input byte picks the server's settings (a token or none,
// token_for_reads) and how the bytes arrive (all at once, or in pieces of
// 1, 7 or 100 bytes); the rest is the connection's input, read as up to
// four pipelined requests while the connection stays usable.
//
// What must hold for every input:
//   - the parser stops within the head limit, and never hands on a body
//     over max_body_bytes;
//   - a decoded path has no NUL and percent-encodes and decodes back to
//     itself; an encoded query parses back to the same map;
//   - a Host that is an IP address, or localhost, is allowed;
//   - a route found for a path matches it (exact, or by prefix with `rest`
//     the path after the prefix); none found with methods to allow is 405;
//   - a refusal is 401 (with WWW-Authenticate) or 403, only for a route
//     that needs the token, and "Bearer <the token>" is never refused;
//   - field readers agree with each other and limits stay in range.
// A broken property aborts, which libFuzzer reports with the input.

#include <algorithm>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "admin/access_check.hpp"
#include "admin/bearer_token.hpp"
#include "admin/host_check.hpp"
#include "admin/http_server.hpp"
#include "admin/json_fields.hpp"
#include "admin/router.hpp"
#include "admin/url.hpp"
#include "base/ip_address.hpp"
#include "gslb/health_records.hpp"

using namespace meridian;
using namespace meridian::admin;
namespace beast = boost::beast;
namespace json = boost::json;

namespace {

constexpr std::string_view kToken = "fuzz-token-0123";
/// HttpServerSettings' defaults: the limits the server runs with.
const HttpServerSettings kSettings{};
constexpr std::size_t kMaxRequests = 4;
/// The routes' limits (admin/*_routes.cpp) are of this order.
constexpr std::size_t kMaxLimit = 1000;

[[noreturn]] void fail(const char* what, std::string_view detail = "") {
  std::fprintf(stderr, "http_fuzz: %s%s%.*s\n", what, detail.empty() ? "" : ": ",
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

void check(bool condition, const char* what, std::string_view detail = "") {
  if (!condition) fail(what, detail);
}

/// A route table of every shape the server's has: exact and prefix routes,
/// a longer prefix inside a shorter one, every Access, GET beside POST.
Router make_router() {
  Router router;
  const auto handler = [](const HttpRequest&, const Responder&) {};
  router.add(http::verb::get, "/", Access::open, handler);
  router.add(http::verb::get, "/assets/*", Access::open, handler);
  router.add(http::verb::get, "/api/v1/status", Access::read, handler);
  router.add(http::verb::get, "/api/v1/kv/*", Access::read, handler);
  router.add(http::verb::put, "/api/v1/kv/*", Access::mutate, handler);
  router.add(http::verb::delete_, "/api/v1/kv/*", Access::mutate, handler);
  router.add(http::verb::post, "/api/v1/kv/_ops/*", Access::mutate, handler);
  router.add(http::verb::get, "/api/v1/config/versions/*", Access::read, handler);
  router.add(http::verb::post, "/api/v1/config", Access::mutate, handler);
  router.add(http::verb::get, "/api/v1/store/export", Access::secret, handler);
  router.add(http::verb::post, "/api/v1/overrides", Access::mutate, handler);
  router.add(http::verb::post, "/api/v1/store/import", Access::mutate, handler);
  return router;
}

bool allowed_without_names(std::string_view host) {
  IpAddress address;
  if (host.starts_with('[') && host.ends_with(']')) {
    return IpAddress::parse(host.substr(1, host.size() - 2), address);
  }
  // An IPv6 address goes in brackets (RFC 3986): bare, "a::" reads as a
  // host "a:" with an empty port, and may be refused.
  if (host.find(':') != std::string_view::npos) return false;
  return IpAddress::parse(host, address) || host == "localhost";
}

/// The readers of admin/json_fields on every field the routes read.
void read_body(const HttpRequest& request) {
  auto body = object_body(request);
  if (!body) {
    check(!body.error().message.empty(), "a refused body has no reason");
    return;
  }
  for (const std::string_view name : {"name", "address", "value", "expected", "author", "comment",
                                      "yaml", "endpoint", "site", "state", "reason", "for"}) {
    const auto required = required_string(*body, name);
    const auto nullable = nullable_string(*body, name);
    const auto optional = optional_string(*body, name);
    const std::string lenient = string_or_empty(*body, name);
    if (required) {
      check(nullable && *nullable && **nullable == *required, "nullable_string disagrees");
      check(optional && *optional == *required, "optional_string disagrees");
      check(lenient == *required, "string_or_empty disagrees");
      if (const auto valid = gslb::validate_action_text(*required, name); !valid) {
        check(!valid.error().message.empty(), "a refused text has no reason");
      }
      (void)gslb::parse_forced_state(*required);
    } else {
      check(lenient.empty(), "string_or_empty found a string required_string did not");
    }
  }
  if (const json::value* version = body->if_contains("version");
      version != nullptr && version->is_string()) {
    if (const auto number = parse_positive(version->as_string())) check(*number > 0, "zero");
  }
}

void read_query(const HttpRequest& request) {
  if (const auto limit = limit_parameter(request, 10, kMaxLimit); limit) {
    check(*limit >= 1 && *limit <= kMaxLimit, "a limit out of range");
  }
  (void)read_mode(request);
  if (const auto number = parse_positive(request.rest)) check(*number > 0, "a positive zero");
}

/// The checks http_server.cpp runs on a head, then the body readers.
/// Returns false when the server would close the connection.
bool serve(const Router& router, const AccessPolicy& policy,
           beast::http::request_parser<http::string_body>& parser) {
  const auto& head = parser.get();
  const std::string_view target = head.target();
  const std::size_t question = target.find('?');
  const bool reusable = head.keep_alive() && parser.is_done();
  if (!target.starts_with('/')) return reusable;
  auto path = percent_decode(target.substr(0, question));
  auto query = parse_query(question == std::string_view::npos ? std::string_view()
                                                              : target.substr(question + 1));
  if (!path || !query) return reusable;

  check(path->find('\0') == std::string::npos, "a decoded path holds a NUL", *path);
  const auto again = percent_decode(percent_encode(*path));
  check(again && *again == *path, "a decoded path does not encode back to itself", *path);
  std::string encoded;
  for (const auto& [key, value] : *query) {
    encoded += (encoded.empty() ? "" : "&") + percent_encode(key) + "=" + percent_encode(value);
  }
  const auto requery = parse_query(encoded);
  check(requery && *requery == *query, "a query does not encode back to itself", encoded);

  const std::string_view host = head[http::field::host];
  const bool host_ok = host_allowed(host, kSettings.host_names);
  if (allowed_without_names(host)) check(host_ok, "an address or localhost was refused", host);
  if (!host_ok) return reusable;

  const RouteMatch match = router.find(head.method(), *path);
  if (match.route == nullptr) return reusable;
  check(match.route->prefix ? path->starts_with(match.route->pattern) &&
                                  match.rest == path->substr(match.route->pattern.size())
                            : *path == match.route->pattern && match.rest.empty(),
        "a route that does not match its path", *path);

  const std::string_view authorization = head[http::field::authorization];
  if (const auto refusal = access_refusal(match.route->access, policy, authorization)) {
    check(needs_token(match.route->access, policy), "a route that needs no token refused");
    check(refusal->status == 401 || refusal->status == 403, "a refusal not 401 or 403");
    check(refusal->status != 401 ||
              std::any_of(refusal->headers.begin(), refusal->headers.end(),
                          [](const auto& field) { return field.first == "WWW-Authenticate"; }),
          "a 401 without WWW-Authenticate");
    return reusable;
  }
  if (policy.token != nullptr) {
    check(policy.token->check("Bearer " + std::string(kToken)) == BearerToken::Verdict::ok,
          "the token is refused");
    check(!needs_token(match.route->access, policy) ||
              authorization.find(kToken) != std::string_view::npos,
          "a request without the token was let through", authorization);
  }
  if (const auto length = parser.content_length(); length && *length > kSettings.max_body_bytes) {
    return false;  // 413
  }
  return true;  // the body is read next
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Router router = make_router();
  static const std::optional<BearerToken> token = BearerToken::make(kToken);
  if (size < 1) return 0;
  const std::uint8_t how = data[0];
  const AccessPolicy policy{(how & 1) != 0 ? &*token : nullptr, (how & 3) == 3};
  constexpr std::size_t kPieces[] = {std::size_t{1} << 30, 1, 7, 100};
  const std::size_t piece = kPieces[(how >> 2) & 3];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  for (std::size_t count = 0; count < kMaxRequests && !input.empty(); ++count) {
    beast::http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(kSettings.max_header_bytes));
    parser.eager(false);
    parser.body_limit(boost::none);
    // As read_head: bytes arrive `piece` at a time into a buffer the
    // parser consumes; the whole head must fit in max_header_bytes.
    std::size_t arrived = 0;
    std::size_t used = 0;  // consumed from `input`
    bool body_phase = false;
    while (true) {
      std::size_t room = input.size() - arrived;
      if (!body_phase) {
        if (arrived >= kSettings.max_header_bytes) return 0;  // 431
        room = std::min(room, kSettings.max_header_bytes - arrived);
      }
      const bool more = room > 0;
      arrived += std::min(room, piece);
      beast::error_code error;
      const std::size_t took =
          parser.put(boost::asio::buffer(input.data() + used, arrived - used), error);
      used += took;
      check(used <= arrived, "the parser consumed bytes that did not arrive");
      if (error && error != beast::http::error::need_more) return 0;  // 400, 413: closed
      if (!body_phase && parser.is_header_done()) {
        check(used <= kSettings.max_header_bytes, "a head over the limit was accepted");
        if (!serve(router, policy, parser)) return 0;
        if (parser.is_done()) break;
        body_phase = true;
        parser.body_limit(kSettings.max_body_bytes);
        continue;
      }
      if (body_phase && parser.is_done()) break;
      if (!more && took == 0) return 0;  // the client went away mid-request
    }
    auto& head = parser.get();
    check(head.body().size() <= kSettings.max_body_bytes, "a body over the limit was read");

    HttpRequest request;
    request.method = head.method();
    const std::string_view target = head.target();
    const std::size_t question = target.find('?');
    request.path = percent_decode(target.substr(0, question)).value_or("");
    if (question != std::string_view::npos) {
      request.query = parse_query(target.substr(question + 1)).value_or(request.query);
    }
    const RouteMatch match = router.find(head.method(), request.path);
    request.rest = match.rest;
    request.content_type = std::string(head[http::field::content_type]);
    request.body = std::move(head.body());
    read_body(request);
    read_query(request);
    if (!head.keep_alive()) return 0;
    input.remove_prefix(used);
  }
  return 0;
}
