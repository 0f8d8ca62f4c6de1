// Prober: the tcp probe, the overall deadline, failure names.

#include <catch2/catch.hpp>

#include "health/probe.hpp"
#include "probe_test_support.hpp"

using namespace meridian;
using namespace meridian::health;
using namespace meridian::health::test;
using namespace std::chrono_literals;

namespace {

CheckSpec tcp_check(std::chrono::milliseconds timeout = 2000ms) {
  CheckSpec check;
  check.type = CheckType::tcp;
  check.timeout = timeout;
  return check;
}

/// A port with nothing listening: bound, then closed (the OS will not hand it
/// out again at once).
std::uint16_t closed_port(int type) {
  std::uint16_t port = 0;
  ::close(bind_localhost(type, port));
  return port;
}

}  // namespace

TEST_CASE("prober: failure names are the enumerator names", "[health]") {
  CHECK(std::string(to_string(ProbeFailure::none)) == "none");
  CHECK(std::string(to_string(ProbeFailure::refused)) == "refused");
  CHECK(std::string(to_string(ProbeFailure::timeout)) == "timeout");
  CHECK(std::string(to_string(ProbeFailure::reset)) == "reset");
  CHECK(std::string(to_string(ProbeFailure::unreachable)) == "unreachable");
  CHECK(std::string(to_string(ProbeFailure::tls_error)) == "tls_error");
  CHECK(std::string(to_string(ProbeFailure::bad_response)) == "bad_response");
  CHECK(std::string(to_string(ProbeFailure::status_mismatch)) == "status_mismatch");
  CHECK(std::string(to_string(ProbeFailure::body_mismatch)) == "body_mismatch");
  CHECK(std::string(to_string(ProbeFailure::rcode_mismatch)) == "rcode_mismatch");
  CHECK(std::string(to_string(ProbeFailure::answer_mismatch)) == "answer_mismatch");
  CHECK(std::string(to_string(ProbeFailure::local_error)) == "local_error");
}

TEST_CASE("prober: a probe that cannot get a socket is a local_error, no verdict", "[health]") {
  // A live server on every port used: only the missing descriptor can fail.
  ScriptedTcpServer tcp_server([](int&) {}, 2);
  ScriptedUdpServer udp_server(
      [](const std::vector<std::uint8_t>&, const ScriptedUdpServer::Reply&) {});
  CheckSpec tcp = tcp_check();
  CheckSpec http = tcp_check();
  http.type = CheckType::http;
  CheckSpec dns = tcp_check();
  dns.type = CheckType::dns;
  struct Row {
    const char* what;
    const CheckSpec& check;
    std::uint16_t port;
  };
  for (const Row& row : {Row{"tcp", tcp, tcp_server.port()}, Row{"http", http, tcp_server.port()},
                         Row{"dns", dns, udp_server.port()}}) {
    INFO(row.what);
    const ProbeResult result = run_probe_without_descriptors(row.check, row.port);
    CHECK_FALSE(result.ok);
    CHECK(result.failure == ProbeFailure::local_error);
    CHECK_FALSE(result.counts_as_verdict());
    CHECK_THAT(result.detail, Catch::Contains("opening a socket"));
    // Ended at once, not at the deadline.
    CHECK(latency_ms(result) < 1000ms);
  }
  // The same probes with descriptors to spare pass or fail on the target.
  CHECK(run_probe(tcp, tcp_server.port()).ok);
  CHECK(run_probe(tcp, tcp_server.port()).counts_as_verdict());
}

TEST_CASE("prober: tcp connect to a listener passes", "[health]") {
  ScriptedTcpServer server([](int&) {});
  const ProbeResult result = run_probe(tcp_check(), server.port());
  CHECK(result.ok);
  CHECK(result.failure == ProbeFailure::none);
  CHECK(result.latency > 0us);
  CHECK(latency_ms(result) < 1000ms);
}

TEST_CASE("prober: tcp connect to a closed port is refused", "[health]") {
  const ProbeResult result = run_probe(tcp_check(), closed_port(SOCK_STREAM));
  CHECK_FALSE(result.ok);
  CHECK(result.failure == ProbeFailure::refused);
  CHECK(result.detail == "connection refused");
}

TEST_CASE("prober: tcp connect to a multicast address is unreachable", "[health]") {
  // Linux refuses TCP to multicast locally (ENETUNREACH): no packet leaves.
  const ProbeResult result = run_probe(tcp_check(), 80, IpAddress::v4(224, 0, 0, 1));
  CHECK_FALSE(result.ok);
  CHECK(result.failure == ProbeFailure::unreachable);
  CHECK_THAT(result.detail, Catch::Contains("connecting"));
}

TEST_CASE("prober: tcp over IPv6 loopback passes when ::1 is available", "[health]") {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, 4) != 0) {
    ::close(fd);
    WARN("no IPv6 loopback here; skipped");
    return;
  }
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  IpAddress v6;
  REQUIRE(IpAddress::parse("::1", v6));
  const ProbeResult result = run_probe(tcp_check(), ntohs(address.sin6_port), v6);
  ::close(fd);
  CHECK(result.ok);
}

TEST_CASE("prober: a server that accepts and never answers times out at the deadline", "[health]") {
  ScriptedTcpServer server([](int& fd) { wait_for_close(fd); });
  CheckSpec check = tcp_check(300ms);
  check.type = CheckType::http;
  const ProbeResult result = run_probe(check, server.port());
  CHECK_FALSE(result.ok);
  CHECK(result.failure == ProbeFailure::timeout);
  CHECK(result.detail == "no answer within 300 ms (waiting for the response)");
  CHECK(latency_ms(result) >= 300ms);
  CHECK(latency_ms(result) < 1000ms);
}

TEST_CASE("prober: many concurrent probes on one prober each get their own verdict", "[health]") {
  ScriptedTcpServer good([](int&) {}, 8);
  const std::uint16_t refused_port = closed_port(SOCK_STREAM);
  boost::asio::io_context io;
  Prober prober(io.get_executor());
  const CheckSpec check = tcp_check();
  std::vector<ProbeResult> results(16);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const std::uint16_t port = i % 2 == 0 ? good.port() : refused_port;
    boost::asio::co_spawn(
        io, prober.probe(localhost(), port, check),
        [&results, i](std::exception_ptr, ProbeResult r) { results[i] = std::move(r); });
  }
  io.run();
  for (std::size_t i = 0; i < results.size(); ++i) {
    INFO("probe " << i);
    CHECK(results[i].ok == (i % 2 == 0));
    CHECK(results[i].failure == (i % 2 == 0 ? ProbeFailure::none : ProbeFailure::refused));
  }
}
