// The demo GeoIP source (configs/demo/geoip.csv) built through write_mmdb:
// the networks the demo and the docs rely on resolve to their cities.

#include <catch2/catch.hpp>

#include "base/rng.hpp"
#include "geo/mmdb_reader.hpp"
#include "geo/steering.hpp"
#include "test_support.hpp"
#include "tools/geoip_csv.hpp"
#include "tools/mmdb_writer.hpp"

namespace meridian::geo {
namespace {

std::unique_ptr<MmdbReader> build_demo(const test::TempDir& dir) {
  const auto rows = read_geoip_csv(MERIDIAN_SOURCE_DIR "/configs/demo/geoip.csv");
  INFO((rows.ok() ? std::string() : rows.error().message));
  REQUIRE(rows.ok());
  const auto path = dir.file("demo.mmdb");
  REQUIRE(write_mmdb(rows.value(), path).ok());
  auto reader = MmdbReader::open(path);
  REQUIRE(reader.ok());
  return std::move(reader.value());
}

IpAddress ip(const char* text) {
  IpAddress address;
  REQUIRE(IpAddress::parse(text, address));
  return address;
}

TEST_CASE("demo geoip: the required networks resolve to their cities", "[geo]") {
  test::TempDir dir;
  const auto reader = build_demo(dir);
  struct City {
    const char* address;
    double latitude, longitude;
    const char* country;
    const char* continent;
    unsigned prefix_len;
  };
  const City cities[] = {
      {"81.2.69.142", 51.5142, -0.0931, "GB", "EU", 24},      // London
      {"89.160.20.112", 58.4167, 15.6167, "SE", "EU", 24},    // Linköping
      {"216.160.83.56", 47.2513, -122.3149, "US", "NA", 24},  // Milton, WA
      {"175.16.199.1", 43.88, 125.3228, "CN", "AS", 24},      // Changchun
      {"200.160.7.1", -23.5475, -46.6361, "BR", "SA", 20},    // São Paulo
      {"2001:218::1", 35.685, 139.7514, "JP", "AS", 32},      // Tokyo
  };
  for (const auto& c : cities) {
    CAPTURE(c.address);
    const Located located = reader->locate(ip(c.address));
    REQUIRE(located.found);
    CHECK(located.location.latitude_deg == c.latitude);
    CHECK(located.location.longitude_deg == c.longitude);
    CHECK(located.location.country.data() == std::string(c.country));
    CHECK(located.location.continent.data() == std::string(c.continent));
    CHECK(located.prefix_len == c.prefix_len);
  }
}

TEST_CASE("demo geoip: IPv6 clients on several continents, loopback unmapped", "[geo]") {
  test::TempDir dir;
  const auto reader = build_demo(dir);
  const std::pair<const char*, const char*> continents[] = {
      {"2607:fb90::1", "NA"}, {"2600:1f18::1", "NA"}, {"2a02:cf40::1", "EU"},
      {"2001:12ff::1", "SA"}, {"2001:da8::1", "AS"},  {"2001:388::1", "OC"},
  };
  for (const auto& [address, continent] : continents) {
    CAPTURE(address);
    const Located located = reader->locate(ip(address));
    CHECK(located.found);
    CHECK(located.location.continent.data() == std::string(continent));
  }
  CHECK_FALSE(reader->locate(ip("127.0.0.1")).found);
  CHECK_FALSE(reader->locate(ip("::1")).found);
}

TEST_CASE("demo geoip: steering with the real reader picks the nearest demo site", "[geo]") {
  test::TempDir dir;
  const auto reader = build_demo(dir);
  const std::vector<Site> sites = {{"us-west", 47.61, -122.33},
                                   {"us-east", 39.04, -77.49},
                                   {"eu-west", 51.51, -0.13},
                                   {"ap-northeast", 35.68, 139.69},
                                   {"sa-east", -23.55, -46.63}};
  ServiceSpec spec;
  for (std::uint32_t site = 0; site < sites.size(); ++site) {
    spec.endpoints.push_back(
        {IpAddress::v4(192, 0, 2, static_cast<std::uint8_t>(10 + site)), site, 100});
  }
  const Steering steering(sites, {1}, spec);
  Rng rng(1);
  const IpAddress* out[1];
  struct Case {
    const char* client;
    std::uint32_t site;
    std::uint8_t scope;
  };
  const Case cases[] = {{"81.2.69.0/24", 2, 24},    {"89.160.20.112/32", 2, 24},
                        {"216.160.83.0/24", 0, 24}, {"175.16.199.0/24", 3, 24},
                        {"200.160.0.0/16", 4, 16},  {"54.81.0.0/24", 1, 13},
                        {"127.0.0.1/32", 1, 3}};
  for (const auto& c : cases) {
    CAPTURE(c.client);
    IpNetwork client;
    REQUIRE(IpNetwork::parse(c.client, client));
    const Choice choice = steering.choose(reader.get(), client, IpAddress::Family::v4, rng, out);
    REQUIRE(choice.count == 1);
    CHECK(choice.site == c.site);
    CHECK(choice.scope_prefix_len == c.scope);
  }
}

}  // namespace
}  // namespace meridian::geo
