#pragma once
// A Locator from a table, for steering tests: longest-prefix match over
// configured networks, each with optional coordinates and region codes, and
// over ASN networks; misses report `miss_prefix_len`. Counts calls. Its trie
// (for scope indexes) is built from the same networks.

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "geo/location_trie.hpp"
#include "geo/locator.hpp"

namespace meridian::geo::test {

inline IpNetwork network_of(const char* text) {
  IpNetwork network;
  REQUIRE(IpNetwork::parse(text, network));
  return network;
}

inline IpAddress address_of(const char* text) {
  IpAddress address;
  REQUIRE(IpAddress::parse(text, address));
  return address;
}

class TableLocator final : public Locator {
 public:
  /// A network with coordinates and (optional) codes: country "US",
  /// continent "NA", subdivision "CA".
  void add(const char* network, double latitude, double longitude, const char* country = "",
           const char* continent = "", const char* subdivision = "") {
    Location location;
    location.has_coordinates = true;
    location.latitude_deg = latitude;
    location.longitude_deg = longitude;
    copy_code(location.country, country);
    copy_code(location.continent, continent);
    copy_code(location.subdivision, subdivision);
    entries_.push_back({network_of(network), location});
  }
  /// A network known by its codes only (a Country database).
  void add_codes(const char* network, const char* country, const char* continent,
                 const char* subdivision = "") {
    add(network, 0, 0, country, continent, subdivision);
    entries_.back().second.has_coordinates = false;
  }

  /// An ASN network (a separate table, as a GeoLite2-ASN database is).
  void add_asn(const char* network, std::uint32_t number, const char* organization) {
    asns_.push_back({network_of(network), number, organization});
  }

  AsnLocated locate_asn(const IpAddress& address) const noexcept override {
    ++asn_calls;
    AsnLocated located;
    located.prefix_len = miss_prefix_len;
    for (const auto& entry : asns_) {
      if (entry.network.contains(address) &&
          (!located.found || entry.network.prefix_len > located.prefix_len)) {
        located.found = true;
        located.number = entry.number;
        located.organization = entry.organization;
        located.prefix_len = entry.network.prefix_len;
      }
    }
    return located;
  }

  std::shared_ptr<const LocationTrie> build_trie() const override {
    return std::make_shared<const LocationTrie>(LocationTrie::from_networks(entries_));
  }

  Located locate(const IpAddress& address) const noexcept override {
    ++calls;
    Located located;
    located.prefix_len = miss_prefix_len;
    for (const auto& [network, location] : entries_) {
      if (network.contains(address) &&
          (!located.found || network.prefix_len > located.prefix_len)) {
        located.found = true;
        located.location = location;
        located.prefix_len = network.prefix_len;
      }
    }
    return located;
  }

  std::uint8_t miss_prefix_len = 8;
  mutable int calls = 0;
  mutable int asn_calls = 0;

 private:
  template <std::size_t N>
  static void copy_code(std::array<char, N>& out, const char* code) {
    out = {};
    std::memcpy(out.data(), code, std::min(std::strlen(code), N - 1));
  }

  struct AsnEntry {
    IpNetwork network;
    std::uint32_t number;
    const char* organization;
  };
  std::vector<std::pair<IpNetwork, Location>> entries_;
  std::vector<AsnEntry> asns_;
};

}  // namespace meridian::geo::test
