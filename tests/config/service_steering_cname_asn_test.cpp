// Endpoints given as names (answered as CNAMEs), asn maps and the ASN
// database setting: what they load into and their errors (file:line:column,
// key path, expected, found).

#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "tests/config/test_support.hpp"

using namespace meridian;
using meridian::test::errors_of;
using meridian::test::kBaseConfig;
using meridian::test::kHealthConfig;
using meridian::test::parse;
using meridian::test::with;

namespace {

const std::string kFirstEndpoint = "          - { address: 192.0.2.10, site: us-west }\n";

// kBaseConfig with its first endpoint (line 15) replaced by `line`.
std::string endpoint(const std::string& line) {
  return with(kFirstEndpoint, line);
}

const ServiceConfig& www(const Config& config) {
  return config.zones.at(0).services.at(0);
}

}  // namespace

TEST_CASE("config cname: a name endpoint loads as a CNAME target of the service", "[main]") {
  SECTION("absolute, with a weight") {
    auto config =
        parse(endpoint("          - { cname: eu.CDN.example.net., site: us-west, weight: 50 }\n"));
    REQUIRE(config.ok());
    const ServiceConfig& service = www(*config);
    REQUIRE(service.spec.cname_targets == std::vector<std::string>{"eu.CDN.example.net."});
    REQUIRE(service.spec.endpoints.size() == 3);
    const geo::Endpoint& name = service.spec.endpoints[0];
    CHECK(name.is_cname());
    CHECK(name.cname == 0);
    CHECK(name.site == 0);
    CHECK(name.weight == 50);
    CHECK(service.endpoint_of_address == std::vector<std::uint32_t>{0, 1, 1});
    CHECK_FALSE(service.endpoints[0].check.has_value());
  }
  SECTION("relative to the zone") {
    auto config = parse(endpoint("          - { cname: cdn, site: us-west }\n"));
    REQUIRE(config.ok());
    CHECK(www(*config).spec.cname_targets == std::vector<std::string>{"cdn.example.test."});
  }
  SECTION("checked at its target address") {
    const std::string text = with("          - { address: 192.0.2.10, site: us-west }\n",
                                  "          - { cname: eu.cdn.example.net., site: us-west, check: "
                                  "{ use: web, target: 10.0.0.5 } }\n",
                                  kHealthConfig);
    auto config = parse(text);
    INFO((config.ok() ? std::string() : config.error().message));
    REQUIRE(config.ok());
    const EndpointConfig& name = www(*config).endpoints[0];
    REQUIRE(name.check.has_value());
    CHECK(name.check->name == "web");
    CHECK(name.probe_address.to_string() == "10.0.0.5");
  }
  SECTION("unchecked with check: none, even when the service has a check") {
    const std::string text = with(
        "          - { address: 192.0.2.10, site: us-west }\n",
        "          - { cname: eu.cdn.example.net., site: us-west, check: none }\n", kHealthConfig);
    auto config = parse(text);
    REQUIRE(config.ok());
    CHECK_FALSE(www(*config).endpoints[0].check.has_value());
  }
}

TEST_CASE("config cname: errors name the place, what was expected and what was found", "[main]") {
  struct Case {
    std::string text;
    std::string expected;
  };
  // clang-format off
  const Case cases[] = {
    {endpoint("          - { cname: cdn.example.net., address: 192.0.2.9, site: us-west }\n"),
     "test.yaml:15:22: zones[0].services.www.endpoints[0].cname: an endpoint is an address or a cname, not both "
     "(make two endpoints)"},
    {endpoint("          - { cname: \"cdn..example.net.\", site: us-west }\n"),
     "test.yaml:15:22: zones[0].services.www.endpoints[0].cname: expected a host name for the CNAME answer (relative "
     "to example.test. or absolute), found \"cdn..example.net.\""},
    {endpoint("          - { cname: \"\", site: us-west }\n"),
     "test.yaml:15:22: zones[0].services.www.endpoints[0].cname: expected a host name for the CNAME answer"},
    {endpoint("          - { cname: ., site: us-west }\n"),
     "test.yaml:15:22: zones[0].services.www.endpoints[0].cname: expected a host name for the CNAME answer"},
    {endpoint("          - { cname: [a, b], site: us-west }\n"),
     "test.yaml:15:22: zones[0].services.www.endpoints[0].cname: expected a host name for the CNAME answer (relative "
     "to example.test. or absolute), found a list"},
    {endpoint("          - { cname: WWW, site: us-west }\n"),
     "test.yaml:15:22: zones[0].services.www.endpoints[0].cname: a CNAME endpoint cannot name the service itself "
     "(WWW.example.test.)"},
    {endpoint("          - { cname: www.example.test., site: us-west }\n"),
     "a CNAME endpoint cannot name the service itself (www.example.test.)"},
    {endpoint("          - { cname: cdn, site: us-west }\n          - { cname: CDN.example.test., site: eu-west }\n"),
     "test.yaml:16:22: zones[0].services.www.endpoints[1].cname: duplicate cname CDN.example.test. in this service "
     "(also at zones[0].services.www.endpoints[0].cname)"},
    {endpoint("          - { cname: cdn, site: eu-central }\n"),
     "test.yaml:15:33: zones[0].services.www.endpoints[0].site: expected one of the sites (us-west, eu-west), found "
     "\"eu-central\""},
    {with("      - \"mail IN A 192.0.2.2\"\n", "      - \"mail IN A 192.0.2.2\"\n      - \"www IN TXT hello\"\n",
          endpoint("          - { cname: cdn, site: us-west }\n")),
     "test.yaml:12:9: zones[0].records[2]: a record beside service www.example.test., which answers a CNAME for its "
     "cname endpoints (a CNAME is alone at its name)"},
    {with("      www:\n", "      \"@\":\n", endpoint("          - { cname: cdn, site: us-west }\n")),
     "test.yaml:13:7: zones[0].services[\"@\"]: the zone's apex has its SOA and NS records beside service "
     "example.test."},
    {with("          - { address: 192.0.2.10, site: us-west }\n",
          "          - { cname: cdn.example.net., site: us-west }\n", kHealthConfig),
     "test.yaml:19:13: zones[0].services.www.endpoints[0]: a cname endpoint's check \"web\" needs an address to "
     "probe: give check: { target: ADDR } or check: none"},
    {with("          - { address: 192.0.2.10, site: us-west }\n",
          "          - { cname: cdn.example.net., site: us-west, check: { use: web, port: 81 } }\n", kHealthConfig),
     "test.yaml:19:62: zones[0].services.www.endpoints[0].check: a cname endpoint's check \"web\" needs an address to "
     "probe"},
  };
  // clang-format on
  for (const Case& c : cases) {
    CAPTURE(c.text);
    CHECK_THAT(errors_of(c.text), Catch::Contains(c.expected));
  }
}

