#include <catch2/catch.hpp>

#include "geo/steering.hpp"

using meridian::geo::great_circle_km;

TEST_CASE("distance: London to Tokyo is about 9,560 km", "[geo]") {
  CHECK(great_circle_km(51.5074, -0.1278, 35.6762, 139.6503) == Approx(9560).epsilon(0.01));
}

TEST_CASE("distance: known city pairs within 1%", "[geo]") {
  struct Case {
    double lat1, lon1, lat2, lon2, km;
  };
  const Case cases[] = {
      {40.7128, -74.0060, 51.5074, -0.1278, 5570},      // New York - London
      {-33.8688, 151.2093, 34.0522, -118.2437, 12060},  // Sydney - Los Angeles
      {48.8566, 2.3522, 50.1109, 8.6821, 479},          // Paris - Frankfurt
      {47.61, -122.33, 39.04, -77.49, 3695},            // Seattle - Ashburn
  };
  for (const auto& c : cases) {
    CAPTURE(c.km);
    CHECK(great_circle_km(c.lat1, c.lon1, c.lat2, c.lon2) == Approx(c.km).epsilon(0.01));
  }
}

TEST_CASE("distance: symmetric, zero for one point, half the circumference for antipodes",
          "[geo]") {
  CHECK(great_circle_km(10, 20, 10, 20) == 0);
  CHECK(great_circle_km(51.5, -0.1, -23.5, -46.6) ==
        Approx(great_circle_km(-23.5, -46.6, 51.5, -0.1)));
  const double half_circumference = 3.141592653589793 * 6371.0088;
  CHECK(great_circle_km(0, 0, 0, 180) == Approx(half_circumference));
  CHECK(great_circle_km(90, 0, -90, 0) == Approx(half_circumference));
  CHECK(great_circle_km(30, 10, -30, -170) == Approx(half_circumference));
  // Across the antimeridian the short way round.
  CHECK(great_circle_km(0, 179.5, 0, -179.5) == Approx(111.2).epsilon(0.01));
}
