#include "gslb/health_routing.hpp"

#include <boost/asio/post.hpp>

#include "geo/geo_index.hpp"
#include "gslb/routing_builder.hpp"

namespace meridian::gslb {

namespace asio = boost::asio;

namespace {

// Opens the GeoIP databases named by the config, if any, compiled for
// steering (the location trie; scope indexes follow per service).
Result<std::shared_ptr<const geo::Locator>> open_locator(const Config& config) {
  auto index = geo::GeoIndex::open(config.geoip.database, config.geoip.asn_database);
  if (!index) return index.error();
  return std::shared_ptr<const geo::Locator>(std::move(index).value());
}

}  // namespace

Result<Generation> make_generation(std::shared_ptr<const Config> config) {
  Generation generation;
  generation.config = std::move(config);
  auto zones = build_zones(*generation.config);
  if (!zones) return zones.error();
  generation.zones = std::move(zones).value();
  auto locator = open_locator(*generation.config);
  if (!locator) return locator.error();
  generation.locator = std::move(locator).value();
  generation.plan = plan_health(*generation.config);
  return generation;
}

Result<Generation> load_generation(const std::string& path) {
  auto config = load_config(path);
  if (!config) return config.error();
  return make_generation(std::make_shared<const Config>(std::move(config).value()));
}

HealthRouting::HealthRouting(asio::io_context& io, dns::RoutingTableSlot& slot, NodeViewSlot& views,
                             dns::StatsSlotRegistry& stats_slots, const Clock& clock, Logger& logger,
                             std::uint64_t seed)
    : io_(io), slot_(slot), views_(views), stats_slots_(stats_slots), clock_(clock), logger_(logger), seed_(seed) {}

void HealthRouting::attach(std::shared_ptr<gslb::ReplicatedHealth> replicated) {
  replicated_ = std::move(replicated);
  if (generation_.config) replicated_->set_targets(target_infos(generation_.plan, *generation_.config));
  publish();
}

asio::awaitable<void> HealthRouting::switch_to(Generation generation, bool first) {
  health::HealthTracker tracker(generation.plan.targets, generation.config->health.unknown);
  if (monitor_) {
    tracker.inherit(monitor_->tracker());
    monitor_->stop();
  }
  apply_config_overrides(*generation.config, tracker);
  generation_ = std::move(generation);
  table_slots_ = stats_slot_map(*generation_.config, *generation_.zones);
  if (replicated_) replicated_->set_targets(target_infos(generation_.plan, *generation_.config));
  monitor_ = std::make_shared<health::HealthMonitor>(io_, std::move(tracker), clock_, seed_++, logger_,
                                                     [this] { publish(); });
  monitor_->set_metrics(probe_metrics_);
  if (first && !generation_.plan.targets.empty()) {
    const auto started = clock_.now();
    co_await monitor_->initial_round();
    logger_.info("health", "first round of " + std::to_string(generation_.plan.targets.size()) + " target(s) in " +
                               std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  clock_.now() - started).count()) + " ms");
  }
  publish();
  monitor_->start();
  refresh_view();
}

void HealthRouting::stop() {
  stopped_ = true;
  if (monitor_) monitor_->stop();
  if (replicated_) replicated_->stop();
}

void HealthRouting::refresh_view() {
  if (stopped_ || !monitor_) return;
  std::vector<gslb::TargetAnswer> replicated;
  if (replicated_) replicated = replicated_->answers();
  const ServiceVerdicts verdicts =
      verdicts_of(generation_.plan, monitor_->tracker(), replicated_ ? &replicated : nullptr);
  views_.publish(std::make_shared<const NodeView>(
      build_node_view(NodeViewInputs{*generation_.config, generation_.plan, monitor_->tracker(), verdicts,
                                     replicated_.get(), probe_metrics_.get(), clock_, version_})));
  view_built_ = clock_.now();
}

void HealthRouting::fresh_view(std::function<void(std::shared_ptr<const NodeView>)> done) {
  asio::post(io_, [this, done = std::move(done)] {
    if (!stopped_ && monitor_ && clock_.now() - view_built_ > kViewMaxAge) refresh_view();
    done(views_.load());
  });
}

void HealthRouting::publish() {
  if (!monitor_) return;
  std::vector<gslb::TargetAnswer> replicated;
  if (replicated_) {
    replicated_->observe(local_views(monitor_->tracker()));
    replicated = replicated_->answers();
  }
  const ServiceVerdicts verdicts =
      verdicts_of(generation_.plan, monitor_->tracker(), replicated_ ? &replicated : nullptr);
  auto table = std::make_shared<dns::RoutingTable>(
      generation_.zones, build_services(*generation_.config, &verdicts, generation_.locator.get()),
      generation_.locator, ++version_);
  table->set_stats_slots(table_slots_);
  slot_.publish(std::move(table));
}

dns::StatsSlotMap HealthRouting::stats_slot_map(const Config& config, const std::vector<dns::Zone>& zones) {
  dns::StatsSlotMap map;
  for (const dns::Zone& zone : zones) map.zones.push_back(stats_slots_.zones.slot_of(zone.origin().to_text()));
  for (const ZoneConfig& zone : config.zones) {
    for (const ServiceConfig& service : zone.services) {
      map.services.push_back(stats_slots_.services.slot_of(service.name.to_text()));
    }
  }
  for (const geo::Site& site : config.sites) map.sites.push_back(stats_slots_.sites.slot_of(site.name));
  return map;
}

}  // namespace meridian::gslb
