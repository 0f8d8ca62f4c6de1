// dns/tcp_connection_table: the per-client and total caps of DNS over TCP,
// as admissions in order.

#include <catch2/catch.hpp>

#include "dns/tcp_connection_table.hpp"

using namespace meridian;
using namespace meridian::dns;
using Verdict = TcpConnectionTable::Verdict;

namespace {

IpAddress ip(const char* text) {
  IpAddress out;
  REQUIRE(IpAddress::parse(text, out));
  return out;
}

}  // namespace

TEST_CASE("tcp connection table: clients count by /24 and /56, mapped IPv4 as IPv4", "[dns]") {
  struct Row {
    const char* client;
    const char* network;
  };
  const Row rows[] = {
      {"192.0.2.77", "192.0.2.0"},
      {"192.0.2.255", "192.0.2.0"},
      {"::ffff:192.0.2.9", "192.0.2.0"},
      {"2001:db8:1:2ff:1::1", "2001:db8:1:200::"},
      {"2001:db8:1:2aa::99", "2001:db8:1:200::"},
  };
  for (const Row& row : rows) {
    INFO(row.client);
    CHECK(TcpConnectionTable::network_of(ip(row.client)) == ip(row.network));
  }
  TcpConnectionTable table({100, 100});
  table.admit(ip("192.0.2.1"));
  table.admit(ip("::ffff:192.0.2.200"));
  table.admit(ip("192.0.3.1"));
  table.admit(ip("2001:db8:1:200::1"));
  table.admit(ip("2001:db8:1:2ff::1"));
  table.admit(ip("2001:db8:1:300::1"));
  CHECK(table.held_by(ip("192.0.2.99")) == 2);
  CHECK(table.held_by(ip("192.0.3.99")) == 1);
  CHECK(table.held_by(ip("2001:db8:1:2ee::")) == 2);
  CHECK(table.held_by(ip("2001:db8:1:300::")) == 1);
  // 192.0.0.0/24 and the IPv6 ::/56 with the same leading bytes differ.
  CHECK(table.held_by(ip("c000:200::")) == 0);
  CHECK(table.clients() == 4);
}

TEST_CASE("tcp connection table: a network at its cap is refused, others are not", "[dns]") {
  TcpConnectionTable table({10, 3});
  for (int i = 0; i < 3; ++i) {
    CHECK(table.admit(ip("198.51.100.1")).verdict == Verdict::accepted);
  }
  // The edge: the fourth of the same /24, from another address of it.
  const auto over = table.admit(ip("198.51.100.2"));
  CHECK(over.verdict == Verdict::refused_client_limit);
  CHECK_FALSE(over.evicted);
  CHECK(table.admit(ip("198.51.101.1")).verdict == Verdict::accepted);
  CHECK(table.open() == 4);
  CHECK(table.counters().refused_client_limit == 1);
  CHECK(table.counters().accepted == 4);
}

TEST_CASE("tcp connection table: a released connection frees its network's slot", "[dns]") {
  TcpConnectionTable table({10, 1});
  const auto first = table.admit(ip("203.0.113.5"));
  REQUIRE(first.verdict == Verdict::accepted);
  CHECK(table.admit(ip("203.0.113.6")).verdict == Verdict::refused_client_limit);
  table.release(first.id);
  CHECK(table.open() == 0);
  CHECK(table.clients() == 0);
  CHECK(table.admit(ip("203.0.113.6")).verdict == Verdict::accepted);
  table.release(first.id);  // twice: ignored
  CHECK(table.open() == 1);
}

TEST_CASE("tcp connection table: at the total cap the largest holder's oldest idle goes", "[dns]") {
  TcpConnectionTable table({4, 10});
  const auto a1 = table.admit(ip("192.0.2.1"));
  const auto a2 = table.admit(ip("192.0.2.2"));
  const auto a3 = table.admit(ip("192.0.2.3"));
  const auto b1 = table.admit(ip("198.51.100.1"));
  // a1 answered a query since: a2 is now the oldest idle of the largest.
  table.writing(a1.id);
  table.idle(a1.id);

  const auto c1 = table.admit(ip("203.0.113.1"));
  REQUIRE(c1.verdict == Verdict::accepted);
  REQUIRE(c1.evicted);
  CHECK(*c1.evicted == a2.id);
  CHECK(table.open() == 4);
  CHECK(table.held_by(ip("192.0.2.0")) == 2);
  CHECK(table.counters().evicted == 1);

  // Evicted ids are gone: their later events are ignored.
  table.writing(a2.id);
  table.idle(a2.id);
  table.release(a2.id);
  CHECK(table.open() == 4);

  // Next: the largest still holds 2 (a3 oldest now), not b1 or c1.
  const auto d1 = table.admit(ip("192.0.2.9"));
  REQUIRE(d1.evicted);
  CHECK(*d1.evicted == a3.id);
  CHECK(table.held_by(ip("192.0.2.0")) == 2);  // a1 and d1
  CHECK(table.held_by(ip("198.51.100.0")) == 1);
  (void)b1;
}

