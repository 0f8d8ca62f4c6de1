// DNS cookies (dns/cookie.hpp): SipHash-2-4 against its reference vector,
// the RFC 9018 server cookie against the RFC's own examples, and the rules
// for accepting, refusing and renewing a cookie.

#include <catch2/catch.hpp>

#include <string>

#include "dns/cookie.hpp"

using namespace meridian;
using namespace meridian::dns;

namespace {

template <std::size_t N>
std::array<std::uint8_t, N> bytes_of(const std::string& hex) {
  REQUIRE(hex.size() == 2 * N);
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i)
    out[i] = static_cast<std::uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
  return out;
}

template <std::size_t N>
std::string hex_of(const std::array<std::uint8_t, N>& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

IpAddress address(const char* text) {
  IpAddress out;
  REQUIRE(IpAddress::parse(text, out));
  return out;
}

QueryCookie cookie_of(const std::string& client_hex, const std::string& server_hex = "") {
  QueryCookie cookie;
  cookie.present = true;
  cookie.client = bytes_of<8>(client_hex);
  cookie.server_length = static_cast<std::uint8_t>(server_hex.size() / 2);
  for (std::size_t i = 0; i < cookie.server_length; ++i)
    cookie.server[i] =
        static_cast<std::uint8_t>(std::stoul(server_hex.substr(2 * i, 2), nullptr, 16));
  return cookie;
}

// RFC 9018 appendix A's secret.
constexpr CookieSecret kRfcSecret{0xe5, 0xe9, 0x73, 0xe5, 0xa6, 0xb2, 0xa4, 0x3f,
                                  0x48, 0xe7, 0xdc, 0x84, 0x9e, 0x37, 0xbf, 0xcf};

}  // namespace

TEST_CASE("siphash24: the reference vector of the SipHash paper", "[dns][cookie]") {
  std::array<std::uint8_t, 16> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i);
  std::array<std::uint8_t, 15> message{};
  for (std::size_t i = 0; i < message.size(); ++i) message[i] = static_cast<std::uint8_t>(i);
  // 0xa129ca6149be45e5, little endian.
  CHECK(hex_of(siphash24(key, message)) == "e545be4961ca29a1");
  // The empty message (the first line of the reference's vectors.h).
  CHECK(hex_of(siphash24(key, {})) == "310e0edd47db6f72");
}

TEST_CASE("cookie: RFC 9018 A.1, a first query learns the server cookie", "[dns][cookie]") {
  const auto made = make_server_cookie(kRfcSecret, bytes_of<8>("2464c4abcf10c957"),
                                       address("198.51.100.100"), 1559731985);
  CHECK(hex_of(made) == "010000005cf79f111f8130c3eee29480");
  CookieSecrets secrets{kRfcSecret, std::nullopt};
  const QueryCookie first = cookie_of("2464c4abcf10c957");
  CHECK(check_cookie(secrets, first, address("198.51.100.100"), 1559731985) ==
        CookieCheck::client_only);
  CHECK(hex_of(answer_server_cookie(secrets, first, CookieCheck::client_only,
                                    address("198.51.100.100"), 1559731985)) ==
        "010000005cf79f111f8130c3eee29480");
}

TEST_CASE("cookie: a valid cookie is echoed, then renewed after half an hour (RFC 9018 A.2)",
          "[dns][cookie]") {
  CookieSecrets secrets{kRfcSecret, std::nullopt};
  const IpAddress client = address("198.51.100.100");
  const QueryCookie held = cookie_of("2464c4abcf10c957", "010000005cf79f111f8130c3eee29480");
  const std::uint32_t made = 1559731985;
  CHECK(check_cookie(secrets, held, client, made + 60) == CookieCheck::valid);
  CHECK(hex_of(answer_server_cookie(secrets, held, CookieCheck::valid, client, made + 60)) ==
        "010000005cf79f111f8130c3eee29480");
  // 40 minutes later: still valid, answered with a fresh one (A.2's time).
  const std::uint32_t later = 1559734385;
  CHECK(check_cookie(secrets, held, client, later) == CookieCheck::valid);
  CHECK(hex_of(answer_server_cookie(secrets, held, CookieCheck::valid, client, later)) ==
        hex_of(make_server_cookie(kRfcSecret, held.client, client, later)));
  CHECK(hex_of(make_server_cookie(kRfcSecret, held.client, client, later)) ==
        "010000005cf7a871d4a564a1442aca77");
}

TEST_CASE("cookie: RFC 9018 A.3, reserved bytes set by another server are hashed as sent",
          "[dns][cookie]") {
  CookieSecrets secrets{kRfcSecret, std::nullopt};
  const IpAddress client = address("203.0.113.203");
  const QueryCookie held = cookie_of("fc93fc62807ddb86", "01abcdef5cf78f71a314227b6679ebf5");
  CHECK(check_cookie(secrets, held, client, 1559727985 + 600) == CookieCheck::valid);
  // Another reserved byte than the one hashed: forged.
  CHECK(check_cookie(secrets, cookie_of("fc93fc62807ddb86", "01abcdee5cf78f71a314227b6679ebf5"),
                     client, 1559727985 + 600) == CookieCheck::invalid);
  // The example's reply comes 1 h 52 min later: expired, answered with a
  // fresh one whose reserved bytes are zero.
  CHECK(check_cookie(secrets, held, client, 1559734700) == CookieCheck::invalid);
  CHECK(hex_of(answer_server_cookie(secrets, held, CookieCheck::invalid, client, 1559734700)) ==
        "010000005cf7a9acf73a7810aca2381e");
}

