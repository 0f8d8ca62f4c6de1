// The admin HTTP server over real loopback connections: http_request() where
// it can express the case, a raw socket where it cannot.

#include "admin/http_server.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "admin/http_client.hpp"
#include "admin/url.hpp"
#include "http_test_support.hpp"

using namespace meridian;
using namespace meridian::admin;
using namespace meridian::admin::test;
namespace json = boost::json;

namespace {

constexpr const char* kToken = "s3cret-admin-token";

/// Handlers answered later, from other threads; joined before the server
/// goes.
struct Workers {
  std::mutex mutex;
  std::vector<std::thread> threads;
  std::vector<Responder> parked;  ///< never answered

  void run(std::function<void()> work) {
    std::lock_guard lock(mutex);
    threads.emplace_back(std::move(work));
  }
  ~Workers() {
    for (auto& thread : threads) thread.join();
  }
};

/// The routes most tests use.
void standard_routes(HttpServer& server, Workers& workers) {
  server.route(http::verb::get, "/api/v1/status", Access::read, [](HttpRequest, Responder respond) {
    respond(json_response(200, {{"ok", true}}));
  });
  server.route(
      http::verb::post, "/api/v1/echo", Access::mutate, [](HttpRequest request, Responder respond) {
        respond(
            json_response(200, {{"body", request.body}, {"content_type", request.content_type}}));
      });
  server.route(
      http::verb::get, "/api/v1/kv/*", Access::read, [](HttpRequest request, Responder respond) {
        json::object query;
        for (const auto& [key, value] : request.query) query[key] = value;
        respond(
            json_response(200, {{"path", request.path}, {"rest", request.rest}, {"query", query}}));
      });
  server.route(http::verb::delete_, "/api/v1/kv/*", Access::mutate,
               [](HttpRequest, Responder respond) {
                 respond(HttpResponse{204, "", "", {}});
               });
  server.route(http::verb::get, "/api/v1/later", Access::read,
               [&workers](HttpRequest, Responder respond) {
                 workers.run([respond] {
                   std::this_thread::sleep_for(50ms);
                   respond(json_response(200, {{"thread", "worker"}}));
                   respond(json_response(200, {{"thread", "second answer, ignored"}}));
                 });
               });
  server.route(http::verb::get, "/api/v1/dropped", Access::read, [](HttpRequest, Responder) {});
  server.route(http::verb::get, "/api/v1/throws", Access::read,
               [](HttpRequest, Responder) { throw std::runtime_error("handler bug"); });
  server.route(http::verb::get, "/api/v1/parked", Access::read,
               [&workers](HttpRequest, Responder respond) {
                 std::lock_guard lock(workers.mutex);
                 workers.parked.push_back(std::move(respond));
               });
  server.route(http::verb::get, "/text", Access::read, [](HttpRequest, Responder respond) {
    respond(HttpResponse{200, "text/plain", "hello", {}});
  });
  server.route(http::verb::get, "/page", Access::open, [](HttpRequest, Responder respond) {
    respond(HttpResponse{200, "text/html", "<p>page</p>", {}});
  });
  server.route(http::verb::get, "/api/v1/export", Access::secret,
               [](HttpRequest, Responder respond) {
                 respond(json_response(200, {{"all", 1}}));
               });
}

struct Fixture {
  explicit Fixture(HttpServerSettings settings = with_token(), Logger& logger = quiet())
      : server(
            std::move(settings), [this](HttpServer& s) { standard_routes(s, workers); }, logger) {}

  static HttpServerSettings with_token() {
    HttpServerSettings settings = test_settings();
    settings.token = kToken;
    return settings;
  }

  Result<HttpReply> request(http::verb method, std::string target, std::string body = {},
                            std::optional<std::string> token = {}) {
    return http_request(server.address(), method, std::move(target), std::move(body),
                        std::move(token), 3000ms);
  }

  Workers workers;  // outlives the server: its threads are joined last
  ServerThread server;
};

json::value parsed(const std::string& body) {
  return json::parse(body);
}

std::string error_of(const HttpReply& reply) {
  return std::string(parsed(reply.body).at("error").as_string());
}

/// A raw request for `target` with extra header lines (each ending "\r\n").
std::string raw_request(std::string_view method, std::string_view target,
                        std::string_view headers = "") {
  return std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         std::string(headers) + "\r\n";
}

}  // namespace

