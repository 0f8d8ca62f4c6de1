// The loader on valid input: values, defaults, path resolution, and the
// shipped configs. Errors are in config_errors_test.cpp.

#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "dns/wire/types.hpp"
#include "tests/config/test_support.hpp"

using namespace meridian;
using meridian::test::kBaseConfig;
using meridian::test::parse;
using meridian::test::with;

namespace {

dns::Name name(const char* text) {
  dns::Name n;
  REQUIRE(dns::Name::from_text(text, n));
  return n;
}

IpAddress ip(const char* text) {
  IpAddress address;
  REQUIRE(IpAddress::parse(text, address));
  return address;
}

}  // namespace

TEST_CASE("config: a minimal file loads with every default", "[main]") {
  auto loaded = parse(kBaseConfig);
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded.ok());
  const Config& config = *loaded;

  CHECK(config.node.id == "n1");
  CHECK(config.node.site == 1);
  CHECK(config.node.data_dir.empty());
  REQUIRE(config.sites.size() == 2);
  CHECK(config.sites[0].name == "us-west");
  CHECK(config.sites[0].latitude_deg == Approx(47.61));
  CHECK(config.sites[0].longitude_deg == Approx(-122.33));
  CHECK(config.sites[1].name == "eu-west");

  REQUIRE(config.dns.listen.size() == 2);
  CHECK(config.dns.listen[0].to_string() == "0.0.0.0:53");
  CHECK(config.dns.listen[1].to_string() == "[::]:53");
  CHECK(config.dns.threads == 0);
  CHECK(config.dns.udp_payload == 1232);
  CHECK(config.dns.tcp_idle_timeout == std::chrono::seconds(10));
  CHECK(config.dns.tcp_max_connections == 1000);
  CHECK(config.dns.tcp_max_connections_per_client == 64);
  CHECK(config.dns.max_tcp_queries_per_connection == 100);
  CHECK(config.dns.nsid.empty());
  CHECK(config.log_level == LogLevel::info);
  CHECK(config.geoip.database.empty());

  REQUIRE(config.zones.size() == 1);
  const ZoneConfig& zone = config.zones[0];
  CHECK(zone.origin.equals(name("example.test.")));
  CHECK(zone.default_ttl_s == 3600);
  REQUIRE(zone.soa.has_value());
  CHECK(zone.soa->mname.equals(name("ns1.example.test.")));
  CHECK(zone.soa->rname.equals(name("hostmaster.example.test.")));
  CHECK(zone.soa->serial == 1);
  CHECK(zone.soa->refresh_s == 3600);
  CHECK(zone.soa->retry_s == 600);
  CHECK(zone.soa->expire_s == 604800);
  CHECK(zone.soa->minimum_s == 300);
  CHECK(zone.soa->ttl_s == 3600);
  REQUIRE(zone.ns.size() == 1);
  CHECK(zone.ns[0].name.equals(name("ns1.example.test.")));
  CHECK(zone.ns[0].source.to_string() == "test.yaml:8:10: zones[0].ns[0]");
  REQUIRE(zone.records.size() == 2);
  CHECK(zone.records[1].record.owner.equals(name("mail.example.test.")));
  CHECK(zone.records[1].record.ttl == 3600);
  CHECK(zone.records[1].source.to_string() == "test.yaml:11:9: zones[0].records[1]");

  REQUIRE(zone.services.size() == 1);
  const ServiceConfig& www = zone.services[0];
  CHECK(www.name.equals(name("www.example.test.")));
  CHECK(www.ttl_s == 30);
  CHECK(www.spec.policy == geo::Policy::closest);
  CHECK(www.spec.answer_count == 1);
  CHECK(www.default_sites == std::vector<std::uint32_t>{0, 1});
  // The second endpoint's two addresses become two endpoints of its site.
  REQUIRE(www.spec.endpoints.size() == 3);
  CHECK(www.spec.endpoints[0].address == ip("192.0.2.10"));
  CHECK(www.spec.endpoints[0].site == 0);
  CHECK(www.spec.endpoints[1].address == ip("192.0.2.20"));
  CHECK(www.spec.endpoints[2].address == ip("2001:db8::20"));
  CHECK(www.spec.endpoints[2].site == 1);
  CHECK(www.spec.endpoints[2].weight == 100);
}