TEST_CASE("tcp connection table: a connection writing an answer is never evicted", "[dns]") {
  TcpConnectionTable table({3, 10});
  const auto a1 = table.admit(ip("192.0.2.1"));
  const auto a2 = table.admit(ip("192.0.2.2"));
  const auto b1 = table.admit(ip("198.51.100.1"));
  table.writing(a1.id);
  table.writing(a2.id);
  // The largest holder has nothing idle: the next largest gives its own.
  const auto c1 = table.admit(ip("203.0.113.1"));
  REQUIRE(c1.evicted);
  CHECK(*c1.evicted == b1.id);
  // Now everything but c1 is writing; c1 is idle, so it goes next.
  const auto c2 = table.admit(ip("203.0.113.2"));
  REQUIRE(c2.evicted);
  CHECK(*c2.evicted == c1.id);
  // All writing: nothing to evict, the newcomer is refused.
  table.writing(c2.id);
  const auto refused = table.admit(ip("203.0.113.3"));
  CHECK(refused.verdict == Verdict::refused_server_limit);
  CHECK_FALSE(refused.evicted);
  CHECK(table.counters().refused_server_limit == 1);
  CHECK(table.open() == 3);
  // An answer written: evictable again.
  table.idle(a1.id);
  const auto after = table.admit(ip("203.0.113.3"));
  REQUIRE(after.evicted);
  CHECK(*after.evicted == a1.id);
}

TEST_CASE("tcp connection table: one client flooding cannot keep others out", "[dns]") {
  // 2,000 connections from one /24 against the defaults: 64 held, the
  // rest refused; a second client still gets in.
  TcpConnectionTable table(TcpConnectionLimits{});
  std::size_t accepted = 0;
  for (int i = 0; i < 2000; ++i) {
    accepted += table.admit(ip("127.0.0.1")).verdict == Verdict::accepted ? 1 : 0;
  }
  CHECK(accepted == 64);
  CHECK(table.counters().refused_client_limit == 1936);
  CHECK(table.admit(ip("127.0.1.1")).verdict == Verdict::accepted);
}

TEST_CASE(
    "tcp connection table: many networks at the total cap lose idle connections to "
    "newcomers",
    "[dns]") {
  // 16 networks of 64 fill a cap of 1000; a newcomer evicts from one of
  // the fullest, never from a network of one.
  TcpConnectionTable table({1000, 64});
  for (int net = 0; net < 16; ++net) {
    for (int i = 0; i < 64; ++i) {
      table.admit(IpAddress::v4(10, 0, static_cast<std::uint8_t>(net), 1));
    }
  }
  CHECK(table.open() == 1000);
  const auto lone = table.admit(ip("192.0.2.1"));
  REQUIRE(lone.verdict == Verdict::accepted);
  CHECK(lone.evicted);
  // 100 more newcomers, each a network of its own: all get in, each at
  // the cost of a network holding many, and the lone one keeps its slot.
  for (int i = 0; i < 100; ++i) {
    const auto next = table.admit(IpAddress::v4(10, 1, static_cast<std::uint8_t>(i), 1));
    CHECK(next.verdict == Verdict::accepted);
    CHECK(next.evicted);
  }
  CHECK(table.held_by(ip("192.0.2.1")) == 1);
  for (int i = 0; i < 100; ++i) {
    CHECK(table.held_by(IpAddress::v4(10, 1, static_cast<std::uint8_t>(i), 1)) == 1);
  }
  CHECK(table.open() == 1000);
  CHECK(table.counters().evicted == 24 + 1 + 100);
}