TEST_CASE("http_server: a read route answers 200 with JSON and the safety headers", "[admin]") {
  Fixture f;
  const auto reply = f.request(http::verb::get, "/api/v1/status");
  REQUIRE(reply.ok());
  CHECK(reply->status == 200);
  CHECK(reply->content_type == "application/json");
  CHECK(parsed(reply->body) == json::value({{"ok", true}}));

  RawClient raw(f.server.port());
  raw.send(raw_request("GET", "/api/v1/status"));
  const auto response = raw.read_response();
  REQUIRE(response);
  CHECK((*response)["X-Content-Type-Options"] == "nosniff");
  CHECK((*response)[http::field::cache_control] == "no-store");
  CHECK(response->keep_alive());
}

TEST_CASE("http_server: a Responder answers from another thread, once", "[admin]") {
  Fixture f;
  const auto reply = f.request(http::verb::get, "/api/v1/later");
  REQUIRE(reply.ok());
  CHECK(reply->status == 200);
  CHECK(parsed(reply->body).at("thread") == "worker");
}

TEST_CASE("http_server: unknown path 404, known path wrong method 405 with Allow", "[admin]") {
  Fixture f;
  const auto missing = f.request(http::verb::get, "/api/v1/nothing-here");
  REQUIRE(missing.ok());
  CHECK(missing->status == 404);
  CHECK(missing->content_type == "application/json");
  CHECK(error_of(*missing) == "no such path");

  RawClient raw(f.server.port());
  raw.send(raw_request("PUT", "/api/v1/status", "Content-Length: 0\r\n"));
  const auto wrong = raw.read_response();
  REQUIRE(wrong);
  CHECK(wrong->result_int() == 405);
  CHECK((*wrong)[http::field::allow] == "GET, HEAD");
  // The connection survives an error on a request without a body.
  raw.send(raw_request("POST", "/api/v1/kv/x", "Content-Length: 0\r\n"));
  const auto prefix = raw.read_response();
  REQUIRE(prefix);
  CHECK(prefix->result_int() == 405);
  CHECK((*prefix)[http::field::allow] == "DELETE, GET, HEAD");
}

TEST_CASE("http_server: a mutate route needs the bearer token: 401 without, 403 wrong, 200 right",
          "[admin]") {
  Fixture f;
  RawClient raw(f.server.port());
  raw.send(raw_request("POST", "/api/v1/echo", "Content-Length: 2\r\n\r\n{}"));
  const auto without = raw.read_response();
  REQUIRE(without);
  CHECK(without->result_int() == 401);
  CHECK((*without)[http::field::www_authenticate] == "Bearer");

  const auto wrong = f.request(http::verb::post, "/api/v1/echo", "{}", "not-the-token");
  REQUIRE(wrong.ok());
  CHECK(wrong->status == 403);
  const auto basic = f.request(http::verb::post, "/api/v1/echo", "{}");
  REQUIRE(basic.ok());
  CHECK(basic->status == 401);

  const auto right = f.request(http::verb::post, "/api/v1/echo", R"({"drain":"site-a"})", kToken);
  REQUIRE(right.ok());
  CHECK(right->status == 200);
  const auto echoed = parsed(right->body);
  CHECK(echoed.at("body") == R"({"drain":"site-a"})");
  CHECK(echoed.at("content_type") == "application/json");

  const auto deleted = f.request(http::verb::delete_, "/api/v1/kv/x", {}, kToken);
  REQUIRE(deleted.ok());
  CHECK(deleted->status == 204);
  CHECK(deleted->body.empty());
}

TEST_CASE("http_server: without a configured token every mutation is 403", "[admin]") {
  Fixture f(test_settings());
  for (const std::optional<std::string>& token :
       {std::optional<std::string>{}, std::optional<std::string>{kToken}}) {
    const auto reply = f.request(http::verb::post, "/api/v1/echo", "{}", token);
    REQUIRE(reply.ok());
    CHECK(reply->status == 403);
    CHECK(error_of(*reply).find("no admin token") != std::string::npos);
  }
  const auto read = f.request(http::verb::get, "/api/v1/status");
  REQUIRE(read.ok());
  CHECK(read->status == 200);
}

