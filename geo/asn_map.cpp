#include "geo/asn_map.hpp"

#include <algorithm>

#include "base/assert.hpp"

namespace meridian::geo {

AsnMap::AsnMap(std::vector<Entry> entries) : entries_(std::move(entries)) {
  std::sort(entries_.begin(), entries_.end(),
            [](const Entry& a, const Entry& b) { return a.asn < b.asn; });
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    MERIDIAN_ASSERT(!entries_[i].sites.empty(), "asn entry without sites");
    MERIDIAN_ASSERT(i == 0 || entries_[i - 1].asn != entries_[i].asn, "asn listed twice");
  }
}

std::span<const std::uint32_t> AsnMap::lookup(std::uint32_t asn) const noexcept {
  const auto it =
      std::lower_bound(entries_.begin(), entries_.end(), asn,
                       [](const Entry& entry, std::uint32_t key) { return entry.asn < key; });
  if (it == entries_.end() || it->asn != asn) return {};
  return it->sites;
}

}  // namespace meridian::geo
