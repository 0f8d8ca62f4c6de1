// Properties of steering over random configs, health and clients (seeded:
// a failure names its seed; reproduce with the same seed):
//  - when any endpoint of the family is healthy, answers hold only healthy
//    endpoints, and at least one;
//  - closest answers a site no farther (after bias) than every other
//    available site;
//  - the answer is a function of (config, health, client, rng state), and
//    with sticky of (config, health, client) alone;
//  - answers hold distinct endpoints, at most answer_count; the scope never
//    exceeds the client's prefix.

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "fake_locator.hpp"
#include "geo/steering.hpp"

namespace meridian::geo {
namespace {

using test::TableLocator;

constexpr const char* kCountries[] = {"AA", "BB", "CC", "DD"};
constexpr const char* kContinents[] = {"EU", "NA", "AS"};

double uniform(Rng& rng, double low, double high) {
  return low + (high - low) * static_cast<double>(rng.below(1'000'000)) / 1'000'000.0;
}

SiteList random_list(Rng& rng, std::uint32_t sites) {
  SiteList list;
  for (std::uint32_t n = 1 + static_cast<std::uint32_t>(rng.below(3)); n > 0; --n) {
    const auto site = static_cast<std::uint32_t>(rng.below(sites));
    if (std::find(list.begin(), list.end(), site) == list.end()) list.push_back(site);
  }
  return list;
}

struct World {
  std::vector<Site> sites;
  ServiceSpec spec;
  std::vector<std::uint32_t> default_sites;
  TableLocator locator;
};

World random_world(Rng& rng) {
  World world;
  const auto site_count = static_cast<std::uint32_t>(2 + rng.below(9));
  for (std::uint32_t i = 0; i < site_count; ++i) {
    world.sites.push_back(
        {"s" + std::to_string(i), uniform(rng, -60, 70), uniform(rng, -180, 180)});
  }
  ServiceSpec& spec = world.spec;
  spec.policy = static_cast<Policy>(rng.below(4));
  spec.answer_count = static_cast<std::uint32_t>(1 + rng.below(3));
  spec.sites_per_answer = static_cast<std::uint32_t>(1 + rng.below(3));
  spec.min_healthy_percent = rng.below(3) == 0;
  spec.min_healthy = spec.min_healthy_percent ? static_cast<std::uint32_t>(1 + rng.below(100))
                                              : static_cast<std::uint32_t>(1 + rng.below(3));
  spec.sticky = rng.below(2) == 0;
  std::uint32_t serial = 0;
  for (std::uint32_t site = 0; site < site_count; ++site) {
    for (auto n = rng.below(4); n > 0; --n, ++serial) {
      Endpoint endpoint{IpAddress::v4(192, 0, static_cast<std::uint8_t>(serial >> 8),
                                      static_cast<std::uint8_t>(serial)),
                        site, static_cast<std::uint32_t>(1 + rng.below(500))};
      endpoint.healthy = rng.below(10) < 7;
      spec.endpoints.push_back(endpoint);
    }
  }
  if (spec.policy == Policy::closest) {
    if (rng.below(2)) {
      for (std::uint32_t i = 0; i < site_count; ++i)
        spec.bias_percent.push_back(uniform(rng, -60, 60));
    }
    if (rng.below(3) == 0) spec.tolerance_percent = uniform(rng, 0, 30);
  }
  if (spec.policy == Policy::geo_map) {
    std::vector<GeoMap::Entry> entries;
    for (const char* country : kCountries) {
      if (rng.below(2))
        entries.push_back({GeoMap::Level::country, country, random_list(rng, site_count)});
    }
    entries.push_back({GeoMap::Level::continent, "EU", random_list(rng, site_count)});
    spec.geo_map = std::make_shared<const GeoMap>(
        std::move(entries), rng.below(2) ? random_list(rng, site_count) : SiteList{});
  }
  if (spec.policy != Policy::weighted && rng.below(2)) {
    std::vector<NetsMap::Row> rows;
    std::vector<SiteList> lists;
    for (std::uint32_t i = 0; i < 6; ++i) {
      const auto prefix_len = static_cast<std::uint8_t>(12 + rng.below(13));
      const IpAddress address = IpAddress::v4(10, static_cast<std::uint8_t>(rng.below(32)),
                                              static_cast<std::uint8_t>(rng.below(256)), 0);
      const IpNetwork network{address.masked(prefix_len), prefix_len};
      if (std::any_of(rows.begin(), rows.end(),
                      [&](const NetsMap::Row& r) { return r.network == network; })) {
        continue;
      }
      rows.push_back({network, static_cast<std::uint32_t>(lists.size()), i});
      lists.push_back(random_list(rng, site_count));
    }
    spec.nets = std::make_shared<const NetsMap>(*NetsMap::build(
        std::move(lists), std::move(rows), [](std::uint32_t) { return std::string(); }));
  }
  if (rng.below(4) == 0) spec.fail = static_cast<FailMode>(rng.below(3));
  for (std::uint32_t i = 0; i < site_count; ++i) {
    if (rng.below(2)) world.default_sites.push_back(i);
  }
  for (std::uint8_t net = 0; net < 24; ++net) {
    const std::string network = "10." + std::to_string(net) + ".0.0/16";
    if (rng.below(5) == 0) continue;  // not in the database
    world.locator.add(network.c_str(), uniform(rng, -60, 70), uniform(rng, -180, 180),
                      kCountries[rng.below(4)], kContinents[rng.below(3)]);
  }
  return world;
}

IpNetwork random_client(Rng& rng) {
  const auto prefix_len = static_cast<std::uint8_t>(rng.below(2) ? 32 : 16 + rng.below(17));
  const IpAddress address = IpAddress::v4(10, static_cast<std::uint8_t>(rng.below(32)),
                                          static_cast<std::uint8_t>(rng.below(256)),
                                          static_cast<std::uint8_t>(rng.below(256)));
  return IpNetwork{address.masked(prefix_len), prefix_len};
}

std::vector<IpAddress> answer(const Steering& steering, const World& world, const IpNetwork& client,
                              std::uint64_t seed, Choice& choice) {
  Rng rng(seed);
  const IpAddress* out[8] = {};
  choice = steering.choose(&world.locator, client, IpAddress::Family::v4, rng, out);
  std::vector<IpAddress> addresses;
  for (std::uint32_t i = 0; i < choice.count; ++i) addresses.push_back(*out[i]);
  return addresses;
}

TEST_CASE("steering properties over random configs, health and clients", "[geo]") {
  for (std::uint64_t seed = 1; seed <= 400; ++seed) {
    CAPTURE(seed);
    Rng rng(seed);
    const World world = random_world(rng);
    const Steering steering(world.sites, world.default_sites, world.spec);
    std::map<IpAddress, const Endpoint*,
             decltype([](const IpAddress& a, const IpAddress& b) { return a.bytes < b.bytes; })>
        by_address;
    bool any_healthy = false;
    for (const Endpoint& endpoint : world.spec.endpoints) {
      by_address[endpoint.address] = &endpoint;
      any_healthy = any_healthy || endpoint.healthy;
    }
    for (int i = 0; i < 40; ++i) {
      const IpNetwork client = random_client(rng);
      CAPTURE(client.to_string());
      Choice choice;
      const std::uint64_t draw_seed = rng.next();
      const auto addresses = answer(steering, world, client, draw_seed, choice);
      REQUIRE(addresses.size() <= world.spec.answer_count);
      REQUIRE(std::set<std::string>([&] {
                std::set<std::string> texts;
                for (const auto& a : addresses) texts.insert(a.to_string());
                return texts;
              }())
                  .size() == addresses.size());
      REQUIRE(choice.scope_prefix_len <= client.prefix_len);
      if (any_healthy) {
        REQUIRE_FALSE(addresses.empty());
        REQUIRE_FALSE(choice.degraded);
        for (const auto& address : addresses) REQUIRE(by_address.at(address)->healthy);
      } else if (!world.spec.endpoints.empty()) {
        REQUIRE((choice.degraded || choice.stage == Stage::fail_closed));
      }
      // Deterministic: the same inputs, the same answer.
      Choice again;
      REQUIRE(answer(steering, world, client, draw_seed, again) == addresses);
      if (world.spec.sticky)
        REQUIRE(answer(steering, world, client, draw_seed + 1, again) == addresses);
      // closest: no available site is nearer, after bias, than the answer's.
      const Located located = world.locator.locate(client.address);
      if (choice.stage == Stage::closest && world.spec.min_healthy == 1 &&
          !world.spec.min_healthy_percent && world.spec.tolerance_percent == 0) {
        const auto biased = [&](std::uint32_t site) {
          const double bias = world.spec.bias_percent.empty() ? 0 : world.spec.bias_percent[site];
          return great_circle_km(located.location.latitude_deg, located.location.longitude_deg,
                                 world.sites[site].latitude_deg, world.sites[site].longitude_deg) *
                 (1 - bias / 100);
        };
        const double chosen = biased(choice.site);
        for (const Endpoint& endpoint : world.spec.endpoints) {
          if (endpoint.healthy) REQUIRE(chosen <= biased(endpoint.site) * (1 + 1e-9) + 1e-6);
        }
        for (const auto& address : addresses) {
          if (world.spec.sites_per_answer == 1)
            REQUIRE(by_address.at(address)->site == choice.site);
        }
      }
    }
  }
}

}  // namespace
}  // namespace meridian::geo

