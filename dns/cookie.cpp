#include "dns/cookie.hpp"

#include <bit>
#include <cstring>

namespace meridian::dns {
namespace {

std::uint64_t load_le64(const std::uint8_t* p) noexcept {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | p[i];
  return value;
}

struct SipState {
  std::uint64_t v0, v1, v2, v3;

  void round() noexcept {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }
  void compress(std::uint64_t block) noexcept {
    v3 ^= block;
    round();
    round();
    v0 ^= block;
  }
};

constexpr std::uint8_t kCookieVersion = 1;

// client cookie | version | reserved | timestamp | client address: at most
// 8 + 8 + 16 bytes.
std::array<std::uint8_t, 8> cookie_hash(const CookieSecret& secret,
                                        const std::array<std::uint8_t, 8>& client_cookie,
                                        const std::uint8_t* head,
                                        const IpAddress& client) noexcept {
  std::array<std::uint8_t, 32> input{};
  std::memcpy(input.data(), client_cookie.data(), 8);
  std::memcpy(input.data() + 8, head, 8);
  const IpAddress address = client.unmapped();
  std::memcpy(input.data() + 16, address.bytes.data(), address.byte_length());
  return siphash24(secret, std::span<const std::uint8_t>(input.data(), 16 + address.byte_length()));
}

bool same(const std::uint8_t* a, const std::uint8_t* b, std::size_t length) noexcept {
  // Without an early exit: the time taken says nothing about where a
  // forged hash first differs.
  std::uint8_t difference = 0;
  for (std::size_t i = 0; i < length; ++i) difference |= static_cast<std::uint8_t>(a[i] ^ b[i]);
  return difference == 0;
}

std::uint32_t timestamp_of(const QueryCookie& cookie) noexcept {
  const std::uint8_t* t = cookie.server.data() + 4;
  return (std::uint32_t{t[0]} << 24) | (std::uint32_t{t[1]} << 16) | (std::uint32_t{t[2]} << 8) |
         t[3];
}

}  // namespace

std::array<std::uint8_t, 8> siphash24(const std::array<std::uint8_t, 16>& key,
                                      std::span<const std::uint8_t> message) noexcept {
  const std::uint64_t k0 = load_le64(key.data());
  const std::uint64_t k1 = load_le64(key.data() + 8);
  SipState state{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
                 k1 ^ 0x7465646279746573ULL};
  const std::size_t whole = message.size() / 8 * 8;
  for (std::size_t at = 0; at < whole; at += 8) state.compress(load_le64(message.data() + at));
  // The last block: the remaining bytes, and the length's low byte on top.
  std::uint64_t last = static_cast<std::uint64_t>(message.size() & 0xff) << 56;
  for (std::size_t i = whole; i < message.size(); ++i) {
    last |= static_cast<std::uint64_t>(message[i]) << (8 * (i - whole));
  }
  state.compress(last);
  state.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) state.round();
  const std::uint64_t result = state.v0 ^ state.v1 ^ state.v2 ^ state.v3;
  std::array<std::uint8_t, 8> out{};
  for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(result >> (8 * i));
  return out;
}

std::array<std::uint8_t, kServerCookieSize> make_server_cookie(
    const CookieSecret& secret, const std::array<std::uint8_t, 8>& client_cookie,
    const IpAddress& client, std::uint32_t now_s) noexcept {
  std::array<std::uint8_t, kServerCookieSize> cookie{};
  cookie[0] = kCookieVersion;
  cookie[4] = static_cast<std::uint8_t>(now_s >> 24);
  cookie[5] = static_cast<std::uint8_t>(now_s >> 16);
  cookie[6] = static_cast<std::uint8_t>(now_s >> 8);
  cookie[7] = static_cast<std::uint8_t>(now_s);
  const auto hash = cookie_hash(secret, client_cookie, cookie.data(), client);
  std::memcpy(cookie.data() + 8, hash.data(), hash.size());
  return cookie;
}

CookieCheck check_cookie(const CookieSecrets& secrets, const QueryCookie& cookie,
                         const IpAddress& client, std::uint32_t now_s) noexcept {
  if (cookie.server_length == 0) return CookieCheck::client_only;
  if (cookie.server_length != kServerCookieSize || cookie.server[0] != kCookieVersion) {
    return CookieCheck::invalid;
  }
  // Serial-number arithmetic (RFC 1982): the 32-bit time wraps in 2106.
  const std::uint32_t made = timestamp_of(cookie);
  const auto age = static_cast<std::int32_t>(now_s - made);
  if (age > static_cast<std::int32_t>(kCookieLifetimeS) ||
      age < -static_cast<std::int32_t>(kCookieFutureSkewS)) {
    return CookieCheck::invalid;
  }
  const auto matches = [&](const CookieSecret& secret) {
    const auto hash = cookie_hash(secret, cookie.client, cookie.server.data(), client);
    return same(hash.data(), cookie.server.data() + 8, hash.size());
  };
  if (matches(secrets.current)) return CookieCheck::valid;
  if (secrets.previous && matches(*secrets.previous)) return CookieCheck::valid_under_previous;
  return CookieCheck::invalid;
}

std::array<std::uint8_t, kServerCookieSize> answer_server_cookie(const CookieSecrets& secrets,
                                                                 const QueryCookie& cookie,
                                                                 CookieCheck check,
                                                                 const IpAddress& client,
                                                                 std::uint32_t now_s) noexcept {
  if (check == CookieCheck::valid && static_cast<std::int32_t>(now_s - timestamp_of(cookie)) <
                                         static_cast<std::int32_t>(kCookieRenewAfterS)) {
    std::array<std::uint8_t, kServerCookieSize> same_cookie{};
    std::memcpy(same_cookie.data(), cookie.server.data(), kServerCookieSize);
    return same_cookie;
  }
  return make_server_cookie(secrets.current, cookie.client, client, now_s);
}

}  // namespace meridian::dns