TEST_CASE("http_server: with token_for_reads a read needs the token as a mutation does",
          "[admin]") {
  HttpServerSettings settings = Fixture::with_token();
  settings.token_for_reads = true;
  Fixture f(settings);
  for (const char* target : {"/api/v1/status", "/api/v1/kv/a", "/text", "/api/v1/export"}) {
    INFO(target);
    RawClient raw(f.server.port());
    raw.send(raw_request("GET", target));
    const auto without = raw.read_response();
    REQUIRE(without);
    CHECK(without->result_int() == 401);
    CHECK((*without)[http::field::www_authenticate] == "Bearer");
    CHECK(parsed(without->body()).at("error") ==
          "this needs \"Authorization: Bearer <admin token>\"");
    // HEAD is a read too; its refusal is a head alone, so the connection
    // serves the next request cleanly.
    raw.send(raw_request("HEAD", target));
    const auto head = raw.read_response(true);
    REQUIRE(head);
    CHECK(head->result_int() == 401);
    CHECK(raw.pending().empty());
    raw.send(raw_request("GET", target, std::string("Authorization: Bearer ") + kToken + "\r\n"));
    const auto next = raw.read_response();
    REQUIRE(next);
    CHECK(next->result_int() == 200);

    const auto wrong = f.request(http::verb::get, target, {}, "not-the-token");
    REQUIRE(wrong.ok());
    CHECK(wrong->status == 403);
    CHECK(error_of(*wrong) == "wrong admin token");
    const auto right = f.request(http::verb::get, target, {}, kToken);
    REQUIRE(right.ok());
    CHECK(right->status == 200);
  }
  // What holds nothing of the node stays open: the page that asks for the token.
  const auto page = f.request(http::verb::get, "/page");
  REQUIRE(page.ok());
  CHECK(page->status == 200);
  CHECK(page->body == "<p>page</p>");
  // Mutations are as before.
  const auto mutation = f.request(http::verb::post, "/api/v1/echo", "{}");
  REQUIRE(mutation.ok());
  CHECK(mutation->status == 401);
}

TEST_CASE("http_server: without token_for_reads reads are open, a secret read is not", "[admin]") {
  Fixture f;
  for (const char* target : {"/api/v1/status", "/text", "/page"}) {
    INFO(target);
    const auto reply = f.request(http::verb::get, target);
    REQUIRE(reply.ok());
    CHECK(reply->status == 200);
  }
  const auto secret = f.request(http::verb::get, "/api/v1/export");
  REQUIRE(secret.ok());
  CHECK(secret->status == 401);
  const auto with_token = f.request(http::verb::get, "/api/v1/export", {}, kToken);
  REQUIRE(with_token.ok());
  CHECK(with_token->status == 200);

  // Without a configured token a secret read is off, as mutations are.
  Fixture no_token(test_settings());
  const auto off = no_token.request(http::verb::get, "/api/v1/export", {}, kToken);
  REQUIRE(off.ok());
  CHECK(off->status == 403);
  CHECK(error_of(*off) == "this read is disabled: no admin token is configured");
}

TEST_CASE("http_server: token_for_reads without a token does not start", "[admin]") {
  boost::asio::io_context io;
  HttpServerSettings settings = test_settings();
  settings.token_for_reads = true;
  HttpServer server(io, settings, quiet());
  const auto started = server.start();
  REQUIRE_FALSE(started.ok());
  CHECK_THAT(started.error().message,
             Catch::Contains("reads cannot need a token when none is configured"));
}

TEST_CASE("http_server: a mutation can never be a GET", "[admin]") {
  // Registering one is a bug: the process aborts at route().
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Quiet, and without Catch's fatal-signal handler, which would report
    // the expected abort as a failure of its own.
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    signal(SIGABRT, SIG_DFL);
    boost::asio::io_context io;
    Logger logger(LogLevel::error, [](std::string_view) {});
    HttpServer server(io, test_settings(), logger);
    server.route(http::verb::get, "/api/v1/drain", Access::mutate, [](HttpRequest, Responder) {});
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);

  // And a GET to a mutate route's path is 405, token or not.
  Fixture f;
  const auto reply = f.request(http::verb::get, "/api/v1/echo", {}, kToken);
  REQUIRE(reply.ok());
  CHECK(reply->status == 405);
}

