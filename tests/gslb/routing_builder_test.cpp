// build_zone and build_routing_table: the zone as the DNS engine sees it.

#include <catch2/catch.hpp>

#include <array>

#include "base/rng.hpp"
#include "config/config.hpp"
#include "dns/wire/types.hpp"
#include "gslb/routing_builder.hpp"
#include "tests/config/test_support.hpp"

using namespace meridian;
using namespace meridian::gslb;
using meridian::test::kBaseConfig;
using meridian::test::parse;
using meridian::test::with;

namespace {

dns::Name name(const char* text) {
  dns::Name n;
  REQUIRE(dns::Name::from_text(text, n));
  return n;
}

std::uint32_t u32_at(const std::vector<std::uint8_t>& bytes, std::size_t offset) {
  return std::uint32_t{bytes[offset]} << 24 | std::uint32_t{bytes[offset + 1]} << 16 |
         std::uint32_t{bytes[offset + 2]} << 8 | bytes[offset + 3];
}

Config load_demo() {
  auto loaded = load_config(MERIDIAN_SOURCE_DIR "/configs/demo/demo.yaml");
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded.ok());
  return std::move(loaded).value();
}

}  // namespace

TEST_CASE("routing builder: the demo zone answers www as a service", "[main]") {
  const Config config = load_demo();
  auto table = build_routing_table(config, nullptr, 7);
  INFO((table ? std::string() : table.error().message));
  REQUIRE(table.ok());
  const dns::RoutingTable& routing = **table;
  CHECK(routing.version() == 7);
  CHECK(routing.locator() == nullptr);

  const dns::Zone* zone = routing.find_zone(name("www.demo.test."));
  REQUIRE(zone != nullptr);
  CHECK(zone->origin().equals(name("demo.test.")));
  const dns::ZoneNode* www = zone->find_node(name("www.demo.test."));
  REQUIRE(www != nullptr);
  REQUIRE(www->service >= 0);
  const dns::Service& service = routing.service(static_cast<std::uint32_t>(www->service));
  CHECK(service.name.equals(name("www.demo.test.")));
  CHECK(service.ttl_s == 30);
  CHECK(service.steering.spec().endpoints.size() == 10);

  // No locator: default_sites decides, and the demo lists us-east first.
  Rng rng(1);
  std::array<const IpAddress*, 8> out{};
  IpNetwork client;
  REQUIRE(IpNetwork::parse("127.0.0.1", client));
  const geo::Choice choice =
      service.steering.choose(nullptr, client, IpAddress::Family::v4, rng, out);
  REQUIRE(choice.count == 1);
  CHECK(out[0]->to_string() == "192.0.2.20");
  CHECK(config.sites[choice.site].name == "us-east");

  // The static data around it is there too.
  CHECK(zone->lookup(name("alias.demo.test.")).kind == dns::ZoneMatch::Kind::exact);
  CHECK(zone->lookup(name("x.wild.demo.test.")).kind == dns::ZoneMatch::Kind::wildcard);
  CHECK(zone->lookup(name("host.sub.demo.test.")).kind == dns::ZoneMatch::Kind::delegation);
  CHECK(zone->lookup(name("nope.demo.test.")).kind == dns::ZoneMatch::Kind::nxdomain);
}

TEST_CASE("routing builder: SOA and NS are synthesized from the settings", "[main]") {
  const std::string text =
      with("    soa: { mname: ns1, rname: hostmaster }",
           "    ttl: 900\n"
           "    soa: { mname: ns1, rname: hostmaster, serial: 2024010101, refresh: 1,\n"
           "           retry: 2, expire: 3, minimum: 4, ttl: 5 }");
  auto config = parse(text);
  INFO((config ? std::string() : config.error().message));
  REQUIRE(config.ok());
  auto zone = build_zone(config->zones[0], 0);
  REQUIRE(zone.ok());

  const dns::RRset& soa = zone->soa();
  CHECK(soa.ttl == 5);
  REQUIRE(soa.rdatas.size() == 1);
  const dns::Rdata& rdata = soa.rdatas[0];
  REQUIRE(rdata.names.size() == 2);
  const std::size_t times = rdata.names[1].offset + rdata.names[1].length;
  REQUIRE(rdata.bytes.size() == times + 20);
  CHECK(u32_at(rdata.bytes, times) == 2024010101u);
  CHECK(u32_at(rdata.bytes, times + 4) == 1);
  CHECK(u32_at(rdata.bytes, times + 16) == 4);
  CHECK(zone->negative_ttl() == 4);

  const dns::RRset* ns = zone->apex().find(dns::rrtype::NS);
  REQUIRE(ns != nullptr);
  CHECK(ns->ttl == 900);
  REQUIRE(ns->rdatas.size() == 1);
  dns::Name target;
  REQUIRE(dns::Name::from_wire(ns->rdatas[0].bytes, target));
  CHECK(target.equals(name("ns1.example.test.")));
}

TEST_CASE("routing builder: services are numbered across zones in config order", "[main]") {
  const std::string second_zone = R"(  - origin: other.test.
    soa: { mname: ns.example.test., rname: hostmaster }
    ns: [ns.example.test.]
    services:
      a: { endpoints: [ { address: 192.0.2.1, site: us-west } ] }
      b: { endpoints: [ { address: 192.0.2.2, site: eu-west } ] }
)";
  auto config = parse(kBaseConfig + second_zone);
  INFO((config ? std::string() : config.error().message));
  REQUIRE(config.ok());
  auto table = build_routing_table(*config, nullptr, 1);
  REQUIRE(table.ok());
  const dns::RoutingTable& routing = **table;
  REQUIRE(routing.services().size() == 3);
  for (const char* service_name : {"www.example.test.", "a.other.test.", "b.other.test."}) {
    INFO(service_name);
    const dns::Zone* zone = routing.find_zone(name(service_name));
    REQUIRE(zone != nullptr);
    const dns::ZoneNode* node = zone->find_node(name(service_name));
    REQUIRE(node != nullptr);
    REQUIRE(node->service >= 0);
    CHECK(
        routing.service(static_cast<std::uint32_t>(node->service)).name.equals(name(service_name)));
  }
}

TEST_CASE("routing builder: build_zone prefixes builder errors with the record's location",
          "[main]") {
  auto config = parse(kBaseConfig);
  REQUIRE(config.ok());
  ZoneConfig zone = config->zones[0];
  dns::Record cname;
  cname.owner = name("mail.example.test.");
  cname.type = dns::rrtype::CNAME;
  cname.ttl = 60;
  const dns::Name target = name("www.example.test.");
  const auto wire = target.wire();
  cname.rdata.assign(wire.begin(), wire.end());
  cname.rdata_names.push_back(dns::RdataName{0, static_cast<std::uint16_t>(wire.size())});
  zone.records.push_back(RecordConfig{cname, SourceLocation{"extra.zone", 12, 0, ""}});
  auto built = build_zone(zone, 0);
  REQUIRE_FALSE(built.ok());
  CHECK(built.error().message == "extra.zone:12: CNAME beside other data at mail.example.test.");
}
