// The dns probe against a scripted UDP responder on 127.0.0.1.

#include <catch2/catch.hpp>

#include "health/probe.hpp"
#include "probe_test_support.hpp"

using namespace meridian;
using namespace meridian::health;
using namespace meridian::health::test;
using namespace std::chrono_literals;

namespace {

CheckSpec dns_check(std::chrono::milliseconds timeout = 2000ms) {
  CheckSpec check;
  check.type = CheckType::dns;
  check.timeout = timeout;
  check.dns.qname = "svc.example.";
  check.dns.qtype = 1;  // A
  return check;
}

struct Record {
  std::uint16_t type;
  std::vector<std::uint8_t> rdata;
};

/// The reply a server would send to `query`: its question echoed (owner
/// names of the answers compressed to it), QR and AA set.
std::vector<std::uint8_t> reply_to(std::vector<std::uint8_t> query, std::uint8_t rcode,
                                   const std::vector<Record>& answers = {},
                                   std::uint8_t extra_flags = 0) {
  query[2] = static_cast<std::uint8_t>(0x84 | extra_flags | (query[2] & 0x79));
  query[3] = rcode;
  query[7] = static_cast<std::uint8_t>(answers.size());
  for (const Record& record : answers) {
    const std::uint8_t fixed[] = {0xc0, 0x0c, 0, static_cast<std::uint8_t>(record.type),
                                  0,    1,    0, 0,
                                  0,    60,   0, static_cast<std::uint8_t>(record.rdata.size())};
    query.insert(query.end(), std::begin(fixed), std::end(fixed));
    query.insert(query.end(), record.rdata.begin(), record.rdata.end());
  }
  return query;
}

ProbeResult probe_with(const CheckSpec& check, ScriptedUdpServer::Handler handler,
                       int datagrams = 1) {
  ScriptedUdpServer server(std::move(handler), datagrams);
  return run_probe(check, server.port());
}

ScriptedUdpServer::Handler answer(std::uint8_t rcode, std::vector<Record> answers = {}) {
  return [rcode, answers](const std::vector<std::uint8_t>& query,
                          const ScriptedUdpServer::Reply& reply) {
    reply(reply_to(query, rcode, answers));
  };
}

}  // namespace

TEST_CASE("prober: dns query is well-formed: random id, RD=0, no EDNS", "[health]") {
  std::vector<std::vector<std::uint8_t>> queries;
  for (int i = 0; i < 2; ++i) {
    probe_with(dns_check(), [&queries](const std::vector<std::uint8_t>& query,
                                       const ScriptedUdpServer::Reply& reply) {
      queries.push_back(query);
      reply(reply_to(query, 0));
    });
  }
  REQUIRE(queries.size() == 2);
  const std::vector<std::uint8_t> tail = {0,   0,   0,   1,   0,   0, 0,   0,   0,
                                          0,   3,   's', 'v', 'c', 7, 'e', 'x', 'a',
                                          'm', 'p', 'l', 'e', 0,   0, 1,   0,   1};
  for (const auto& query : queries) {
    REQUIRE(query.size() == 2 + tail.size());
    CHECK(std::vector<std::uint8_t>(query.begin() + 2, query.end()) ==
          tail);  // flags 0, one question, ARCOUNT 0
  }
  CHECK(queries[0][0] * 256 + queries[0][1] !=
        queries[1][0] * 256 + queries[1][1]);  // 1 in 65536 to fail
}

TEST_CASE("prober: dns rcode match passes, mismatch fails with its name", "[health]") {
  const ProbeResult ok = probe_with(dns_check(), answer(0));
  CHECK(ok.ok);
  CHECK(ok.detail == "rcode NOERROR");

  const ProbeResult refused = probe_with(dns_check(), answer(5));
  CHECK(refused.failure == ProbeFailure::rcode_mismatch);
  CHECK(refused.detail == "rcode REFUSED");

  CheckSpec nxdomain = dns_check();
  nxdomain.dns.expect_rcode = 3;
  CHECK(probe_with(nxdomain, answer(3)).ok);
  CHECK(probe_with(nxdomain, answer(0)).detail == "rcode NOERROR");
}

TEST_CASE("prober: dns expected answer match and mismatch", "[health]") {
  CheckSpec check = dns_check();
  check.dns.expect_answer = {"192.0.2.1", "192.0.2.9"};
  const std::vector<Record> records = {{1, {198, 51, 100, 4}}, {1, {192, 0, 2, 9}}};
  const ProbeResult ok = probe_with(check, answer(0, records));
  CHECK(ok.ok);
  CHECK(ok.detail == "192.0.2.9");

  const ProbeResult wrong = probe_with(check, answer(0, {{1, {198, 51, 100, 4}}}));
  CHECK(wrong.failure == ProbeFailure::answer_mismatch);
  CHECK(wrong.detail == "answers: 198.51.100.4");

  const ProbeResult empty = probe_with(check, answer(0));
  CHECK(empty.failure == ProbeFailure::answer_mismatch);
  CHECK(empty.detail == "no answer records");
}

