#include "gslb/generation.hpp"

#include "config/zone_build.hpp"
#include "geo/geo_index.hpp"
#include "gslb/geoip_open.hpp"

namespace meridian::gslb {

namespace {

// Opens the GeoIP databases named by the config, if any, compiled for
// steering (the location trie; scope indexes follow per service).
Result<std::shared_ptr<const geo::Locator>> open_locator(const Config& config) {
  if (config.geoip.database.empty() && config.geoip.asn_database.empty())
    return std::shared_ptr<const geo::Locator>();
  auto databases = open_geoip(config.geoip);
  if (!databases) return databases.error();
  return std::shared_ptr<const geo::Locator>(std::make_shared<const geo::GeoIndex>(
      std::move(databases->location), std::move(databases->asn)));
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

}  // namespace meridian::gslb
