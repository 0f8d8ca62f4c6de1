// The geo stage's ECS scope: adjacent networks whose site orders start alike
// merge into their supernet (geo/scope_index.hpp), as deep as the answer
// reached into the order, never across a sibling that answers otherwise and
// never beyond the client's own prefix. The trie of a MaxMind DB walks like
// its lookups.

#include <catch2/catch.hpp>

#include <memory>

#include "base/rng.hpp"
#include "fake_locator.hpp"
#include "geo/geo_index.hpp"
#include "geo/mmdb_reader.hpp"
#include "geo/scope_index.hpp"
#include "geo/steering.hpp"
#include "test_support.hpp"
#include "tools/mmdb_writer.hpp"

namespace meridian::geo {
namespace {

using test::address_of;
using test::network_of;
using test::TableLocator;

// Sites on the equator, so the orders are easy to read: A at 0 E, B at
// 10 E, C at 10 W, D at 100 E.
enum : std::uint32_t { kA, kB, kC, kD };
const std::vector<Site> kSites = {{"a", 0, 0}, {"b", 0, 10}, {"c", 0, -10}, {"d", 0, 100}};

// Networks and their orders (nearest first):
//   45.0.0.0/24 at 1 E   A B C D
//   45.0.1.0/24 at 1 W   A C B D   (shares A with its sibling, not B)
//   45.0.2.0/24 at 2 E   A B C D
//   45.0.3.0/24 at 9 E   B A C D   (differs from its sibling at once)
//   46.0.0.0/16 at 99 E  D B A C
//   2001:db8:1::/48 at 1 E, 2001:db8:2::/48 at 99 E
// and the rest unlocated: the default order D A B C.
TableLocator equator() {
  TableLocator locator;
  locator.add("45.0.0.0/24", 0, 1);
  locator.add("45.0.1.0/24", 0, -1);
  locator.add("45.0.2.0/24", 0, 2);
  locator.add("45.0.3.0/24", 0, 9);
  locator.add("46.0.0.0/16", 0, 99);
  locator.add("2001:db8:1::/48", 0, 1);
  locator.add("2001:db8:2::/48", 0, 99);
  return locator;
}

ServiceSpec one_per_site(Policy policy = Policy::closest) {
  ServiceSpec spec;
  spec.policy = policy;
  for (std::uint32_t site = 0; site < kSites.size(); ++site) {
    spec.endpoints.push_back(
        {IpAddress::v4(192, 0, 2, static_cast<std::uint8_t>(10 + site)), site});
  }
  return spec;
}

struct Case {
  const char* what;
  const char* client;               // the client network (ECS)
  std::uint32_t down = UINT32_MAX;  // a site whose endpoints are down
  std::uint32_t sites_per_answer = 1;
  std::uint32_t site;  // the first site of the answer
  unsigned geo_scope;  // Choice::geo_scope_prefix_len
  unsigned scope;      // Choice::scope_prefix_len
};

void check_cases(const Locator& locator, const std::shared_ptr<const LocationTrie>& trie,
                 const Case* begin, const Case* end) {
  for (const Case* c = begin; c != end; ++c) {
    CAPTURE(c->what, c->client);
    ServiceSpec spec = one_per_site();
    spec.sites_per_answer = c->sites_per_answer;
    for (auto& endpoint : spec.endpoints) endpoint.healthy = endpoint.site != c->down;
    const std::vector<std::uint32_t> default_sites = {kD};
    // Health does not change the index: compiled from the healthy spec.
    const auto index = ScopeIndex::compile(trie, kSites, default_sites, one_per_site());
    REQUIRE(index != nullptr);
    const Steering steering(kSites, default_sites, spec, index);
    Rng rng(1);
    const IpAddress* out[8];
    const IpNetwork client = network_of(c->client);
    const Choice choice = steering.choose(&locator, client, IpAddress::Family::v4, rng, out);
    CHECK(choice.site == c->site);
    CHECK(unsigned{choice.geo_scope_prefix_len} == c->geo_scope);
    CHECK(unsigned{choice.scope_prefix_len} == c->scope);
  }
}

const Case kCases[] = {
    {"siblings with the same nearest site merge", "45.0.0.0/24", UINT32_MAX, 1, kA, 23, 23},
    {"the same from the other sibling", "45.0.1.0/24", UINT32_MAX, 1, kA, 23, 23},
    {"a sibling with another nearest site does not merge", "45.0.2.0/24", UINT32_MAX, 1, kA, 24,
     24},
    {"nor from its side", "45.0.3.0/24", UINT32_MAX, 1, kB, 24, 24},
    {"never longer than the client's prefix", "45.0.0.0/22", UINT32_MAX, 1, kA, 23, 22},
    {"a host client gets the widened scope too", "45.0.0.7/32", UINT32_MAX, 1, kA, 23, 23},
    {"A down: the answer reaches the second site, where the siblings differ", "45.0.0.0/24", kA, 1,
     kB, 24, 24},
    {"A down, other sibling: its second site is C", "45.0.1.0/24", kA, 1, kC, 24, 24},
    {"two sites per answer: the second sites differ", "45.0.0.0/24", UINT32_MAX, 2, kA, 24, 24},
    {"a located network merges with unlocated space that orders alike", "46.0.0.0/16", UINT32_MAX,
     1, kD, 7, 7},
    {"D down: the second sites differ (B against A)", "46.0.0.0/16", kD, 1, kB, 16, 16},
    {"unlocated space merges up to a different network", "100.0.0.0/24", UINT32_MAX, 1, kD, 2, 2},
    {"IPv6: an unlocated sibling orders otherwise", "2001:db8:1::/48", UINT32_MAX, 1, kA, 48, 48},
    {"IPv6: a network like the unlocated space merges with it", "2001:db8:2::/48", UINT32_MAX, 1,
     kD, 47, 47},
    {"IPv4-mapped clients walk the IPv4 trie; the scope counts IPv6 bits", "::ffff:45.0.0.0/120",
     UINT32_MAX, 1, kA, 23, 119},
};

TEST_CASE(
    "scope index: adjacent same-order networks merge, a different sibling stops it, never past the "
    "client",
    "[geo]") {
  const TableLocator locator = equator();
  check_cases(locator, locator.build_trie(), std::begin(kCases), std::end(kCases));
}

TEST_CASE("scope index: the same scopes from a MaxMind DB of the same networks", "[geo]") {
  test::TempDir dir;
  std::vector<NetworkLocation> rows;
  const auto add = [&](const char* network, double longitude) {
    NetworkLocation row;
    REQUIRE(IpNetwork::parse(network, row.network));
    row.longitude_deg = longitude;
    rows.push_back(row);
  };
  add("45.0.0.0/24", 1);
  add("45.0.1.0/24", -1);
  add("45.0.2.0/24", 2);
  add("45.0.3.0/24", 9);
  add("46.0.0.0/16", 99);
  add("2001:db8:1::/48", 1);
  add("2001:db8:2::/48", 99);
  const std::string path = dir.file("equator.mmdb");
  REQUIRE(write_mmdb(rows, path).ok());
  auto reader = MmdbReader::open(path);
  REQUIRE(reader.ok());
  const GeoIndex index(std::shared_ptr<const Locator>(std::move(reader).value()), nullptr);
  REQUIRE(index.build_trie() != nullptr);
  // The mapped case counts the database's IPv6 bits, like the table.
  check_cases(index, index.build_trie(), std::begin(kCases), std::end(kCases));
}

TEST_CASE("scope index: geo-map merges networks whose lists start alike", "[geo]") {
  TableLocator locator;
  locator.add_codes("45.0.0.0/24", "GB", "EU");
  locator.add_codes("45.0.1.0/24", "FR", "EU");
  locator.add_codes("45.0.2.0/24", "DE", "EU");
  locator.add_codes("45.0.3.0/24", "US", "NA");
  ServiceSpec spec = one_per_site(Policy::geo_map);
  spec.geo_map = std::make_shared<const GeoMap>(GeoMap({{GeoMap::Level::country, "GB", {kA, kB}},
                                                        {GeoMap::Level::country, "FR", {kA, kC}},
                                                        {GeoMap::Level::country, "US", {kB}},
                                                        {GeoMap::Level::continent, "EU", {kA, kB}}},
                                                       {kD}));
  const auto index = ScopeIndex::compile(locator.build_trie(), kSites, {}, spec);
  REQUIRE(index != nullptr);
  const Steering steering(kSites, {}, spec, index);
  struct GeoCase {
    const char* client;
    std::uint32_t site;
    unsigned scope;
  };
  // GB (A B) and FR (A C) share their first site; DE takes EU's (A B); US
  // (B) differs from DE; the unlocated rest takes the default list (D).
  const GeoCase cases[] = {
      {"45.0.0.0/24", kA, 23}, {"45.0.1.0/24", kA, 23}, {"45.0.2.0/24", kA, 24},
      {"45.0.3.0/24", kB, 24}, {"45.0.4.0/24", kD, 22},
  };
  for (const GeoCase& c : cases) {
    CAPTURE(c.client);
    Rng rng(1);
    const IpAddress* out[8];
    const Choice choice =
        steering.choose(&locator, network_of(c.client), IpAddress::Family::v4, rng, out);
    CHECK(choice.site == c.site);
    CHECK(unsigned{choice.scope_prefix_len} == c.scope);
  }
}

TEST_CASE("scope index: policies whose order does not follow the network get none", "[geo]") {
  const TableLocator locator = equator();
  const auto trie = locator.build_trie();
  ServiceSpec spec = one_per_site();
  CHECK(ScopeIndex::compile(trie, kSites, {}, spec) != nullptr);
  spec.tolerance_percent = 10;
  CHECK(ScopeIndex::compile(trie, kSites, {}, spec) == nullptr);
  CHECK(ScopeIndex::compile(trie, kSites, {}, one_per_site(Policy::failover)) == nullptr);
  CHECK(ScopeIndex::compile(trie, kSites, {}, one_per_site(Policy::weighted)) == nullptr);
  ServiceSpec single;
  single.endpoints = {{IpAddress::v4(192, 0, 2, 1), kA}, {IpAddress::v4(192, 0, 2, 2), kA}};
  CHECK(ScopeIndex::compile(trie, kSites, {}, single) == nullptr);
  CHECK(ScopeIndex::compile(nullptr, kSites, {}, one_per_site()) == nullptr);
}

TEST_CASE("scope index: a trie with a cycle (a corrupt database) gets none", "[geo]") {
  LocationTrie::Builder builder(2);
  builder.set(0, 0, 1);
  builder.set(0, 1, LocationTrie::kEmpty);
  builder.set(1, 0, 0);
  builder.set(1, 1, builder.location(Location{}));
  builder.root(IpAddress::Family::v4, 0);
  const auto trie = std::make_shared<const LocationTrie>(std::move(builder).finish());
  CHECK(ScopeIndex::compile(trie, kSites, {}, one_per_site()) == nullptr);
  // A lookup ends within the address's bits whatever the tree.
  CHECK(trie->find(address_of("0.0.0.0")).depth == 32);
}

TEST_CASE("scope index: the geo index compiles once per service ordering", "[geo]") {
  auto table = std::make_shared<TableLocator>(equator());
  const GeoIndex index(table, nullptr);
  ServiceSpec spec = one_per_site();
  const auto first = index.scope_index(kSites, {kD}, spec);
  spec.sticky = true;  // not part of the order
  spec.answer_count = 3;
  for (auto& endpoint : spec.endpoints) endpoint.healthy = false;  // nor is health
  const auto second = index.scope_index(kSites, {kD}, spec);
  CHECK(first == second);
  CHECK(index.compiled() == 1);
  spec.bias_percent = {10, 0, 0, 0};
  CHECK(index.scope_index(kSites, {kD}, spec) != first);
  CHECK(index.scope_index(kSites, {kA}, one_per_site()) != first);
  CHECK(index.compiled() == 3);
}

TEST_CASE("location trie: a MaxMind DB's trie finds what its lookups find", "[geo]") {
  test::TempDir dir;
  std::vector<NetworkLocation> rows;
  Rng rng(7);
  // Nested and neighbouring networks of both families, a few locations.
  for (int i = 0; i < 400; ++i) {
    NetworkLocation row;
    const bool v6 = i % 4 == 3;
    row.network.address = v6 ? address_of("2001:db8::") : IpAddress::v4(0, 0, 0, 0);
    const unsigned bytes = v6 ? 6 : 3;
    for (unsigned b = v6 ? 4 : 0; b < bytes; ++b) {
      row.network.address.bytes[b] = static_cast<std::uint8_t>(rng.below(4));
    }
    row.network.prefix_len = static_cast<std::uint8_t>(v6 ? 32 + rng.below(17) : 8 + rng.below(17));
    row.network.address = row.network.address.masked(row.network.prefix_len);
    row.latitude_deg = static_cast<double>(rng.below(5));
    row.longitude_deg = static_cast<double>(rng.below(5));
    row.has_coordinates = i % 7 != 0;
    row.country = i % 3 == 0 ? "GB" : "";
    bool duplicate = false;
    for (const auto& other : rows) duplicate = duplicate || other.network == row.network;
    if (!duplicate) rows.push_back(row);
  }
  const std::string path = dir.file("random.mmdb");
  REQUIRE(write_mmdb(rows, path).ok());
  auto reader = MmdbReader::open(path);
  REQUIRE(reader.ok());
  const auto trie = (*reader)->build_trie();
  REQUIRE(trie != nullptr);
  for (int i = 0; i < 5000; ++i) {
    IpAddress address;
    if (i % 3 == 0) {
      address = address_of("2001:db8::");
      for (unsigned b = 4; b < 7; ++b) address.bytes[b] = static_cast<std::uint8_t>(rng.below(5));
    } else if (i % 3 == 1) {
      address = IpAddress::v4(static_cast<std::uint8_t>(rng.below(5)),
                              static_cast<std::uint8_t>(rng.below(5)),
                              static_cast<std::uint8_t>(rng.below(256)), 1);
    } else {
      // IPv4-mapped: the alias to the IPv4 subtree.
      address = address_of("::ffff:0.0.0.0");
      address.bytes[12] = static_cast<std::uint8_t>(rng.below(5));
      address.bytes[13] = static_cast<std::uint8_t>(rng.below(5));
    }
    CAPTURE(address.to_string());
    const Located located = (*reader)->locate(address);
    const LocationTrie::Leaf leaf = trie->find(address);
    CHECK(unsigned{leaf.depth} == unsigned{located.prefix_len});
    CHECK(LocationTrie::is_location(leaf.ref) == located.found);
    if (located.found && LocationTrie::is_location(leaf.ref)) {
      CHECK(trie->location(leaf.ref) == located.location);
    }
  }
}

}  // namespace
}  // namespace meridian::geo

