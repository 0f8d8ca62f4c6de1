#include "dns/routing_table.hpp"

#include "base/assert.hpp"

namespace meridian::dns {

Rdata cname_rdata(const Name& target) {
  Rdata rdata;
  const auto wire = target.wire();
  rdata.bytes.assign(wire.begin(), wire.end());
  rdata.names.push_back(RdataName{0, static_cast<std::uint16_t>(wire.size())});
  return rdata;
}

RoutingTable::RoutingTable(std::vector<Zone> zones, std::vector<Service> services,
                           std::shared_ptr<const geo::Locator> locator, std::uint64_t version)
    : RoutingTable(std::make_shared<const std::vector<Zone>>(std::move(zones)), std::move(services),
                   std::move(locator), version) {}

RoutingTable::RoutingTable(std::shared_ptr<const std::vector<Zone>> zones,
                           std::vector<Service> services,
                           std::shared_ptr<const geo::Locator> locator, std::uint64_t version)
    : zones_(std::move(zones)),
      services_(std::move(services)),
      locator_(std::move(locator)),
      version_(version) {
  MERIDIAN_ASSERT(zones_ != nullptr, "routing table without zones");
  for (std::uint32_t i = 0; i < zones_->size(); ++i) {
    const Zone& zone = (*zones_)[i];
    const bool inserted = zone_index_.emplace(zone.origin().lowercase_key(), i).second;
    MERIDIAN_ASSERT(inserted, "two zones with one origin");
    max_origin_labels_ = std::max(max_origin_labels_, zone.origin().label_count());
  }
}

const Zone* RoutingTable::find_zone(const Name& qname) const noexcept {
  // Longest match first: try the name's suffixes from the longest origin
  // length that can exist down to the root.
  char buffer[Name::kMaxWireLength];
  const unsigned start = std::min(qname.label_count(), max_origin_labels_);
  for (unsigned labels = start + 1; labels-- > 0;) {
    const Name candidate = qname.suffix(labels);
    const auto it = zone_index_.find(candidate.lowercase_key(buffer));
    if (it != zone_index_.end()) return &(*zones_)[it->second];
  }
  return nullptr;
}

}  // namespace meridian::dns
