#pragma once
// Test support for the admin HTTP server: a server on its own io thread, and
// a raw TCP client for what http_request() cannot say (partial requests,
// garbage, pipelining, checking when the server closes).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <catch2/catch.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <thread>

#include "admin/http_server.hpp"
#include "base/log.hpp"

namespace meridian::admin::test {

using namespace std::chrono_literals;

namespace asio = boost::asio;
namespace beast = boost::beast;

/// Silent unless MERIDIAN_TEST_LOG is set (then everything, to stderr).
inline Logger& quiet();
/// Loopback, free port, short timeouts (the defaults would make the timeout
/// tests slow).
inline HttpServerSettings test_settings();

/// A started HttpServer whose io_context runs on its own thread.
class ServerThread {
 public:
  /// Adds routes with `setup`, starts (REQUIREs success), runs the io
  /// thread.
  ServerThread(HttpServerSettings settings, const std::function<void(HttpServer&)>& setup,
               Logger& logger = quiet());
  /// The same, for routes that also need the server's io_context.
  ServerThread(HttpServerSettings settings,
               const std::function<void(HttpServer&, boost::asio::io_context&)>& setup,
               Logger& logger = quiet());
  /// Stops the io thread, then the server.
  ~ServerThread();

  SocketAddress address() const { return server_.bound(); }
  std::uint16_t port() const { return server_.bound().port; }
  /// Runs `action` on the io thread and waits for it.
  void on_io_thread(const std::function<void()>& action);
  HttpServer& server() { return server_; }

 private:
  boost::asio::io_context io_;
  HttpServer server_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

using Reply = boost::beast::http::response<boost::beast::http::string_body>;

/// A blocking TCP client on 127.0.0.1 with its own timeouts (POSIX sockets
/// and poll, so a stuck server fails a test instead of hanging it).
class RawClient {
 public:
  /// Connects from `source` (a 127.x.y.z address) when given.
  explicit RawClient(std::uint16_t port, const char* source = nullptr);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  /// Sends all of `bytes`; false when the server closed meanwhile.
  bool send(std::string_view bytes);
  /// The next complete response (for HEAD: its head), or nullopt when the
  /// connection closes or `limit` passes first.
  std::optional<Reply> read_response(bool head_only = false,
                                     std::chrono::milliseconds limit = 3000ms);
  /// True when the server closes the connection within `limit`; bytes that
  /// arrive meanwhile are kept for read_response().
  bool closed_within(std::chrono::milliseconds limit);
  /// True when the connection is still open after `wait` with nothing to read.
  bool open_and_quiet(std::chrono::milliseconds wait);
  /// Bytes received and not yet parsed.
  const std::string& pending() const { return pending_; }

 private:
  /// Reads what arrives within `limit` into pending_. False on close.
  bool receive(std::chrono::milliseconds limit);

  int fd_ = -1;
  bool closed_ = false;
  std::string pending_;
};

/// True when the response has any Access-Control-* header.
inline bool has_cors_header(const Reply& reply);

// Definitions (header-only: the test binary globs *_test.cpp).

inline Logger& quiet() {
  static Logger logger = std::getenv("MERIDIAN_TEST_LOG") != nullptr
                             ? Logger(LogLevel::debug)
                             : Logger(LogLevel::error, [](std::string_view) {});
  return logger;
}

inline HttpServerSettings test_settings() {
  HttpServerSettings settings;
  settings.listen = {IpAddress::v4(127, 0, 0, 1), 0};
  settings.header_timeout = 1000ms;
  settings.body_timeout = 1000ms;
  settings.idle_timeout = 2000ms;
  settings.response_timeout = 2000ms;
  return settings;
}

inline ServerThread::ServerThread(HttpServerSettings settings,
                                  const std::function<void(HttpServer&)>& setup, Logger& logger)
    : ServerThread(
          std::move(settings),
          [&setup](HttpServer& server, boost::asio::io_context&) { setup(server); }, logger) {}

inline ServerThread::ServerThread(
    HttpServerSettings settings,
    const std::function<void(HttpServer&, boost::asio::io_context&)>& setup, Logger& logger)
    : server_(io_, std::move(settings), logger), guard_(io_.get_executor()) {
  setup(server_, io_);
  const auto started = server_.start();
  if (!started) FAIL(started.error().message);
  thread_ = std::thread([this] { io_.run(); });
}

inline ServerThread::~ServerThread() {
  guard_.reset();
  io_.stop();
  thread_.join();
  server_.stop();
}

inline void ServerThread::on_io_thread(const std::function<void()>& action) {
  std::promise<void> done;
  asio::post(io_, [&] {
    action();
    done.set_value();
  });
  done.get_future().wait();
}

inline RawClient::RawClient(std::uint16_t port, const char* source) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd_ >= 0);
  if (source != nullptr) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    REQUIRE(::inet_pton(AF_INET, source, &local.sin_addr) == 1);
    REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) == 0);
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
}

inline RawClient::~RawClient() {
  ::close(fd_);
}

inline bool RawClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

inline bool RawClient::receive(std::chrono::milliseconds limit) {
  if (closed_) return false;
  pollfd waiting{fd_, POLLIN, 0};
  const int ready = ::poll(&waiting, 1, static_cast<int>(limit.count()));
  if (ready <= 0) return true;  // nothing within the limit; still open
  char chunk[16384];
  const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) {
    closed_ = true;  // EOF or reset
    return false;
  }
  pending_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

inline std::optional<Reply> RawClient::read_response(bool head_only,
                                                     std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (true) {
    if (!pending_.empty()) {
      beast::http::response_parser<beast::http::string_body> parser;
      parser.eager(true);
      parser.body_limit(boost::none);
      if (head_only) parser.skip(true);
      beast::error_code error;
      const std::size_t used = parser.put(asio::buffer(pending_), error);
      if (!error && parser.is_done()) {
        pending_.erase(0, used);
        return parser.release();
      }
      if (error && error != beast::http::error::need_more)
        FAIL("unparsable response: " << error.message());
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) return std::nullopt;
    if (!receive(std::chrono::duration_cast<std::chrono::milliseconds>(end - now)))
      return std::nullopt;
  }
}

inline bool RawClient::closed_within(std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!closed_) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) return false;
    receive(std::chrono::duration_cast<std::chrono::milliseconds>(end - now));
  }
  return true;
}

inline bool RawClient::open_and_quiet(std::chrono::milliseconds wait) {
  const std::size_t before = pending_.size();
  return !closed_within(wait) && pending_.size() == before;
}

inline bool has_cors_header(const Reply& reply) {
  for (const auto& field : reply) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name.starts_with("access-control-")) return true;
  }
  return false;
}

}  // namespace meridian::admin::test