namespace meridian::geo {
namespace {

// The sites an answer was drawn from.
std::vector<std::uint32_t> pool_of(const Steering& steering, const Locator& locator,
                                   const IpAddress& address, Choice& choice) {
  Rng rng(1);
  const IpAddress* out[8] = {};
  Trace trace;
  choice =
      steering.choose(&locator, IpNetwork{address, 32}, IpAddress::Family::v4, rng, out, &trace);
  std::vector<std::uint32_t> pool;
  for (const TraceSite& site : trace.candidates) {
    if (site.picked) pool.push_back(site.site);
  }
  std::sort(pool.begin(), pool.end());
  return pool;
}

TEST_CASE("scope index: with hundreds of sites, bias and sites down, a scope holds one answer",
          "[geo]") {
  int widened = 0;
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    CAPTURE(seed);
    Rng rng(seed);
    const auto uniform = [&](double low, double high) {
      return low + (high - low) * static_cast<double>(rng.below(1'000'000)) / 1'000'000.0;
    };
    std::vector<Site> sites;
    ServiceSpec spec;
    spec.sites_per_answer = static_cast<std::uint32_t>(1 + rng.below(2));
    const bool biased = seed % 2 == 0;
    for (std::uint32_t s = 0; s < 300; ++s) {
      sites.push_back({"s", uniform(-60, 70), uniform(-180, 180)});
      if (rng.below(4) != 0) spec.endpoints.push_back({IpAddress::v4(192, 0, 2, 1), s});
      if (biased) spec.bias_percent.push_back(rng.below(3) == 0 ? uniform(-50, 50) : 0);
    }
    // 512 neighbouring /24s at 40 places (a few countries only): many
    // neighbours share a place.
    TableLocator locator;
    std::vector<std::pair<double, double>> places;
    for (int p = 0; p < 40; ++p) places.emplace_back(uniform(-60, 70), uniform(-180, 180));
    for (int i = 0; i < 512; ++i) {
      const std::string network =
          "45.0." + std::to_string(i / 2) + "." + std::to_string(i % 2 * 128) + "/25";
      if (rng.below(8) == 0) continue;  // unlocated
      if (rng.below(10) == 0) {
        locator.add_codes(network.c_str(), rng.below(2) ? "DE" : "JP", "EU");
        continue;
      }
      const auto& [lat, lon] = places[rng.below(rng.below(2) ? 3 : places.size())];
      locator.add(network.c_str(), lat, lon);
    }
    locator.miss_prefix_len = 32;
    const std::vector<std::uint32_t> default_sites = {static_cast<std::uint32_t>(rng.below(300))};
    const auto index = ScopeIndex::compile(locator.build_trie(), sites, default_sites, spec);
    REQUIRE(index != nullptr);
    for (int round = 0; round < 3; ++round) {
      ServiceSpec health = spec;
      for (auto& endpoint : health.endpoints) endpoint.healthy = round == 0 || rng.below(5) != 0;
      const Steering steering(sites, default_sites, health, index);
      for (int i = 0; i < 60; ++i) {
        const IpAddress client = IpAddress::v4(45, 0, static_cast<std::uint8_t>(rng.below(256)),
                                               static_cast<std::uint8_t>(rng.below(256)));
        Choice choice;
        const auto pool = pool_of(steering, locator, client, choice);
        const unsigned scope = choice.scope_prefix_len;
        widened += scope < 25;
        for (int k = 0; k < 6; ++k) {
          IpAddress inside = client.masked(scope);
          for (unsigned bit = scope; bit < 32; ++bit) {
            if (rng.below(2)) inside.bytes[bit / 8] |= static_cast<std::uint8_t>(0x80 >> (bit % 8));
          }
          CAPTURE(client.to_string(), scope, inside.to_string());
          Choice other;
          REQUIRE(pool_of(steering, locator, inside, other) == pool);
        }
      }
    }
  }
  CHECK(widened > 100);
}

}  // namespace
}  // namespace meridian::geo
