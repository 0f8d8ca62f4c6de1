#pragma once
// The query -> response engine (docs/architecture.md): bytes of one query in,
// bytes of one response out, against one RoutingTable snapshot. It has no
// sockets: the UDP and TCP servers only frame bytes and call answer().
//
// Processing runs in fixed stages (as in Knot DNS): parse, answer (with CNAME
// chasing inside our zones, wildcards, services), authority (referral NS, or
// SOA for negative answers), additional (glue and target addresses), finish
// (flags, RCODE, OPT with ECS/NSID/COOKIE/EDE, truncation), then response
// rate limiting for UDP sources that hold no valid cookie.

#include <cstdint>
#include <span>
#include <string>

#include "base/ip_address.hpp"
#include "base/rng.hpp"
#include "dns/cookie.hpp"
#include "dns/rate_limiter.hpp"
#include "dns/routing_table.hpp"
#include "dns/stats.hpp"

namespace meridian::dns {

enum class Transport : std::uint8_t { udp, tcp };

/// Largest response over TCP (the two-byte length prefix) and the buffer size
/// callers should provide for it.
inline constexpr std::size_t kMaxTcpMessage = 65535;
/// Largest UDP payload Meridian ever sends or advertises.
inline constexpr std::uint16_t kMaxUdpPayload = 4096;

struct AnswererSettings {
  /// The UDP payload size we advertise and accept to send (512..4096).
  std::uint16_t udp_payload = 1232;
  /// Returned for the NSID option (RFC 5001) when not empty; at most 128
  /// bytes.
  std::string nsid;
};

/// Who asked, how and when, and the node's shared defences.
struct QueryContext {
  IpAddress source;  ///< the peer address (IPv4-mapped addresses unmapped)
  Transport transport = Transport::udp;
  Rng* rng = nullptr;  ///< the worker's generator for weighted choices
  /// Unix time in seconds (the cluster's nodes must agree on it: cookies).
  std::uint32_t now_s = 0;
  /// A monotonic millisecond count (rate limiting).
  std::uint64_t now_ms = 0;
  /// The cookie secrets; null: COOKIE options are ignored (RFC 7873 5.2).
  const CookieSecrets* cookies = nullptr;
  /// Response rate limiting for UDP; null or TCP: none.
  ResponseRateLimiter* rate_limiter = nullptr;
};

/// The abuse defences the UDP and TCP servers hand to the answerer with
/// each query; both optional. They must outlive the servers.
struct QueryDefences {
  const CookieSecretSlot* cookies = nullptr;
  ResponseRateLimiter* rate_limiter = nullptr;  ///< applied to UDP only
};

class Answerer {
 public:
  explicit Answerer(AnswererSettings settings);

  /// Answers `query` into `response` and returns the response length, or 0
  /// when the query must be dropped. `response` must hold at least
  /// kMaxUdpPayload bytes for UDP, kMaxTcpMessage for TCP. Thread-safe
  /// (const); allocates nothing; never throws.
  std::size_t answer(const RoutingTable& table, const QueryContext& context,
                     std::span<const std::uint8_t> query, std::span<std::uint8_t> response,
                     QueryStats& stats) const noexcept;

  const AnswererSettings& settings() const noexcept { return settings_; }

 private:
  AnswererSettings settings_;
};

}  // namespace meridian::dns
