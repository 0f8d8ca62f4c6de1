#pragma once
// DNS cookies, server side (RFC 7873), with the interoperable server cookie
// of RFC 9018: every node that holds the same secret makes and accepts the
// same cookies, so a resolver that learned a cookie from one node of the
// cluster keeps it when anycast or failover sends it to another.
//
// A server cookie is 16 bytes: version 1, three reserved zero bytes, the
// time it was made (seconds, serial-number arithmetic), and the SipHash-2-4
// of client cookie | version | reserved | time | client address under the
// 16-byte secret. Nothing here allocates, locks or reads a clock: the
// caller passes the time, so tests and the simulator choose it.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "base/ip_address.hpp"
#include "dns/wire/message.hpp"

namespace meridian::dns {

/// SipHash-2-4 (Aumasson and Bernstein) of `message` under `key`, as the
/// reference implementation returns it (the 64-bit result, little endian).
std::array<std::uint8_t, 8> siphash24(const std::array<std::uint8_t, 16>& key,
                                      std::span<const std::uint8_t> message) noexcept;

using CookieSecret = std::array<std::uint8_t, 16>;

/// The secrets a node makes and accepts cookies with: cookies are made with
/// `current` and accepted under `current` or `previous`, so a rotation (the
/// new secret becomes current, the old one previous) breaks no client that
/// learned its cookie within the last hour.
struct CookieSecrets {
  CookieSecret current{};
  std::optional<CookieSecret> previous;
};

/// What the server cookie of a query proved.
enum class CookieCheck : std::uint8_t {
  client_only,  ///< no server cookie: a first contact, or a client that lost it
  valid,        ///< made by us (any node with the secret) for this client, within its lifetime
  valid_under_previous,  ///< valid, but made with the previous secret: answered with a new one
  invalid,               ///< not ours, another version, expired, or for another address
};

/// True for both kinds of valid cookie.
constexpr bool is_valid(CookieCheck check) noexcept {
  return check == CookieCheck::valid || check == CookieCheck::valid_under_previous;
}

/// RFC 9018 4.3: a cookie older than an hour or from more than five
/// minutes in the future is refused; one older than half an hour is
/// replaced in the answer so that an active client never sees it expire.
inline constexpr std::uint32_t kCookieLifetimeS = 3600;
inline constexpr std::uint32_t kCookieFutureSkewS = 300;
inline constexpr std::uint32_t kCookieRenewAfterS = 1800;

/// Length of the server cookies Meridian makes.
inline constexpr std::size_t kServerCookieSize = 16;

/// The server cookie for `client_cookie` from `client` at `now_s` (Unix
/// seconds, truncated to 32 bits) under `secret`.
std::array<std::uint8_t, kServerCookieSize> make_server_cookie(
    const CookieSecret& secret, const std::array<std::uint8_t, 8>& client_cookie,
    const IpAddress& client, std::uint32_t now_s) noexcept;

/// Checks the server cookie of `cookie` (present) from `client` at `now_s`.
/// The reserved bytes are hashed as received, whatever they hold (RFC 9018
/// 4.2: another implementation of the same anycast set may set them).
CookieCheck check_cookie(const CookieSecrets& secrets, const QueryCookie& cookie,
                         const IpAddress& client, std::uint32_t now_s) noexcept;

/// The server cookie to answer `cookie` with: the client's own when it is
/// valid under the current secret and younger than kCookieRenewAfterS, a
/// fresh one otherwise (RFC 9018 4.3, A.4: a cookie of the previous secret
/// is replaced at once).
std::array<std::uint8_t, kServerCookieSize> answer_server_cookie(const CookieSecrets& secrets,
                                                                 const QueryCookie& cookie,
                                                                 CookieCheck check,
                                                                 const IpAddress& client,
                                                                 std::uint32_t now_s) noexcept;

/// Where the DNS workers find the secrets; replaced whole on rotation.
class CookieSecretSlot {
 public:
  void publish(std::shared_ptr<const CookieSecrets> secrets) noexcept {
    current_.store(std::move(secrets), std::memory_order_release);
  }
  /// Empty until the first publish: cookies are then neither made nor checked.
  std::shared_ptr<const CookieSecrets> load() const noexcept {
    return current_.load(std::memory_order_acquire);
  }

 private:
  std::atomic<std::shared_ptr<const CookieSecrets>> current_;
};

}  // namespace meridian::dns
