// The admin HTTP server: see http_server.hpp. One coroutine per connection
// owns its socket. A SocketDeadline bounds every operation by cancelling it
// when it expires (rather than closing the socket, so that a 408 can still
// be written).

#include "admin/http_server.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <set>

#include "admin/access_check.hpp"
#include "admin/bearer_token.hpp"
#include "admin/host_check.hpp"
#include "admin/router.hpp"
#include "admin/url.hpp"
#include "base/assert.hpp"
#include "net/socket_deadline.hpp"

namespace meridian::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr const char* kComponent = "admin.http";
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
/// After an error response that may leave request bytes unread, the server
/// reads and discards up to this much for up to this long before closing:
/// closing a socket with unread input sends a reset, which can destroy the
/// response before the client reads it.
constexpr std::size_t kLingerBytes = std::size_t{64} * 1024;
constexpr std::chrono::milliseconds kLingerTime{500};
/// The write of a 408: the client is slow or gone, so do not wait long.
constexpr std::chrono::milliseconds kTimeoutReplyTime{1000};
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

asio::ip::address to_asio(const IpAddress& address) {
  if (address.family == IpAddress::Family::v4) {
    return asio::ip::address_v4(asio::ip::address_v4::bytes_type{
        address.bytes[0], address.bytes[1], address.bytes[2], address.bytes[3]});
  }
  return asio::ip::address_v6(address.bytes);
}

SocketAddress from_asio(const tcp::endpoint& endpoint) {
  SocketAddress out;
  IpAddress::parse(endpoint.address().to_string(), out.address);
  out.port = endpoint.port();
  return out;
}

bool is_loopback(const IpAddress& address) {
  const IpAddress plain = address.unmapped();
  if (plain.family == IpAddress::Family::v4) return plain.bytes[0] == 127;
  IpAddress one;
  one.family = IpAddress::Family::v6;
  one.bytes[15] = 1;
  return plain == one;
}

/// The peer closed or reset the connection: nothing to answer.
bool is_closed(const error_code& error) {
  return error == http::error::end_of_stream || error == http::error::partial_message ||
         error == asio::error::eof || error == asio::error::connection_reset ||
         error == asio::error::broken_pipe;
}

/// A request handed to a handler, waiting for its response.
struct Exchange {
  explicit Exchange(const asio::any_io_executor& executor) : ready(executor) {}
  asio::steady_timer ready;  ///< waited on; cancelled when the response arrives
  std::optional<HttpResponse> response;
};

/// Where Responders post their responses. Closed by stop(), after which a
/// Responder touches neither the server nor the io_context, both of which
/// it may outlive.
struct Gate {
  explicit Gate(asio::any_io_executor e) : executor(std::move(e)) {}
  std::mutex mutex;
  bool open = true;
  asio::any_io_executor executor;
};

/// What one request left its connection fit for.
enum class Next {
  serve,   ///< the next request
  close,   ///< closing now
  linger,  ///< closing after draining what the client still sends
};

