// The answerer's abuse defences: DNS cookies (RFC 7873 with RFC 9018 server
// cookies) and response rate limiting, through answer() as the UDP and TCP
// servers call it.

#include <catch2/catch.hpp>

#include <array>
#include <optional>

#include "dns/answerer.hpp"
#include "dns_test_support.hpp"

using namespace meridian;
using namespace meridian::dns;
using test::decode;
using test::Decoded;
using test::QueryBuilder;

namespace {

class NowhereLocator final : public geo::Locator {
 public:
  geo::Located locate(const IpAddress&) const noexcept override { return {}; }
};

std::shared_ptr<const RoutingTable> make_table() {
  std::vector<Zone> zones;
  zones.push_back(test::make_zone("example.com.", {
                                                      "@ 3600 IN SOA ns1 hostmaster 1 3600 600 "
                                                      "604800 300",
                                                      "@ 3600 IN NS ns1",
                                                      "ns1 IN A 192.0.2.53",
                                                      "www IN A 192.0.2.1",
                                                  }));
  return std::make_shared<RoutingTable>(std::move(zones), std::vector<Service>{},
                                        std::make_shared<NowhereLocator>(), 1);
}

constexpr CookieSecret kSecret{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
constexpr std::uint32_t kNow = 1'800'000'000;
const std::array<std::uint8_t, 8> kClientCookie{0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8};

std::vector<std::uint8_t> cookie_option(std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> option{0, 10, 0, static_cast<std::uint8_t>(payload.size())};
  option.insert(option.end(), payload.begin(), payload.end());
  return option;
}

std::vector<std::uint8_t> query_with_cookie(std::span<const std::uint8_t> server = {},
                                            const char* qname = "www.example.com.") {
  std::vector<std::uint8_t> payload(kClientCookie.begin(), kClientCookie.end());
  payload.insert(payload.end(), server.begin(), server.end());
  return QueryBuilder(qname, rrtype::A).opt(1232, 0, cookie_option(payload)).bytes;
}

/// The COOKIE option of a response's OPT (client then server bytes), or
/// nullopt when there is none.
std::optional<std::vector<std::uint8_t>> cookie_of(const Decoded& response) {
  const ldns_rdf* data = ldns_pkt_edns_data(response.packet.get());
  if (data == nullptr) return std::nullopt;
  const std::uint8_t* bytes = ldns_rdf_data(data);
  const std::size_t size = ldns_rdf_size(data);
  for (std::size_t at = 0; at + 4 <= size;) {
    const unsigned code = (bytes[at] << 8) | bytes[at + 1];
    const std::size_t length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (code == 10) return std::vector<std::uint8_t>(bytes + at + 4, bytes + at + 4 + length);
    at += 4 + length;
  }
  return std::nullopt;
}

struct Harness {
  std::shared_ptr<const RoutingTable> table = make_table();
  Answerer answerer{AnswererSettings{1232, ""}};
  Rng rng{7};
  QueryStats stats;
  CookieSecrets secrets{kSecret, std::nullopt};
  std::optional<ResponseRateLimiter> limiter;
  std::array<std::uint8_t, kMaxTcpMessage> buffer{};
  const char* source = "198.51.100.1";
  std::uint64_t now_ms = 5000;
  bool with_cookies = true;

  QueryContext context(Transport transport) {
    QueryContext c;
    REQUIRE(IpAddress::parse(source, c.source));
    c.transport = transport;
    c.rng = &rng;
    c.now_s = kNow;
    c.now_ms = now_ms;
    c.cookies = with_cookies ? &secrets : nullptr;
    c.rate_limiter = limiter ? &*limiter : nullptr;
    return c;
  }
  /// The response, or an empty Decoded when the query was dropped.
  Decoded ask(const std::vector<std::uint8_t>& query, Transport transport = Transport::udp) {
    const std::size_t length = answerer.answer(*table, context(transport), query, buffer, stats);
    if (length == 0) return {};
    Decoded decoded = decode(buffer.data(), length);
    REQUIRE(decoded.ok());
    return decoded;
  }
  void limit(std::uint32_t rate, std::uint32_t slip) {
    RateLimitSettings settings;
    settings.responses_per_second = rate;
    settings.slip = slip;
    settings.exempt.clear();
    limiter.emplace(settings);
  }
};

std::vector<std::uint8_t> server_part(const std::vector<std::uint8_t>& cookie) {
  return {cookie.begin() + 8, cookie.end()};
}

}  // namespace

TEST_CASE("cookies: a client cookie is answered with it and a server cookie", "[dns][cookie]") {
  Harness h;
  const Decoded first = h.ask(query_with_cookie());
  CHECK(first.rcode() == LDNS_RCODE_NOERROR);
  CHECK(first.answer().size() == 1);
  const auto cookie = cookie_of(first);
  REQUIRE(cookie);
  REQUIRE(cookie->size() == 24);
  CHECK(std::equal(kClientCookie.begin(), kClientCookie.end(), cookie->begin()));
  IpAddress client;
  REQUIRE(IpAddress::parse(h.source, client));
  const auto expected = make_server_cookie(kSecret, kClientCookie, client, kNow);
  CHECK(server_part(*cookie) == std::vector<std::uint8_t>(expected.begin(), expected.end()));
  CHECK(h.stats.cookie_client_only.load() == 1);

  // Sent back, it is valid and echoed as it is; over TCP too.
  for (const Transport transport : {Transport::udp, Transport::tcp}) {
    const Decoded again = h.ask(query_with_cookie(server_part(*cookie)), transport);
    CHECK(again.rcode() == LDNS_RCODE_NOERROR);
    REQUIRE(cookie_of(again));
    CHECK(*cookie_of(again) == *cookie);
  }
  CHECK(h.stats.cookie_valid.load() == 2);
}

TEST_CASE("cookies: a bad server cookie gets a normal answer and a fresh cookie", "[dns][cookie]") {
  Harness h;
  std::vector<std::uint8_t> forged(16, 0x01);
  const Decoded answer = h.ask(query_with_cookie(forged));
  CHECK(answer.rcode() == LDNS_RCODE_NOERROR);
  CHECK(answer.answer().size() == 1);
  REQUIRE(cookie_of(answer));
  CHECK(server_part(*cookie_of(answer)) != forged);
  CHECK(h.stats.cookie_invalid.load() == 1);
}

TEST_CASE("cookies: malformed COOKIE options are FORMERR (RFC 7873 5.2.2)", "[dns][cookie]") {
  Harness h;
  for (const std::size_t length : {0u, 7u, 9u, 15u, 41u}) {
    INFO("option length " << length);
    std::vector<std::uint8_t> payload(length, 0xab);
    const Decoded response = h.ask(
        QueryBuilder("www.example.com.", rrtype::A).opt(1232, 0, cookie_option(payload)).bytes);
    CHECK(response.rcode() == LDNS_RCODE_FORMERR);
  }
  // Two COOKIE options.
  std::vector<std::uint8_t> twice = cookie_option(kClientCookie);
  const auto second = cookie_option(kClientCookie);
  twice.insert(twice.end(), second.begin(), second.end());
  CHECK(h.ask(QueryBuilder("www.example.com.", rrtype::A).opt(1232, 0, twice).bytes).rcode() ==
        LDNS_RCODE_FORMERR);
  // Lengths 8, 16 and 40 are well formed.
  for (const std::size_t server : {0u, 8u, 32u}) {
    std::vector<std::uint8_t> bytes(server, 0x5a);
    CHECK(h.ask(query_with_cookie(bytes)).rcode() == LDNS_RCODE_NOERROR);
  }
}

TEST_CASE("cookies: without secrets the option is ignored", "[dns][cookie]") {
  Harness h;
  h.with_cookies = false;
  const Decoded response = h.ask(query_with_cookie());
  CHECK(response.rcode() == LDNS_RCODE_NOERROR);
  CHECK_FALSE(cookie_of(response));
}

TEST_CASE("rrl: over the limit a UDP source gets slipped (TC, no records) or no answer",
          "[dns][rrl]") {
  Harness h;
  h.limit(5, 2);
  int full = 0, slipped = 0, dropped = 0;
  for (int i = 0; i < 25; ++i) {
    const Decoded response = h.ask(QueryBuilder("www.example.com.", rrtype::A).opt(1232).bytes);
    if (!response.ok()) {
      ++dropped;
      continue;
    }
    if (response.tc()) {
      ++slipped;
      CHECK(response.count(LDNS_SECTION_ANSWER) == 0);
      CHECK(response.count(LDNS_SECTION_AUTHORITY) == 0);
      CHECK(response.qname() == "www.example.com.");
      CHECK(response.has_opt());
    } else {
      ++full;
      CHECK(response.answer().size() == 1);
    }
  }
  CHECK(full == 5);
  CHECK(slipped == 10);
  CHECK(dropped == 10);
  CHECK(h.stats.rate_limited_slipped.load() == 10);
  CHECK(h.stats.rate_limited_dropped.load() == 10);

  // A second later the source is served again.
  h.now_ms += 1000;
  CHECK_FALSE(h.ask(QueryBuilder("www.example.com.", rrtype::A).bytes).tc());
}

TEST_CASE("rrl: TCP, a valid cookie, and another network are not limited", "[dns][rrl]") {
  Harness h;
  h.limit(2, 0);
  for (int i = 0; i < 5; ++i) h.ask(query_with_cookie());
  CHECK_FALSE(h.ask(query_with_cookie()).ok());  // limited: the client cookie alone proves nothing
  // TCP: the source has proved its address.
  for (int i = 0; i < 10; ++i) {
    const Decoded response = h.ask(query_with_cookie(), Transport::tcp);
    REQUIRE(response.ok());
    CHECK(response.answer().size() == 1);
  }
  // A valid server cookie exempts the source over UDP; a slipped answer
  // still carried a server cookie to learn.
  IpAddress client;
  REQUIRE(IpAddress::parse(h.source, client));
  const auto server = make_server_cookie(kSecret, kClientCookie, client, kNow);
  for (int i = 0; i < 20; ++i) {
    const Decoded response = h.ask(query_with_cookie(server));
    REQUIRE(response.ok());
    CHECK_FALSE(response.tc());
    CHECK(response.answer().size() == 1);
  }
  // Another network has its own budget.
  h.source = "198.51.200.1";
  CHECK(h.ask(QueryBuilder("www.example.com.", rrtype::A).bytes).answer().size() == 1);
}

TEST_CASE("rrl: a slipped answer carries the server cookie the client can return",
          "[dns][rrl][cookie]") {
  Harness h;
  h.limit(1, 1);
  h.ask(query_with_cookie());
  const Decoded slipped = h.ask(query_with_cookie());
  REQUIRE(slipped.ok());
  CHECK(slipped.tc());
  const auto cookie = cookie_of(slipped);
  REQUIRE(cookie);
  const Decoded with_it = h.ask(query_with_cookie(server_part(*cookie)));
  REQUIRE(with_it.ok());
  CHECK_FALSE(with_it.tc());
  CHECK(with_it.answer().size() == 1);
}

TEST_CASE("rrl: NXDOMAIN for random names is one bucket per zone", "[dns][rrl]") {
  Harness h;
  h.limit(3, 0);
  int answered = 0;
  for (int i = 0; i < 20; ++i) {
    const std::string name = "random" + std::to_string(i) + ".example.com.";
    if (h.ask(QueryBuilder(name, rrtype::A).bytes).ok()) ++answered;
  }
  CHECK(answered == 3);
  // Existing names are other buckets.
  CHECK(h.ask(QueryBuilder("www.example.com.", rrtype::A).bytes).answer().size() == 1);
}
