#pragma once
// Private to geo/: how `closest` ranks sites for a client, shared by Steering
// (per query) and ScopeIndex (per database network, at compile time), so
// that both order sites identically, ties and rounding included.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "geo/country_centroids.hpp"

namespace meridian::geo {

struct Site;

/// A point on the unit sphere; the squared chord between two points orders
/// them exactly like the great-circle distance, without trigonometry per
/// site (unless bias or tolerance need the distance itself).
struct UnitVector {
  double x = 0, y = 0, z = 0;

  static UnitVector of(const Coordinates& point) noexcept {
    constexpr double kRadiansPerDegree = std::numbers::pi / 180;
    const double lat = point.latitude_deg * kRadiansPerDegree, lon = point.longitude_deg * kRadiansPerDegree;
    return {std::cos(lat) * std::cos(lon), std::cos(lat) * std::sin(lon), std::sin(lat)};
  }
};

/// The ranking metric of sites: smaller is nearer; ties go to the lower
/// site index.
class SiteMetric {
 public:
  SiteMetric() = default;
  /// `bias_percent`: empty or one per site; `tolerance`: whether the
  /// service has one (then the metric is the biased angle, comparable
  /// across sites by ratio).
  SiteMetric(const std::vector<Site>& sites, const std::vector<double>& bias_percent, bool tolerance);

  double operator()(const UnitVector& client, std::uint32_t site) const noexcept {
    const UnitVector& s = sites_[site];
    const double dx = s.x - client.x, dy = s.y - client.y, dz = s.z - client.z;
    const double chord2 = dx * dx + dy * dy + dz * dz;
    // Squared chords order sites like distances and keep precision for
    // nearby ones; bias and tolerance scale the distance itself.
    return true_distance_ ? 2 * std::asin(std::min(1.0, std::sqrt(chord2) / 2)) * bias_factor_[site] : chord2;
  }
  /// 1 - bias/100 of `site`.
  double bias_factor(std::uint32_t site) const noexcept { return bias_factor_[site]; }
  std::size_t size() const noexcept { return sites_.size(); }

 private:
  std::vector<UnitVector> sites_;
  std::vector<double> bias_factor_;
  bool true_distance_ = false;
};

}  // namespace meridian::geo