TEST_CASE("http_server: bodies up to max_body_bytes pass, larger ones are 413", "[admin]") {
  HttpServerSettings settings = Fixture::with_token();
  settings.max_body_bytes = 1024;
  Fixture f(settings);
  const std::string auth = std::string("Authorization: Bearer ") + kToken + "\r\n";

  const auto at_limit = f.request(http::verb::post, "/api/v1/echo", std::string(1024, 'x'), kToken);
  REQUIRE(at_limit.ok());
  CHECK(at_limit->status == 200);

  SECTION("Content-Length over the limit, answered before any body is sent") {
    RawClient raw(f.server.port());
    raw.send(raw_request("POST", "/api/v1/echo", auth + "Content-Length: 1025\r\n"));
    const auto reply = raw.read_response();
    REQUIRE(reply);
    CHECK(reply->result_int() == 413);
    CHECK_FALSE(reply->keep_alive());
    CHECK(raw.closed_within(2000ms));
  }
  SECTION("a huge Content-Length") {
    RawClient raw(f.server.port());
    raw.send(raw_request("POST", "/api/v1/echo", auth + "Content-Length: 99999999999\r\n"));
    const auto reply = raw.read_response();
    REQUIRE(reply);
    CHECK(reply->result_int() == 413);
  }
  SECTION("a chunked body over the limit") {
    RawClient raw(f.server.port());
    raw.send(raw_request("POST", "/api/v1/echo", auth + "Transfer-Encoding: chunked\r\n") +
             "400\r\n" + std::string(1024, 'x') + "\r\n1\r\nx\r\n0\r\n\r\n");
    const auto reply = raw.read_response();
    REQUIRE(reply);
    CHECK(reply->result_int() == 413);
  }
  SECTION("a chunked body at the limit") {
    RawClient raw(f.server.port());
    raw.send(raw_request("POST", "/api/v1/echo", auth + "Transfer-Encoding: chunked\r\n") +
             "3ff\r\n" + std::string(1023, 'x') + "\r\n1\r\ny\r\n0\r\n\r\n");
    const auto reply = raw.read_response();
    REQUIRE(reply);
    CHECK(reply->result_int() == 200);
    CHECK(parsed(reply->body()).at("body") == json::value(std::string(1023, 'x') + "y"));
  }
  SECTION("a client that sends the whole oversized body still reads the 413") {
    const auto reply =
        f.request(http::verb::post, "/api/v1/echo", std::string(200 * 1024, 'x'), kToken);
    REQUIRE(reply.ok());
    CHECK(reply->status == 413);
  }
}

TEST_CASE("http_server: Expect: 100-continue gets its interim response", "[admin]") {
  Fixture f;
  RawClient raw(f.server.port());
  const std::string headers = std::string("Authorization: Bearer ") + kToken +
                              "\r\nExpect: 100-continue\r\nContent-Length: 2\r\n";
  raw.send(raw_request("POST", "/api/v1/echo", headers));
  const auto interim = raw.read_response();
  REQUIRE(interim);
  CHECK(interim->result_int() == 100);
  raw.send("{}");
  const auto reply = raw.read_response();
  REQUIRE(reply);
  CHECK(reply->result_int() == 200);
}

TEST_CASE("http_server: a request head up to max_header_bytes passes, a larger one is 431",
          "[admin]") {
  HttpServerSettings settings = test_settings();
  settings.max_header_bytes = 2048;
  Fixture f(settings);
  // A head of exactly `size` bytes, through its blank line.
  const auto head_of = [](std::size_t size) {
    const std::string start = "GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ";
    return start + std::string(size - start.size() - 4, 'p') + "\r\n\r\n";
  };
  {
    RawClient raw(f.server.port());
    raw.send(head_of(2048));
    const auto reply = raw.read_response();
    REQUIRE(reply);
    CHECK(reply->result_int() == 200);
  }
  {
    RawClient raw(f.server.port());
    raw.send(head_of(2049));
    const auto reply = raw.read_response();
    REQUIRE(reply);
    CHECK(reply->result_int() == 431);
    CHECK(raw.closed_within(2000ms));
  }
  {
    RawClient raw(f.server.port());
    raw.send(head_of(64 * 1024));
    const auto reply = raw.read_response();
    REQUIRE(reply);
    CHECK(reply->result_int() == 431);
  }
}

