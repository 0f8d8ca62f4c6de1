#pragma once
// The admin HTTP/1.1 server (docs/admin-api.md): the transport under the JSON
// API, /metrics and the dashboard, which are routes on it. It frames
// requests, enforces the limits and the bearer token, routes, and writes
// the responses; it knows nothing about what the routes mean.
//
// One coroutine owns each connection: head (within header_timeout, at most
// max_header_bytes) -> route -> token -> body (within body_timeout, at most
// max_body_bytes) -> handler -> response -> the next request on the same
// connection (keep-alive, waiting at most idle_timeout for it). Requests on
// a connection are answered in order; a client may pipeline them.
//
// What a client gets without reaching a handler, always as a JSON body
// {"error": "..."}:
//   400  unparsable request, a target that is not "/path?query", a bad
//        percent-escape
//   401  a route that needs the token (see Access) without
//        "Authorization: Bearer ..." (with "WWW-Authenticate: Bearer")
//   403  a route that needs the token with a wrong one, or a mutate or
//        secret route when no token is configured (they are then disabled)
//   404  no route for the path
//   405  a route for the path, not for the method (with "Allow")
//   408  the head or body did not arrive in time (then the connection closes;
//        a connection that sent nothing is closed silently)
//   413  Content-Length (or the chunked body) over max_body_bytes
//   431  request head over max_header_bytes
//   500  the handler threw, or dropped its Responder without answering
//   503  the handler did not answer within response_timeout
// Every response carries "X-Content-Type-Options: nosniff" and
// "Cache-Control: no-store" unless the handler set them, and never a CORS
// header: pages of other origins get nothing they could use. A request with
// an error before its body was read closes the connection after the
// response (the unread body would be taken for the next request).
//
// Thread rule: the server runs on the caller's io_context, which must be run
// by ONE thread. Every member function, the destructor included, runs on
// that thread or while the io_context is not running. Handlers run on that
// thread; a Responder may be called from any thread, and may outlive the
// server (after stop() its answer goes nowhere).

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/ip_address.hpp"
#include "base/log.hpp"
#include "base/result.hpp"

namespace meridian::admin {

namespace http = boost::beast::http;

struct HttpServerSettings {
  /// Port 0 picks a free port (see HttpServer::bound()). Anything but a
  /// loopback address (127.0.0.0/8, ::1) needs a token.
  SocketAddress listen;
  /// The bearer token of mutate and secret routes (and of read routes with
  /// token_for_reads): printable ASCII without spaces. Without one, every
  /// mutate and secret route answers 403.
  std::optional<std::string> token;
  /// Read routes need the token too (admin.require_token_for_reads): for
  /// an API whose listener others reach, whose reads (names, addresses,
  /// health, the config) are not for them. Needs a token.
  bool token_for_reads = false;
  /// The request line and header fields together.
  std::size_t max_header_bytes = std::size_t{8} * 1024;
  std::size_t max_body_bytes = std::size_t{1024} * 1024;
  /// The whole request head must arrive within this, counted from the
  /// connection's accept (first request) or from its first byte (later
  /// requests): a client trickling a header (slowloris) is cut off.
  std::chrono::milliseconds header_timeout{5000};
  /// The whole request body must arrive within this, and the whole
  /// response must be written within it.
  std::chrono::milliseconds body_timeout{10000};
  /// A keep-alive connection waits this long for its next request.
  std::chrono::milliseconds idle_timeout{30000};
  /// A handler must answer within this (else 503).
  std::chrono::milliseconds response_timeout{30000};
  /// Concurrent connections; more are closed right after accept.
  std::size_t max_connections = 256;
  /// Concurrent connections of one client address (an IPv4-mapped IPv6
  /// address counts as IPv4); more are closed right after accept, before
  /// anything is read, so that one client cannot take every slot. Closed
  /// rather than answered 429: an answer would first need the request head,
  /// read under header_timeout while holding the very slot being refused,
  /// and browsers open at most six connections per host, so only a client
  /// that is not a browser (a script, a flood) ever meets this cap.
  std::size_t max_connections_per_client = 16;
  /// Names the Host header may carry besides IP addresses and localhost
  /// (admin/host_check.hpp: DNS rebinding); others are answered 403.
  std::vector<std::string> host_names;
};

/// Who may call a route. "The token" is "Authorization: Bearer <token>";
/// the server judges it before reading the body or calling the handler.
enum class Access {
  /// Anyone who reaches the listener, always: for what holds nothing of
  /// the node (the dashboard's page and assets, the same bytes in every
  /// copy of the binary), so that a browser can load the page that then
  /// asks for the token.
  open,
  /// Anyone who reaches the listener; only with the token when
  /// token_for_reads is set.
  read,
  /// Only with the token, whatever token_for_reads says: a read whose
  /// answer holds what the API otherwise never shows (the store export,
  /// the config's secrets included).
  secret,
  /// Only with the token; never GET or HEAD.
  mutate,
};

/// A request as a handler sees it: whole, decoded, authorised.
struct HttpRequest {
  /// HEAD when a GET route answers a HEAD request (its body is then
  /// discarded, so a handler may skip building it).
  http::verb method = http::verb::get;
  /// The target's path, percent-decoded, without the query.
  std::string path;
  /// For a prefix route ("/api/v1/kv/*"): the decoded path after the prefix
  /// ("a/b" for "/api/v1/kv/a%2Fb"), possibly empty. Opaque: "." and ".."
  /// are not interpreted. Empty for exact routes.
  std::string rest;
  /// The query, decoded (see admin/url.hpp parse_query).
  std::map<std::string, std::string> query;
  std::string body;
  /// The Content-Type header as sent ("" when absent).
  std::string content_type;
};

struct HttpResponse {
  /// 200..599. 204 and 304 carry no body.
  unsigned status = 200;
  /// Sent as Content-Type unless empty.
  std::string content_type = "application/json";
  std::string body;
  /// Extra header fields. Not Content-Length, Transfer-Encoding or
  /// Connection, which the server sets; no CR, LF or NUL anywhere.
  std::vector<std::pair<std::string, std::string>> headers;
};

/// `body` serialised as JSON, with status `status`.
HttpResponse json_response(unsigned status, const boost::json::value& body);
/// {"error": "<reason>"} with status `status` (4xx or 5xx).
HttpResponse error_response(unsigned status, std::string_view reason);

/// Answers one request, once. Copies share one state: the first call of any
/// copy answers, later calls are ignored, and when the last copy is
/// destroyed without a call the client gets 500. Thread-safe: may be called
/// or destroyed on any thread.
class Responder {
 public:
  /// Receives the one response: the first passed to operator(), or the 500
  /// at the last copy's destruction. Runs on the thread that answers (or
  /// destroys the last copy), outside any lock. The server's posts the
  /// response to the connection's thread; a test of a handler may pass one
  /// that captures it.
  using Deliver = std::function<void(HttpResponse)>;

