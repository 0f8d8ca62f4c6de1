// The steering keys of a service: what they load into, their defaults, and
// their errors (file:line:column, key path, expected, found).

#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "tests/config/test_support.hpp"

using namespace meridian;
using meridian::test::errors_of;
using meridian::test::kBaseConfig;
using meridian::test::parse;
using meridian::test::ScratchDir;
using meridian::test::with;

namespace {

const std::string kEndpoints = "        endpoints:\n";

// kBaseConfig with `keys` (lines at the service's indentation) before its
// endpoints; the first inserted line is line 14.
std::string service_with(const std::string& keys) {
  return with(kEndpoints, keys + kEndpoints);
}

const ServiceConfig& www(const Config& config) {
  return config.zones.at(0).services.at(0);
}

}  // namespace

TEST_CASE("config steering: defaults keep the closest policy as it was", "[main]") {
  auto config = parse(kBaseConfig);
  REQUIRE(config.ok());
  const geo::ServiceSpec& spec = www(*config).spec;
  CHECK(spec.policy == geo::Policy::closest);
  CHECK(spec.answer_count == 1);
  CHECK(spec.sites_per_answer == 1);
  CHECK(spec.min_healthy == 1);
  CHECK_FALSE(spec.min_healthy_percent);
  CHECK_FALSE(spec.sticky);
  CHECK(spec.use_ecs);
  CHECK(spec.fail == geo::FailMode::open);
  CHECK(spec.fallback.empty());
  CHECK(spec.bias_percent.empty());
  CHECK(spec.tolerance_percent == 0);
  CHECK(spec.geo_map == nullptr);
  CHECK(spec.nets == nullptr);
}

TEST_CASE("config steering: every key loads", "[main]") {
  SECTION("closest with bias, tolerance, picking and fail mode") {
    auto config = parse(service_with(
        "        answer_count: 2\n        sites_per_answer: 2\n"
        "        min_healthy: 50%\n        sticky: true\n        ecs: false\n"
        "        fail: servfail\n        bias: { eu-west: 20, us-west: -10.5 }\n"
        "        tolerance: 15%\n"
        "        nets: { \"81.2.69.0/24\": [eu-west, us-west], \"2001:db8::/32\": [us-west] }\n"));
    REQUIRE(config.ok());
    const geo::ServiceSpec& spec = www(*config).spec;
    CHECK(spec.answer_count == 2);
    CHECK(spec.sites_per_answer == 2);
    CHECK(spec.min_healthy == 50);
    CHECK(spec.min_healthy_percent);
    CHECK(spec.sticky);
    CHECK_FALSE(spec.use_ecs);
    CHECK(spec.fail == geo::FailMode::servfail);
    CHECK(spec.bias_percent == std::vector<double>{-10.5, 20});
    CHECK(spec.tolerance_percent == 15);
    REQUIRE(spec.nets != nullptr);
    CHECK(spec.nets->row_count() == 2);
    IpAddress client;
    IpAddress::parse("81.2.69.7", client);
    const auto match = spec.nets->lookup(client);
    REQUIRE(match.list != geo::NetsMap::kNoList);
    CHECK(std::vector<std::uint32_t>(spec.nets->list(match.list).begin(),
                                     spec.nets->list(match.list).end()) ==
          std::vector<std::uint32_t>{1, 0});
  }
  SECTION("geo-map") {
    auto config = parse(
        service_with("        policy: geo-map\n        geo_map:\n"
                     "          subdivisions: { US-CA: [us-west] }\n"
                     "          countries: { GB: [eu-west, us-west] }\n"
                     "          continents: { NA: [us-west] }\n          default: [eu-west]\n"));
    REQUIRE(config.ok());
    const geo::ServiceSpec& spec = www(*config).spec;
    CHECK(spec.policy == geo::Policy::geo_map);
    REQUIRE(spec.geo_map != nullptr);
    CHECK(spec.geo_map->entries().size() == 3);
    CHECK(spec.geo_map->default_sites() == geo::SiteList{1});
  }
  SECTION("failover's order is the default order, then the other sites") {
    auto config = parse(service_with("        policy: failover\n        order: [eu-west]\n"));
    REQUIRE(config.ok());
    CHECK(www(*config).spec.policy == geo::Policy::failover);
    CHECK(www(*config).default_sites == std::vector<std::uint32_t>{1, 0});
  }
  SECTION("weighted with a fallback") {
    auto config = parse(service_with(
        "        policy: weighted\n        fallback: [198.51.100.1, \"2001:db8::1\"]\n"));
    REQUIRE(config.ok());
    CHECK(www(*config).spec.fallback.size() == 2);
  }
  SECTION("a nets file, relative to the config, with inline nets") {
    ScratchDir dir("config-nets");
    dir.write("nets.txt",
              "# office networks\n198.51.100.0/24 eu-west\n2001:db8:1::/48 us-west,eu-west\n");
    auto config =
        parse(service_with(
                  "        nets_file: nets.txt\n        nets: { \"203.0.113.0/24\": [us-west] }\n"),
              dir.path());
    REQUIRE(config.ok());
    CHECK(www(*config).spec.nets->row_count() == 3);
    CHECK(www(*config).nets_file == dir.path() + "/nets.txt");
  }
}

