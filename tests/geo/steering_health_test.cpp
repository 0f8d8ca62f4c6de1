#include <catch2/catch.hpp>

#include "geo/steering.hpp"

// Health in steering: unhealthy endpoints leave the answer, a site with none
// healthy is skipped for the next-closest one, and with nothing healthy the
// answer fails open (all endpoints, marked degraded).

namespace meridian::geo {
namespace {

const std::vector<Site> kSites = {
    {"eu-west", 51.51, -0.13}, {"us-east", 39.04, -77.49}, {"ap-northeast", 35.68, 139.69}};

class LondonLocator final : public Locator {
 public:
  Located locate(const IpAddress&) const noexcept override {
    Located located;
    located.found = true;
    located.location.has_coordinates = true;
    located.location.latitude_deg = 51.5;
    located.location.longitude_deg = -0.1;
    located.prefix_len = 24;
    return located;
  }
};

ServiceSpec spec_with(std::vector<bool> healthy) {
  ServiceSpec spec;
  // eu-west: .1 and .2; us-east: .3; ap-northeast: .4
  const std::uint32_t sites[] = {0, 0, 1, 2};
  for (std::uint8_t i = 0; i < 4; ++i) {
    Endpoint endpoint{IpAddress::v4(192, 0, 2, static_cast<std::uint8_t>(i + 1)), sites[i], 100};
    endpoint.healthy = healthy[i];
    spec.endpoints.push_back(endpoint);
  }
  return spec;
}

std::vector<int> answers(const Steering& steering, int rounds = 200) {
  LondonLocator locator;
  Rng rng(5);
  IpNetwork client;
  IpNetwork::parse("81.2.69.0/24", client);
  std::vector<int> seen(5, 0);
  for (int i = 0; i < rounds; ++i) {
    const IpAddress* out[1] = {};
    const Choice choice = steering.choose(&locator, client, IpAddress::Family::v4, rng, out);
    REQUIRE(choice.count == 1);
    ++seen[out[0]->bytes[3]];
  }
  return seen;
}

}  // namespace

TEST_CASE("steering: unhealthy endpoints are never answered while others are", "[geo]") {
  const auto seen = answers(Steering(kSites, {1}, spec_with({false, true, true, true})));
  CHECK(seen[1] == 0);
  CHECK(seen[2] == 200);
}

TEST_CASE("steering: a site with no healthy endpoint passes to the next closest", "[geo]") {
  const Steering steering(kSites, {1}, spec_with({false, false, true, true}));
  const auto seen = answers(steering);
  CHECK(seen[3] == 200);  // us-east is next closest to London
  LondonLocator locator;
  Rng rng(1);
  IpNetwork client;
  IpNetwork::parse("81.2.69.0/24", client);
  const IpAddress* out[1] = {};
  const Choice choice = steering.choose(&locator, client, IpAddress::Family::v4, rng, out);
  CHECK(choice.site == 1);
  CHECK_FALSE(choice.degraded);
}

TEST_CASE("steering: with nothing healthy the answer fails open and says so", "[geo]") {
  const Steering steering(kSites, {1}, spec_with({false, false, false, false}));
  LondonLocator locator;
  Rng rng(1);
  IpNetwork client;
  IpNetwork::parse("81.2.69.0/24", client);
  const IpAddress* out[1] = {};
  const Choice choice = steering.choose(&locator, client, IpAddress::Family::v4, rng, out);
  REQUIRE(choice.count == 1);
  CHECK(choice.degraded);
  CHECK(choice.site == 0);  // the closest site, as if all were healthy
}
}  // namespace meridian::geo