TEST_CASE("cookie: RFC 9018 A.4, an IPv6 client after the secret rolled over", "[dns][cookie]") {
  const CookieSecrets secrets{bytes_of<16>("445536bcd2513298075a5d379663c962"),
                              bytes_of<16>("dd3bdf9344b678b185a6f5cb60fca715")};
  const IpAddress client = address("2001:db8:220:1:59de:d0f4:8769:82b8");
  const QueryCookie held = cookie_of("22681ab97d52c298", "010000005cf7c57926556bd0934c72f8");
  const CookieCheck check = check_cookie(secrets, held, client, 1559741961);
  CHECK(check == CookieCheck::valid_under_previous);
  CHECK(is_valid(check));
  CHECK(hex_of(answer_server_cookie(secrets, held, check, client, 1559741961)) ==
        "010000005cf7c609a6bb79d16625507a");
  // Without the previous secret the same cookie is refused.
  CHECK(check_cookie(CookieSecrets{secrets.current, std::nullopt}, held, client, 1559741961) ==
        CookieCheck::invalid);
}

TEST_CASE("cookie: refused when forged, expired, early, for another client or version",
          "[dns][cookie]") {
  CookieSecrets secrets{kRfcSecret, std::nullopt};
  const IpAddress client = address("198.51.100.100");
  const std::uint32_t made = 1559731985;
  const QueryCookie held = cookie_of("2464c4abcf10c957", "010000005cf79f111f8130c3eee29480");
  CHECK(check_cookie(secrets, held, client, made) == CookieCheck::valid);
  // An hour is the most a cookie lives; five minutes the most it may be early.
  CHECK(check_cookie(secrets, held, client, made + kCookieLifetimeS) == CookieCheck::valid);
  CHECK(check_cookie(secrets, held, client, made + kCookieLifetimeS + 1) == CookieCheck::invalid);
  CHECK(check_cookie(secrets, held, client, made - kCookieFutureSkewS) == CookieCheck::valid);
  CHECK(check_cookie(secrets, held, client, made - kCookieFutureSkewS - 1) == CookieCheck::invalid);
  // Another address, another client cookie, a flipped hash bit.
  CHECK(check_cookie(secrets, held, address("198.51.100.101"), made) == CookieCheck::invalid);
  CHECK(check_cookie(secrets, cookie_of("2464c4abcf10c958", "010000005cf79f111f8130c3eee29480"),
                     client, made) == CookieCheck::invalid);
  CHECK(check_cookie(secrets, cookie_of("2464c4abcf10c957", "010000005cf79f111f8130c3eee29481"),
                     client, made) == CookieCheck::invalid);
  // Another secret, another version, reserved bits, another length.
  CHECK(check_cookie(CookieSecrets{bytes_of<16>("00000000000000000000000000000000"), std::nullopt},
                     held, client, made) == CookieCheck::invalid);
  CHECK(check_cookie(secrets, cookie_of("2464c4abcf10c957", "020000005cf79f111f8130c3eee29480"),
                     client, made) == CookieCheck::invalid);
  CHECK(check_cookie(secrets, cookie_of("2464c4abcf10c957", "010001005cf79f111f8130c3eee29480"),
                     client, made) == CookieCheck::invalid);  // reserved bytes are hashed
  CHECK(check_cookie(secrets, cookie_of("2464c4abcf10c957", "010000005cf79f11"), client, made) ==
        CookieCheck::invalid);
  // An IPv4-mapped source is the IPv4 client.
  CHECK(check_cookie(secrets, held, address("::ffff:198.51.100.100"), made) == CookieCheck::valid);
}

TEST_CASE("cookie: after a rotation, cookies of the previous secret stay valid", "[dns][cookie]") {
  const CookieSecret next = bytes_of<16>("00112233445566778899aabbccddeeff");
  const IpAddress client = address("198.51.100.100");
  const std::uint32_t made = 1559731985;
  const QueryCookie held = cookie_of("2464c4abcf10c957", "010000005cf79f111f8130c3eee29480");
  CHECK(check_cookie(CookieSecrets{next, kRfcSecret}, held, client, made + 10) ==
        CookieCheck::valid_under_previous);
  CHECK(check_cookie(CookieSecrets{next, std::nullopt}, held, client, made + 10) ==
        CookieCheck::invalid);
  // A refused cookie is answered with a fresh one under the current secret.
  const auto fresh = answer_server_cookie(CookieSecrets{next, std::nullopt}, held,
                                          CookieCheck::invalid, client, made + 10);
  CHECK(hex_of(fresh) == hex_of(make_server_cookie(next, held.client, client, made + 10)));
}
