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
    const double lat = point.latitude_deg * kRadiansPerDegree,
                 lon = point.longitude_deg * kRadiansPerDegree;
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
  /// across sites by ratio). Defined in steering.cpp.
  SiteMetric(const std::vector<Site>& sites, const std::vector<double>& bias_percent,
             bool tolerance);

  double operator()(const UnitVector& client, std::uint32_t site) const noexcept {
    return of_chord2(chord2(client, site), site);
  }
  /// The squared chord between the client and `site`: the metric itself
  /// without bias or tolerance.
  double chord2(const UnitVector& client, std::uint32_t site) const noexcept {
    const UnitVector& s = sites_[site];
    const double dx = s.x - client.x, dy = s.y - client.y, dz = s.z - client.z;
    return dx * dx + dy * dy + dz * dz;
  }
  /// The metric of `site` from its squared chord. Squared chords order
  /// sites like distances and keep precision for nearby ones; bias and
  /// tolerance scale the distance (the angle) itself.
  double of_chord2(double chord2, std::uint32_t site) const noexcept {
    return true_distance_ ? 2 * std::asin(std::min(1.0, std::sqrt(chord2) / 2)) * bias_factor_[site]
                          : chord2;
  }
  /// True when the metric of a site at squared chord `chord2` is surely
  /// above `bound` (a metric): the angle is at least the chord, so the
  /// trigonometry can be skipped for sites that cannot make a top list.
  /// With a margin, so that rounding never rules out a tie.
  bool beyond(double chord2, std::uint32_t site, double bound) const noexcept {
    if (!true_distance_) return chord2 > bound * (1 + 1e-9);
    const double scaled = bias_factor_[site];
    return chord2 * scaled * scaled > bound * bound * (1 + 1e-9);
  }
  /// True when every site whose unit vector's z differs from the client's
  /// by at least `dz` has a metric surely above `bound`, `min_factor` being
  /// the smallest bias factor among them (a chord is at least its z
  /// difference, an angle at least its chord).
  bool beyond_dz(double dz, double min_factor, double bound) const noexcept {
    const double lower = true_distance_ ? dz * min_factor : dz * dz;
    return lower > bound * (1 + 1e-9);
  }
  const UnitVector& site(std::uint32_t index) const noexcept { return sites_[index]; }
  /// 1 - bias/100 of `site`.
  double bias_factor(std::uint32_t site) const noexcept { return bias_factor_[site]; }
  std::size_t size() const noexcept { return sites_.size(); }

 private:
  std::vector<UnitVector> sites_;
  std::vector<double> bias_factor_;
  bool true_distance_ = false;
};

}  // namespace meridian::geo
