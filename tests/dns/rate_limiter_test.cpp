// Response rate limiting (dns/rate_limiter.hpp): the token bucket per
// network, kind and name; slip; exemptions; time passed in.

#include <catch2/catch.hpp>

#include <string>

#include "dns/rate_limiter.hpp"

using namespace meridian;
using namespace meridian::dns;

namespace {

IpAddress address(const char* text) {
  IpAddress out;
  REQUIRE(IpAddress::parse(text, out));
  return out;
}

std::span<const std::uint8_t> name(const std::string& wire) {
  return {reinterpret_cast<const std::uint8_t*>(wire.data()), wire.size()};
}

struct Tally {
  int sent = 0, slipped = 0, dropped = 0;
};

Tally burst(ResponseRateLimiter& limiter, const char* source, int count, std::uint64_t now_ms,
            ResponseKind kind = ResponseKind::answer,
            const std::string& wire = "\3www\7example\0") {
  Tally tally;
  for (int i = 0; i < count; ++i) {
    switch (limiter.account(address(source), kind, name(wire), 1, now_ms)) {
      case RateDecision::send: ++tally.sent; break;
      case RateDecision::slip: ++tally.slipped; break;
      case RateDecision::drop: ++tally.dropped; break;
    }
  }
  return tally;
}

RateLimitSettings settings(std::uint32_t rate, std::uint32_t slip) {
  RateLimitSettings s;
  s.responses_per_second = rate;
  s.slip = slip;
  s.exempt.clear();
  s.table_size = 1024;
  return s;
}

}  // namespace

TEST_CASE("rrl: a second's worth is sent, then every slip-th is truncated, the rest dropped",
          "[dns][rrl]") {
  ResponseRateLimiter limiter(settings(10, 2));
  const Tally t = burst(limiter, "198.51.100.7", 110, 1000);
  CHECK(t.sent == 10);
  CHECK(t.slipped == 50);
  CHECK(t.dropped == 50);
}

TEST_CASE("rrl: slip 1 truncates every limited response, slip 0 drops them all", "[dns][rrl]") {
  ResponseRateLimiter all_truncated(settings(5, 1));
  Tally t = burst(all_truncated, "198.51.100.7", 25, 0);
  CHECK(t.sent == 5);
  CHECK(t.slipped == 20);
  ResponseRateLimiter all_dropped(settings(5, 0));
  t = burst(all_dropped, "198.51.100.7", 25, 0);
  CHECK(t.sent == 5);
  CHECK(t.dropped == 20);
}

TEST_CASE("rrl: the bucket refills at the rate, never past a second's worth", "[dns][rrl]") {
  ResponseRateLimiter limiter(settings(10, 0));
  CHECK(burst(limiter, "198.51.100.7", 20, 1000).sent == 10);
  // 300 ms refill 3 responses.
  CHECK(burst(limiter, "198.51.100.7", 20, 1300).sent == 3);
  // A quiet minute refills one second's worth, not sixty.
  CHECK(burst(limiter, "198.51.100.7", 100, 61'300).sent == 10);
}

TEST_CASE("rrl: one network shares a bucket, another network has its own", "[dns][rrl]") {
  ResponseRateLimiter limiter(settings(10, 0));
  CHECK(burst(limiter, "198.51.100.7", 6, 0).sent == 6);
  CHECK(burst(limiter, "198.51.100.200", 6, 0).sent == 4);  // the same /24
  CHECK(burst(limiter, "198.51.101.7", 12, 0).sent == 10);  // the next /24
  CHECK(burst(limiter, "2001:db8:0:1::1", 12, 0).sent == 10);
  CHECK(burst(limiter, "2001:db8:0:1:ffff::2", 12, 0).sent == 0);  // the same /56
  CHECK(burst(limiter, "2001:db8:0:100::1", 12, 0).sent == 10);    // another /56
  // An IPv4-mapped source is its IPv4 network.
  CHECK(burst(limiter, "::ffff:198.51.101.9", 1, 0).sent == 0);
}

TEST_CASE("rrl: kinds and names are accounted apart; NXDOMAIN per zone, errors per network",
          "[dns][rrl]") {
  ResponseRateLimiter limiter(settings(5, 0));
  const char* source = "203.0.113.9";
  CHECK(burst(limiter, source, 8, 0, ResponseKind::answer, "\3www\7example\0").sent == 5);
  CHECK(burst(limiter, source, 8, 0, ResponseKind::answer, "\4mail\7example\0").sent == 5);
  CHECK(burst(limiter, source, 8, 0, ResponseKind::nodata, "\3www\7example\0").sent == 5);
  CHECK(burst(limiter, source, 8, 0, ResponseKind::referral, "\3www\7example\0").sent == 5);
  // The answerer accounts NXDOMAIN under the zone: random names share it.
  CHECK(burst(limiter, source, 8, 0, ResponseKind::nxdomain, "\7example\0").sent == 5);
  CHECK(burst(limiter, source, 8, 0, ResponseKind::error, "").sent == 5);
  CHECK(burst(limiter, source, 8, 0, ResponseKind::error, "").sent == 0);
}

TEST_CASE("rrl: exempt networks, and a rate of 0, are never limited", "[dns][rrl]") {
  RateLimitSettings s = settings(1, 0);
  IpNetwork trusted;
  REQUIRE(IpNetwork::parse("192.0.2.0/24", trusted));
  s.exempt = {trusted};
  ResponseRateLimiter limiter(s);
  CHECK(limiter.exempt(address("192.0.2.77")));
  CHECK_FALSE(limiter.exempt(address("192.0.3.77")));
  CHECK(ResponseRateLimiter(settings(0, 2)).exempt(address("192.0.3.77")));
  // The default exempts loopback only.
  ResponseRateLimiter defaults{RateLimitSettings{}};
  CHECK(defaults.exempt(address("127.0.0.1")));
  CHECK(defaults.exempt(address("::1")));
  CHECK_FALSE(defaults.exempt(address("198.18.0.1")));
}

TEST_CASE("rrl: keys colliding in one slot share the busy bucket, never reset it", "[dns][rrl]") {
  RateLimitSettings s = settings(10, 0);
  s.table_size = 16;  // the smallest table: collisions are certain
  ResponseRateLimiter limiter(s);
  int sent = 0;
  for (int round = 0; round < 10; ++round) {
    for (int n = 0; n < 64; ++n) {
      const std::string wire = "\4name" + std::string(1, static_cast<char>('a' + n % 26)) +
                               std::string(1, static_cast<char>('a' + n / 26)) + "\0";
      if (limiter.account(address("198.51.100.7"), ResponseKind::answer, name(wire), 1, 0) ==
          RateDecision::send)
        ++sent;
    }
  }
  // 64 names in 16 slots: at most 16 buckets' worth, whatever the order.
  CHECK(sent <= 16 * 10);
  CHECK(sent >= 10);
}
