#pragma once
// What one loaded config version needs at run time, built once per version
// (at start, on SIGHUP, or when a committed version arrives): its zones, its
// GeoIP databases opened and compiled, its health plan. Routing tables built
// for later health changes share all of it.

#include <memory>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "config/config.hpp"
#include "dns/zone.hpp"
#include "geo/locator.hpp"
#include "gslb/health_plan.hpp"

namespace meridian::gslb {

struct Generation {
  std::shared_ptr<const Config> config;
  std::shared_ptr<const std::vector<dns::Zone>> zones;
  std::shared_ptr<const geo::Locator> locator;  ///< the GeoIP databases of config.geoip, compiled
  HealthPlan plan;
};

/// Builds a generation from a loaded config; errors from building zones or
/// opening the GeoIP databases.
Result<Generation> make_generation(std::shared_ptr<const Config> config);
/// load_config, then make_generation.
Result<Generation> load_generation(const std::string& path);

}  // namespace meridian::gslb
