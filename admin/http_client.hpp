#pragma once
// A small synchronous HTTP/1.1 client for the CLI ("meridian cluster
// status" and friends call the admin API of a running node). One request
// per connection, under one deadline for the whole exchange: connect, send,
// and the complete reply. Plain HTTP: the admin API listens on loopback or
// behind a token, not on TLS.

#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "base/ip_address.hpp"
#include "base/result.hpp"

namespace meridian::admin {

namespace http = boost::beast::http;

/// Largest reply body http_request() accepts.
inline constexpr std::size_t kMaxReplyBytes = std::size_t{16} * 1024 * 1024;

struct HttpReply {
  unsigned status = 0;
  std::string body;          ///< empty for HEAD
  std::string content_type;  ///< "" when absent
};

/// Sends `method target` (already percent-encoded: see admin/url.hpp) to
/// `server` with `body` as application/json (when not empty) and, with a
/// token, "Authorization: Bearer <token>". Any HTTP status is a reply, not
/// an error. Errors (connection refused, timeout, a malformed or oversized
/// reply) name the server address. Blocks the calling thread, at most
/// about `timeout`; runs its own io_context, so it must not be called from
/// a thread that runs the server's.
Result<HttpReply> http_request(const SocketAddress& server, http::verb method,
                               const std::string& target, std::string body = {},
                               std::optional<std::string> token = {},
                               std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace meridian::admin
