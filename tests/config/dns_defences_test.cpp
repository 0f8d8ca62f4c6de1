// `dns.rrl` and `dns.cookies`: defaults, values, and errors that name the
// place and what was expected.

#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "tests/config/test_support.hpp"

using namespace meridian;
using meridian::test::errors_of;
using meridian::test::parse;
using meridian::test::with;

namespace {
const std::string kNodeLine = "node: { id: n1, site: eu-west }";
}

TEST_CASE("config: rate limiting and cookies are on by default, loopback exempt", "[config][rrl]") {
  auto config = parse(test::kBaseConfig);
  REQUIRE(config.ok());
  const DnsSettings& dns = config->dns;
  CHECK(dns.rrl.responses_per_second == 20);
  CHECK(dns.rrl.slip == 2);
  CHECK(dns.rrl.ipv4_prefix_len == 24);
  CHECK(dns.rrl.ipv6_prefix_len == 56);
  REQUIRE(dns.rrl.exempt.size() == 2);
  CHECK(dns.rrl.exempt[0].to_string() == "127.0.0.0/8");
  CHECK(dns.rrl.exempt[1].to_string() == "::1/128");
  CHECK(dns.cookies.enabled);
  CHECK(dns.cookies.rotate_every == std::chrono::hours(24));
}

TEST_CASE("config: dns.rrl and dns.cookies read every key", "[config][rrl]") {
  auto config = parse(with(kNodeLine, kNodeLine + R"(
dns:
  rrl:
    responses_per_second: 50
    slip: 0
    ipv4_prefix: 32
    ipv6_prefix: 64
    exempt: ["192.0.2.0/24", "2001:db8::/48"]
    table_size: 4096
  cookies: { enabled: false, rotate_every: 6h, secret_file: keys/cookie.secret })"),
                      "/etc/meridian");
  REQUIRE(config.ok());
  const DnsSettings& dns = config->dns;
  CHECK(dns.rrl.responses_per_second == 50);
  CHECK(dns.rrl.slip == 0);
  CHECK(dns.rrl.ipv4_prefix_len == 32);
  CHECK(dns.rrl.ipv6_prefix_len == 64);
  REQUIRE(dns.rrl.exempt.size() == 2);
  CHECK(dns.rrl.exempt[1].to_string() == "2001:db8::/48");
  CHECK(dns.rrl.table_size == 4096);
  CHECK_FALSE(dns.cookies.enabled);
  CHECK(dns.cookies.rotate_every == std::chrono::hours(6));
  CHECK(dns.cookies.secret_file == "/etc/meridian/keys/cookie.secret");

  // An empty exempt list limits loopback too; a rate of 0 turns it off.
  config =
      parse(with(kNodeLine, kNodeLine + "\ndns: { rrl: { responses_per_second: 0, exempt: [] } }"));
  REQUIRE(config.ok());
  CHECK(config->dns.rrl.exempt.empty());
  CHECK(config->dns.rrl.responses_per_second == 0);
}

TEST_CASE("config: dns.rrl and dns.cookies errors name the place and what was expected",
          "[config][rrl]") {
  CHECK(errors_of(with(kNodeLine, kNodeLine + "\ndns: { rrl: { exempt: [\"192.0.2.1/24\"] } }")) ==
        "test.yaml:2:24: dns.rrl.exempt[0]: expected a network like 192.0.2.0/24 or "
        "2001:db8::/48 with no host bits set, found \"192.0.2.1/24\"");
  CHECK(errors_of(with(kNodeLine, kNodeLine + "\ndns: { rrl: { slip: 11 } }")) ==
        "test.yaml:2:21: dns.rrl.slip: expected an integer from 0 to 10, found \"11\"");
  CHECK(errors_of(with(kNodeLine, kNodeLine + "\ndns: { rrl: { rate: 5 } }"))
            .find("test.yaml:2:15: dns.rrl.rate: unknown key \"rate\"") != std::string::npos);
  CHECK(errors_of(with(kNodeLine, kNodeLine + "\ndns: { cookies: { rotate_every: 10m } }"))
            .find("test.yaml:2:33: dns.cookies.rotate_every: expected a duration from 1h") !=
        std::string::npos);
  CHECK(errors_of(with(kNodeLine, kNodeLine + "\ndns: { cookies: { enabled: yes } }")) ==
        "test.yaml:2:28: dns.cookies.enabled: expected one of (false, true), found \"yes\"");
}
