// build_services with a node's GeoIP databases: every service gets its scope
// index from the locator, compiled once per ordering and shared by the
// tables rebuilt on health changes; cname endpoints become CNAME RDATA.

#include <catch2/catch.hpp>

#include "geo/geo_index.hpp"
#include "gslb/routing_builder.hpp"
#include "tests/config/test_support.hpp"
#include "tools/mmdb_writer.hpp"

using namespace meridian;
using namespace meridian::gslb;
using meridian::test::kBaseConfig;
using meridian::test::parse;
using meridian::test::ScratchDir;
using meridian::test::with;

namespace {

EndpointVerdict usable(bool up) {
  EndpointVerdict verdict;
  verdict.usable = up;
  return verdict;
}

}  // namespace

TEST_CASE("routing builder: scope indexes come from the locator, once per ordering", "[main]") {
  ScratchDir dir("routing-geo");
  std::vector<geo::NetworkLocation> rows(2);
  REQUIRE(IpNetwork::parse("81.2.69.0/24", rows[0].network));
  rows[0].latitude_deg = 51.5;
  REQUIRE(IpNetwork::parse("81.2.68.0/24", rows[1].network));
  rows[1].latitude_deg = 48.9;
  rows[1].longitude_deg = 2.3;
  REQUIRE(geo::write_mmdb(rows, dir.path() + "/city.mmdb").ok());
  // Two services that order alike (www and a copy), one with a name.
  const std::string text = with("      www:\n",
                                "      api:\n"
                                "        endpoints:\n"
                                "          - { address: 192.0.2.11, site: us-west }\n"
                                "          - { cname: eu.cdn.example.net., site: eu-west }\n"
                                "      www:\n");
  auto config = parse(text);
  REQUIRE(config.ok());
  auto index = geo::GeoIndex::open(dir.path() + "/city.mmdb", "");
  REQUIRE(index.ok());
  const geo::GeoIndex& geo = **index;
  for (int build = 0; build < 3; ++build) {
    ServiceVerdicts verdicts(2);
    verdicts[0] = {usable(build != 1), usable(true)};
    verdicts[1] = {usable(true), usable(build == 2)};
    const auto services = build_services(*config, &verdicts, &geo);
    REQUIRE(services.size() == 2);
    const dns::Service& api = services[0];
    CHECK(api.steering.scope_index() != nullptr);
    CHECK(api.steering.scope_index() == services[1].steering.scope_index());
    REQUIRE(api.cname_targets.size() == 1);
    dns::Name target;
    REQUIRE(dns::Name::from_wire(
        std::span(api.cname_targets[0].bytes.data(), api.cname_targets[0].bytes.size()), target));
    CHECK(target.to_text() == "eu.cdn.example.net.");
  }
  CHECK(geo.compiled() == 1);
  // Without a locator: no index, as before.
  CHECK(build_services(*config, nullptr).front().steering.scope_index() == nullptr);
}
