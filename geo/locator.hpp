#pragma once
// Client location: where an IP address is on Earth, and how wide the network
// is that shares that answer (the basis of the ECS scope).

#include <array>
#include <cstdint>

#include "base/ip_address.hpp"

namespace meridian::geo {

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

/// Maps an address to a location. Implementations are immutable after
/// construction, so `locate` is safe from any number of threads at once.
/// `locate` is on the DNS hot path: no heap allocation, no lock, no syscall.
class Locator {
 public:
  virtual ~Locator() = default;
  virtual Located locate(const IpAddress& address) const noexcept = 0;
};

}  // namespace meridian::geo