/// The request line as the debug log shows it: never a header, never the
/// query, so never a token.
struct RequestLine {
  std::string method = "-";
  std::string path = "-";
  unsigned version = 11;
  SteadyClock::time_point began = SteadyClock::now();
};

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  struct Connection {
    Connection(tcp::socket s, std::size_t buffer_limit)
        : socket(std::move(s)), deadline(socket, net::OnExpiry::cancel), buffer(buffer_limit) {}
    tcp::socket socket;
    net::SocketDeadline deadline;
    /// Holds at most one request head (its cap is max_header_bytes) and the
    /// start of a pipelined next request.
    beast::flat_buffer buffer;
    std::string peer;
    std::string client;                  ///< the peer's address alone, the key of per_client
    std::shared_ptr<Exchange> exchange;  ///< the request at its handler, if any
  };

  Impl(asio::io_context& io_, HttpServerSettings settings_, Logger& logger_)
      : io(io_),
        settings(std::move(settings_)),
        logger(logger_),
        acceptor(io_),
        gate(std::make_shared<Gate>(io_.get_executor())) {}

  asio::io_context& io;
  HttpServerSettings settings;
  Logger& logger;
  Router router;
  std::optional<BearerToken> token;
  tcp::acceptor acceptor;
  std::shared_ptr<Gate> gate;
  std::set<Connection*> connections;
  /// Open connections by client address (Connection::client); no zeros.
  std::map<std::string, std::size_t> per_client;
  HttpServerCounters counters;
  SocketAddress bound;
  bool started = false;
  bool stopped = false;

  /// The co_spawn completion: logs an exception that ended a coroutine
  /// instead of propagating it out of io_context::run().
  auto completion(const char* what) {
    return [self = shared_from_this(), what](const std::exception_ptr& exception) {
      if (!exception) return;
      try {
        std::rethrow_exception(exception);
      } catch (const std::exception& e) {
        self->logger.error(kComponent, std::string(what) + " failed: " + e.what());
      } catch (...) {
        self->logger.error(kComponent, std::string(what) + " failed");
      }
    };
  }

  Result<void> start() {
    MERIDIAN_ASSERT(!started && !stopped, "HttpServer::start() is called once");
    const std::string where = settings.listen.to_string();
    if (settings.max_header_bytes == 0 ||
        settings.max_header_bytes > std::numeric_limits<std::uint32_t>::max() ||
        settings.max_connections == 0 || settings.max_connections_per_client == 0 ||
        settings.header_timeout.count() <= 0 || settings.body_timeout.count() <= 0 ||
        settings.idle_timeout.count() <= 0 || settings.response_timeout.count() <= 0) {
      return fail("admin API on ", where,
                  ": max_header_bytes, max_connections and the timeouts must be positive");
    }
    if (settings.token) {
      token = BearerToken::make(*settings.token);
      if (!token)
        return fail("admin API on ", where, ": the token must be printable ASCII without spaces");
    }
    if (!token && settings.token_for_reads) {
      return fail("admin API on ", where, ": reads cannot need a token when none is configured");
    }
    if (!token && !is_loopback(settings.listen.address)) {
      return fail("admin API on ", where,
                  ": refusing to listen on a non-loopback address without a token; set one or "
                  "listen on 127.0.0.1");
    }
    const tcp::endpoint endpoint(to_asio(settings.listen.address), settings.listen.port);
    error_code error;
    acceptor.open(endpoint.protocol(), error);
    if (!error) acceptor.set_option(tcp::acceptor::reuse_address(true), error);
    if (!error && endpoint.address().is_v6()) acceptor.set_option(asio::ip::v6_only(true), error);
    if (!error) acceptor.bind(endpoint, error);
    if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
      error_code ignored;
      acceptor.close(ignored);
      return fail("admin API: cannot listen on ", where, ": ", error.message());
    }
    bound = from_asio(acceptor.local_endpoint(error));
    started = true;
    logger.info(kComponent, "admin API listening on " + bound.to_string() +
                                (!token                     ? " (no token: mutations are disabled)"
                                 : settings.token_for_reads ? " (reads need the token too)"
                                                            : ""));
    asio::co_spawn(io, accept_loop(shared_from_this()), completion("the accept loop"));
    return {};
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    {
      std::lock_guard lock(gate->mutex);
      gate->open = false;
    }
    error_code ignored;
    acceptor.close(ignored);
    for (Connection* connection : connections) {
      connection->socket.close(ignored);
      if (connection->exchange) connection->exchange->ready.cancel();
    }
  }

  static asio::awaitable<void> accept_loop(std::shared_ptr<Impl> self) {
    asio::steady_timer pause(self->io);
    while (!self->stopped) {
      auto [error, socket] = co_await self->acceptor.async_accept(kUseTuple);
      if (self->stopped) break;
      if (error) {
        // For example out of descriptors: pause rather than spin.
        self->logger.warn(kComponent, "accept failed: " + error.message());
        pause.expires_after(std::chrono::milliseconds(100));
        co_await pause.async_wait(kUseTuple);
        continue;
      }
      if (self->connections.size() >= self->settings.max_connections) {
        ++self->counters.refused;
        self->logger.debug(kComponent, "connection limit reached; closing a new connection");
        continue;  // the socket closes as it leaves scope
      }
      error_code remote_error;
      const auto remote = socket.remote_endpoint(remote_error);
      if (remote_error) continue;  // reset before we got to it
      const SocketAddress peer = from_asio(remote);
      std::string client = peer.address.unmapped().to_string();
      if (const auto held = self->per_client.find(client);
          held != self->per_client.end() &&
          held->second >= self->settings.max_connections_per_client) {
        ++self->counters.refused_client_limit;
        if (self->logger.enabled(LogLevel::debug))
          self->logger.debug(kComponent,
                             "per-client limit reached; closing a connection from " + client);
        continue;  // the socket closes as it leaves scope
      }
      auto connection =
          std::make_shared<Connection>(std::move(socket), self->settings.max_header_bytes);
      connection->peer = peer.to_string();
      connection->client = std::move(client);
      // Counted here, not when the coroutine starts, so that a burst of
      // accepts cannot overshoot the caps.
      self->connections.insert(connection.get());
      ++self->per_client[connection->client];
      ++self->counters.accepted;
      asio::co_spawn(self->io, serve(self, std::move(connection)),
                     self->completion("a connection"));
    }
  }

  static asio::awaitable<void> serve(std::shared_ptr<Impl> self,
                                     std::shared_ptr<Connection> connection) {
    Connection& c = *connection;
    struct Forget {
      Impl& impl;
      Connection* connection;
      ~Forget() {
        impl.connections.erase(connection);
        const auto held = impl.per_client.find(connection->client);
        MERIDIAN_ASSERT(held != impl.per_client.end() && held->second > 0,
                        "a connection its client is not counted for");
        if (--held->second == 0) impl.per_client.erase(held);
      }
    } forget{*self, &c};

    // The first request's head is due header_timeout after the accept, so
    // a connection that sends nothing holds its slot no longer than that.
    c.deadline.arm(self->settings.header_timeout);
    Next next = Next::serve;
    for (bool first = true; next == Next::serve && !self->stopped; first = false) {
      if (!first) {
        if (c.buffer.size() == 0) {
          c.deadline.arm(self->settings.idle_timeout);
          auto [error] = co_await c.socket.async_wait(tcp::socket::wait_read, kUseTuple);
          if (error || self->stopped) {
            next = Next::close;  // idle too long: a normal end, nothing to answer
            break;
          }
        }
        c.deadline.arm(self->settings.header_timeout);
      }
      next = co_await self->exchange(c);
    }
    co_await self->finish(c, next == Next::linger);
  }

  /// Reads one request, runs its handler and writes its response.
  asio::awaitable<Next> exchange(Connection& c) {
    RequestLine line;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(settings.max_header_bytes));
    parser.eager(false);  // stop after the head: the body is read after the checks
    // Content-Length is judged after routing and the token; the body limit
    // is set before the body is read.
    parser.body_limit(boost::none);
    const error_code head_error = co_await read_head(c, parser);
    c.deadline.disarm();
    if (stopped) co_return Next::close;
    if (head_error) {
      if (c.deadline.expired()) {
        ++counters.timeouts;
        if (!parser.got_some() && c.buffer.size() == 0) co_return Next::close;
        co_return co_await reject(c, line,
                                  error_response(408, "the request head did not arrive in time"),
                                  Next::close, kTimeoutReplyTime);
      }
      if (head_error == http::error::header_limit) {
        co_return co_await reject(
            c, line,
            error_response(431, "the request head exceeds " +
                                    std::to_string(settings.max_header_bytes) + " bytes"));
      }
      if (is_closed(head_error) || head_error == asio::error::operation_aborted)
        co_return Next::close;
      co_return co_await reject(c, line,
                                error_response(400, "malformed request: " + head_error.message()));
    }

    auto& head = parser.get();
    line.method = std::string(head.method_string());
    line.version = head.version() == 10 ? 10 : 11;
    const std::string_view target = head.target();
    const std::size_t question = target.find('?');
    line.path = std::string(target.substr(0, question));
    // Keep the connection after an early answer only when nothing of this
    // request is left unread.
    const Next reusable = head.keep_alive() && parser.is_done() ? Next::serve : Next::linger;
    if (!target.starts_with('/')) {
      co_return co_await reject(c, line, error_response(400, "the target must be a path: /..."),
                                reusable);
    }
    auto path = percent_decode(target.substr(0, question));
    auto query = parse_query(question == std::string_view::npos ? std::string_view()
                                                                : target.substr(question + 1));
    if (!path || !query) {
      co_return co_await reject(c, line, error_response(400, "bad percent-encoding in the target"),
                                reusable);
    }

    // DNS rebinding: a name the operator did not list is another site's.
    if (const std::string_view host = head[http::field::host];
        !host_allowed(host, settings.host_names)) {
      co_return co_await reject(
          c, line,
          error_response(403, "the Host header names " + std::string(host.substr(0, 100)) +
                                  ", which is not this server: use its IP address, localhost, "
                                  "or a name listed in admin.hosts"),
          reusable);
    }

    RouteMatch match = router.find(head.method(), *path);
    if (match.route == nullptr) {
      if (match.allow.empty())
        co_return co_await reject(c, line, error_response(404, "no such path"), reusable);
      HttpResponse response = error_response(405, "method not allowed; allowed: " + match.allow);
      response.headers.emplace_back("Allow", match.allow);
      co_return co_await reject(c, line, std::move(response), reusable);
    }
    // Before the body is read: a client without the token cannot make the
    // server read (or wait for) a megabyte.
    const AccessPolicy policy{token ? &*token : nullptr, settings.token_for_reads};
    if (auto refusal =
            access_refusal(match.route->access, policy, head[http::field::authorization])) {
      co_return co_await reject(c, line, std::move(*refusal), reusable);
    }

    const auto too_large = [this] {
      return error_response(
          413, "the request body exceeds " + std::to_string(settings.max_body_bytes) + " bytes");
    };
    if (const auto length = parser.content_length(); length && *length > settings.max_body_bytes) {
      co_return co_await reject(c, line, too_large());
    }
    if (!parser.is_done()) {
      c.deadline.arm(settings.body_timeout);
      if (beast::iequals(head[http::field::expect], "100-continue")) {
        auto [error, n] = co_await asio::async_write(c.socket, asio::buffer(kContinue), kUseTuple);
        if (error || stopped) co_return Next::close;
      }
      // Chunked bodies have no Content-Length: the parser counts them.
      parser.body_limit(settings.max_body_bytes);
      auto [body_error, body_bytes] =
          co_await http::async_read(c.socket, c.buffer, parser, kUseTuple);
      c.deadline.disarm();
      if (stopped) co_return Next::close;
      if (body_error) {
        if (c.deadline.expired()) {
          ++counters.timeouts;
          co_return co_await reject(c, line,
                                    error_response(408, "the request body did not arrive in time"),
                                    Next::close, kTimeoutReplyTime);
        }
        if (body_error == http::error::body_limit) co_return co_await reject(c, line, too_large());
        if (is_closed(body_error) || body_error == asio::error::operation_aborted)
          co_return Next::close;
        co_return co_await reject(c, line,
                                  error_response(400, "malformed body: " + body_error.message()));
      }
    }

    HttpRequest request;
    request.method = head.method();
    request.path = std::move(*path);
    request.rest = std::move(match.rest);
    request.query = std::move(*query);
    request.content_type = std::string(head[http::field::content_type]);
    request.body = std::move(head.body());
    const bool head_only = head.method() == http::verb::head;
    const bool keep_alive = head.keep_alive();

    auto pending = std::make_shared<Exchange>(c.socket.get_executor());
    c.exchange = pending;
    try {
      match.route->handler(std::move(request), Responder(deliver_to(pending)));
    } catch (const std::exception& e) {
      // The handler's Responder is gone with the stack: the client gets 500.
      logger.error(kComponent, line.method + " " + line.path + ": the handler threw: " + e.what());
    } catch (...) {
      logger.error(kComponent, line.method + " " + line.path + ": the handler threw");
    }
    pending->ready.expires_after(settings.response_timeout);
    while (!pending->response && !stopped) {
      auto [wait_error] = co_await pending->ready.async_wait(kUseTuple);
      if (!wait_error) break;  // the timeout; a cancel means an answer or stop()
    }
    c.exchange.reset();
    if (stopped) co_return Next::close;
    HttpResponse response;
    if (pending->response) {
      response = std::move(*pending->response);
    } else {
      ++counters.timeouts;
      logger.warn(kComponent, line.method + " " + line.path + ": no answer from the handler in " +
                                  std::to_string(settings.response_timeout.count()) + " ms");
      response = error_response(503, "the handler did not answer in time");
    }
    const unsigned status = response.status;
    const bool written = co_await respond(c, std::move(response), line.version, head_only,
                                          keep_alive, settings.body_timeout);
    log_request(c, line, status);
    co_return written&& keep_alive ? Next::serve : Next::close;
  }

  /// Reads and parses one request head, of at most max_header_bytes in all.
  /// (Beast's own header_limit counts the request line and the fields
  /// separately, and its parser consumes the request line from the buffer,
  /// so neither it nor the buffer's cap alone bounds the whole head.) Parsing
  /// as bytes arrive also rejects garbage at once instead of at the timeout.
  asio::awaitable<error_code> read_head(Connection& c,
                                        http::request_parser<http::string_body>& parser) {
    const std::size_t limit = settings.max_header_bytes;
    std::size_t parsed = 0;  // head bytes the parser consumed from the buffer
    while (true) {
      if (c.buffer.size() > 0) {
        error_code error;
        const std::size_t used = parser.put(c.buffer.data(), error);
        c.buffer.consume(used);
        parsed += used;
        if (!error && parser.is_header_done()) co_return error_code();
        if (error && error != http::error::need_more) co_return error;
      }
      if (parsed + c.buffer.size() >= limit) co_return http::error::header_limit;
      const std::size_t room = std::min<std::size_t>(limit - parsed - c.buffer.size(), 4096);
      auto [error, n] = co_await c.socket.async_read_some(c.buffer.prepare(room), kUseTuple);
      c.buffer.commit(n);
      if (error) co_return error;
    }
  }

  /// Answers a request that does not reach a handler; `after` says what
  /// becomes of the connection (the response says "Connection: close"
  /// unless it is Next::serve).
  asio::awaitable<Next> reject(Connection& c, const RequestLine& line, HttpResponse response,
                               Next after = Next::linger,
                               std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
    const unsigned status = response.status;
    // A refused HEAD gets the head only too: a body would be read by the
    // client as the start of the next response on the connection.
    const bool written = co_await respond(c, std::move(response), line.version,
                                          line.method == "HEAD", after == Next::serve,
                                          timeout.count() > 0 ? timeout : settings.body_timeout);
    log_request(c, line, status);
    co_return written ? after : Next::close;
  }

  /// Writes `response`; only its head when `head_only`. True when written.
  asio::awaitable<bool> respond(Connection& c, HttpResponse response, unsigned version,
                                bool head_only, bool keep_alive,
                                std::chrono::milliseconds timeout) {
    http::response<http::string_body> message;
    message.version(version);
    message.result(response.status);
    for (auto& [name, value] : response.headers) message.insert(name, value);
    if (!response.content_type.empty())
      message.set(http::field::content_type, response.content_type);
    if (message.find(http::field::cache_control) == message.end())
      message.set(http::field::cache_control, "no-store");
    if (message.find("X-Content-Type-Options") == message.end())
      message.set("X-Content-Type-Options", "nosniff");
    message.keep_alive(keep_alive && !stopped);
    message.body() = std::move(response.body);
    message.prepare_payload();
    c.deadline.arm(timeout);
    error_code error;
    if (head_only) {
      // Content-Length stays that of the GET body, as HEAD requires.
      http::response_serializer<http::string_body> serializer(message);
      std::tie(error, std::ignore) =
          co_await http::async_write_header(c.socket, serializer, kUseTuple);
    } else {
      std::tie(error, std::ignore) = co_await http::async_write(c.socket, message, kUseTuple);
    }
    c.deadline.disarm();
    if (error) {
      if (c.deadline.expired()) ++counters.timeouts;
      co_return false;
    }
    ++counters.requests;
    co_return !stopped;
  }

  asio::awaitable<void> finish(Connection& c, bool linger) {
    error_code ignored;
    c.socket.shutdown(tcp::socket::shutdown_send, ignored);
    if (linger && !stopped) {
      std::array<char, 4096> sink;
      std::size_t drained = 0;
      c.deadline.arm(kLingerTime);
      while (drained < kLingerBytes) {
        auto [error, n] = co_await c.socket.async_read_some(asio::buffer(sink), kUseTuple);
        if (error) break;
        drained += n;
      }
      c.deadline.disarm();
    }
    c.socket.close(ignored);
  }

  /// The server's Responder::Deliver: posts the response to the
  /// connection's thread, if the request is still waiting there.
  Responder::Deliver deliver_to(const std::shared_ptr<Exchange>& pending) {
    return [gate = gate, weak = std::weak_ptr<Exchange>(pending)](HttpResponse response) {
      std::lock_guard lock(gate->mutex);
      if (!gate->open) return;
      asio::post(gate->executor, [weak, response = std::move(response)]() mutable {
        const auto target = weak.lock();
        if (!target || target->response) return;  // timed out or closed meanwhile
        target->response = std::move(response);
        target->ready.cancel();
      });
    };
  }

  void log_request(const Connection& c, const RequestLine& line, unsigned status) {
    if (!logger.enabled(LogLevel::debug)) return;
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - line.began);
    logger.debug(kComponent, c.peer + " " + line.method + " " + line.path + " " +
                                 std::to_string(status) + " " + std::to_string(took.count()) +
                                 " ms");
  }
};

HttpServer::HttpServer(asio::io_context& io, HttpServerSettings settings, Logger& logger)
    : impl_(std::make_shared<Impl>(io, std::move(settings), logger)) {}

HttpServer::~HttpServer() {
  // stop() cancels timers, which report a failure by throwing; a destructor
  // must not pass that on.
  try {
    impl_->stop();
  } catch (const std::exception& e) {
    impl_->logger.error(kComponent, std::string("stopping failed: ") + e.what());
  }
}

void HttpServer::route(http::verb method, std::string path, Access access, Handler handler) {
  MERIDIAN_ASSERT(!impl_->started && !impl_->stopped, "routes are added before start()");
  impl_->router.add(method, std::move(path), access, std::move(handler));
}

Result<void> HttpServer::start() {
  return impl_->start();
}

SocketAddress HttpServer::bound() const {
  return impl_->bound;
}

void HttpServer::stop() {
  impl_->stop();
}

std::size_t HttpServer::open_connections() const {
  return impl_->connections.size();
}

const HttpServerCounters& HttpServer::counters() const {
  return impl_->counters;
}

}  // namespace meridian::admin
