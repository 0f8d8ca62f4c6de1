// The http probe against scripted servers on 127.0.0.1.

#include <catch2/catch.hpp>

#include "health/probe.hpp"
#include "health/probe_http.hpp"
#include "probe_test_support.hpp"

using namespace meridian;
using namespace meridian::health;
using namespace meridian::health::test;
using namespace std::chrono_literals;

namespace {

CheckSpec http_check(std::chrono::milliseconds timeout = 2000ms) {
  CheckSpec check;
  check.type = CheckType::http;
  check.timeout = timeout;
  return check;
}

/// A server that reads the request and sends `response`, then closes.
ScriptedTcpServer::Handler respond(std::string response) {
  return [response = std::move(response)](int& fd) {
    read_request(fd);
    send_all(fd, response);
  };
}

ProbeResult probe_with(const CheckSpec& check, ScriptedTcpServer::Handler handler) {
  ScriptedTcpServer server(std::move(handler));
  return run_probe(check, server.port());
}

}  // namespace

TEST_CASE("prober: http 200 passes and the request is well-formed", "[health]") {
  std::string request;
  CheckSpec check = http_check();
  check.http.path = "/healthz?full=1";
  check.http.headers = {{"X-Probe", "yes"}};
  std::uint16_t port = 0;
  ProbeResult result;
  {
    ScriptedTcpServer server([&request](int& fd) {
      request = read_request(fd);
      send_all(fd, http_response(200, "fine"));
    });
    port = server.port();
    result = run_probe(check, port);
  }
  CHECK(result.ok);
  CHECK(result.detail == "status 200");
  CHECK_THAT(request, Catch::StartsWith("GET /healthz?full=1 HTTP/1.1\r\n"));
  CHECK_THAT(request, Catch::Contains("Host: 127.0.0.1:" + std::to_string(port) + "\r\n"));
  CHECK_THAT(request, Catch::Contains("User-Agent: meridian-health/0.1\r\n"));
  CHECK_THAT(request, Catch::Contains("Connection: close\r\n"));
  CHECK_THAT(request, Catch::Contains("X-Probe: yes\r\n"));
}

TEST_CASE("prober: http Host header defaults to the address literal", "[health]") {
  IpAddress v4 = IpAddress::v4(192, 0, 2, 7), v6;
  REQUIRE(IpAddress::parse("2001:db8::1", v6));
  HttpCheck http;
  CHECK(detail::host_header(http, v4, 80, false) == "192.0.2.7");
  CHECK(detail::host_header(http, v4, 8080, false) == "192.0.2.7:8080");
  CHECK(detail::host_header(http, v4, 443, true) == "192.0.2.7");
  CHECK(detail::host_header(http, v4, 80, true) == "192.0.2.7:80");
  CHECK(detail::host_header(http, v6, 80, false) == "[2001:db8::1]");
  CHECK(detail::host_header(http, v6, 8443, true) == "[2001:db8::1]:8443");
  http.host = "www.example.com";
  CHECK(detail::host_header(http, v6, 8443, true) == "www.example.com");
}

TEST_CASE("prober: http 503 is a status failure", "[health]") {
  const ProbeResult result = probe_with(http_check(), respond(http_response(503, "down")));
  CHECK_FALSE(result.ok);
  CHECK(result.failure == ProbeFailure::status_mismatch);
  CHECK(result.detail == "status 503");
}

TEST_CASE("prober: http 503 passes when 503 is the expected set", "[health]") {
  CheckSpec check = http_check();
  check.http.expect = {StatusRange{503, 503}};
  CHECK(probe_with(check, respond(http_response(503, "maintenance"))).ok);
  const ProbeResult other = probe_with(check, respond(http_response(200, "ok")));
  CHECK(other.failure == ProbeFailure::status_mismatch);
  CHECK(other.detail == "status 200");
}

