#pragma once
// Stable counter slots for zones, services and sites. QueryStats counts by
// slot; a name keeps its slot for the life of the process, so its counters
// stay one Prometheus series when a config reload adds, removes or reorders
// zones, services or sites (counting by table position would move one
// name's counts onto another's).

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace meridian::dns {

/// One kind's registry: names get slots in first-seen order; once all but
/// the last slot are taken, every new name shares the last one, whose name
/// is then kOverflowName. Thread-safe.
class StatsSlots {
 public:
  static constexpr std::string_view kOverflowName = "(other)";

  /// `capacity`: the number of counters of this kind in QueryStats (>= 2).
  explicit StatsSlots(std::size_t capacity);

  /// The slot of `name`, assigned now if it has none.
  std::uint16_t slot_of(std::string_view name);
  /// Names by slot (index = slot), as assigned so far.
  std::vector<std::string> names() const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept {
      return std::hash<std::string_view>{}(key);
    }
  };
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::uint16_t, Hash, std::equal_to<>> slots_;
  std::vector<std::string> names_;
};

/// The registries of one node, sized like QueryStats' arrays.
struct StatsSlotRegistry {
  StatsSlots zones;
  StatsSlots services;
  StatsSlots sites;
  StatsSlotRegistry();
};

/// One routing table's positions mapped to slots: zones[i] is the slot of
/// the table's i-th zone, services[i] of its i-th service, sites[i] of the
/// config's i-th site. Empty vectors: slot = position (tests, offline use).
struct StatsSlotMap {
  std::vector<std::uint16_t> zones;
  std::vector<std::uint16_t> services;
  std::vector<std::uint16_t> sites;
};

}  // namespace meridian::dns