TEST_CASE("http_server: garbage and bad targets are 400", "[admin]") {
  Fixture f;
  for (const std::string& garbage :
       {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n"),
        std::string("HELLO\r\n\r\n"), std::string("GET /api/v1/status HTTP/9.9\r\n\r\n"),
        std::string("GET  HTTP/1.1\r\n\r\n"),
        std::string("GET /api/v1/status HTTP/1.1\r\nBad Header\r\n\r\n"),
        std::string("GET /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")}) {
    INFO(garbage);
    RawClient raw(f.server.port());
    raw.send(garbage);
    const auto reply = raw.read_response();
    REQUIRE(reply);
    CHECK(reply->result_int() == 400);
    CHECK((*reply)[http::field::content_type] == "application/json");
    CHECK(raw.closed_within(2000ms));
  }
  for (const char* target :
       {"http://other.example/api/v1/status", "*", "/api/v1/kv/%zz", "/api/v1/kv/x?a=%4"}) {
    INFO(target);
    RawClient raw(f.server.port());
    raw.send(raw_request("GET", target));
    const auto reply = raw.read_response();
    REQUIRE(reply);
    CHECK(reply->result_int() == 400);
  }
}

TEST_CASE("http_server: a slow request head (slowloris) gets 408 and the close", "[admin]") {
  HttpServerSettings settings = test_settings();
  settings.header_timeout = 200ms;
  Fixture f(settings);
  RawClient raw(f.server.port());
  const auto began = std::chrono::steady_clock::now();
  // A byte every 50 ms keeps every single read short: only a deadline on
  // the whole head stops this.
  const std::string head = raw_request("GET", "/api/v1/status");
  std::optional<Reply> reply;
  for (std::size_t i = 0; i < head.size() - 1 && !reply; ++i) {
    raw.send(head.substr(i, 1));
    reply = raw.read_response(false, 50ms);
  }
  if (!reply) reply = raw.read_response(false, 2000ms);
  REQUIRE(reply);
  CHECK(reply->result_int() == 408);
  CHECK(raw.closed_within(2000ms));
  const auto took = std::chrono::steady_clock::now() - began;
  CHECK(took >= 190ms);
  CHECK(took < 1000ms);
}

TEST_CASE("http_server: a slow request body gets 408 and the close", "[admin]") {
  HttpServerSettings settings = Fixture::with_token();
  settings.body_timeout = 200ms;
  Fixture f(settings);
  RawClient raw(f.server.port());
  const auto began = std::chrono::steady_clock::now();
  raw.send(
      raw_request("POST", "/api/v1/echo",
                  std::string("Authorization: Bearer ") + kToken + "\r\nContent-Length: 10\r\n") +
      "12345");
  const auto reply = raw.read_response(false, 3000ms);
  REQUIRE(reply);
  CHECK(reply->result_int() == 408);
  CHECK(raw.closed_within(2000ms));
  const auto took = std::chrono::steady_clock::now() - began;
  CHECK(took >= 190ms);
  CHECK(took < 1500ms);
}

TEST_CASE("http_server: a connection that sends nothing is closed silently after header_timeout",
          "[admin]") {
  HttpServerSettings settings = test_settings();
  settings.header_timeout = 200ms;
  Fixture f(settings);
  RawClient raw(f.server.port());
  const auto began = std::chrono::steady_clock::now();
  CHECK(raw.closed_within(3000ms));
  CHECK(raw.pending().empty());
  CHECK(std::chrono::steady_clock::now() - began >= 190ms);
}

TEST_CASE("http_server: keep-alive serves several requests, then closes when idle", "[admin]") {
  HttpServerSettings settings = test_settings();
  settings.header_timeout = 200ms;
  settings.idle_timeout = 400ms;
  Fixture f(settings);
  RawClient raw(f.server.port());
  raw.send(raw_request("GET", "/api/v1/status"));
  const auto first = raw.read_response();
  REQUIRE(first);
  CHECK(first->result_int() == 200);
  // Longer than header_timeout: between requests the idle timeout applies.
  CHECK(raw.open_and_quiet(300ms));
  raw.send(raw_request("GET", "/api/v1/kv/second"));
  const auto second = raw.read_response();
  REQUIRE(second);
  CHECK(parsed(second->body()).at("rest") == "second");

  const auto began = std::chrono::steady_clock::now();
  CHECK(raw.closed_within(3000ms));
  CHECK(raw.pending().empty());
  CHECK(std::chrono::steady_clock::now() - began >= 350ms);
}