TEST_CASE("config steering: errors name the place, what was expected and what was found",
          "[main]") {
  struct Case {
    std::string keys;
    std::string expected;
  };
  // clang-format off
  const Case cases[] = {
    {"        sites_per_answer: 9\n",
     "test.yaml:14:27: zones[0].services.www.sites_per_answer: expected an integer from 1 to 8, found \"9\""},
    {"        min_healthy: 0\n",
     "test.yaml:14:22: zones[0].services.www.min_healthy: expected a count of endpoints (1 to 1024) or a percentage "
     "of a site's endpoints (\"1%\" to \"100%\"), found \"0\""},
    {"        min_healthy: 120%\n", "zones[0].services.www.min_healthy: expected a count of endpoints"},
    {"        sticky: yes\n",
     "test.yaml:14:17: zones[0].services.www.sticky: expected one of (false, true), found \"yes\""},
    {"        fail: sometimes\n",
     "test.yaml:14:15: zones[0].services.www.fail: expected one of (open, closed, servfail), found \"sometimes\""},
    {"        fail: closed\n        fallback: [192.0.2.99]\n",
     "test.yaml:15:19: zones[0].services.www.fallback: fallback is what a service answers instead of failing: give "
     "fail or fallback, not both"},
    {"        fallback: [192.0.2.999]\n",
     "test.yaml:14:20: zones[0].services.www.fallback[0]: expected an IPv4 or IPv6 address, found \"192.0.2.999\""},
    {"        bias: { eu-west: 100 }\n",
     "test.yaml:14:26: zones[0].services.www.bias.eu-west: expected a number from -99 to 99, found \"100\""},
    {"        bias: { eu-central: 10 }\n",
     "test.yaml:14:17: zones[0].services.www.bias.eu-central: expected one of the sites (us-west, eu-west), found "
     "\"eu-central\""},
    {"        policy: weighted\n        bias: { eu-west: 10 }\n",
     "test.yaml:15:15: zones[0].services.www.bias: applies only to policy closest (this service's policy is weighted)"},
    {"        tolerance: lots\n",
     "test.yaml:14:20: zones[0].services.www.tolerance: expected a percentage from 0 to 1000 (10 or \"10%\"), found "
     "\"lots\""},
    {"        order: [eu-west]\n",
     "test.yaml:14:16: zones[0].services.www.order: applies only to policy failover (this service's policy is "
     "closest)"},
    {"        policy: failover\n        order: [eu-west, eu-west]\n",
     "test.yaml:15:26: zones[0].services.www.order[1]: site \"eu-west\" is listed twice"},
    {"        policy: failover\n        order: [eu-west]\n        default_sites: [us-west]\n",
     "test.yaml:16:24: zones[0].services.www.default_sites: failover's order is its default order: give order or "
     "default_sites, not both"},
    {"        policy: geo-map\n",
     "test.yaml:13:7: zones[0].services.www: policy geo-map needs a geo_map (subdivisions, countries, continents, "
     "default)"},
    {"        policy: geo-map\n        geo_map: { countries: { USA: [us-west] } }\n",
     "test.yaml:15:33: zones[0].services.www.geo_map.countries.USA: expected an ISO 3166-1 alpha-2 country code like "
     "US, found \"USA\""},
    {"        policy: geo-map\n        geo_map: { subdivisions: { CA: [us-west] } }\n",
     "zones[0].services.www.geo_map.subdivisions.CA: expected an ISO 3166-2 subdivision like US-CA, found \"CA\""},
    {"        policy: geo-map\n        geo_map: { continents: { EU: [] } }\n",
     "zones[0].services.www.geo_map.continents.EU: expected a list of site names (1 to 32), found an empty list"},
    {"        policy: geo-map\n        geo_map: { countrys: {} }\n",
     "zones[0].services.www.geo_map.countrys: unknown key \"countrys\" (did you mean \"countries\"?)"},
    {"        geo_map: { default: [eu-west] }\n",
     "zones[0].services.www.geo_map: applies only to policy geo-map (this service's policy is closest)"},
    {"        nets: { \"10.0.0.1/8\": [eu-west] }\n",
     "test.yaml:14:17: zones[0].services.www.nets[\"10.0.0.1/8\"]: expected a network like 192.0.2.0/24 or 2001:db8::/32 "
     "with no host bits set, found \"10.0.0.1/8\""},
    {"        nets: { \"10.0.0.0/8\": [eu-west], \"10.0.0.0/08\": [us-west] }\n",
     "test.yaml:14:15: zones[0].services.www.nets: duplicate network 10.0.0.0/8 (test.yaml:14:17: "
     "zones[0].services.www.nets[\"10.0.0.0/8\"] and test.yaml:14:42: zones[0].services.www.nets[\"10.0.0.0/08\"])"},
    {"        policy: weighted\n        nets: { \"10.0.0.0/8\": [eu-west] }\n",
     "zones[0].services.www.nets: applies only to policy closest, geo-map or failover (this service's policy is "
     "weighted)"},
    {"        nets_file: missing.txt\n",
     "test.yaml:14:20: zones[0].services.www.nets_file: cannot open nets file missing.txt"},
    // A line break in the path stays inside the one error (found by fuzz.config).
    {"        nets_file: \"none\\n.txt\"\n",
     "test.yaml:14:20: zones[0].services.www.nets_file: cannot open nets file none\\n.txt: No such file"},
    // Read forever before (found writing fuzz.config): an error, not a hang.
    {"        nets_file: /dev/zero\n",
     "test.yaml:14:20: zones[0].services.www.nets_file: cannot read nets file /dev/zero: not a regular file"},
  };
  // clang-format on
  for (const Case& c : cases) {
    CAPTURE(c.keys);
    const std::string message = errors_of(service_with(c.keys));
    CHECK_THAT(message, Catch::Contains(c.expected));
  }
}

TEST_CASE("config steering: nets file errors name its line", "[main]") {
  ScratchDir dir("config-nets-errors");
  dir.write("nets.txt", "198.51.100.0/24 eu-west\n198.51.101.0/24 eu-central\n");
  const std::string message = errors_of(service_with("        nets_file: nets.txt\n"), dir.path());
  CHECK_THAT(message, Catch::Contains("test.yaml:14:20: zones[0].services.www.nets_file: " +
                                      dir.path() + "/nets.txt:2: unknown site 'eu-central'"));
  dir.write("nets.txt", "198.51.100.0/24 eu-west\n198.51.100.0/24 us-west\n");
  CHECK_THAT(errors_of(service_with("        nets_file: nets.txt\n"), dir.path()),
             Catch::Contains("duplicate network 198.51.100.0/24 (" + dir.path() +
                             "/nets.txt:1 and " + dir.path() + "/nets.txt:2)"));
}
