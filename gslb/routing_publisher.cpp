#include "gslb/routing_publisher.hpp"

#include <memory>

#include "base/assert.hpp"

namespace meridian::gslb {

dns::StatsSlotMap stats_slot_map(dns::StatsSlotRegistry& registry, const Config& config,
                                 const std::vector<dns::Zone>& zones) {
  dns::StatsSlotMap map;
  for (const dns::Zone& zone : zones)
    map.zones.push_back(registry.zones.slot_of(zone.origin().to_text()));
  for (const ZoneConfig& zone : config.zones) {
    for (const ServiceConfig& service : zone.services) {
      map.services.push_back(registry.services.slot_of(service.name.to_text()));
    }
  }
  for (const geo::Site& site : config.sites) map.sites.push_back(registry.sites.slot_of(site.name));
  return map;
}

RoutingPublisher::RoutingPublisher(dns::RoutingTableSlot& slot, dns::StatsSlotRegistry& stats_slots)
    : slot_(slot), stats_slots_(stats_slots) {}

void RoutingPublisher::switch_to(const Generation& generation,
                                 const health::HealthTracker& tracker) {
  MERIDIAN_ASSERT(tracker.size() == generation.plan.targets.size(),
                  "the tracker is not the generation's");
  generation_ = &generation;
  tracker_ = &tracker;
  table_slots_ = stats_slot_map(stats_slots_, *generation.config, *generation.zones);
  // The answers of the last generation's targets do not fit these; the
  // follower hands over the new ones when its targets change.
  cluster_.clear();
}

void RoutingPublisher::local_health_changed(const health::HealthTracker& tracker) {
  if (&tracker == tracker_) publish();
}

void RoutingPublisher::cluster_verdicts_changed(const std::vector<TargetAnswer>& answers) {
  cluster_ = answers;
  publish();
}

ServiceVerdicts RoutingPublisher::verdicts() const {
  MERIDIAN_ASSERT(generation_ != nullptr && tracker_ != nullptr, "no generation yet");
  // Targets the cluster has not answered for yet (none, before the follower
  // hands over the answers of a new generation) go by the local probes.
  return verdicts_of(generation_->plan, *tracker_, in_cluster_ ? &cluster_ : nullptr);
}

void RoutingPublisher::publish() {
  if (generation_ == nullptr) return;
  const ServiceVerdicts verdicts = this->verdicts();
  auto table = std::make_shared<dns::RoutingTable>(
      generation_->zones,
      build_services(*generation_->config, &verdicts, generation_->locator.get()),
      generation_->locator, ++version_);
  table->set_stats_slots(table_slots_);
  slot_.publish(std::move(table));
}

}  // namespace meridian::gslb
