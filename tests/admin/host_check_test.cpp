// Which Host headers reach the admin API (admin/host_check.hpp).

#include "admin/host_check.hpp"

#include <catch2/catch.hpp>

using meridian::admin::host_allowed;

TEST_CASE("host check: addresses, localhost and the listed names", "[admin]") {
  const std::vector<std::string> none;
  CHECK(host_allowed("127.0.0.1:8053", none));
  CHECK(host_allowed("198.51.100.7", none));
  CHECK(host_allowed("[2001:db8::1]:8053", none));
  CHECK(host_allowed("LocalHost:8053", none));
  CHECK(host_allowed("localhost.", none));
  CHECK(host_allowed("", none));  // no Host header: not a browser
  CHECK_FALSE(host_allowed("attacker.example", none));
  CHECK_FALSE(host_allowed("attacker.example:8053", none));
  CHECK_FALSE(host_allowed("[2001:db8::1", none));
  CHECK_FALSE(host_allowed("127.0.0.1.attacker.example", none));
  const std::vector<std::string> listed = {"meridian.example.net"};
  CHECK(host_allowed("Meridian.Example.NET:8053", listed));
  CHECK(host_allowed("meridian.example.net.", listed));
  CHECK_FALSE(host_allowed("other.example.net", listed));
}