TEST_CASE("prober: http redirects are judged, not followed", "[health]") {
  const std::string redirect = http_response(301, "", "Location: /elsewhere\r\n");
  ScriptedTcpServer server(respond(redirect), 2);
  CHECK(run_probe(http_check(), server.port()).ok);  // 301 is within the default 200-399
  CheckSpec strict = http_check();
  strict.http.expect = {StatusRange{200, 299}};
  const ProbeResult result = run_probe(strict, server.port());
  CHECK(result.failure == ProbeFailure::status_mismatch);
  CHECK(result.detail == "status 301");
  CHECK(server.accepted() == 2);  // one connection per probe: nothing followed the Location
}

TEST_CASE("prober: http body substring match and mismatch", "[health]") {
  CheckSpec check = http_check();
  check.http.body_contains = "\"status\":\"up\"";
  CHECK(probe_with(check, respond(http_response(200, R"({"db":"ok","status":"up"})"))).ok);

  const ProbeResult result =
      probe_with(check, respond(http_response(200, R"({"status":"degraded"})")));
  CHECK(result.failure == ProbeFailure::body_mismatch);
  CHECK(result.detail == "\"\"status\":\"up\"\" not in the first 21 bytes of the body");
}

TEST_CASE("prober: http body substring in a chunked body, across chunks", "[health]") {
  CheckSpec check = http_check();
  check.http.body_contains = "healthy";
  const std::string response =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nall "
      "\r\n4\r\nheal\r\n3\r\nthy\r\n0\r\n\r\n";
  CHECK(probe_with(check, respond(response)).ok);
}

TEST_CASE("prober: http body is searched only within body_limit_bytes", "[health]") {
  CheckSpec check = http_check();
  check.http.body_contains = "NEEDLE";
  check.http.body_limit_bytes = 1000;
  const std::string early = std::string(994, 'x') + "NEEDLE" + std::string(5000, 'y');
  CHECK(probe_with(check, respond(http_response(200, early))).ok);  // ends exactly at the limit

  const std::string late = std::string(995, 'x') + "NEEDLE" + std::string(5000, 'y');
  const ProbeResult result = probe_with(check, respond(http_response(200, late)));
  CHECK(result.failure == ProbeFailure::body_mismatch);
  CHECK(result.detail == "\"NEEDLE\" not in the first 1000 bytes of the body");
}

TEST_CASE("prober: http status passes without reading a body beyond the limit", "[health]") {
  // A Content-Length far past any limit: the status check alone decides.
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\nstart...";
  const ProbeResult result = probe_with(http_check(), respond(response));
  CHECK(result.ok);
}

