// The https probe against an in-process TLS server whose certificate comes
// from a CA made for the test run with the openssl CLI.

#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "health/probe.hpp"
#include "health/probe_tls.hpp"
#include "probe_test_support.hpp"

using namespace meridian;
using namespace meridian::health;
using namespace meridian::health::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace ssl = asio::ssl;

namespace {

/// A CA and a server certificate for "localhost" and 127.0.0.1 signed by it,
/// in a temporary directory removed at exit.
struct TestPki {
  std::filesystem::path dir;
  std::string ca_file, cert_file, key_file;

  TestPki() {
    char name[] = "/tmp/meridian-probe-tls-XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    dir = name;
    std::ofstream(dir / "server.ext") << "subjectAltName = DNS:localhost, IP:127.0.0.1\n"
                                         "basicConstraints = CA:FALSE\n"
                                         "keyUsage = digitalSignature\n"
                                         "extendedKeyUsage = serverAuth\n";
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string script =
        "cd '" + dir.string() + "' && " +  //
        "openssl req -x509" + ec +
        " -keyout ca.key -out ca.pem -days 2 -subj '/CN=Meridian Test CA' && " + "openssl req" +
        ec + " -keyout server.key -out server.csr -subj '/CN=localhost' && " +
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem "
        "-days 2"
        " -extfile server.ext";
    REQUIRE(std::system(("(" + script + ") >/dev/null 2>&1").c_str()) == 0);
    ca_file = (dir / "ca.pem").string();
    cert_file = (dir / "server.pem").string();
    key_file = (dir / "server.key").string();
  }
  ~TestPki() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

const TestPki& pki() {
  static const TestPki instance;
  return instance;
}

struct Seen {
  std::string sni;      ///< server name the client sent, "" for none
  std::string request;  ///< the request head
  bool handshake_ok = false;
};

/// A TLS server handler: handshake, read the request, send `response`, close
/// without close_notify (as many servers do).
ScriptedTcpServer::Handler tls_respond(std::string response, Seen* seen = nullptr) {
  return [response = std::move(response), seen](int& fd) {
    asio::io_context io;
    ssl::context context(ssl::context::tls_server);
    context.use_certificate_chain_file(pki().cert_file);
    context.use_private_key_file(pki().key_file, ssl::context::pem);
    ssl::stream<asio::ip::tcp::socket> stream(io, context);
    boost::system::error_code error;
    stream.next_layer().assign(asio::ip::tcp::v4(), fd, error);
    fd = -1;  // the stream owns it now
    stream.handshake(ssl::stream_base::server, error);
    if (error) return;
    const char* name = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    asio::streambuf head;
    asio::read_until(stream, head, "\r\n\r\n", error);
    if (seen != nullptr) {
      seen->handshake_ok = true;
      seen->sni = name != nullptr ? name : "";
      seen->request.assign(asio::buffers_begin(head.data()), asio::buffers_end(head.data()));
    }
    asio::write(stream, asio::buffer(response), error);
  };
}

CheckSpec https_check(std::chrono::milliseconds timeout = 2000ms) {
  CheckSpec check;
  check.type = CheckType::https;
  check.timeout = timeout;
  check.tls.ca_file = pki().ca_file;
  return check;
}

ProbeResult probe_with(const CheckSpec& check, ScriptedTcpServer::Handler handler) {
  ScriptedTcpServer server(std::move(handler));
  return run_probe(check, server.port());
}

}  // namespace

TEST_CASE("prober: https passes with the CA file, verifying the IP when no name is known",
          "[health]") {
  Seen seen;
  const ProbeResult result =
      probe_with(https_check(), tls_respond(http_response(200, "ok"), &seen));
  CHECK(result.ok);
  CHECK(result.detail == "status 200");
  CHECK(seen.sni.empty());  // never an IP literal as SNI
}

TEST_CASE("prober: https sends the Host name as SNI and verifies it", "[health]") {
  Seen seen;
  CheckSpec check = https_check();
  std::uint16_t port = 0;
  ProbeResult result;
  {
    ScriptedTcpServer server(tls_respond(http_response(200, "ok"), &seen));
    port = server.port();
    check.http.host = "localhost:" + std::to_string(port);
    result = run_probe(check, port);
  }
  CHECK(result.ok);
  CHECK(seen.sni == "localhost");
  CHECK_THAT(seen.request, Catch::Contains("Host: localhost:" + std::to_string(port) + "\r\n"));
}

TEST_CASE("prober: https without the CA file fails verification against the default store",
          "[health]") {
  CheckSpec check = https_check();
  check.tls.ca_file.clear();
  const ProbeResult result = probe_with(check, tls_respond(http_response(200, "ok")));
  CHECK(result.failure == ProbeFailure::tls_error);
  CHECK_THAT(result.detail, Catch::StartsWith("certificate verify failed: "));
}

TEST_CASE("prober: https with verify off passes without a CA", "[health]") {
  CheckSpec check = https_check();
  check.tls.ca_file.clear();
  check.tls.verify = false;
  check.tls.server_name = "wrong.example";  // not checked either
  CHECK(probe_with(check, tls_respond(http_response(204, ""))).ok);
}

TEST_CASE("prober: https with a wrong server_name is a tls_error", "[health]") {
  Seen seen;
  CheckSpec check = https_check();
  check.tls.server_name = "wrong.example";
  const ProbeResult result = probe_with(check, tls_respond(http_response(200, "ok"), &seen));
  CHECK(result.failure == ProbeFailure::tls_error);
  CHECK(result.detail == "certificate verify failed: hostname mismatch");
  CHECK_FALSE(seen.handshake_ok);
}

TEST_CASE("prober: https with an unreadable CA file is a tls_error", "[health]") {
  CheckSpec check = https_check();
  check.tls.ca_file = (pki().dir / "missing.pem").string();
  const ProbeResult result = probe_with(check, [](int&) {});
  CHECK(result.failure == ProbeFailure::tls_error);
  CHECK_THAT(result.detail, Catch::StartsWith("cannot load CA file " + check.tls.ca_file));
}

TEST_CASE("prober: https judges status and body over TLS", "[health]") {
  const ProbeResult status = probe_with(https_check(), tls_respond(http_response(503, "")));
  CHECK(status.failure == ProbeFailure::status_mismatch);
  CHECK(status.detail == "status 503");

  // A body ended by the close, without close_notify: complete, not a reset.
  CheckSpec check = https_check();
  check.http.body_contains = "green";
  const std::string until_close = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall systems ";
  const ProbeResult body = probe_with(check, tls_respond(until_close));
  CHECK(body.failure == ProbeFailure::body_mismatch);
  CHECK(body.detail == "\"green\" not in the first 12 bytes of the body");
  CHECK(probe_with(check, tls_respond(until_close + "green")).ok);
}

TEST_CASE("prober: https to a server that never handshakes times out", "[health]") {
  const ProbeResult result = probe_with(https_check(300ms), [](int& fd) { wait_for_close(fd); });
  CHECK(result.failure == ProbeFailure::timeout);
  CHECK(result.detail == "no answer within 300 ms (TLS handshake)");
  CHECK(latency_ms(result) >= 300ms);
  CHECK(latency_ms(result) < 1000ms);
}

TEST_CASE("prober: https to a plain-text server is a tls_error", "[health]") {
  auto eager = [](int& fd) {
    send_all(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    wait_for_close(fd);
  };
  const ProbeResult result = probe_with(https_check(), eager);
  CHECK(result.failure == ProbeFailure::tls_error);
  CHECK_FALSE(result.detail.empty());
  const ProbeResult closed = probe_with(https_check(), [](int& fd) { reset_connection(fd); });
  INFO(closed.detail);
  CHECK(closed.failure == ProbeFailure::reset);
}

TEST_CASE("prober: TLS contexts are cached per verification settings", "[health]") {
  detail::TlsContexts contexts;
  TlsCheck verify_ca{"", true, pki().ca_file};
  TlsCheck verify_default{"", true, ""};
  TlsCheck no_verify{"", false, pki().ca_file};
  auto a = contexts.get(verify_ca);
  auto b = contexts.get(TlsCheck{"other.example", true, pki().ca_file});
  auto c = contexts.get(verify_default);
  auto d = contexts.get(no_verify);
  auto e = contexts.get(TlsCheck{"", false, ""});
  REQUIRE((a.ok() && b.ok() && c.ok() && d.ok() && e.ok()));
  CHECK(a->get() == b->get());  // the server name is per connection, not per context
  CHECK(a->get() != c->get());
  CHECK(d->get() == e->get());  // without verification the CA file does not matter
  CHECK(contexts.size() == 3);
  CHECK_FALSE(contexts.get(TlsCheck{"", true, "/nonexistent/ca.pem"}).ok());
  CHECK(contexts.size() == 3);  // failures are not cached
}

TEST_CASE("prober: TLS server name comes from server_name, else a DNS-name Host", "[health]") {
  struct Case {
    const char* server_name;
    const char* host;
    const char* expected;
  };
  const Case cases[] = {
      {"api.example", "www.example", "api.example"},
      {"", "www.example", "www.example"},
      {"", "www.example:8443", "www.example"},
      {"", "www.example.", "www.example"},
      {"", "192.0.2.1", ""},
      {"", "192.0.2.1:443", ""},
      {"", "[2001:db8::1]:443", ""},
      {"", "2001:db8::1", ""},
      {"", "", ""},
  };
  for (const Case& c : cases) {
    CheckSpec check;
    check.tls.server_name = c.server_name;
    check.http.host = c.host;
    INFO(c.server_name << " / " << c.host);
    CHECK(detail::tls_server_name(check) == c.expected);
  }
}

TEST_CASE("prober: https that cannot open its CA file for want of descriptors is no verdict",
          "[health]") {
  (void)pki();  // the files exist before descriptors run out
  CheckSpec check = https_check();
  // A port nobody needs to answer: the probe stops before connecting.
  const ProbeResult result = run_probe_without_descriptors(check, 9);
  CHECK(result.failure == ProbeFailure::local_error);
  CHECK_FALSE(result.counts_as_verdict());
  CHECK_THAT(result.detail, Catch::StartsWith("cannot load CA file " + check.tls.ca_file));
  // An unreadable CA file with descriptors to spare stays a tls_error (above).
}
