#include "dns/stats_slots.hpp"

#include "base/assert.hpp"
#include "dns/stats.hpp"

namespace meridian::dns {

StatsSlots::StatsSlots(std::size_t capacity) : capacity_(capacity) {
  MERIDIAN_ASSERT(capacity >= 2 && capacity <= 65536, "stats slots: capacity out of range");
}

std::uint16_t StatsSlots::slot_of(std::string_view name) {
  std::lock_guard lock(mutex_);
  if (auto it = slots_.find(name); it != slots_.end()) return it->second;
  if (names_.size() + 1 >= capacity_) {
    // Every slot but the last is taken: the newcomer shares the last one.
    if (names_.size() + 1 == capacity_) names_.emplace_back(kOverflowName);
    const auto overflow = static_cast<std::uint16_t>(capacity_ - 1);
    slots_.emplace(std::string(name), overflow);
    return overflow;
  }
  const auto slot = static_cast<std::uint16_t>(names_.size());
  names_.emplace_back(name);
  slots_.emplace(std::string(name), slot);
  return slot;
}

std::vector<std::string> StatsSlots::names() const {
  std::lock_guard lock(mutex_);
  return names_;
}

StatsSlotRegistry::StatsSlotRegistry()
    : zones(QueryStats::kZoneSlots),
      services(QueryStats::kServiceSlots),
      sites(QueryStats::kSiteSlots) {}

}  // namespace meridian::dns