namespace meridian::geo {
namespace {

// The sites an answer was drawn from (the trace's picks).
std::set<std::uint32_t> pool_of(const Steering& steering, const World& world,
                                const IpNetwork& client, Choice& choice) {
  Rng rng(1);
  const IpAddress* out[8] = {};
  Trace trace;
  choice = steering.choose(&world.locator, client, IpAddress::Family::v4, rng, out, &trace);
  std::set<std::uint32_t> picked;
  for (const TraceSite& site : trace.candidates) {
    if (site.picked) picked.insert(site.site);
  }
  return picked;
}

TEST_CASE(
    "scope property: every address within an answer's ECS scope is answered from the same sites",
    "[geo]") {
  int widened = 0;
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    CAPTURE(seed);
    Rng rng(seed);
    World world = random_world(rng);
    // Nested networks too, some known by country only; misses claim no
    // more than their own address (the fake cannot tell).
    for (int i = 0; i < 12; ++i) {
      const auto prefix_len = static_cast<std::uint8_t>(17 + rng.below(8));
      const IpAddress address = IpAddress::v4(10, static_cast<std::uint8_t>(rng.below(24)),
                                              static_cast<std::uint8_t>(rng.below(256)), 0);
      const std::string network = IpNetwork{address.masked(prefix_len), prefix_len}.to_string();
      if (rng.below(3) == 0) {
        world.locator.add_codes(network.c_str(), rng.below(2) ? "DE" : "AA",
                                kContinents[rng.below(3)]);
      } else {
        world.locator.add(network.c_str(), uniform(rng, -60, 70), uniform(rng, -180, 180),
                          kCountries[rng.below(4)], kContinents[rng.below(3)]);
      }
    }
    world.locator.miss_prefix_len = 32;
    const auto index = ScopeIndex::compile(world.locator.build_trie(), world.sites,
                                           world.default_sites, world.spec);
    const Steering steering(world.sites, world.default_sites, world.spec, index);
    for (int i = 0; i < 30; ++i) {
      const IpNetwork client = random_client(rng);
      CAPTURE(client.to_string());
      Choice choice;
      const auto pool = pool_of(steering, world, client, choice);
      const unsigned scope = choice.scope_prefix_len;
      REQUIRE(scope <= client.prefix_len);
      // Without an index the scope is the fake's matched network, which is
      // not uniform when networks nest (a MaxMind DB reports the carved one).
      if (index == nullptr && choice.geo_scope_prefix_len > 0) continue;
      // A scope capped at the client's prefix (RFC 7871 allows no longer
      // one here) speaks for the client's address only.
      if (scope == client.prefix_len && scope < 32) continue;
      if (index != nullptr &&
          choice.geo_scope_prefix_len < world.locator.locate(client.address).prefix_len) {
        ++widened;
      }
      for (int k = 0; k < 8; ++k) {
        IpAddress inside = client.address.masked(scope);
        for (unsigned bit = scope; bit < 32; ++bit) {
          if (rng.below(2)) inside.bytes[bit / 8] |= static_cast<std::uint8_t>(0x80 >> (bit % 8));
        }
        CAPTURE(scope, inside.to_string());
        Choice other;
        REQUIRE(pool_of(steering, world, IpNetwork{inside, 32}, other) == pool);
      }
    }
  }
  // The property is not vacuous: scopes did widen past database networks.
  CHECK(widened > 100);
}

}  // namespace
}  // namespace meridian::geo
