#pragma once
// Client location: where an IP address is on Earth, which autonomous system
// announces it, and how wide the network is that shares that answer (the
// basis of the ECS scope).

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "base/ip_address.hpp"

namespace meridian::geo {

class LocationTrie;
class ScopeIndex;
struct ServiceSpec;
struct Site;

/// What a GeoIP database says about one network.
struct Location {
  bool has_coordinates = false;
  double latitude_deg = 0;
  double longitude_deg = 0;
  /// ISO 3166-1 alpha-2 country code ("GB"), or empty ("\0\0\0").
  std::array<char, 3> country{};
  /// Continent code ("EU", "NA", ...), or empty.
  std::array<char, 3> continent{};
  /// The first (largest) ISO 3166-2 subdivision code within the country,
  /// without the country prefix ("CA" for US-CA), 1..3 characters, or empty.
  std::array<char, 4> subdivision{};

  friend bool operator==(const Location&, const Location&) = default;
};

/// The answer of one lookup.
struct Located {
  /// True when the database has a record for the address's network.
  bool found = false;
  Location location;
  /// Prefix length of the database network that holds the address (found or
  /// not), in bits of the address's own family (IPv4: 0..32, IPv6: 0..128).
  std::uint8_t prefix_len = 0;
};

/// What an ASN database (GeoLite2-ASN layout) says about one address.
struct AsnLocated {
  /// True when the database has a record with an autonomous system number.
  bool found = false;
  std::uint32_t number = 0;
  /// autonomous_system_organization; points into the database, valid while
  /// the locator lives. May be empty.
  std::string_view organization;
  /// Prefix length of the database network that holds the address (found or
  /// not), as in Located; 0 without an ASN database.
  std::uint8_t prefix_len = 0;
};

/// Maps an address to a location and an autonomous system. Implementations
/// are immutable after construction, so `locate` and `locate_asn` are safe
/// from any number of threads at once; both are on the DNS hot path: no heap
/// allocation, no lock, no syscall.
class Locator {
 public:
  virtual ~Locator() = default;
  virtual Located locate(const IpAddress& address) const noexcept = 0;

  /// The autonomous system of `address`. Default: no ASN database (not
  /// found, prefix 0).
  virtual AsnLocated locate_asn(const IpAddress& address) const noexcept {
    (void)address;
    return {};
  }

  /// The location database as a binary trie of networks (geo/location_trie.hpp),
  /// built on request: the basis of per-service scope indexes. Expensive
  /// (a walk of the whole database): call once per database, off the hot
  /// path. Null (the default) when the locator cannot enumerate its networks.
  virtual std::shared_ptr<const LocationTrie> build_trie() const { return nullptr; }

  /// The scope index of a service compiled from this locator's trie (see
  /// geo/scope_index.hpp), or null when the locator has none or the policy
  /// needs none. Implementations memoize: services with the same ordering
  /// inputs share one index. Thread-safe; off the hot path (routing table
  /// builds). Default: null.
  virtual std::shared_ptr<const ScopeIndex> scope_index(
      const std::vector<Site>& sites, const std::vector<std::uint32_t>& default_sites,
      const ServiceSpec& spec) const {
    (void)sites, (void)default_sites, (void)spec;
    return nullptr;
  }
};

}  // namespace meridian::geo
