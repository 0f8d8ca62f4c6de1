#include "geo/geo_map.hpp"

#include <algorithm>
#include <array>

#include "base/assert.hpp"

namespace meridian::geo {
namespace {

constexpr std::array<std::string_view, 7> kContinents = {"AF", "AN", "AS", "EU", "NA", "OC", "SA"};

bool upper_pair(std::string_view text) {
  return text.size() == 2 && text[0] >= 'A' && text[0] <= 'Z' && text[1] >= 'A' && text[1] <= 'Z';
}

// The NUL-terminated code in a Location's fixed array.
template <std::size_t N>
std::string_view code_of(const std::array<char, N>& code) noexcept {
  std::size_t size = 0;
  while (size < N && code[size] != '\0') ++size;
  return {code.data(), size};
}

}  // namespace

bool GeoMap::valid_code(Level level, std::string_view code) noexcept {
  switch (level) {
    case Level::continent:
      return std::find(kContinents.begin(), kContinents.end(), code) != kContinents.end();
    case Level::country: return upper_pair(code);
    case Level::subdivision: {
      if (code.size() < 4 || code.size() > 6 || !upper_pair(code.substr(0, 2)) || code[2] != '-')
        return false;
      for (const char c : code.substr(3)) {
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
      }
      return true;
    }
  }
  return false;
}

GeoMap::Key GeoMap::pack(std::string_view text) noexcept {
  Key key = 0;
  for (const char c : text) key = (key << 8) | static_cast<unsigned char>(c);
  return key;
}

GeoMap::GeoMap(std::vector<Entry> entries, SiteList default_sites)
    : entries_(std::move(entries)), default_sites_(std::move(default_sites)) {
  for (std::uint32_t i = 0; i < entries_.size(); ++i) {
    const Entry& entry = entries_[i];
    MERIDIAN_ASSERT(valid_code(entry.level, entry.code), "geo map code not valid for its level");
    MERIDIAN_ASSERT(!entry.sites.empty(), "geo map entry without sites");
    auto& keys = entry.level == Level::subdivision ? subdivisions_
                 : entry.level == Level::country   ? countries_
                                                   : continents_;
    keys.emplace_back(pack(entry.code), i);
  }
  for (auto* keys : {&subdivisions_, &countries_, &continents_}) {
    std::sort(keys->begin(), keys->end());
    MERIDIAN_ASSERT(std::adjacent_find(keys->begin(), keys->end(),
                                       [](const auto& a, const auto& b) {
                                         return a.first == b.first;
                                       }) == keys->end(),
                    "geo map code listed twice");
  }
}

const GeoMap::Entry* GeoMap::find(const std::vector<std::pair<Key, std::uint32_t>>& keys,
                                  Key key) const noexcept {
  const auto it = std::lower_bound(keys.begin(), keys.end(), std::pair<Key, std::uint32_t>{key, 0});
  return it != keys.end() && it->first == key ? &entries_[it->second] : nullptr;
}

GeoMap::Match GeoMap::lookup(const Location& location) const noexcept {
  const std::string_view country = code_of(location.country);
  const std::string_view subdivision = code_of(location.subdivision);
  const std::string_view continent = code_of(location.continent);
  const Entry* entry = nullptr;
  if (!subdivision.empty() && country.size() == 2 && !subdivisions_.empty()) {
    // "US" "-" "CA" packed like the configured "US-CA", without a buffer.
    Key key = pack(country);
    key = (key << 8) | static_cast<unsigned char>('-');
    for (const char c : subdivision) key = (key << 8) | static_cast<unsigned char>(c);
    entry = find(subdivisions_, key);
  }
  if (entry == nullptr && !country.empty()) entry = find(countries_, pack(country));
  if (entry == nullptr && !continent.empty()) entry = find(continents_, pack(continent));
  Match match;
  if (entry != nullptr) {
    match.sites = entry->sites;
    match.level = entry->level;
    match.code = entry->code;
  } else {
    match.sites = default_sites_;
  }
  return match;
}

}  // namespace meridian::geo
