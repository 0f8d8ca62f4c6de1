#pragma once
// The `geo-map` stage of steering: the client's subdivision, country or
// continent (from the GeoIP database) mapped to an ordered site list; the
// most specific entry wins, and a default list serves the rest. Compiled
// once per config; lookups are binary searches with no allocation.
//
// Immutable after construction: safe from any number of threads.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "geo/locator.hpp"
#include "geo/nets_map.hpp"

namespace meridian::geo {

class GeoMap {
 public:
  /// How specific an entry is; a more specific match wins.
  enum class Level : std::uint8_t {
    subdivision,  ///< "US-CA": ISO 3166-2, country and 1..3 of [A-Z0-9]
    country,      ///< "US": ISO 3166-1 alpha-2
    continent,    ///< "EU": one of AF AN AS EU NA OC SA
  };

  struct Entry {
    Level level = Level::country;
    std::string code;  ///< valid for its level (see valid_code)
    SiteList sites;    ///< at least one site
  };

  /// What decided a lookup.
  struct Match {
    /// The list to walk first; empty when neither an entry nor a default
    /// list applies (the service's default order decides).
    std::span<const std::uint32_t> sites;
    /// Which entry matched; nullopt when the default list (or nothing) did.
    std::optional<Level> level;
    /// The matched entry's code ("US-CA"), or empty.
    std::string_view code;
  };

  GeoMap() = default;
  /// Codes must be valid and distinct per level (asserted; the config
  /// loader reports them first). `default_sites` may be empty.
  GeoMap(std::vector<Entry> entries, SiteList default_sites);

  /// The most specific entry for `location` (its subdivision within its
  /// country, then the country, then the continent), else the default list.
  Match lookup(const Location& location) const noexcept;

  /// True when `code` is well formed for `level`.
  static bool valid_code(Level level, std::string_view code) noexcept;

  const std::vector<Entry>& entries() const noexcept { return entries_; }
  const SiteList& default_sites() const noexcept { return default_sites_; }

 private:
  /// Codes packed into an integer, one byte per character.
  using Key = std::uint64_t;
  static Key pack(std::string_view text) noexcept;
  const Entry* find(const std::vector<std::pair<Key, std::uint32_t>>& keys, Key key) const noexcept;

  std::vector<Entry> entries_;
  SiteList default_sites_;
  std::vector<std::pair<Key, std::uint32_t>> subdivisions_, countries_,
      continents_;  ///< sorted, -> entries_
};

}  // namespace meridian::geo
