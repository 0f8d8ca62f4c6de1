#pragma once
// The `asn` stage of steering: the client's autonomous system (from an ASN
// database, GeoLite2-ASN layout) mapped to an ordered site list. Consulted
// after `nets` and before the policy's geo stage. Compiled once per config;
// a lookup is a binary search with no allocation.
//
// Immutable after construction: safe from any number of threads.

#include <cstdint>
#include <span>
#include <vector>

#include "geo/nets_map.hpp"

namespace meridian::geo {

/// Most entries of one map.
inline constexpr std::size_t kMaxAsnMapEntries = 100'000;

class AsnMap {
 public:
  struct Entry {
    std::uint32_t asn = 0;  ///< 1..4294967294
    SiteList sites;         ///< at least one site
  };

  AsnMap() = default;
  /// ASNs must be distinct and lists non-empty (asserted; the config loader
  /// reports them first). Any order.
  explicit AsnMap(std::vector<Entry> entries);

  /// The list of `asn`, or empty when the map has none.
  std::span<const std::uint32_t> lookup(std::uint32_t asn) const noexcept;

  /// Sorted by ASN.
  const std::vector<Entry>& entries() const noexcept { return entries_; }

 private:
  std::vector<Entry> entries_;
};

}  // namespace meridian::geo
