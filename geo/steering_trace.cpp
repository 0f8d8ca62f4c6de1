// Steering::fill_trace (declared in geo/steering.hpp): the decision behind
// one choice, for `meridian explain` and the admin API. Off the hot path, so
// it may allocate and sort.

#include <algorithm>
#include <cmath>

#include "geo/steering.hpp"

namespace meridian::geo {

void Steering::fill_trace(const FamilyIndex& index, const Choice& choice,
                          std::span<const std::uint32_t> list, bool by_distance, const Pool& pool,
                          bool everything, Trace& trace) const {
  if (index.failed) {
    trace.health = "nothing healthy";
  } else if (index.degraded) {
    trace.health = "nothing healthy: every endpoint counts (fail open)";
  } else if (index.relaxed) {
    trace.health = "min_healthy met nowhere: sites with any healthy endpoint";
  } else {
    trace.health =
        "min_healthy " + std::to_string(spec_.min_healthy) + (spec_.min_healthy_percent ? "%" : "");
  }
  // Distances from where closest placed the client, or (other policies)
  // from where it would have: informative either way.
  Coordinates point = trace.placed;
  const bool coordinates = trace.placement != Placement::none ||
                           (trace.locator_asked && trace.located.found &&
                            place(trace.located.location, point) != Placement::none);
  std::vector<std::uint32_t> order;
  const auto add = [&](std::uint32_t site) {
    if (index.by_site[site].total > 0 &&
        std::find(order.begin(), order.end(), site) == order.end()) {
      order.push_back(site);
    }
  };
  if (!everything && !index.failed && !by_distance) {
    for (const auto site : list) add(site);
    for (const auto site : default_sites_) add(site);
  }
  for (std::uint32_t site = 0; site < sites_.size(); ++site) add(site);
  for (const auto site : order) {
    const SiteEndpoints& endpoints = index.by_site[site];
    TraceSite entry;
    entry.site = site;
    entry.bias_percent = spec_.bias_percent.empty() ? 0 : spec_.bias_percent[site];
    if (coordinates) {
      entry.distance_km = great_circle_km(point.latitude_deg, point.longitude_deg,
                                          sites_[site].latitude_deg, sites_[site].longitude_deg);
      entry.biased_km = *entry.distance_km * metric_.bias_factor(site);
    }
    entry.healthy = endpoints.healthy;
    entry.total = endpoints.total;
    entry.available = endpoints.available;
    entry.picked = choice.stage != Stage::fallback && !index.failed &&
                   (everything ? endpoints.available : pool.contains(site));
    trace.candidates.push_back(entry);
  }
  if (by_distance) {
    std::stable_sort(
        trace.candidates.begin(), trace.candidates.end(),
        [](const TraceSite& a, const TraceSite& b) { return *a.biased_km < *b.biased_km; });
  }
}

}  // namespace meridian::geo