TEST_CASE("http_server: pipelined requests are answered in order", "[admin]") {
  Fixture f;
  RawClient raw(f.server.port());
  raw.send(raw_request("GET", "/api/v1/later") + raw_request("GET", "/api/v1/kv/b") +
           raw_request("GET", "/text"));
  const auto a = raw.read_response();
  const auto b = raw.read_response();
  const auto c = raw.read_response();
  REQUIRE((a && b && c));
  CHECK(parsed(a->body()).at("thread") == "worker");
  CHECK(parsed(b->body()).at("rest") == "b");
  CHECK(c->body() == "hello");
}

TEST_CASE("http_server: Connection: close is honoured", "[admin]") {
  Fixture f;
  RawClient raw(f.server.port());
  raw.send(raw_request("GET", "/api/v1/status", "Connection: close\r\n"));
  const auto reply = raw.read_response();
  REQUIRE(reply);
  CHECK(reply->result_int() == 200);
  CHECK_FALSE(reply->keep_alive());
  CHECK(raw.closed_within(2000ms));
}

TEST_CASE("http_server: beyond max_connections a connection is closed at accept", "[admin]") {
  HttpServerSettings settings = test_settings();
  settings.max_connections = 2;
  settings.header_timeout = 3000ms;
  Fixture f(settings);
  auto first = std::make_unique<RawClient>(f.server.port());
  RawClient second(f.server.port());
  RawClient third(f.server.port());
  CHECK(third.closed_within(2000ms));
  CHECK(second.open_and_quiet(100ms));
  std::size_t open = 0;
  std::uint64_t refused = 0;
  f.server.on_io_thread([&] {
    open = f.server.server().open_connections();
    refused = f.server.server().counters().refused;
  });
  CHECK(open == 2);
  CHECK(refused == 1);

  // A slot frees when a connection closes.
  first.reset();
  bool served = false;
  for (int attempt = 0; attempt < 100 && !served; ++attempt) {
    RawClient again(f.server.port());
    again.send(raw_request("GET", "/api/v1/status"));
    served = again.read_response(false, 500ms).has_value();
  }
  CHECK(served);
  second.send(raw_request("GET", "/api/v1/status"));
  const auto reply = second.read_response();
  REQUIRE(reply);
  CHECK(reply->result_int() == 200);
}

TEST_CASE(
    "http_server: beyond max_connections_per_client a client's connection is closed at "
    "accept, others are served",
    "[admin]") {
  HttpServerSettings settings = test_settings();
  settings.max_connections_per_client = 2;
  settings.header_timeout = 3000ms;
  Fixture f(settings);
  auto first = std::make_unique<RawClient>(f.server.port(), "127.0.0.1");
  RawClient second(f.server.port(), "127.0.0.1");
  RawClient third(f.server.port(), "127.0.0.1");
  CHECK(third.closed_within(2000ms));
  CHECK(second.open_and_quiet(100ms));
  // Another address is counted on its own (the cap is per address).
  RawClient other(f.server.port(), "127.0.0.2");
  CHECK(other.open_and_quiet(100ms));
  other.send(raw_request("GET", "/api/v1/status"));
  const auto answered = other.read_response();
  REQUIRE(answered);
  CHECK(answered->result_int() == 200);
  std::size_t open = 0;
  HttpServerCounters counters;
  f.server.on_io_thread([&] {
    open = f.server.server().open_connections();
    counters = f.server.server().counters();
  });
  CHECK(open == 3);
  CHECK(counters.refused_client_limit == 1);
  CHECK(counters.refused == 0);

  // A slot of the client frees when one of its connections closes.
  first.reset();
  bool served = false;
  for (int attempt = 0; attempt < 100 && !served; ++attempt) {
    RawClient again(f.server.port(), "127.0.0.1");
    again.send(raw_request("GET", "/api/v1/status"));
    served = again.read_response(false, 500ms).has_value();
  }
  CHECK(served);
}

TEST_CASE("http_server: a zero per-client cap is refused at start", "[admin]") {
  boost::asio::io_context io;
  HttpServerSettings settings = test_settings();
  settings.max_connections_per_client = 0;
  HttpServer server(io, settings, quiet());
  const auto started = server.start();
  REQUIRE_FALSE(started.ok());
  CHECK_THAT(started.error().message, Catch::Contains("must be positive"));
}