TEST_CASE("config: every optional setting is read", "[main]") {
  std::string text = with("node: { id: n1, site: eu-west }",
                          R"(node: { id: fra-1.a_b, site: eu-west, data_dir: state }
dns:
  listen: ["192.0.2.1:5300", "[2001:db8::1]:53"]
  threads: 4
  udp_payload: 4096
  tcp_idle_timeout: 500ms
  tcp_max_connections: 100000
  tcp_max_connections_per_client: 8
  max_tcp_queries_per_connection: 1
  nsid: fra-1
log: { level: debug }
geoip: { database: ../geo/city.mmdb })");
  text = with("    soa: { mname: ns1, rname: hostmaster }", R"(    ttl: 1h
    soa: { mname: ns1.example.test., rname: host\.master, serial: 4294967295, refresh: 2h,
           retry: 5m, expire: 7d, minimum: 60, ttl: 120 })",
              text);
  text = with("        endpoints:", R"(        ttl: 1m
        policy: closest
        answer_count: 8
        default_sites: [eu-west]
        endpoints:)",
              text);
  text = with("site: us-west }", "site: us-west, weight: 65535 }", text);

  auto loaded = parse(text, "/etc/meridian");
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded.ok());
  const Config& config = *loaded;
  CHECK(config.node.id == "fra-1.a_b");
  CHECK(config.node.data_dir == "/etc/meridian/state");
  REQUIRE(config.dns.listen.size() == 2);
  CHECK(config.dns.listen[0].to_string() == "192.0.2.1:5300");
  CHECK(config.dns.listen[1].to_string() == "[2001:db8::1]:53");
  CHECK(config.dns.threads == 4);
  CHECK(config.dns.udp_payload == 4096);
  CHECK(config.dns.tcp_idle_timeout == std::chrono::milliseconds(500));
  CHECK(config.dns.tcp_max_connections == 100000);
  CHECK(config.dns.tcp_max_connections_per_client == 8);
  CHECK(config.dns.max_tcp_queries_per_connection == 1);
  CHECK(config.dns.nsid == "fra-1");
  CHECK(config.log_level == LogLevel::debug);
  CHECK(config.geoip.database == "/etc/geo/city.mmdb");

  const ZoneConfig& zone = config.zones[0];
  CHECK(zone.default_ttl_s == 3600);
  CHECK(zone.records[0].record.ttl == 3600);
  CHECK(zone.soa->rname.to_text() == "host\\.master.example.test.");
  CHECK(zone.soa->serial == 4294967295u);
  CHECK(zone.soa->refresh_s == 7200);
  CHECK(zone.soa->retry_s == 300);
  CHECK(zone.soa->expire_s == 604800);
  CHECK(zone.soa->minimum_s == 60);
  CHECK(zone.soa->ttl_s == 120);

  const ServiceConfig& www = zone.services[0];
  CHECK(www.ttl_s == 60);
  CHECK(www.spec.answer_count == 8);
  // A partial default_sites is completed with the other sites in order.
  CHECK(www.default_sites == std::vector<std::uint32_t>{1, 0});
  CHECK(www.spec.endpoints[0].weight == 65535);
  CHECK(www.spec.endpoints[1].weight == 100);
}

TEST_CASE("config: small conveniences: threads auto, one listen string, absolute services",
          "[main]") {
  std::string text =
      with("node: { id: n1, site: eu-west }",
           "node: { id: n1, site: eu-west }\ndns: { listen: \"[::1]:5300\", threads: auto }");
  text = with("      www:", "      www.example.test.:", text);
  text = with("  - origin: example.test.", "  - origin: Example.TEST", text);
  auto loaded = parse(text);
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded.ok());
  REQUIRE(loaded->dns.listen.size() == 1);
  CHECK(loaded->dns.listen[0].to_string() == "[::1]:5300");
  CHECK(loaded->dns.threads == 0);
  // A relative origin is taken as absolute; case is kept.
  CHECK(loaded->zones[0].origin.to_text() == "Example.TEST.");
  CHECK(loaded->zones[0].services[0].name.equals(name("www.example.test.")));
}