TEST_CASE("prober: http endless body ends at the cap with bounded memory", "[health]") {
  std::atomic<std::size_t> sent{0};
  auto endless = [&sent](int& fd) {
    read_request(fd);
    if (!send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")) return;
    const std::string piece(16 * 1024, 'x');
    // Until the prober hangs up (bounded in case it never does).
    while (sent < (std::size_t{1} << 30) && send_all(fd, piece)) sent += piece.size();
  };
  CheckSpec check = http_check(5000ms);
  check.http.body_contains = "never there";
  check.http.body_limit_bytes = 64 * 1024;
  const ProbeResult result = probe_with(check, endless);
  CHECK(result.failure == ProbeFailure::body_mismatch);
  CHECK(result.detail == "\"never there\" not in the first 65536 bytes of the body");
  CHECK(latency_ms(result) < 2000ms);  // stopped at the cap, not at the deadline
  CHECK(sent <
        (std::size_t{64} << 20));  // hung up: the server could not push more than socket buffers

  check.http.body_contains.clear();  // no body check: the headers decide
  CHECK(probe_with(check, endless).ok);
}

TEST_CASE("prober: http garbage bytes are a bad response, at once", "[health]") {
  auto banner = [](int& fd) {
    send_all(fd, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
    wait_for_close(fd);  // and wait for the client's identification, forever
  };
  const ProbeResult result = probe_with(http_check(), banner);
  CHECK(result.failure == ProbeFailure::bad_response);
  CHECK(result.detail == "not an HTTP response: \"SSH-2.0-OpenSSH_9.2p1 De\"");
  CHECK(latency_ms(result) < 1000ms);

  const ProbeResult bad_status = probe_with(http_check(), respond("HTTP/1.1 OK\r\n\r\n"));
  CHECK(bad_status.failure == ProbeFailure::bad_response);
  CHECK_THAT(bad_status.detail, Catch::StartsWith("malformed response"));
}

TEST_CASE("prober: http headers beyond 16 KiB are a bad response", "[health]") {
  // A header section (status line to blank line) of exactly `size` bytes.
  auto head_of = [](std::size_t size) {
    const std::string frame = "HTTP/1.1 200 OK\r\nX-Fill: \r\n\r\n";
    return "HTTP/1.1 200 OK\r\nX-Fill: " + std::string(size - frame.size(), 'f') + "\r\n\r\n";
  };
  REQUIRE(head_of(16384).size() == 16384);
  CHECK(probe_with(http_check(), respond(head_of(16384))).ok);
  const ProbeResult result = probe_with(http_check(), respond(head_of(16385)));
  CHECK(result.failure == ProbeFailure::bad_response);
  CHECK(result.detail == "response headers exceed 16384 bytes");
}

TEST_CASE("prober: http connection reset mid-response is a reset", "[health]") {
  auto rst = [](int& fd) {
    read_request(fd);
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Le");
    std::this_thread::sleep_for(50ms);
    reset_connection(fd);
  };
  const ProbeResult result = probe_with(http_check(), rst);
  CHECK(result.failure == ProbeFailure::reset);
  CHECK_THAT(result.detail,
             Catch::Contains("connection reset") || Catch::Contains("connection closed"));

  auto fin = [](int& fd) {
    read_request(fd);
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Le");
  };
  const ProbeResult closed = probe_with(http_check(), fin);
  CHECK(closed.failure == ProbeFailure::reset);
  CHECK(closed.detail == "connection closed mid-response");

  const ProbeResult nothing = probe_with(http_check(), [](int& fd) { read_request(fd); });
  CHECK(nothing.failure == ProbeFailure::reset);
  CHECK(nothing.detail == "connection closed before the response");
}

TEST_CASE("prober: http body cut short is a reset unless the text was already seen", "[health]") {
  CheckSpec check = http_check();
  check.http.body_contains = "ready";
  auto cut = [](std::string body) {
    return [body](int& fd) {
      read_request(fd);
      send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + body);
      std::this_thread::sleep_for(50ms);
      reset_connection(fd);
    };
  };
  const ProbeResult result = probe_with(check, cut("not yet"));
  CHECK(result.failure == ProbeFailure::reset);
  CHECK(probe_with(check, cut("ready now")).ok);
}

TEST_CASE("prober: http headers that never finish time out within the deadline", "[health]") {
  auto slow = [](int& fd) {
    read_request(fd);
    send_all(fd, "HTTP/1.1 200 OK\r\nX-Slow: 1\r\n");
    wait_for_close(fd);
  };
  const ProbeResult result = probe_with(http_check(300ms), slow);
  CHECK(result.failure == ProbeFailure::timeout);
  CHECK(result.detail == "no answer within 300 ms (reading the response headers)");
  CHECK(latency_ms(result) >= 300ms);
  CHECK(latency_ms(result) < 1000ms);
}

TEST_CASE("prober: http HEAD passes on the headers alone", "[health]") {
  CheckSpec check = http_check();
  check.http.method = "HEAD";
  std::string request;
  ProbeResult result;
  {
    ScriptedTcpServer server([&request](int& fd) {
      request = read_request(fd);
      send_all(fd, "HTTP/1.1 204 No Content\r\nContent-Length: 123\r\n\r\n");
      wait_for_close(fd);
    });
    result = run_probe(check, server.port());
  }
  CHECK(result.ok);
  CHECK_THAT(request, Catch::StartsWith("HEAD / HTTP/1.1\r\n"));
}