  explicit Responder(Deliver deliver);

  /// Answers. Precondition: `response` follows HttpResponse's rules (a
  /// broken one is a bug and aborts here, at its source).
  void operator()(HttpResponse response) const;
  /// True once some copy answered.
  bool answered() const noexcept;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

struct HttpServerCounters {
  std::uint64_t accepted = 0;  ///< connections served
  std::uint64_t refused = 0;   ///< connections closed at accept (max_connections)
  /// Connections closed at accept because their client address held
  /// max_connections_per_client.
  std::uint64_t refused_client_limit = 0;
  std::uint64_t requests = 0;  ///< responses written, whatever their status
  std::uint64_t timeouts = 0;  ///< connections closed by a header, body, write or response timeout
};

class HttpServer {
 public:
  /// Runs on the io thread (see the thread rule above). Must not block; it
  /// answers now or later through the Responder.
  using Handler = std::function<void(HttpRequest, Responder)>;

  /// `io` and `logger` must outlive the server.
  HttpServer(boost::asio::io_context& io, HttpServerSettings settings, Logger& logger);
  ~HttpServer();  ///< stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Adds a route. `path` is exact ("/api/v1/status") or a prefix ending in
  /// "/*" ("/api/v1/kv/*", which matches "/api/v1/kv/" and everything
  /// under it). An exact route beats a prefix route, a longer prefix a
  /// shorter one. A GET route also answers HEAD.
  /// Preconditions (bugs, abort): before start(); `path` starts with '/'
  /// and has no other '*'; no route yet for this method and path; a mutate
  /// route's method is not GET or HEAD (a link or an <img> must never
  /// change anything); `handler` is set.
  void route(http::verb method, std::string path, Access access, Handler handler);

  /// Listens and starts accepting. Fails, naming the address, on a bind
  /// error, on a non-loopback address without a token, on token_for_reads
  /// without a token, on an unusable token and on a zero limit.
  /// Precondition: called once.
  Result<void> start();
  /// The address actually bound (after start()).
  SocketAddress bound() const;
  /// Closes the listener and every connection; a response still to come
  /// from a handler is dropped. Idempotent.
  void stop();

  std::size_t open_connections() const;
  const HttpServerCounters& counters() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace meridian::admin