TEST_CASE("http_server: a non-loopback address needs a token", "[admin]") {
  boost::asio::io_context io;
  HttpServerSettings settings = test_settings();
  settings.listen = {IpAddress::v4(0, 0, 0, 0), 0};
  {
    HttpServer server(io, settings, quiet());
    const auto started = server.start();
    REQUIRE_FALSE(started.ok());
    CHECK(started.error().message.find("0.0.0.0:0") != std::string::npos);
    CHECK(started.error().message.find("token") != std::string::npos);
  }
  {
    settings.token = "two words";
    HttpServer server(io, settings, quiet());
    const auto started = server.start();
    REQUIRE_FALSE(started.ok());
    CHECK(started.error().message.find("two words") == std::string::npos);  // never echo a token
  }
  {
    settings.token = kToken;
    HttpServer server(io, settings, quiet());
    const auto started = server.start();
    REQUIRE(started.ok());
    CHECK(server.bound().port != 0);
    CHECK(server.bound().is_wildcard());
  }
  {
    HttpServerSettings loopback = test_settings();
    loopback.listen = {IpAddress::v4(127, 0, 0, 2), 0};
    HttpServer server(io, loopback, quiet());
    CHECK(server.start().ok());
  }
}

TEST_CASE("http_server: path rest and query are percent-decoded", "[admin]") {
  Fixture f;
  const auto reply = f.request(
      http::verb::get, "/api/v1/kv/site%2Fa/b%20c%25?name=www.example.com&x=1%262&y=a+b&flag");
  REQUIRE(reply.ok());
  REQUIRE(reply->status == 200);
  const auto body = parsed(reply->body);
  CHECK(body.at("path") == "/api/v1/kv/site/a/b c%");
  CHECK(body.at("rest") == "site/a/b c%");
  CHECK(body.at("query") ==
        json::value({{"name", "www.example.com"}, {"x", "1&2"}, {"y", "a b"}, {"flag", ""}}));

  const auto encoded =
      f.request(http::verb::get, "/api/v1/kv/" + percent_encode("key with/slash&more"));
  REQUIRE(encoded.ok());
  CHECK(parsed(encoded->body).at("rest") == "key with/slash&more");
}

TEST_CASE(
    "http_server: a handler that drops its Responder or throws gives 500; one that stalls 503",
    "[admin]") {
  HttpServerSettings settings = Fixture::with_token();
  settings.response_timeout = 300ms;
  Fixture f(settings);
  for (const char* target : {"/api/v1/dropped", "/api/v1/throws"}) {
    INFO(target);
    const auto reply = f.request(http::verb::get, target);
    REQUIRE(reply.ok());
    CHECK(reply->status == 500);
    CHECK(reply->content_type == "application/json");
  }
  const auto began = std::chrono::steady_clock::now();
  const auto stalled = f.request(http::verb::get, "/api/v1/parked");
  REQUIRE(stalled.ok());
  CHECK(stalled->status == 503);
  CHECK(std::chrono::steady_clock::now() - began >= 290ms);
  // Answering after the timeout is harmless.
  {
    std::lock_guard lock(f.workers.mutex);
    REQUIRE(f.workers.parked.size() == 1);
    f.workers.parked.front()(json_response(200, {{"late", true}}));
  }
  const auto after = f.request(http::verb::get, "/api/v1/status");
  REQUIRE(after.ok());
  CHECK(after->status == 200);
}

TEST_CASE("http_server: HEAD on a GET route sends the head only", "[admin]") {
  Fixture f;
  RawClient raw(f.server.port());
  raw.send(raw_request("HEAD", "/text"));
  const auto head = raw.read_response(true);
  REQUIRE(head);
  CHECK(head->result_int() == 200);
  CHECK((*head)[http::field::content_length] == "5");
  CHECK((*head)[http::field::content_type] == "text/plain");
  CHECK(head->body().empty());
  // No body followed: the next response on the connection parses cleanly.
  raw.send(raw_request("GET", "/text"));
  const auto get = raw.read_response();
  REQUIRE(get);
  CHECK(get->body() == "hello");

  const auto client = f.request(http::verb::head, "/api/v1/status");
  REQUIRE(client.ok());
  CHECK(client->status == 200);
  CHECK(client->body.empty());
}

