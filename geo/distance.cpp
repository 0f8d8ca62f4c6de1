// great_circle_km (declared in geo/steering.hpp).

#include <algorithm>
#include <cmath>
#include <numbers>

#include "geo/steering.hpp"

namespace meridian::geo {

double great_circle_km(double lat1_deg, double lon1_deg, double lat2_deg,
                       double lon2_deg) noexcept {
  // Haversine: well conditioned for small distances; the clamp keeps
  // rounding from pushing asin out of its domain near antipodes.
  constexpr double kEarthRadiusKm = 6371.0088;  // IUGG mean radius
  constexpr double kRadiansPerDegree = std::numbers::pi / 180;
  const double phi1 = lat1_deg * kRadiansPerDegree, phi2 = lat2_deg * kRadiansPerDegree;
  const double dphi = phi2 - phi1, dlambda = (lon2_deg - lon1_deg) * kRadiansPerDegree;
  const double s = std::sin(dphi / 2), t = std::sin(dlambda / 2);
  const double h = std::min(1.0, s * s + std::cos(phi1) * std::cos(phi2) * t * t);
  return 2 * kEarthRadiusKm * std::asin(std::sqrt(h));
}

}  // namespace meridian::geo
