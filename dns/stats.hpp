#pragma once
// Query counters. Each DNS worker owns one QueryStats and is its only
// writer; readers (metrics, admin) sum all workers' counters at any time.
// Relaxed atomics: a plain load and store per increment, no lock prefix.

#include <array>
#include <atomic>
#include <cstdint>

namespace meridian::dns {

struct QueryStats {
  using Counter = std::atomic<std::uint64_t>;

  Counter queries{0};          ///< every packet handed to the answerer
  Counter dropped{0};          ///< no reply: too short, or a response
  Counter truncated{0};        ///< answered with TC set
  Counter client_subnet{0};    ///< queries carrying a valid ECS option
  Counter service_answers{0};  ///< answers chosen by steering
  Counter fail_open{0};        ///< service answers given with nothing healthy
  Counter fail_closed{
      0};  ///< service queries refused an answer with nothing healthy (NODATA/SERVFAIL)
  Counter cookie_client_only{0};       ///< COOKIE with a client cookie alone
  Counter cookie_valid{0};             ///< COOKIE with a valid server cookie of ours
  Counter cookie_invalid{0};           ///< COOKIE with a server cookie we refused
  Counter rate_limited_dropped{0};     ///< over the rate limit: no reply
  Counter rate_limited_slipped{0};     ///< over the rate limit: sent truncated
  std::array<Counter, 17> by_rcode{};  ///< index = RCODE (0..16; 16 = BADVERS)
  /// Index qtype_slot(qtype): the common types one by one, then "other".
  std::array<Counter, 17> by_qtype{};
  static constexpr std::size_t kZoneSlots = 256;
  static constexpr std::size_t kServiceSlots = 1024;
  static constexpr std::size_t kSiteSlots = 4096;
  /// Queries by the zone's stats slot (RoutingTable::zone_stats_slot: a
  /// name's slot is stable across reloads, see dns/stats_slots.hpp).
  std::array<Counter, kZoneSlots> by_zone{};
  /// Steered answers by the service's stats slot, and by the stats slot of
  /// the site of the first address.
  std::array<Counter, kServiceSlots> answers_by_service{};
  std::array<Counter, kSiteSlots> answers_by_site{};

  /// The slot of `index` in an array of `size` slots: the last one
  /// gathers every index past the others.
  static std::size_t slot(std::size_t index, std::size_t size) noexcept {
    return index < size ? index : size - 1;
  }

  static void bump(Counter& counter) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
};

/// The query types counted one by one, in by_qtype order; the slot after
/// the last counts every other type.
inline constexpr std::array<std::uint16_t, 16> kCountedQtypes{1,  2,  5,  6,  12, 15, 16,  28,
                                                              33, 35, 43, 48, 64, 65, 255, 257};
inline constexpr std::array<const char*, 17> kCountedQtypeNames{
    "A",     "NS", "CNAME",  "SOA",  "PTR",   "MX",  "TXT", "AAAA", "SRV",
    "NAPTR", "DS", "DNSKEY", "SVCB", "HTTPS", "ANY", "CAA", "other"};

/// by_qtype's slot of `qtype`.
constexpr std::size_t qtype_slot(std::uint16_t qtype) noexcept {
  for (std::size_t i = 0; i < kCountedQtypes.size(); ++i) {
    if (kCountedQtypes[i] == qtype) return i;
  }
  return kCountedQtypes.size();
}

}  // namespace meridian::dns
