// The DNS probe's rule for an expected answer (health/probe_dns_match.hpp),
// IO-free.

#include <catch2/catch.hpp>

#include "health/probe_dns_match.hpp"

using namespace meridian;
using namespace meridian::health::detail;

TEST_CASE("dns probe: expected answers match by meaning", "[health]") {
  struct Case {
    std::uint16_t type;
    const char* rdata;
    const char* expected;
    bool match;
  };
  const Case cases[] = {
      {1, "192.0.2.1", "192.0.2.1", true},
      {1, "192.0.2.1", "192.0.2.10", false},
      {1, "192.0.2.1", "not an ip", false},
      {28, "2001:db8::1", "2001:DB8:0::1", true},
      {5, "web.example.", "WEB.example", true},
      {5, "web.example.", "web.example.org.", false},
      {15, "10 mx.", "10 MX", true},
      {16, "\"hi\"", "\"hi\"", true},
      {16, "\"hi\"", "hi", false},
  };
  for (const Case& c : cases) {
    INFO(c.rdata << " vs " << c.expected);
    CHECK(answer_matches(dns::ReplyAnswer{c.type, c.rdata}, c.expected) == c.match);
  }
}