TEST_CASE("config asn: the map loads, keyed by AS numbers with or without AS", "[main]") {
  auto config = parse(with(
      "        endpoints:\n",
      "        asn: { 64500: [eu-west, us-west], AS64501: [us-west], as4200000000: [eu-west] }\n"
      "        endpoints:\n"));
  REQUIRE(config.ok());
  const auto& asn = www(*config).spec.asn;
  REQUIRE(asn != nullptr);
  CHECK(asn->entries().size() == 3);
  const auto list = [&](std::uint32_t number) {
    const auto sites = asn->lookup(number);
    return std::vector<std::uint32_t>(sites.begin(), sites.end());
  };
  CHECK(list(64500) == std::vector<std::uint32_t>{1, 0});
  CHECK(list(64501) == std::vector<std::uint32_t>{0});
  CHECK(list(4200000000u) == std::vector<std::uint32_t>{1});
  CHECK(list(64502).empty());
}

TEST_CASE("config asn: errors name the place, what was expected and what was found", "[main]") {
  struct Case {
    std::string keys;
    std::string expected;
  };
  // clang-format off
  const Case cases[] = {
    {"        asn: { AS0: [eu-west] }\n",
     "test.yaml:14:16: zones[0].services.www.asn.AS0: expected an AS number from 1 to 4294967294, like 64500 or "
     "AS64500, found \"AS0\""},
    {"        asn: { 4294967295: [eu-west] }\n", "found \"4294967295\""},
    {"        asn: { ASX: [eu-west] }\n", "found \"ASX\""},
    {"        asn: { 64500: [eu-west], AS64500: [us-west] }\n",
     "test.yaml:14:34: zones[0].services.www.asn.AS64500: AS64500 is listed twice (also as 64500 (line 14))"},
    {"        asn: { 64500: [eu-central] }\n",
     "test.yaml:14:24: zones[0].services.www.asn.64500[0]: expected one of the sites (us-west, eu-west), found "
     "\"eu-central\""},
    {"        asn: { 64500: [] }\n",
     "zones[0].services.www.asn.64500: expected a list of site names (1 to 32), found an empty list"},
    {"        asn: [64500]\n", "test.yaml:14:14: zones[0].services.www.asn: expected a map"},
    {"        policy: weighted\n        asn: { 64500: [eu-west] }\n",
     "test.yaml:15:14: zones[0].services.www.asn: applies only to policy closest, geo-map or failover (this service's "
     "policy is weighted)"},
  };
  // clang-format on
  for (const Case& c : cases) {
    CAPTURE(c.keys);
    CHECK_THAT(errors_of(with("        endpoints:\n", c.keys + "        endpoints:\n")),
               Catch::Contains(c.expected));
  }
}

TEST_CASE("config geoip: a location database, an ASN database, or both", "[main]") {
  const std::string node = "node: { id: n1, site: eu-west }\n";
  auto both = parse(
      with(node, node + "geoip: { database: /geo/city.mmdb, asn_database: asn.mmdb }\n"), "/etc/m");
  REQUIRE(both.ok());
  CHECK(both->geoip.database == "/geo/city.mmdb");
  CHECK(both->geoip.asn_database == "/etc/m/asn.mmdb");
  auto asn_only = parse(with(node, node + "geoip: { asn_database: /geo/asn.mmdb }\n"));
  REQUIRE(asn_only.ok());
  CHECK(asn_only->geoip.database.empty());
  CHECK(asn_only->geoip.asn_database == "/geo/asn.mmdb");
  CHECK_THAT(errors_of(with(node, node + "geoip: { asn_db: x }\n")),
             Catch::Contains(
                 "test.yaml:2:10: geoip.asn_db: unknown key \"asn_db\", expected one of: database, "
                 "asn_database"));
  CHECK_THAT(errors_of(with(node, node + "geoip: {}\n")),
             Catch::Contains(
                 "test.yaml:2:8: geoip: missing required key \"database\" or \"asn_database\""));
}
