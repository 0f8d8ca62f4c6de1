#pragma once
// Response rate limiting (RRL), the design BIND, Knot and NSD share: a UDP
// source cannot be made to reflect more than `responses_per_second`
// answers of one kind for one name per second to one network, so a
// spoofed flood turns Meridian into neither an amplifier nor a hose.
//
// Responses are accounted in buckets keyed by the client's network
// (/24 and /56 by default), the kind of response, and the name it is about:
// the query name for answers, NODATA and referrals; the zone for NXDOMAIN
// (a random-subdomain flood is one bucket); nothing for errors. Each
// bucket is a token bucket refilled at the configured rate and holding one
// second's worth. A response over the limit is dropped, except every
// `slip`-th one, which is sent truncated (TC=1, no records) so that a real
// resolver behind a spoofed address still gets through over TCP.
//
// The table has a fixed number of slots shared by every UDP worker, each
// behind its own tiny lock; two keys that share a slot share a bucket
// (stricter, never looser). Time is passed in by the caller.

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/ip_address.hpp"

namespace meridian::dns {

struct RateLimitSettings {
  /// Responses per second per bucket; 0 turns rate limiting off.
  std::uint32_t responses_per_second = 20;
  /// Every slip-th limited response is sent truncated; 0 drops them all,
  /// 1 truncates them all.
  std::uint32_t slip = 2;
  std::uint8_t ipv4_prefix_len = 24;
  std::uint8_t ipv6_prefix_len = 56;
  /// Sources never limited (by default the loopback networks).
  std::vector<IpNetwork> exempt{
      IpNetwork{IpAddress::v4(127, 0, 0, 0), 8},
      IpNetwork{IpAddress{IpAddress::Family::v6, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
                128}};
  /// Buckets in the table (rounded up to a power of two).
  std::uint32_t table_size = 65536;
};

/// What a response is, for accounting.
enum class ResponseKind : std::uint8_t { answer, nodata, referral, nxdomain, error };

/// What to do with a response.
enum class RateDecision : std::uint8_t { send, slip, drop };

class ResponseRateLimiter {
 public:
  explicit ResponseRateLimiter(RateLimitSettings settings);

  /// True when `source` is never limited (an exempt network, or limiting off).
  bool exempt(const IpAddress& source) const noexcept;

  /// Accounts one response of `kind` about `name` (the lower-cased wire
  /// name, empty for errors) and `qtype` to `source` at `now_ms` (any
  /// monotonic millisecond count) and says what to do with it.
  /// Thread-safe; allocates nothing.
  RateDecision account(const IpAddress& source, ResponseKind kind,
                       std::span<const std::uint8_t> name, std::uint16_t qtype,
                       std::uint64_t now_ms) noexcept;

  const RateLimitSettings& settings() const noexcept { return settings_; }

 private:
  struct Bucket {
    std::atomic<bool> locked{false};
    std::uint64_t key = 0;
    std::uint64_t last_ms = 0;
    std::int64_t tokens = 0;    ///< in thousandths of a response
    std::uint32_t limited = 0;  ///< limited responses since the bucket last had tokens
  };

  RateLimitSettings settings_;
  std::unique_ptr<Bucket[]> buckets_;
  std::uint64_t mask_ = 0;
};

}  // namespace meridian::dns