TEST_CASE("config: a zone file supplies records, SOA and NS", "[main]") {
  meridian::test::ScratchDir dir("zonefile");
  dir.write("example.test.zone", R"($TTL 600
@ IN SOA ns1 hostmaster 7 3600 600 604800 300
@ IN NS ns1
ns1 IN A 192.0.2.1
ftp IN CNAME www
)");
  std::string text = with(R"(    soa: { mname: ns1, rname: hostmaster }
    ns: [ns1]
    records:
      - "ns1 IN A 192.0.2.1"
      - "mail IN A 192.0.2.2"
)",
                          "    file: example.test.zone\n    records: [\"mail IN A 192.0.2.2\"]\n");
  auto loaded = parse(text, dir.path());
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded.ok());
  const ZoneConfig& zone = loaded->zones[0];
  CHECK_FALSE(zone.soa.has_value());
  CHECK(zone.ns.empty());
  CHECK(zone.file == dir.path() + "/example.test.zone");
  // Inline records first, then the file's, each with where it came from.
  REQUIRE(zone.records.size() == 5);
  CHECK(zone.records[0].source.to_string() == "test.yaml:8:15: zones[0].records[0]");
  CHECK(zone.records[1].record.type == dns::rrtype::SOA);
  CHECK(zone.records[1].record.ttl == 600);
  CHECK(zone.records[1].source.to_string() == zone.file + ":2");
  CHECK(zone.records[4].source.to_string() == zone.file + ":5");
}

TEST_CASE("config: the demo config loads cleanly", "[main]") {
  const std::string path = MERIDIAN_SOURCE_DIR "/configs/demo/demo.yaml";
  auto loaded = load_config(path);
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded.ok());
  const Config& config = *loaded;
  CHECK(config.node.id == "demo-1");
  REQUIRE(config.sites.size() == 5);
  CHECK(config.sites[config.node.site].name == "eu-west");
  CHECK(config.sites[4].name == "sa-east");
  CHECK(config.sites[4].latitude_deg == Approx(-23.55));
  REQUIRE(config.dns.listen.size() == 2);
  CHECK(config.dns.listen[0].to_string() == "127.0.0.1:5300");
  CHECK(config.dns.listen[1].to_string() == "[::1]:5300");
  CHECK(config.dns.threads == 2);
  // Resolved next to the config file, whether or not it was built yet.
  CHECK(config.geoip.database == MERIDIAN_SOURCE_DIR "/configs/demo/demo.mmdb");
  REQUIRE(config.zones.size() == 1);
  REQUIRE(config.zones[0].services.size() == 1);
  const ServiceConfig& www = config.zones[0].services[0];
  CHECK(www.spec.endpoints.size() == 10);
  CHECK(www.default_sites == std::vector<std::uint32_t>{1, 2, 0, 3, 4});
}

TEST_CASE("config: the commented reference example loads cleanly", "[main]") {
  auto loaded = load_config(MERIDIAN_SOURCE_DIR "/configs/examples/single-node.yaml");
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded.ok());
  // It shows every kind of check and endpoint check.
  CHECK(loaded->checks.size() == 4);
  REQUIRE(loaded->overrides.size() == 1);
  const ServiceConfig& www = loaded->zones[0].services[0];
  REQUIRE(www.endpoints.size() == 4);
  CHECK(www.endpoints[0].check->name == "web");
  CHECK_FALSE(www.endpoints[1].check.has_value());
  CHECK(www.endpoints[2].check->name == "web-tls");
  CHECK(www.endpoints[3].check->port == 8080);
  CHECK(www.endpoints[3].probe_address == ip("10.0.0.30"));
}
