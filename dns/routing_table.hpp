#pragma once
// The RoutingTable: everything a DNS worker needs to answer, as one immutable
// snapshot (zones, services and their compiled steering, the GeoIP locator).
// A new table is built on every change and published atomically; workers load
// the current one once per batch and never lock (docs/architecture.md).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dns/stats_slots.hpp"
#include "dns/wire/name.hpp"
#include "dns/zone.hpp"
#include "geo/locator.hpp"
#include "geo/steering.hpp"

namespace meridian::dns {

/// A name answered by steering.
struct Service {
  Name name;
  /// TTL of its answers; already cut by health when the answer could change
  /// soon (see gslb/routing_builder.hpp).
  std::uint32_t ttl_s = 30;
  geo::Steering steering;
  /// TTL of fail-open answers (nothing healthy), so resolvers come back soon.
  std::uint32_t degraded_ttl_s = 5;
  /// The RDATA of each CNAME endpoint's name, indexed like
  /// steering.spec().cname_targets (see cname_rdata).
  std::vector<Rdata> cname_targets{};
};

/// The CNAME RDATA of `target` (its wire form, one compressible name).
Rdata cname_rdata(const Name& target);

class RoutingTable {
 public:
  /// `zones` must have distinct origins; zone nodes' service indices point
  /// into `services`. `locator` may be null (no GeoIP database configured).
  RoutingTable(std::vector<Zone> zones, std::vector<Service> services,
               std::shared_ptr<const geo::Locator> locator, std::uint64_t version);
  /// The same with zones shared with other tables: a health change rebuilds
  /// only the services and reuses the zones.
  RoutingTable(std::shared_ptr<const std::vector<Zone>> zones, std::vector<Service> services,
               std::shared_ptr<const geo::Locator> locator, std::uint64_t version);

  /// The zone with the longest origin at or above `qname`, or nullptr.
  /// No heap allocation.
  const Zone* find_zone(const Name& qname) const noexcept;

  const std::vector<Zone>& zones() const noexcept { return *zones_; }
  const std::shared_ptr<const std::vector<Zone>>& shared_zones() const noexcept { return zones_; }
  const std::shared_ptr<const geo::Locator>& shared_locator() const noexcept { return locator_; }
  const std::vector<Service>& services() const noexcept { return services_; }
  const Service& service(std::uint32_t index) const noexcept { return services_[index]; }
  const geo::Locator* locator() const noexcept { return locator_.get(); }
  /// Monotonic build number, for logs and the admin API.
  std::uint64_t version() const noexcept { return version_; }

  /// The counters of this table's i-th zone, i-th service, and the config's
  /// i-th site: their slots in QueryStats (the position itself without a
  /// slot map). Kept out of the constructor: the node sets them once per
  /// table before publishing it.
  void set_stats_slots(StatsSlotMap slots) { stats_slots_ = std::move(slots); }
  std::size_t zone_stats_slot(std::size_t zone) const noexcept {
    return mapped(stats_slots_.zones, zone);
  }
  std::size_t service_stats_slot(std::size_t service) const noexcept {
    return mapped(stats_slots_.services, service);
  }
  std::size_t site_stats_slot(std::size_t site) const noexcept {
    return mapped(stats_slots_.sites, site);
  }

 private:
  static std::size_t mapped(const std::vector<std::uint16_t>& slots, std::size_t index) noexcept {
    return index < slots.size() ? slots[index] : index;
  }
  StatsSlotMap stats_slots_;
  std::shared_ptr<const std::vector<Zone>> zones_;
  std::vector<Service> services_;
  std::shared_ptr<const geo::Locator> locator_;
  std::uint64_t version_;
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept {
      return std::hash<std::string_view>{}(key);
    }
  };
  std::unordered_map<std::string, std::uint32_t, KeyHash, std::equal_to<>>
      zone_index_;  // lowercase wire origin
  unsigned max_origin_labels_ = 0;
};

/// The slot through which a new table is published. Thread-safe: one writer
/// publishes, any number of workers load.
class RoutingTableSlot {
 public:
  void publish(std::shared_ptr<const RoutingTable> table) noexcept {
    current_.store(std::move(table), std::memory_order_release);
  }
  std::shared_ptr<const RoutingTable> load() const noexcept {
    return current_.load(std::memory_order_acquire);
  }

 private:
  std::atomic<std::shared_ptr<const RoutingTable>> current_;
};

}  // namespace meridian::dns
