#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <map>
#include <new>
#include <set>

#include "geo/steering.hpp"

// Counts every C++ heap allocation in this test binary, so that tests can
// assert that `choose` makes none. Not under AddressSanitizer, whose runtime
// pairs its own operator new with these deletes.
#if defined(__SANITIZE_ADDRESS__)
#define MERIDIAN_COUNT_ALLOCATIONS 0
#else
#define MERIDIAN_COUNT_ALLOCATIONS 1
#endif

#if MERIDIAN_COUNT_ALLOCATIONS
namespace {
std::atomic<long> g_allocations{0};

void* counted_allocation(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) {
  return counted_allocation(size);
}
void* operator new[](std::size_t size) {
  return counted_allocation(size);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
#endif

namespace meridian::geo {
namespace {

// The demo sites (docs/architecture.md's demo cluster).
enum : std::uint32_t { kUsWest, kUsEast, kEuWest, kApNortheast, kSaEast };
const std::vector<Site> kSites = {
    {"us-west", 47.61, -122.33},     {"us-east", 39.04, -77.49},  {"eu-west", 51.51, -0.13},
    {"ap-northeast", 35.68, 139.69}, {"sa-east", -23.55, -46.63},
};

IpAddress ip(const char* text) {
  IpAddress address;
  REQUIRE(IpAddress::parse(text, address));
  return address;
}

IpNetwork net(const char* text) {
  IpNetwork network;
  REQUIRE(IpNetwork::parse(text, network));
  return network;
}

// A Locator from a table: longest-prefix match; misses report `miss_prefix_len`.
class FakeLocator final : public Locator {
 public:
  void add(const char* network, double latitude, double longitude) {
    Location location;
    location.has_coordinates = true;
    location.latitude_deg = latitude;
    location.longitude_deg = longitude;
    entries_.push_back({net(network), location});
  }
  void add_without_coordinates(const char* network) {
    entries_.push_back({net(network), Location{}});
  }

  Located locate(const IpAddress& address) const noexcept override {
    ++calls;
    last_address = address;
    Located located;
    located.prefix_len = miss_prefix_len;
    for (const auto& [network, location] : entries_) {
      if (network.contains(address) &&
          (!located.found || network.prefix_len > located.prefix_len)) {
        located.found = true;
        located.location = location;
        located.prefix_len = network.prefix_len;
      }
    }
    return located;
  }

  std::uint8_t miss_prefix_len = 8;
  mutable int calls = 0;
  mutable IpAddress last_address;

 private:
  std::vector<std::pair<IpNetwork, Location>> entries_;
};

// One IPv4 and one IPv6 endpoint per site: 192.0.2.<10+site>, 2001:db8::<10+site>.
ServiceSpec one_per_site() {
  ServiceSpec spec;
  for (std::uint32_t site = 0; site < kSites.size(); ++site) {
    spec.endpoints.push_back(
        {IpAddress::v4(192, 0, 2, static_cast<std::uint8_t>(10 + site)), site, 100});
    IpAddress v6 = ip("2001:db8::");
    v6.bytes[15] = static_cast<std::uint8_t>(10 + site);
    spec.endpoints.push_back({v6, site, 100});
  }
  return spec;
}

TEST_CASE("steering: closest picks the nearest site", "[geo]") {
  struct City {
    const char* name;
    double latitude, longitude;
    std::uint32_t site;
  };
  const City cities[] = {
      {"London", 51.5142, -0.0931, kEuWest},        {"Linköping", 58.4167, 15.6167, kEuWest},
      {"Milton WA", 47.2513, -122.3149, kUsWest},   {"Changchun", 43.88, 125.3228, kApNortheast},
      {"São Paulo", -23.5475, -46.6361, kSaEast},   {"Tokyo", 35.685, 139.7514, kApNortheast},
      {"Chicago", 41.8781, -87.6298, kUsEast},      {"Denver", 39.7392, -104.9903, kUsWest},
      {"Miami", 25.7617, -80.1918, kUsEast},        {"Honolulu", 21.3069, -157.8583, kUsWest},
      {"Sydney", -33.8688, 151.2093, kApNortheast}, {"Mumbai", 19.076, 72.8777, kApNortheast},
      {"Cairo", 30.0444, 31.2357, kEuWest},         {"Johannesburg", -26.2041, 28.0473, kSaEast},
      {"Lagos", 6.5244, 3.3792, kEuWest},           {"Bogotá", 4.711, -74.0721, kUsEast},
      {"Reykjavik", 64.1466, -21.9426, kEuWest},    {"Auckland", -36.8485, 174.7633, kApNortheast},
  };
  const Steering steering(kSites, {kUsEast}, one_per_site());
  Rng rng(7);
  for (const auto& city : cities) {
    CAPTURE(city.name);
    FakeLocator locator;
    locator.add("198.51.100.0/24", city.latitude, city.longitude);
    const IpAddress* out[1] = {};
    const Choice choice =
        steering.choose(&locator, net("198.51.100.7/32"), IpAddress::Family::v4, rng, out);
    REQUIRE(choice.count == 1);
    CHECK(choice.located);
    CHECK(choice.site == city.site);
    CHECK(*out[0] == IpAddress::v4(192, 0, 2, static_cast<std::uint8_t>(10 + city.site)));
  }
}

TEST_CASE("steering: equally distant sites go to the lower index", "[geo]") {
  const std::vector<Site> twins = {{"a", 10, 10}, {"b", 50, 8}, {"c", 50, 8}};
  ServiceSpec spec;
  spec.endpoints = {{IpAddress::v4(192, 0, 2, 1), 0},
                    {IpAddress::v4(192, 0, 2, 3), 2},
                    {IpAddress::v4(192, 0, 2, 2), 1}};
  const Steering steering(twins, {}, spec);
  FakeLocator locator;
  locator.add("198.51.100.0/24", 51, 9);
  Rng rng(1);
  const IpAddress* out[1];
  CHECK(steering.choose(&locator, net("198.51.100.1/32"), IpAddress::Family::v4, rng, out).site ==
        1);
}

TEST_CASE("steering: default_sites decide for clients without coordinates", "[geo]") {
  const Steering steering(kSites, {kSaEast, kEuWest}, one_per_site());
  Rng rng(3);
  const IpAddress* out[1];
  SECTION("no locator: default order, scope 0") {
    const Choice choice =
        steering.choose(nullptr, net("81.2.69.0/24"), IpAddress::Family::v4, rng, out);
    CHECK(choice.site == kSaEast);
    CHECK_FALSE(choice.located);
    CHECK(choice.scope_prefix_len == 0);
  }
  SECTION("not found: default order, scope of the empty network") {
    FakeLocator locator;
    locator.miss_prefix_len = 3;
    const Choice choice =
        steering.choose(&locator, net("127.0.0.1/32"), IpAddress::Family::v4, rng, out);
    CHECK(locator.calls == 1);
    CHECK(choice.site == kSaEast);
    CHECK_FALSE(choice.located);
    CHECK(choice.scope_prefix_len == 3);
  }
  SECTION("found without coordinates (a country-only database)") {
    FakeLocator locator;
    locator.add_without_coordinates("81.2.69.0/24");
    const Choice choice =
        steering.choose(&locator, net("81.2.69.0/24"), IpAddress::Family::v4, rng, out);
    CHECK(choice.site == kSaEast);
    CHECK_FALSE(choice.located);
    CHECK(choice.scope_prefix_len == 24);
  }
}

TEST_CASE("steering: default order skips sites without the family, then falls back to index order",
          "[geo]") {
  ServiceSpec spec;
  spec.endpoints = {{IpAddress::v4(192, 0, 2, 1), kUsWest},
                    {IpAddress::v4(192, 0, 2, 3), kEuWest},
                    {ip("2001:db8::4"), kApNortheast},
                    {ip("2001:db8::5"), kSaEast}};
  Rng rng(3);
  const IpAddress* out[1];
  const Steering steering(kSites, {kUsEast, kEuWest}, spec);
  CHECK(steering.choose(nullptr, net("10.0.0.1/32"), IpAddress::Family::v4, rng, out).site ==
        kEuWest);
  // No default site has IPv6: the lowest-index site with IPv6.
  CHECK(steering.choose(nullptr, net("10.0.0.1/32"), IpAddress::Family::v6, rng, out).site ==
        kApNortheast);
  const Steering no_defaults(kSites, {}, spec);
  CHECK(no_defaults.choose(nullptr, net("10.0.0.1/32"), IpAddress::Family::v4, rng, out).site ==
        kUsWest);
}

TEST_CASE("steering: sites without an address of the family are skipped", "[geo]") {
  ServiceSpec spec;
  spec.endpoints = {{IpAddress::v4(192, 0, 2, 3), kEuWest},
                    {ip("2001:db8::2"), kUsEast},
                    {IpAddress::v4(192, 0, 2, 2), kUsEast},
                    {ip("2001:db8::4"), kSaEast}};
  const Steering steering(kSites, {}, spec);
  FakeLocator locator;
  locator.add("81.2.69.0/24", 51.5142, -0.0931);  // London
  Rng rng(5);
  const IpAddress* out[2] = {};
  const Choice a = steering.choose(&locator, net("81.2.69.1/32"), IpAddress::Family::v4, rng, out);
  CHECK(a.site == kEuWest);
  REQUIRE(a.count == 1);
  CHECK(*out[0] == IpAddress::v4(192, 0, 2, 3));
  // eu-west has no IPv6: the next closest with IPv6 (us-east, not sa-east).
  const Choice aaaa =
      steering.choose(&locator, net("81.2.69.1/32"), IpAddress::Family::v6, rng, out);
  CHECK(aaaa.site == kUsEast);
  REQUIRE(aaaa.count == 1);
  CHECK(*out[0] == ip("2001:db8::2"));
  CHECK(out[0]->family == IpAddress::Family::v6);
}

TEST_CASE("steering: a service without the family answers nothing", "[geo]") {
  ServiceSpec spec;
  spec.endpoints = {{IpAddress::v4(192, 0, 2, 1), kUsWest}, {IpAddress::v4(192, 0, 2, 2), kEuWest}};
  const Steering steering(kSites, {}, spec);
  FakeLocator locator;
  Rng rng(5);
  const IpAddress* out[1] = {};
  const Choice choice =
      steering.choose(&locator, net("2001:db8::/56"), IpAddress::Family::v6, rng, out);
  CHECK(choice.count == 0);
  CHECK(choice.scope_prefix_len == 0);
  CHECK(locator.calls == 0);
  CHECK(out[0] == nullptr);
}

TEST_CASE("steering: weights set the share within a site", "[geo]") {
  ServiceSpec spec;
  spec.endpoints = {{IpAddress::v4(192, 0, 2, 1), kEuWest, 300},
                    {IpAddress::v4(192, 0, 2, 2), kEuWest, 100},
                    {IpAddress::v4(192, 0, 2, 9), kUsEast, 100000}};  // another site: never drawn
  const Steering steering(kSites, {kEuWest}, spec);
  Rng rng(42);
  constexpr int kDraws = 40'000;
  int first = 0;
  const IpAddress* out[1];
  for (int i = 0; i < kDraws; ++i) {
    REQUIRE(steering.choose(nullptr, net("10.0.0.1/32"), IpAddress::Family::v4, rng, out).count ==
            1);
    REQUIRE(out[0]->bytes[3] != 9);
    first += out[0]->bytes[3] == 1;
  }
  // Expected 0.75; the standard deviation of the share is about 0.002.
  CHECK(static_cast<double>(first) / kDraws == Approx(0.75).margin(0.01));
}

TEST_CASE("steering: answer_count distinct endpoints, the first drawn by weight", "[geo]") {
  ServiceSpec spec;
  spec.answer_count = 2;
  spec.endpoints = {{IpAddress::v4(192, 0, 2, 1), kEuWest, 600},
                    {IpAddress::v4(192, 0, 2, 2), kEuWest, 300},
                    {IpAddress::v4(192, 0, 2, 3), kEuWest, 100}};
  const Steering steering(kSites, {kEuWest}, spec);
  Rng rng(9);
  std::map<int, int> first_counts;
  std::map<std::pair<int, int>, int> pairs;
  constexpr int kDraws = 30'000;
  for (int i = 0; i < kDraws; ++i) {
    const IpAddress* out[4] = {};
    const Choice choice =
        steering.choose(nullptr, net("10.0.0.1/32"), IpAddress::Family::v4, rng, out);
    REQUIRE(choice.count == 2);
    REQUIRE(out[2] == nullptr);
    REQUIRE(*out[0] != *out[1]);
    ++first_counts[out[0]->bytes[3]];
    ++pairs[{out[0]->bytes[3], out[1]->bytes[3]}];
  }
  CHECK(first_counts[1] / double(kDraws) == Approx(0.6).margin(0.015));
  CHECK(first_counts[2] / double(kDraws) == Approx(0.3).margin(0.015));
  CHECK(first_counts[3] / double(kDraws) == Approx(0.1).margin(0.015));
  // Second draw without replacement: after 1, endpoint 2 with 300/400.
  CHECK(pairs[{1, 2}] / double(first_counts[1]) == Approx(0.75).margin(0.02));
}

TEST_CASE("steering: answers are bounded by the site's endpoints and the output span", "[geo]") {
  ServiceSpec spec;
  spec.answer_count = 8;
  spec.endpoints = {{IpAddress::v4(192, 0, 2, 1), kEuWest, 5},
                    {IpAddress::v4(192, 0, 2, 2), kEuWest, 1},
                    {IpAddress::v4(192, 0, 2, 3), kEuWest, 1000}};
  const Steering steering(kSites, {}, spec);
  Rng rng(11);
  const IpAddress* out[8] = {};
  const Choice all = steering.choose(nullptr, net("10.0.0.1/32"), IpAddress::Family::v4, rng, out);
  REQUIRE(all.count == 3);
  const std::set<std::uint8_t> seen = {out[0]->bytes[3], out[1]->bytes[3], out[2]->bytes[3]};
  CHECK(seen == std::set<std::uint8_t>{1, 2, 3});
  const Choice two = steering.choose(nullptr, net("10.0.0.1/32"), IpAddress::Family::v4, rng,
                                     std::span<const IpAddress*>(out, 2));
  CHECK(two.count == 2);
  CHECK(steering.choose(nullptr, net("10.0.0.1/32"), IpAddress::Family::v4, rng, {}).count == 0);
}

TEST_CASE("steering: scope is the shorter of the client's and the located network's prefix",
          "[geo]") {
  const Steering steering(kSites, {}, one_per_site());
  FakeLocator locator;
  locator.add("81.2.0.0/16", 51.5142, -0.0931);
  locator.add("89.160.20.0/24", 58.4167, 15.6167);
  locator.add("2001:218::/32", 35.685, 139.7514);
  locator.miss_prefix_len = 5;
  struct Case {
    const char* client;
    IpAddress::Family family;
    std::uint8_t scope;
    const char* looked_up;
  };
  const Case cases[] = {
      {"81.2.69.0/24", IpAddress::Family::v4, 16, "81.2.69.0"},      // database network wider
      {"89.160.20.0/22", IpAddress::Family::v4, 22, "89.160.20.0"},  // client subnet wider
      {"89.160.20.7/32", IpAddress::Family::v4, 24, "89.160.20.7"},  // source address
      {"2001:218:0:100::/56", IpAddress::Family::v6, 32, "2001:218:0:100::"},
      {"192.0.2.1/32", IpAddress::Family::v6, 5, "192.0.2.1"},  // not found: empty network
      {"::ffff:89.160.20.7/128", IpAddress::Family::v4, 120, "89.160.20.7"},  // mapped: IPv6 bits
      {"::ffff:81.2.69.0/120", IpAddress::Family::v4, 112, "81.2.69.0"},
      {"0.0.0.0/0", IpAddress::Family::v4, 0, "0.0.0.0"},
  };
  Rng rng(1);
  for (const auto& c : cases) {
    CAPTURE(c.client);
    const IpAddress* out[1];
    const Choice choice = steering.choose(&locator, net(c.client), c.family, rng, out);
    CHECK(choice.scope_prefix_len == c.scope);
    CHECK(locator.last_address == ip(c.looked_up));
  }
}

TEST_CASE("steering: one site for the family means no lookup and scope 0", "[geo]") {
  ServiceSpec spec;
  spec.endpoints = {{IpAddress::v4(192, 0, 2, 1), kUsWest},
                    {IpAddress::v4(192, 0, 2, 2), kUsWest},
                    {ip("2001:db8::1"), kUsWest},
                    {ip("2001:db8::2"), kEuWest}};
  const Steering steering(kSites, {}, spec);
  FakeLocator locator;
  locator.add("81.2.69.0/24", 51.5142, -0.0931);
  Rng rng(1);
  const IpAddress* out[1];
  const Choice a = steering.choose(&locator, net("81.2.69.0/24"), IpAddress::Family::v4, rng, out);
  CHECK(a.count == 1);
  CHECK(a.site == kUsWest);
  CHECK(a.scope_prefix_len == 0);
  CHECK(locator.calls == 0);
  const Choice aaaa =
      steering.choose(&locator, net("81.2.69.0/24"), IpAddress::Family::v6, rng, out);
  CHECK(aaaa.site == kEuWest);
  CHECK(aaaa.scope_prefix_len == 24);
  CHECK(locator.calls == 1);
}

#if MERIDIAN_COUNT_ALLOCATIONS
TEST_CASE("steering: choose allocates nothing", "[geo]") {
  std::vector<Site> many;
  ServiceSpec spec;
  spec.answer_count = 4;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    many.push_back({"s" + std::to_string(i), -80.0 + i % 160, -170.0 + i % 340});
    spec.endpoints.push_back(
        {IpAddress::v4(10, 0, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)), i,
         1 + i % 7});
    spec.endpoints.push_back(
        {IpAddress::v4(10, 1, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)), i});
  }
  const Steering steering(many, {5, 6}, spec);
  FakeLocator locator;
  locator.add("81.2.69.0/24", 51.5142, -0.0931);
  Rng rng(2);
  const IpAddress* out[8];
  const IpNetwork clients[] = {net("81.2.69.0/24"), net("10.0.0.1/32")};
  const long before = g_allocations.load();
  std::uint32_t total = 0;
  for (int i = 0; i < 1000; ++i) {
    total += steering.choose(&locator, clients[i % 2], IpAddress::Family::v4, rng, out).count;
    total += steering.choose(nullptr, clients[i % 2], IpAddress::Family::v4, rng, out).count;
  }
  CHECK(g_allocations.load() == before);
  CHECK(total == 2000 * 2);
}

TEST_CASE("steering: every policy and option chooses without allocating", "[geo]") {
  std::vector<Site> many;
  ServiceSpec base;
  base.answer_count = 3;
  for (std::uint32_t i = 0; i < 300; ++i) {
    many.push_back({"s" + std::to_string(i), -80.0 + i % 160, -170.0 + i % 340});
    for (std::uint8_t k = 0; k < 3; ++k) {
      Endpoint endpoint{
          IpAddress::v4(10, k, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)), i,
          1 + i % 7};
      endpoint.healthy = (i + k) % 4 != 0;
      base.endpoints.push_back(endpoint);
    }
    IpAddress v6 = ip("2001:db8::");
    v6.bytes[14] = static_cast<std::uint8_t>(i >> 8);
    v6.bytes[15] = static_cast<std::uint8_t>(i);
    base.endpoints.push_back({v6, i});
  }
  std::vector<NetsMap::Row> rows = {{net("81.2.69.0/25"), 0, 1}, {net("2001:218::/40"), 1, 2}};
  const auto nets = std::make_shared<const NetsMap>(
      *NetsMap::build({{3, 4}, {5}}, rows, [](std::uint32_t) { return std::string(); }));
  std::vector<Steering> steerings;
  for (int variant = 0; variant < 8; ++variant) {
    ServiceSpec spec = base;
    spec.sites_per_answer = 1 + variant % 3;
    spec.sticky = variant % 2 == 1;
    spec.min_healthy = 2;
    switch (variant % 4) {
      case 0:
        spec.bias_percent.assign(many.size(), 10);
        spec.tolerance_percent = 20;
        spec.nets = nets;
        break;
      case 1:
        spec.policy = Policy::geo_map;
        spec.geo_map = std::make_shared<const GeoMap>(GeoMap(
            {{GeoMap::Level::country, "GB", {7, 8}}, {GeoMap::Level::subdivision, "GB-ENG", {9}}},
            {1}));
        spec.nets = nets;
        break;
      case 2: spec.policy = Policy::failover; break;
      default: spec.policy = Policy::weighted; break;
    }
    steerings.emplace_back(many, std::vector<std::uint32_t>{5, 6}, std::move(spec));
  }
  // Scope indexes (sites 7 and 8 down, so the depth is computed), an asn
  // map, and CNAME endpoints among the addresses.
  std::vector<std::pair<IpNetwork, Location>> networks(2);
  networks[0] = {net("81.2.0.0/16"),
                 Location{true, 51.5142, -0.0931, {'G', 'B', 0}, {'E', 'U', 0}, {}}};
  networks[1] = {net("2001:218::/32"), Location{true, 35.685, 139.7514, {}, {}, {}}};
  const auto trie = std::make_shared<const LocationTrie>(LocationTrie::from_networks(networks));
  for (int variant = 0; variant < 4; ++variant) {
    ServiceSpec spec = base;
    spec.sites_per_answer = 1 + variant % 2;
    spec.sticky = variant >= 2;
    spec.asn = std::make_shared<const AsnMap>(AsnMap({{64500, {3, 4}}}));
    spec.cname_targets = {"a.cdn.example.", "b.cdn.example."};
    spec.endpoints.push_back({IpAddress{}, 9, 100, true, 0});
    spec.endpoints.push_back({IpAddress{}, 10, 100, true, 1});
    if (variant % 2 == 1) {
      spec.policy = Policy::geo_map;
      spec.geo_map =
          std::make_shared<const GeoMap>(GeoMap({{GeoMap::Level::country, "GB", {7, 8, 9}}}, {1}));
    }
    const auto index = ScopeIndex::compile(trie, many, {5, 6}, spec);
    REQUIRE(index != nullptr);
    for (auto& endpoint : spec.endpoints)
      endpoint.healthy = endpoint.healthy && endpoint.site != 7 && endpoint.site != 8;
    steerings.emplace_back(many, std::vector<std::uint32_t>{5, 6}, std::move(spec), index);
  }
  ServiceSpec down = base;
  for (auto& endpoint : down.endpoints) endpoint.healthy = false;
  down.fallback = {ip("198.51.100.1")};
  steerings.emplace_back(many, std::vector<std::uint32_t>{}, down);
  down.fallback.clear();
  down.fail = FailMode::servfail;
  steerings.emplace_back(many, std::vector<std::uint32_t>{}, down);

  FakeLocator locator;
  locator.add("81.2.0.0/16", 51.5142, -0.0931);
  locator.add("2001:218::/32", 35.685, 139.7514);
  Rng rng(2);
  const IpAddress* out[8];
  const IpNetwork clients[] = {net("81.2.69.0/24"), net("81.2.70.0/24"), net("10.0.0.1/32"),
                               net("2001:218::/48"), net("::ffff:81.2.69.0/120")};
  IpNetwork ecs = net("81.2.69.0/24");
  const long before = g_allocations.load();
  std::uint32_t total = 0;
  for (int i = 0; i < 500; ++i) {
    for (const Steering& steering : steerings) {
      const IpNetwork& client = clients[i % 5];
      const auto family = i % 5 == 3 ? IpAddress::Family::v6 : IpAddress::Family::v4;
      const ClientNetwork selected = select_client(steering.spec(), &ecs, client.address);
      total += steering.choose(&locator, client, family, rng, out).count;
      total += steering.choose(nullptr, selected.network, family, rng, out).count;
    }
  }
  CHECK(g_allocations.load() == before);
  CHECK(total > 0);
}
#endif

}  // namespace
}  // namespace meridian::geo
