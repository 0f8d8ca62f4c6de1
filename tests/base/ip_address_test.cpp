#include <catch2/catch.hpp>

#include "base/ip_address.hpp"

using meridian::IpAddress;
using meridian::IpNetwork;
using meridian::SocketAddress;

TEST_CASE("ip_address: parse and print both families", "[base]") {
  IpAddress a;
  REQUIRE(IpAddress::parse("192.0.2.1", a));
  CHECK(a.family == IpAddress::Family::v4);
  CHECK(a.to_string() == "192.0.2.1");
  REQUIRE(IpAddress::parse("2001:DB8:0:0::1", a));
  CHECK(a.family == IpAddress::Family::v6);
  CHECK(a.to_string() == "2001:db8::1");
  for (const char* bad : {"", "1.2.3", "1.2.3.256", "2001:db8::1::2", "[::1]", "::1%eth0", "x"}) {
    INFO(bad);
    CHECK_FALSE(IpAddress::parse(bad, a));
  }
}

TEST_CASE("ip_address: masking, bits and mapped addresses", "[base]") {
  IpAddress a;
  REQUIRE(IpAddress::parse("81.2.69.160", a));
  CHECK(a.masked(24).to_string() == "81.2.69.0");
  CHECK(a.masked(20).to_string() == "81.2.64.0");
  CHECK(a.masked(0).to_string() == "0.0.0.0");
  CHECK(a.masked(32) == a);
  CHECK(a.bit(1));  // 81 = 0101 0001
  CHECK_FALSE(a.bit(0));
  IpAddress mapped;
  REQUIRE(IpAddress::parse("::ffff:81.2.69.160", mapped));
  CHECK(mapped.unmapped() == a);
  IpAddress v6;
  REQUIRE(IpAddress::parse("2001:218::1", v6));
  CHECK(v6.unmapped() == v6);
  CHECK(v6.masked(32).to_string() == "2001:218::");
}

TEST_CASE("ip_address: networks reject host bits and bad lengths", "[base]") {
  IpNetwork n;
  REQUIRE(IpNetwork::parse("200.160.0.0/20", n));
  CHECK(n.prefix_len == 20);
  CHECK(n.to_string() == "200.160.0.0/20");
  IpAddress inside;
  IpAddress::parse("200.160.15.255", inside);
  CHECK(n.contains(inside));
  IpAddress outside;
  IpAddress::parse("200.160.16.0", outside);
  CHECK_FALSE(n.contains(outside));
  REQUIRE(IpNetwork::parse("2001:218::/32", n));
  REQUIRE(IpNetwork::parse("192.0.2.1", n));
  CHECK(n.prefix_len == 32);
  for (const char* bad :
       {"200.160.1.0/20", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/-1"}) {
    INFO(bad);
    CHECK_FALSE(IpNetwork::parse(bad, n));
  }
}

TEST_CASE("ip_address: socket addresses need a port and brackets for IPv6", "[base]") {
  SocketAddress s;
  REQUIRE(SocketAddress::parse("127.0.0.1:5300", s));
  CHECK(s.port == 5300);
  CHECK(s.to_string() == "127.0.0.1:5300");
  REQUIRE(SocketAddress::parse("[::1]:53", s));
  CHECK(s.address.family == IpAddress::Family::v6);
  CHECK(s.to_string() == "[::1]:53");
  REQUIRE(SocketAddress::parse("0.0.0.0:53", s));
  CHECK(s.is_wildcard());
  REQUIRE(SocketAddress::parse("[::]:53", s));
  CHECK(s.is_wildcard());
  for (const char* bad : {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "::1:53", "[::1]53",
                          "[127.0.0.1]:53", "host:53", "127.0.0.1:53x"}) {
    INFO(bad);
    CHECK_FALSE(SocketAddress::parse(bad, s));
  }
}
