#pragma once
// Approximate centroids of countries, so that `closest` can place a client
// whose GeoIP record has a country but no coordinates (a GeoLite2-Country
// database, or a City record without a location).

#include <optional>
#include <span>
#include <string_view>

#include "geo/locator.hpp"

namespace meridian::geo {

struct Coordinates {
  double latitude_deg = 0;
  double longitude_deg = 0;
};

/// One entry of the built-in table.
struct CountryCentroid {
  char code[3];  ///< ISO 3166-1 alpha-2, NUL-terminated
  Coordinates centroid;
};

/// The built-in table: every ISO 3166-1 alpha-2 code (249) plus XK
/// (Kosovo, as MaxMind uses it), sorted by code. Approximate geographic
/// centres, good for "which site is nearest", not for surveying.
std::span<const CountryCentroid> country_centroids() noexcept;

/// The centroid of `code` (upper case, two letters), or nullopt. A binary
/// search: no allocation.
std::optional<Coordinates> country_centroid(std::string_view code) noexcept;

/// How `closest` places a client.
enum class Placement : std::uint8_t {
  none,              ///< neither coordinates nor a known country: default order
  coordinates,       ///< the record's own latitude and longitude
  country_centroid,  ///< the centroid of the record's country
};

/// Where `location` is for `closest`: its coordinates when it has them, else
/// its country's centroid. Fills `out` unless it returns Placement::none.
Placement place(const Location& location, Coordinates& out) noexcept;

}  // namespace meridian::geo