TEST_CASE("prober: dns AAAA answers compare as addresses", "[health]") {
  CheckSpec check = dns_check();
  check.dns.qtype = 28;
  check.dns.expect_answer = {"2001:DB8:0:0::1"};
  std::vector<std::uint8_t> rdata(16, 0);
  rdata[0] = 0x20, rdata[1] = 0x01, rdata[2] = 0x0d, rdata[3] = 0xb8, rdata[15] = 1;
  const ProbeResult result = probe_with(check, answer(0, {{28, rdata}}));
  CHECK(result.ok);
  CHECK(result.detail == "2001:db8::1");
}

TEST_CASE("prober: dns truncated reply passes without a TCP retry", "[health]") {
  CheckSpec check = dns_check();
  check.dns.expect_answer = {"192.0.2.1"};
  const ProbeResult result = probe_with(
      check, [](const std::vector<std::uint8_t>& query, const ScriptedUdpServer::Reply& reply) {
        reply(reply_to(query, 0, {}, 0x02));
      });
  CHECK(result.ok);
  CHECK(result.detail == "truncated reply (TC): answer not checked");
}

TEST_CASE("prober: dns garbage or short reply is a bad response", "[health]") {
  const ProbeResult garbage =
      probe_with(dns_check(), [](const auto&, const ScriptedUdpServer::Reply& reply) {
        reply({'g', 'a', 'r', 'b', 'a', 'g', 'e'});
      });
  CHECK(garbage.failure == ProbeFailure::bad_response);
  CHECK(garbage.detail == "short reply (7 bytes)");

  const ProbeResult cut =
      probe_with(dns_check(), [](const std::vector<std::uint8_t>& query, const auto& reply) {
        auto bytes = reply_to(query, 0, {{1, {192, 0, 2, 1}}});
        bytes.resize(bytes.size() - 2);  // the A record's RDATA cut short
        reply(bytes);
      });
  CHECK(cut.failure == ProbeFailure::bad_response);
  CHECK(cut.detail == "answer record cut short");

  const ProbeResult other =
      probe_with(dns_check(), [](const std::vector<std::uint8_t>& query, const auto& reply) {
        auto bytes = reply_to(query, 0);
        bytes[14] = 'x';  // "sxc.example."
        reply(bytes);
      });
  CHECK(other.failure == ProbeFailure::bad_response);
  CHECK(other.detail == "reply to another question");
}

TEST_CASE("prober: dns reply beyond 4096 bytes is cut and a bad response", "[health]") {
  auto many = [](std::size_t count) {
    return [count](const std::vector<std::uint8_t>& query, const ScriptedUdpServer::Reply& reply) {
      auto bytes = reply_to(query, 0, std::vector<Record>(count, Record{1, {192, 0, 2, 1}}));
      bytes[6] = static_cast<std::uint8_t>(count >> 8);  // reply_to sets only the low byte
      reply(bytes);
    };
  };
  CHECK(probe_with(dns_check(), many(254)).ok);  // 29 + 254 * 16 = 4093 bytes
  const ProbeResult result = probe_with(dns_check(), many(300));
  CHECK(result.failure == ProbeFailure::bad_response);
  CHECK_THAT(result.detail, Catch::Contains("answer record"));
}

TEST_CASE("prober: dns no reply times out within the deadline", "[health]") {
  const ProbeResult result = probe_with(dns_check(300ms), [](const auto&, const auto&) {});
  CHECK(result.failure == ProbeFailure::timeout);
  CHECK(result.detail == "no answer within 300 ms (waiting for the reply)");
  CHECK(latency_ms(result) >= 300ms);
  CHECK(latency_ms(result) < 1000ms);
}

TEST_CASE("prober: dns reply with a wrong id is ignored", "[health]") {
  auto handler = [](const std::vector<std::uint8_t>& query, const ScriptedUdpServer::Reply& reply) {
    auto spoofed = reply_to(query, 5);
    spoofed[1] ^= 0x5a;
    reply(spoofed);
    reply(reply_to(query, 0));
  };
  const ProbeResult result = probe_with(dns_check(), handler);
  CHECK(result.ok);
  CHECK(result.detail == "rcode NOERROR");

  auto only_wrong = [](const std::vector<std::uint8_t>& query,
                       const ScriptedUdpServer::Reply& reply) {
    auto spoofed = reply_to(query, 0);
    spoofed[0] ^= 0x01;
    reply(spoofed);
  };
  CHECK(probe_with(dns_check(300ms), only_wrong).failure == ProbeFailure::timeout);
}

TEST_CASE("prober: dns to a closed UDP port is refused (ICMP port unreachable)", "[health]") {
  std::uint16_t port = 0;
  ::close(bind_localhost(SOCK_DGRAM, port));
  const ProbeResult result = run_probe(dns_check(), port);
  CHECK(result.failure == ProbeFailure::refused);
  CHECK(result.detail == "port unreachable");
}