TEST_CASE("http_server: no CORS header, even for a cross-origin request or a preflight",
          "[admin]") {
  Fixture f;
  RawClient raw(f.server.port());
  const std::string origin = "Origin: http://evil.example\r\n";
  raw.send(raw_request("GET", "/api/v1/status", origin));
  const auto get = raw.read_response();
  REQUIRE(get);
  CHECK(get->result_int() == 200);
  CHECK_FALSE(has_cors_header(*get));
  const std::string preflight_headers =
      origin +
      "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization\r\n";
  raw.send(raw_request("OPTIONS", "/api/v1/echo", preflight_headers));
  const auto preflight = raw.read_response();
  REQUIRE(preflight);
  CHECK(preflight->result_int() == 405);
  CHECK_FALSE(has_cors_header(*preflight));
  raw.send(raw_request("GET", "/nowhere", origin));
  const auto missing = raw.read_response();
  REQUIRE(missing);
  CHECK_FALSE(has_cors_header(*missing));
}

TEST_CASE("http_server: one debug line per request, never the token", "[admin]") {
  std::mutex mutex;
  std::vector<std::string> lines;
  Logger logger(LogLevel::debug, [&](std::string_view line) {
    std::lock_guard lock(mutex);
    lines.emplace_back(line);
  });
  {
    Fixture f(Fixture::with_token(), logger);
    REQUIRE(f.request(http::verb::post, "/api/v1/echo?token=x", "{}", kToken).ok());
    REQUIRE(f.request(http::verb::post, "/api/v1/echo", "{}", "wrong-token-value").ok());
    REQUIRE(f.request(http::verb::get, "/api/v1/nothing").ok());
    // The line follows the write: wait for the last one.
    for (int i = 0; i < 200; ++i) {
      std::lock_guard lock(mutex);
      if (std::any_of(lines.begin(), lines.end(), [](const std::string& line) {
            return line.find("/api/v1/nothing 404") != std::string::npos;
          }))
        break;
      std::this_thread::sleep_for(5ms);
    }
  }
  std::lock_guard lock(mutex);
  std::vector<std::string> requests;
  for (const auto& line : lines) {
    CHECK(line.find(kToken) == std::string::npos);
    CHECK(line.find("wrong-token-value") == std::string::npos);
    CHECK(line.find("token=x") == std::string::npos);  // no query in the log
    if (line.find("admin.http: 127.0.0.1:") != std::string::npos) requests.push_back(line);
  }
  REQUIRE(requests.size() == 3);
  CHECK(requests[0].find("POST /api/v1/echo 200 ") != std::string::npos);
  CHECK(requests[0].find(" ms") != std::string::npos);
  CHECK(requests[1].find("POST /api/v1/echo 403 ") != std::string::npos);
  CHECK(requests[2].find("GET /api/v1/nothing 404 ") != std::string::npos);
}

TEST_CASE("http_server: stop() closes connections, including one waiting for its handler",
          "[admin]") {
  Fixture f;
  RawClient idle(f.server.port());
  RawClient waiting(f.server.port());
  waiting.send(raw_request("GET", "/api/v1/parked"));
  for (int i = 0; i < 200; ++i) {
    std::lock_guard lock(f.workers.mutex);
    if (!f.workers.parked.empty()) break;
    std::this_thread::sleep_for(5ms);
  }
  f.server.on_io_thread([&] { f.server.server().stop(); });
  CHECK(idle.closed_within(2000ms));
  CHECK(waiting.closed_within(2000ms));
  CHECK(waiting.pending().empty());
  // A late answer after stop() goes nowhere.
  std::lock_guard lock(f.workers.mutex);
  REQUIRE(f.workers.parked.size() == 1);
  f.workers.parked.front()(json_response(200, {{"late", true}}));
}

TEST_CASE("http_server: a Host header naming another site is refused (DNS rebinding)", "[admin]") {
  Fixture f;
  const auto ask = [&](std::string_view host) {
    RawClient raw(f.server.port());
    raw.send("GET /api/v1/status HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n");
    auto response = raw.read_response();
    REQUIRE(response);
    return std::pair{response->result_int(), response->body()};
  };
  const auto [refused, reason] = ask("attacker.example:8053");
  CHECK(refused == 403);
  CHECK_THAT(reason, Catch::Contains("the Host header names attacker.example:8053, which is not "
                                     "this server"));
  CHECK(ask("127.0.0.1:8053").first == 200);
  CHECK(ask("localhost:8053").first == 200);
  CHECK(ask("[::1]:8053").first == 200);
}
