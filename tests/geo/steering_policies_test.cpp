// The stage chain of steering, policy by policy and option by option:
// bias and tolerance, geo-map, nets, failover, weighted, min_healthy
// spillover, sites_per_answer, sticky, fail modes, ECS scope, IPv6.

#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "fake_locator.hpp"
#include "geo/steering.hpp"

namespace meridian::geo {
namespace {

using test::address_of;
using test::network_of;
using test::TableLocator;

enum : std::uint32_t { kUsWest, kUsEast, kEuWest, kApNortheast, kSaEast };
const std::vector<Site> kSites = {
    {"us-west", 47.61, -122.33},     {"us-east", 39.04, -77.49},  {"eu-west", 51.51, -0.13},
    {"ap-northeast", 35.68, 139.69}, {"sa-east", -23.55, -46.63},
};

// One IPv4 endpoint per site: 192.0.2.<10+site>; IPv6 2001:db8::<10+site>.
ServiceSpec one_per_site(Policy policy = Policy::closest) {
  ServiceSpec spec;
  spec.policy = policy;
  for (std::uint32_t site = 0; site < kSites.size(); ++site) {
    spec.endpoints.push_back(
        {IpAddress::v4(192, 0, 2, static_cast<std::uint8_t>(10 + site)), site, 100});
    IpAddress v6 = address_of("2001:db8::");
    v6.bytes[15] = static_cast<std::uint8_t>(10 + site);
    spec.endpoints.push_back({v6, site, 100});
  }
  return spec;
}

void set_site_health(ServiceSpec& spec, std::uint32_t site, bool healthy) {
  for (auto& endpoint : spec.endpoints) {
    if (endpoint.site == site) endpoint.healthy = healthy;
  }
}

struct Asked {
  Choice choice;
  std::vector<IpAddress> addresses;
};

Asked ask(const Steering& steering, const Locator* locator, const char* client,
          IpAddress::Family family = IpAddress::Family::v4, std::uint64_t seed = 1) {
  Rng rng(seed);
  const IpAddress* out[8] = {};
  Asked asked;
  asked.choice = steering.choose(locator, network_of(client), family, rng, out);
  for (std::uint32_t i = 0; i < asked.choice.count; ++i) asked.addresses.push_back(*out[i]);
  return asked;
}

// Cities as GeoIP networks.
TableLocator world() {
  TableLocator locator;
  locator.add("81.2.0.0/16", 51.5142, -0.0931, "GB", "EU", "ENG");       // London
  locator.add("216.160.83.0/24", 47.2513, -122.3149, "US", "NA", "WA");  // Milton, WA
  locator.add("64.0.0.0/12", 37.77, -122.42, "US", "NA", "CA");          // San Francisco
  locator.add("65.0.0.0/12", 40.71, -74.0, "US", "NA", "NY");            // New York
  locator.add("66.0.0.0/12", 41.88, -87.63, "US", "NA", "IL");           // Chicago
  locator.add("24.0.0.0/12", 43.65, -79.38, "CA", "NA", "ON");           // Toronto
  locator.add("200.160.0.0/20", -23.5475, -46.6361, "BR", "SA");         // São Paulo
  locator.add("175.16.199.0/24", 43.88, 125.3228, "CN", "AS");           // Changchun
  locator.add("2001:218::/32", 35.685, 139.7514, "JP", "AS");            // Tokyo
  locator.add("2a02:1000::/24", 48.85, 2.35, "FR", "EU");                // Paris
  locator.add_codes("89.160.0.0/16", "SE", "EU");                        // a Country database row
  return locator;
}

TEST_CASE("closest: bias grows a site's area (> 0) and shrinks it (< 0)", "[geo]") {
  const TableLocator locator = world();
  struct Case {
    const char* what;
    std::vector<double> bias;
    const char* client;
    std::uint32_t site;
  };
  const Case cases[] = {
      {"no bias: New York -> us-east", {}, "65.1.2.3", kUsEast},
      {"eu-west +99 pulls New York across the Atlantic", {0, 0, 99, 0, 0}, "65.1.2.3", kEuWest},
      {"us-east -99 doubles its distances, still nearest for New York",
       {0, -99, 0, 0, 0},
       "65.1.2.3",
       kUsEast},
      {"us-east +50 keeps Chicago", {0, 50, 0, 0, 0}, "66.1.2.3", kUsEast},
      {"us-east -99 and us-west +50 move Chicago west", {50, -99, 0, 0, 0}, "66.1.2.3", kUsWest},
      {"bias does not move a client whose site wins anyway",
       {0, 0, -50, 0, 0},
       "81.2.69.1",
       kEuWest},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    ServiceSpec spec = one_per_site();
    spec.bias_percent = c.bias;
    const Steering steering(kSites, {kUsEast}, spec);
    const Asked asked = ask(steering, &locator, c.client);
    CHECK(asked.choice.stage == Stage::closest);
    CHECK(asked.choice.site == c.site);
  }
}

TEST_CASE("closest: sites within tolerance of the nearest share its load by weight", "[geo]") {
  // Two co-located sites in Frankfurt, one 30 km away, one in London.
  const std::vector<Site> sites = {
      {"fra-a", 50.11, 8.68}, {"fra-b", 50.11, 8.68}, {"fra-c", 50.0, 8.3}, {"lon", 51.51, -0.13}};
  ServiceSpec spec;
  spec.endpoints = {{IpAddress::v4(192, 0, 2, 1), 0, 100},
                    {IpAddress::v4(192, 0, 2, 2), 1, 300},
                    {IpAddress::v4(192, 0, 2, 3), 2, 100},
                    {IpAddress::v4(192, 0, 2, 4), 3, 100}};
  TableLocator locator;
  locator.add("81.2.0.0/16", 52.52, 13.40);  // Berlin: ~420 km from Frankfurt, ~430 km from fra-c
  const auto shares = [&](double tolerance) {
    ServiceSpec s = spec;
    s.tolerance_percent = tolerance;
    const Steering steering(sites, {}, s);
    std::map<int, int> seen;
    Rng rng(9);
    for (int i = 0; i < 8000; ++i) {
      const IpAddress* out[1];
      REQUIRE(steering.choose(&locator, network_of("81.2.1.0/24"), IpAddress::Family::v4, rng, out)
                  .count == 1);
      ++seen[out[0]->bytes[3]];
    }
    return seen;
  };
  SECTION("no tolerance: the lower index of equally near sites, always") {
    const auto seen = shares(0);
    CHECK(seen.at(1) == 8000);
  }
  SECTION("1%: the co-located pair splits 1:3 by weight") {
    const auto seen = shares(1);
    CHECK(seen.count(3) == 0);
    CHECK(seen.at(1) == Approx(2000).margin(200));
    CHECK(seen.at(2) == Approx(6000).margin(200));
  }
  SECTION("10%: the site 30 km further joins, London does not") {
    const auto seen = shares(10);
    CHECK(seen.at(3) == Approx(1600).margin(200));
    CHECK(seen.count(4) == 0);
  }
}

GeoMap us_map() {
  return GeoMap({{GeoMap::Level::subdivision, "US-CA", {kUsWest, kApNortheast}},
                 {GeoMap::Level::country, "US", {kUsEast}},
                 {GeoMap::Level::continent, "NA", {kSaEast}},
                 {GeoMap::Level::country, "SE", {kApNortheast}}},
                {kEuWest});
}

TEST_CASE("geo-map: the most specific entry wins; the default list serves the rest", "[geo]") {
  const TableLocator locator = world();
  ServiceSpec spec = one_per_site(Policy::geo_map);
  spec.geo_map = std::make_shared<const GeoMap>(us_map());
  const Steering steering(kSites, {kUsEast}, spec);
  struct Case {
    const char* client;
    std::uint32_t site;
    bool located;
    std::uint8_t scope;
  };
  const Case cases[] = {
      {"64.1.2.3", kUsWest, true, 12},         // US-CA: subdivision beats country and continent
      {"65.1.2.3", kUsEast, true, 12},         // US-NY: the country
      {"24.1.2.3", kSaEast, true, 12},         // CA (Canada): the continent NA
      {"89.160.1.1", kApNortheast, true, 16},  // a country-only row still maps
      {"81.2.69.1", kEuWest, false, 16},       // GB: no entry -> default list
      {"192.0.2.1", kEuWest, false, 8},        // not in the database -> default list
  };
  for (const Case& c : cases) {
    CAPTURE(c.client);
    const Asked asked = ask(steering, &locator, c.client);
    CHECK(asked.choice.stage == Stage::geo_map);
    CHECK(asked.choice.site == c.site);
    CHECK(asked.choice.located == c.located);
    CHECK(asked.choice.scope_prefix_len == c.scope);
  }
  // No database at all: the default list still applies.
  CHECK(ask(steering, nullptr, "64.1.2.3").choice.site == kEuWest);
}

TEST_CASE("geo-map: a mapped region fails over along its list, then the default order", "[geo]") {
  const TableLocator locator = world();
  ServiceSpec spec = one_per_site(Policy::geo_map);
  spec.geo_map = std::make_shared<const GeoMap>(us_map());
  set_site_health(spec, kUsWest, false);
  CHECK(ask(Steering(kSites, {kUsEast}, spec), &locator, "64.1.2.3").choice.site == kApNortheast);
  set_site_health(spec, kApNortheast, false);
  // The list is exhausted: the service's default order (us-east first).
  CHECK(ask(Steering(kSites, {kUsEast}, spec), &locator, "64.1.2.3").choice.site == kUsEast);
  set_site_health(spec, kUsEast, false);
  // ... and then every other site, so a region never fails while one is up.
  const Asked asked = ask(Steering(kSites, {kUsEast}, spec), &locator, "64.1.2.3");
  CHECK(asked.choice.site == kEuWest);
  CHECK_FALSE(asked.choice.degraded);
}

TEST_CASE("nets: a matching network beats geo, with the scope of its uniform range", "[geo]") {
  TableLocator locator = world();
  ServiceSpec spec = one_per_site(Policy::closest);
  std::vector<NetsMap::Row> rows = {{network_of("81.2.69.0/24"), 0, 1},
                                    {network_of("2001:218:1::/48"), 1, 2}};
  spec.nets = std::make_shared<const NetsMap>(*NetsMap::build(
      {{kApNortheast, kUsEast}, {kSaEast}}, rows, [](std::uint32_t) { return std::string(); }));
  const Steering steering(kSites, {kUsEast}, spec);
  struct Case {
    const char* client;
    IpAddress::Family family;
    Stage stage;
    std::uint32_t site;
    std::uint8_t scope;
  };
  const Case cases[] = {
      {"81.2.69.0/24", IpAddress::Family::v4, Stage::nets, kApNortheast, 24},
      {"81.2.69.7/32", IpAddress::Family::v4, Stage::nets, kApNortheast, 24},
      // Outside the row: geo decides; the scope is the narrower of the
      // GeoIP network (/16) and the nets-free range around it (/23).
      {"81.2.70.0/24", IpAddress::Family::v4, Stage::closest, kEuWest, 23},
      {"81.2.200.0/24", IpAddress::Family::v4, Stage::closest, kEuWest, 17},
      {"2001:218:1:500::/56", IpAddress::Family::v6, Stage::nets, kSaEast, 48},
      {"2001:218:2::/56", IpAddress::Family::v6, Stage::closest, kApNortheast, 47},
      {"::ffff:81.2.69.0/120", IpAddress::Family::v4, Stage::nets, kApNortheast,
       120},  // mapped: IPv6 bits
  };
  for (const Case& c : cases) {
    CAPTURE(c.client);
    locator.calls = 0;
    const Asked asked = ask(steering, &locator, c.client, c.family);
    CHECK(asked.choice.stage == c.stage);
    CHECK(asked.choice.site == c.site);
    CHECK(asked.choice.scope_prefix_len == c.scope);
    CHECK(locator.calls == (c.stage == Stage::nets ? 0 : 1));
  }
  // A nets row fails over like a geo-map entry.
  ServiceSpec down = spec;
  set_site_health(down, kApNortheast, false);
  CHECK(ask(Steering(kSites, {kEuWest}, down), &locator, "81.2.69.0/24").choice.site == kUsEast);
}

TEST_CASE("failover: one fixed order for everyone, scope 0, no lookup", "[geo]") {
  TableLocator locator = world();
  ServiceSpec spec = one_per_site(Policy::failover);
  const Steering primary(kSites, {kSaEast, kEuWest}, spec);
  for (const char* client : {"81.2.69.0/24", "64.1.0.0/24", "2001:218::/48"}) {
    const auto family = std::string(client).find(':') != std::string::npos ? IpAddress::Family::v6
                                                                           : IpAddress::Family::v4;
    const Asked asked = ask(primary, &locator, client, family);
    CHECK(asked.choice.stage == Stage::failover);
    CHECK(asked.choice.site == kSaEast);
    CHECK(asked.choice.scope_prefix_len == 0);
  }
  CHECK(locator.calls == 0);
  set_site_health(spec, kSaEast, false);
  CHECK(ask(Steering(kSites, {kSaEast, kEuWest}, spec), &locator, "64.1.0.0/24").choice.site ==
        kEuWest);
}

TEST_CASE("weighted: every endpoint by weight, location ignored, scope 0", "[geo]") {
  TableLocator locator = world();
  ServiceSpec spec;
  spec.policy = Policy::weighted;
  spec.endpoints = {{IpAddress::v4(192, 0, 2, 1), kUsWest, 100},
                    {IpAddress::v4(192, 0, 2, 2), kEuWest, 300},
                    {IpAddress::v4(192, 0, 2, 3), kApNortheast, 100}};
  spec.endpoints[2].healthy = false;
  const Steering steering(kSites, {}, spec);
  Rng rng(4);
  std::map<int, int> seen;
  for (int i = 0; i < 8000; ++i) {
    const IpAddress* out[1];
    const Choice choice =
        steering.choose(&locator, network_of("216.160.83.0/24"), IpAddress::Family::v4, rng, out);
    REQUIRE(choice.stage == Stage::weighted);
    REQUIRE(choice.scope_prefix_len == 0);
    ++seen[out[0]->bytes[3]];
  }
  CHECK(locator.calls == 0);
  CHECK(seen.count(3) == 0);
  CHECK(seen.at(1) == Approx(2000).margin(200));
  CHECK(seen.at(2) == Approx(6000).margin(200));
}

TEST_CASE("min_healthy: spillover moves traffic at the threshold, not before", "[geo]") {
  const TableLocator locator = world();
  // eu-west has four endpoints (.1-.4), us-east one (.9).
  const auto spec_with = [](int eu_healthy, std::uint32_t min_healthy, bool percent) {
    ServiceSpec spec;
    spec.min_healthy = min_healthy;
    spec.min_healthy_percent = percent;
    for (std::uint8_t i = 0; i < 4; ++i) {
      Endpoint endpoint{IpAddress::v4(192, 0, 2, static_cast<std::uint8_t>(i + 1)), kEuWest, 100};
      endpoint.healthy = i < eu_healthy;
      spec.endpoints.push_back(endpoint);
    }
    spec.endpoints.push_back({IpAddress::v4(192, 0, 2, 9), kUsEast, 100});
    return spec;
  };
  struct Case {
    int eu_healthy;
    std::uint32_t min_healthy;
    bool percent;
    std::uint32_t site;
  };
  const Case cases[] = {
      {4, 3, false, kEuWest}, {3, 3, false, kEuWest},
      {2, 3, false, kUsEast},                          // count
      {2, 50, true, kEuWest}, {1, 50, true, kUsEast},  // 50% of 4 = 2
      {3, 75, true, kEuWest}, {2, 75, true, kUsEast},
      {1, 1, false, kEuWest},  // the default: any healthy
      {4, 9, false, kEuWest},  // more than it has: all of them
  };
  for (const Case& c : cases) {
    CAPTURE(c.eu_healthy, c.min_healthy, c.percent);
    const Steering steering(kSites, {}, spec_with(c.eu_healthy, c.min_healthy, c.percent));
    const Asked asked = ask(steering, &locator, "81.2.69.0/24");
    CHECK(asked.choice.site == c.site);
    REQUIRE(asked.addresses.size() == 1);
    if (c.site == kEuWest) CHECK(asked.addresses[0].bytes[3] <= c.eu_healthy);
  }
  SECTION("met nowhere: any site with a healthy endpoint, never fail open") {
    ServiceSpec spec = spec_with(1, 3, false);
    spec.endpoints.back().healthy = false;
    const Asked asked = ask(Steering(kSites, {}, spec), &locator, "81.2.69.0/24");
    CHECK(asked.choice.site == kEuWest);
    CHECK_FALSE(asked.choice.degraded);
    CHECK(asked.addresses[0] == IpAddress::v4(192, 0, 2, 1));
  }
}

TEST_CASE("sites_per_answer: answers draw from the k best available sites", "[geo]") {
  const TableLocator locator = world();
  ServiceSpec spec = one_per_site();
  spec.sites_per_answer = 2;
  spec.answer_count = 2;
  const Asked both = ask(Steering(kSites, {}, spec), &locator, "81.2.69.0/24");
  REQUIRE(both.addresses.size() == 2);
  const std::set<int> last_bytes = {both.addresses[0].bytes[3], both.addresses[1].bytes[3]};
  CHECK(last_bytes == std::set<int>{10 + kUsEast, 10 + kEuWest});  // London: eu-west, then us-east
  // One address an answer: the load of London spreads over both sites, and
  // when eu-west fails it spreads over the next two instead of all moving.
  spec.answer_count = 1;
  set_site_health(spec, kEuWest, false);
  const Steering steering(kSites, {}, spec);
  std::set<int> seen;
  for (std::uint64_t seed = 1; seed < 200; ++seed)
    seen.insert(
        ask(steering, &locator, "81.2.69.0/24", IpAddress::Family::v4, seed).addresses[0].bytes[3]);
  CHECK(seen == std::set<int>{10 + kUsEast, 10 + kUsWest});
}

TEST_CASE("sticky: a client keeps its endpoint while it stays healthy", "[geo]") {
  const TableLocator locator = world();
  ServiceSpec spec;
  spec.sticky = true;
  for (std::uint8_t i = 0; i < 10; ++i)
    spec.endpoints.push_back({IpAddress::v4(192, 0, 2, i), kEuWest, 100});
  const auto assign = [&](const ServiceSpec& s) {
    const Steering steering(kSites, {}, s);
    std::vector<int> endpoint;
    for (int client = 0; client < 300; ++client) {
      const std::string subnet =
          "81." + std::to_string(2 + client / 200) + "." + std::to_string(client % 200) + ".0/24";
      // A different rng per call: sticky answers must not depend on it.
      endpoint.push_back(ask(steering, &locator, subnet.c_str(), IpAddress::Family::v4, client + 7)
                             .addresses[0]
                             .bytes[3]);
    }
    return endpoint;
  };
  const std::vector<int> before = assign(spec);
  CHECK(std::set<int>(before.begin(), before.end()).size() == 10);  // spread over all
  ServiceSpec failed = spec;
  failed.endpoints[3].healthy = false;
  const std::vector<int> after = assign(failed);
  int moved = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (before[i] == 3) {
      CHECK(after[i] != 3);
      ++moved;
    } else {
      CHECK(after[i] == before[i]);
    }
  }
  CHECK(moved > 0);
  // It comes back: its clients return, nobody else moves.
  CHECK(assign(spec) == before);
  SECTION("the scope is the hashed prefix, capped by the source prefix") {
    const Steering steering(kSites, {}, spec);
    CHECK(ask(steering, &locator, "81.2.69.7/32").choice.scope_prefix_len == 24);
    CHECK(ask(steering, &locator, "81.2.64.0/20").choice.scope_prefix_len == 20);
    CHECK(ask(steering, &locator, "81.2.69.7/32").addresses ==
          ask(steering, &locator, "81.2.69.200/32").addresses);
  }
}

TEST_CASE("fail modes: open, closed, servfail, fallback", "[geo]") {
  const TableLocator locator = world();
  ServiceSpec spec = one_per_site();
  for (auto& endpoint : spec.endpoints) endpoint.healthy = false;
  SECTION("open (default): the first site anyway, degraded") {
    const Asked asked = ask(Steering(kSites, {}, spec), &locator, "81.2.69.0/24");
    CHECK(asked.choice.stage == Stage::fail_open);
    CHECK(asked.choice.degraded);
    CHECK(asked.choice.site == kEuWest);
    CHECK(asked.addresses.size() == 1);
  }
  SECTION("closed: nothing") {
    spec.fail = FailMode::closed;
    const Asked asked = ask(Steering(kSites, {}, spec), &locator, "81.2.69.0/24");
    CHECK(asked.choice.stage == Stage::fail_closed);
    CHECK(asked.choice.count == 0);
    CHECK_FALSE(asked.choice.servfail);
    CHECK(asked.choice.scope_prefix_len == 0);
  }
  SECTION("servfail") {
    spec.fail = FailMode::servfail;
    const Asked asked = ask(Steering(kSites, {}, spec), &locator, "81.2.69.0/24");
    CHECK(asked.choice.stage == Stage::fail_closed);
    CHECK(asked.choice.servfail);
  }
  SECTION("fallback: the addresses of the asked family, degraded") {
    spec.fallback = {address_of("198.51.100.1"), address_of("2001:db8:ff::1"),
                     address_of("198.51.100.2")};
    spec.answer_count = 8;
    const Steering steering(kSites, {}, spec);
    const Asked a = ask(steering, &locator, "81.2.69.0/24");
    CHECK(a.choice.stage == Stage::fallback);
    CHECK(a.choice.degraded);
    CHECK(a.addresses ==
          std::vector<IpAddress>{address_of("198.51.100.1"), address_of("198.51.100.2")});
    const Asked aaaa = ask(steering, &locator, "81.2.69.0/24", IpAddress::Family::v6);
    CHECK(aaaa.addresses == std::vector<IpAddress>{address_of("2001:db8:ff::1")});
  }
  SECTION("one healthy endpoint anywhere: no fail mode applies") {
    spec.fail = FailMode::servfail;
    spec.endpoints[2 * kSaEast].healthy = true;
    const Asked asked = ask(Steering(kSites, {}, spec), &locator, "81.2.69.0/24");
    CHECK(asked.choice.site == kSaEast);
    CHECK_FALSE(asked.choice.degraded);
  }
}

TEST_CASE("IPv6 clients: closest and geo-map locate them like IPv4 ones", "[geo]") {
  const TableLocator locator = world();
  const Steering closest(kSites, {kUsEast}, one_per_site());
  const Asked tokyo = ask(closest, &locator, "2001:218:0:100::/56", IpAddress::Family::v6);
  CHECK(tokyo.choice.site == kApNortheast);
  CHECK(tokyo.choice.scope_prefix_len == 32);
  CHECK(tokyo.addresses[0] == address_of("2001:db8::d"));
  ServiceSpec spec = one_per_site(Policy::geo_map);
  spec.geo_map = std::make_shared<const GeoMap>(GeoMap(
      {{GeoMap::Level::country, "FR", {kSaEast}}, {GeoMap::Level::continent, "AS", {kUsWest}}},
      {}));
  const Steering mapped(kSites, {kUsEast}, spec);
  CHECK(ask(mapped, &locator, "2a02:1000::/48", IpAddress::Family::v6).choice.site == kSaEast);
  CHECK(ask(mapped, &locator, "2001:218::/48", IpAddress::Family::v6).choice.site == kUsWest);
  // No entry, no default list: the service's default order.
  const Asked other = ask(mapped, &locator, "2a03::/48", IpAddress::Family::v6);
  CHECK(other.choice.stage == Stage::default_order);
  CHECK(other.choice.site == kUsEast);
}

TEST_CASE("select_client: ECS unless the service ignores it or it is private, reserved or /0",
          "[geo]") {
  ServiceSpec spec;
  const IpAddress source = address_of("198.51.100.53");
  struct Case {
    const char* ecs;
    bool use_ecs;
    bool from_ecs;
  };
  const Case cases[] = {
      {"81.2.69.0/24", true, true},         {"81.2.69.0/24", false, false},
      {"10.1.2.0/24", true, false},         {"192.168.1.0/24", true, false},
      {"100.64.0.0/24", true, false},       {"127.0.0.0/24", true, false},
      {"0.0.0.0/0", true, false},           {"fd00:1::/56", true, false},
      {"fe80::/64", true, false},           {"2001:218::/56", true, true},
      {"::ffff:10.0.0.0/120", true, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.ecs, c.use_ecs);
    spec.use_ecs = c.use_ecs;
    const IpNetwork ecs = network_of(c.ecs);
    const ClientNetwork client = select_client(spec, &ecs, source);
    CHECK(client.from_ecs == c.from_ecs);
    CHECK(client.network == (c.from_ecs ? ecs : IpNetwork{source, 32}));
  }
  CHECK(select_client(spec, nullptr, source).network == IpNetwork{source, 32});
}

TEST_CASE("trace: candidates in policy order with distance, bias, health and the pick", "[geo]") {
  const TableLocator locator = world();
  ServiceSpec spec = one_per_site();
  spec.bias_percent = {0, 0, 0, 0, 10};
  set_site_health(spec, kEuWest, false);
  const Steering steering(kSites, {}, spec);
  Rng rng(1);
  const IpAddress* out[1];
  Trace trace;
  const Choice choice = steering.choose(&locator, network_of("81.2.69.0/24"), IpAddress::Family::v4,
                                        rng, out, &trace);
  CHECK(choice.site == kUsEast);
  CHECK(trace.locator_asked);
  CHECK(trace.located.prefix_len == 16);
  REQUIRE(trace.candidates.size() == 5);
  CHECK(trace.candidates[0].site == kEuWest);
  CHECK_FALSE(trace.candidates[0].available);
  CHECK(trace.candidates[0].healthy == 0);
  CHECK(trace.candidates[0].total == 1);
  CHECK(*trace.candidates[0].distance_km < 10);
  CHECK(trace.candidates[1].site == kUsEast);
  CHECK(trace.candidates[1].picked);
  CHECK(*trace.candidates[1].distance_km == Approx(5900).margin(100));
  const auto sa = std::find_if(trace.candidates.begin(), trace.candidates.end(),
                               [](const TraceSite& s) { return s.site == kSaEast; });
  CHECK(*sa->biased_km == Approx(*sa->distance_km * 0.9));
}

}  // namespace
}  // namespace meridian::geo
