// The loader's errors: each kind names file:line:column, the key path, what
// was expected and what was found. Most cases mutate one line of the valid
// kBaseConfig (config_test_support.hpp); the line and column asserted are
// those of the mutated text.

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "config/config.hpp"
#include "tests/config/test_support.hpp"

using namespace meridian;
using meridian::test::errors_of;
using meridian::test::kBaseConfig;
using meridian::test::with;

namespace {

struct Case {
  std::string what;
  std::string from;      // text of kBaseConfig to replace
  std::string to;        // its replacement
  std::string expected;  // a substring of the error message
};

const std::string kNodeLine = "node: { id: n1, site: eu-west }";

// clang-format off
const Case kCases[] = {
  // unknown keys
  {"unknown top-level key with a hint", kNodeLine, "dns: { treads: 2 }\nnode: { id: n1, site: eu-west }",
   "test.yaml:1:8: dns.treads: unknown key \"treads\" (did you mean \"threads\"?), expected one of: listen, threads, "
   "udp_payload, tcp_idle_timeout, tcp_max_connections, max_tcp_queries_per_connection, nsid, rrl, "
   "cookies, tcp_max_connections_per_client"},
  {"unknown zone key", "    ns: [ns1]", "    nss: [ns1]",
   "test.yaml:8:5: zones[0].nss: unknown key \"nss\" (did you mean \"ns\"?)"},
  {"unknown section without a close key", kNodeLine, "raft: {}\nnode: { id: n1, site: eu-west }",
   "test.yaml:1:1: raft: unknown key \"raft\", expected one of: node, dns, log, geoip, health, sites, checks, "
   "zones, overrides, cluster, admin"},
  {"unknown endpoint key", "site: us-west }", "site: us-west, wieght: 5 }",
   "test.yaml:15:51: zones[0].services.www.endpoints[0].wieght: unknown key \"wieght\" (did you mean \"weight\"?)"},
  // wrong types
  {"string where a number is expected", "lat: 47.61", "lat: north",
   "test.yaml:3:19: sites.us-west.lat: expected a number from -90 to 90, found \"north\""},
  {"map where a list is expected", "ns: [ns1]", "ns: {name: ns1}",
   "test.yaml:8:9: zones[0].ns: expected a list of name server names (at least 1), found a map"},
  {"list where a map is expected", kNodeLine, "node: [n1, eu-west]",
   "test.yaml:1:7: node: expected a map, found a list"},
  {"empty value where a map is expected", kNodeLine, "node:",
   "test.yaml:1:1: node: expected a map, found nothing"},
  {"number where a list of endpoints is expected", "        endpoints:\n", "        endpoints: 3\n        old:\n",
   "test.yaml:14:20: zones[0].services.www.endpoints: expected a list of endpoints (1 to 1024), found \"3\""},
  {"empty list of name servers", "ns: [ns1]", "ns: []",
   "test.yaml:8:9: zones[0].ns: expected a list of name server names (at least 1), found an empty list"},
  // addresses
  {"bad endpoint address", "192.0.2.10", "192.0.2.300",
   "test.yaml:15:24: zones[0].services.www.endpoints[0].address: expected an IPv4 or IPv6 address, found "
   "\"192.0.2.300\""},
  {"bad address inside an address list", "\"2001:db8::20\"", "\"2001:db8::2g\"",
   "zones[0].services.www.endpoints[1].address[1]: expected an IPv4 or IPv6 address, found \"2001:db8::2g\""},
  {"duplicate address in a service", "192.0.2.20", "192.0.2.10",
   "test.yaml:16:25: zones[0].services.www.endpoints[1].address[0]: duplicate address 192.0.2.10 in this service "
   "(also at zones[0].services.www.endpoints[0].address)"},
  // listen addresses
  {"listen port out of range", kNodeLine, "dns: { listen: [\"127.0.0.1:99999\"] }\n" "node: { id: n1, site: eu-west }",
   "test.yaml:1:17: dns.listen[0]: expected an address:port like \"127.0.0.1:53\" or \"[::1]:53\" (the port must be 1 "
   "to 65535), found \"127.0.0.1:99999\""},
  {"listen IPv6 without brackets", kNodeLine, "dns: { listen: [\"::1:53\"] }\nnode: { id: n1, site: eu-west }",
   "(an IPv6 address needs brackets, as in [::1]:53), found \"::1:53\""},
  {"listen host name", kNodeLine, "dns: { listen: [\"localhost:53\"] }\nnode: { id: n1, site: eu-west }",
   "(\"localhost\" is not an IP address), found \"localhost:53\""},
  {"listen without port", kNodeLine, "dns: { listen: [\"127.0.0.1\"] }\nnode: { id: n1, site: eu-west }",
   "(missing :PORT after the address)"},
  {"duplicate listen address", kNodeLine,
   "dns: { listen: [\"[::1]:53\", \"[0::1]:53\"] }\nnode: { id: n1, site: eu-west }",
   "test.yaml:1:29: dns.listen[1]: duplicate listen address [::1]:53 (also at dns.listen[0])"},
  // unknown sites
  {"unknown node site", "site: eu-west }", "site: eu-centrl }",
   "test.yaml:1:23: node.site: expected one of the sites (us-west, eu-west), found \"eu-centrl\""},
  {"unknown endpoint site", "site: us-west }", "site: us-wset }",
   "test.yaml:15:42: zones[0].services.www.endpoints[0].site: expected one of the sites (us-west, eu-west), found "
   "\"us-wset\""},
  {"unknown default site", "        endpoints:", "        default_sites: [eu-west, mars]\n        endpoints:",
   "test.yaml:14:34: zones[0].services.www.default_sites[1]: expected one of the sites (us-west, eu-west), found "
   "\"mars\""},
  {"default site listed twice", "        endpoints:", "        default_sites: [eu-west, eu-west]\n        endpoints:",
   "test.yaml:14:34: zones[0].services.www.default_sites[1]: site \"eu-west\" is listed twice in default_sites"},
  // records
  {"record outside its zone", "\"mail IN A 192.0.2.2\"", "\"www.other.test. IN A 192.0.2.2\"",
   "test.yaml:11:9: zones[0].records[1]: www.other.test. is outside the zone example.test."},
  {"CNAME beside other data", "\"mail IN A 192.0.2.2\"", "\"ns1 IN CNAME mail\"",
   "test.yaml:11:9: zones[0].records[1]: CNAME beside other data at ns1.example.test."},
  {"unparsable record", "\"mail IN A 192.0.2.2\"", "\"mail IN A 192.0.2\"",
   "test.yaml:11:9: zones[0].records[1]: expected a record in presentation format ("},
  {"unparsable record gives ldns's reason and the text", "\"mail IN A 192.0.2.2\"", "\"mail IN A 192.0.2\"",
   "(Syntax error, could not parse the RR's rdata), found \"mail IN A 192.0.2\""},
  {"record of another class", "\"mail IN A 192.0.2.2\"", "\"mail CH TXT hello\"",
   "test.yaml:11:9: zones[0].records[1]: expected a record in presentation format (class must be IN)"},
  {"SOA record beside soa settings", "\"mail IN A 192.0.2.2\"", "\"@ IN SOA ns1 hostmaster 2 3600 600 604800 300\"",
   "test.yaml:11:9: zones[0].records[1]: SOA record conflicts with zones[0].soa (line 7); keep one of them"},
  {"name server without an address", "ns: [ns1]", "ns: [ns1, ns2]",
   "test.yaml:8:15: zones[0].ns[1]: name server ns2.example.test. is inside the zone but has no A or AAAA record"},
  {"data below a zone cut", "\"mail IN A 192.0.2.2\"", "\"sub IN NS ns.other.\"\n      - \"x.sub IN TXT hi\"",
   "test.yaml:6:5: zones[0]: TXT at x.sub.example.test. is below the zone cut sub.example.test."},
  // services
  {"service name given twice in one map", "    services:\n",
   "    services:\n      www: { endpoints: [ { address: 192.0.2.99, site: us-west } ] }\n",
   "test.yaml:14:7: zones[0].services.www: duplicate key \"www\" (first at line 13)"},
  {"service name given relative and absolute", "    services:\n",
   "    services:\n      www.example.test.: { endpoints: [ { address: 192.0.2.99, site: us-west } ] }\n",
   "test.yaml:14:7: zones[0].services.www: service www.example.test. is defined twice"},
  {"service name equal to a static A owner", "      www:", "      mail:",
   "test.yaml:13:7: zones[0].services.mail: service mail.example.test. clashes with its A record"},
  {"service at the apex", "      www:", "      \"@\":",
   "test.yaml:13:7: zones[0].services[\"@\"]: service example.test. is the zone apex"},
  {"unknown policy", "        endpoints:", "        policy: nearest\n        endpoints:",
   "test.yaml:14:17: zones[0].services.www.policy: expected one of (closest, geo-map, failover, weighted), found \"nearest\""},
  // out-of-range numbers
  {"latitude out of range", "lat: 47.61", "lat: 91",
   "test.yaml:3:19: sites.us-west.lat: expected a number from -90 to 90, found \"91\""},
  {"longitude out of range", "lon: -122.33", "lon: -180.5",
   "sites.us-west.lon: expected a number from -180 to 180, found \"-180.5\""},
  {"udp payload too large", kNodeLine, "dns: { udp_payload: 4097 }\nnode: { id: n1, site: eu-west }",
   "test.yaml:1:21: dns.udp_payload: expected an integer from 512 to 4096, found \"4097\""},
  {"too many threads", kNodeLine, "dns: { threads: 65 }\nnode: { id: n1, site: eu-west }",
   "dns.threads: expected \"auto\" or an integer from 1 to 64, found \"65\""},
  {"idle timeout too long", kNodeLine, "dns: { tcp_idle_timeout: 2h }\nnode: { id: n1, site: eu-west }",
   "dns.tcp_idle_timeout: expected a duration from 100ms to 1h (like 500ms, 10s, 5m, or plain seconds), found \"2h\""},
  {"no TCP connections", kNodeLine, "dns: { tcp_max_connections: 0 }\nnode: { id: n1, site: eu-west }",
   "dns.tcp_max_connections: expected an integer from 1 to 100000, found \"0\""},
  {"no TCP connections per client", kNodeLine,
   "dns: { tcp_max_connections_per_client: 0 }\nnode: { id: n1, site: eu-west }",
   "dns.tcp_max_connections_per_client: expected an integer from 1 to 100000, found \"0\""},
  {"answer count too high", "        endpoints:", "        answer_count: 9\n        endpoints:",
   "zones[0].services.www.answer_count: expected an integer from 1 to 8, found \"9\""},
  {"zero weight", "site: us-west }", "site: us-west, weight: 0 }",
   "zones[0].services.www.endpoints[0].weight: expected an integer from 1 to 65535, found \"0\""},
  {"service ttl too long", "        endpoints:", "        ttl: 2d\n        endpoints:",
   "zones[0].services.www.ttl: expected seconds from 0 to 86400 (an integer or a duration like 1h), found \"2d\""},
  {"negative serial", "rname: hostmaster }", "rname: hostmaster, serial: -1 }",
   "zones[0].soa.serial: expected an integer from 0 to 4294967295, found \"-1\""},
  {"fractional SOA timer", "rname: hostmaster }", "rname: hostmaster, retry: 1500ms }",
   "zones[0].soa.retry: expected seconds from 0 to 2147483647"},
  {"nsid too long", kNodeLine, "dns: { nsid: " + std::string(129, 'x') + " }\nnode: { id: n1, site: eu-west }",
   "dns.nsid: expected an NSID string of 1 to 128 bytes"},
  // names
  {"bad node id", "id: n1", "id: \"n 1\"",
   "test.yaml:1:13: node.id: expected a node id (1 to 63 letters, digits, '.', '_' or '-'), found \"n 1\""},
  {"bad origin", "origin: example.test.", "origin: example..test.",
   "test.yaml:6:13: zones[0].origin: expected an absolute domain name, found \"example..test.\""},
  {"bad NS name", "ns: [ns1]", "ns: [\"a..b\"]",
   "zones[0].ns[0]: expected a domain name (relative to example.test. or absolute), found \"a..b\""},
  {"bad log level", kNodeLine, "log: { level: verbose }\nnode: { id: n1, site: eu-west }",
   "test.yaml:1:15: log.level: expected one of (debug, info, warn, error), found \"verbose\""},
  // missing keys
  {"missing rname", "soa: { mname: ns1, rname: hostmaster }", "soa: { mname: ns1 }",
   "test.yaml:7:10: zones[0].soa: missing required key \"rname\""},
  {"missing node", "node: { id: n1, site: eu-west }\n", "",
   "test.yaml:1:1: missing required key \"node\""},
  {"missing endpoint site", "site: us-west }", "weight: 5 }",
   "test.yaml:15:13: zones[0].services.www.endpoints[0]: missing required key \"site\""},
  {"missing soa without a zone file", "    soa: { mname: ns1, rname: hostmaster }\n", "",
   "test.yaml:6:5: zones[0]: missing required key \"soa\""},
  {"missing geoip database", kNodeLine, "geoip: {}\nnode: { id: n1, site: eu-west }",
   "test.yaml:1:8: geoip: missing required key \"database\""},
  // duplicate zones
  {"duplicate zone origin", "    services:",
   "  - origin: EXAMPLE.test\n    soa: { mname: ns1, rname: hostmaster }\n    ns: [ns1]\n"
   "    records: [\"ns1 IN A 192.0.2.1\"]\n    services:",
   "test.yaml:12:13: zones[1].origin: duplicate zone origin EXAMPLE.test. (also zones[0], line 6)"},
};
// clang-format on

}  // namespace

TEST_CASE("config: each error names file, line, column, path, expected and found", "[main]") {
  for (const Case& c : kCases) {
    SECTION(c.what) {
      const std::string text = with(c.from, c.to);
      INFO(text);
      const std::string message = errors_of(text);
      INFO(message);
      CHECK(message.find(c.expected) != std::string::npos);
    }
  }
}

TEST_CASE("config: unknown key names file, line, column and path", "[main]") {
  const std::string message = errors_of(with("  us-west: { lat: 47.61, lon: -122.33 }",
                                             "  us-west: { lat: 47.61, lon: -122.33, long: 1 }"));
  CHECK(message ==
        "test.yaml:3:40: sites.us-west.long: unknown key \"long\" (did you mean \"lon\"?), "
        "expected one of: lat, lon");
}

TEST_CASE("config: all errors are reported together, one per line", "[main]") {
  std::string text = with("site: eu-west }", "site: nowhere }");
  text = with("lat: 47.61", "lat: x", text);
  text = with("192.0.2.10", "192.0.2.1000", text);
  const std::string message = errors_of(text);
  CHECK(
      message ==
      "test.yaml:3:19: sites.us-west.lat: expected a number from -90 to 90, found \"x\"\n"
      "test.yaml:1:23: node.site: expected one of the sites (us-west, eu-west), found \"nowhere\"\n"
      "test.yaml:15:24: zones[0].services.www.endpoints[0].address: expected an IPv4 or IPv6 "
      "address, found "
      "\"192.0.2.1000\"");
}

TEST_CASE("config: a bad site name stays out of the list of sites", "[main]") {
  // Found by fuzz.config: the name's newline split the node.site error in
  // two, the second line saying nothing of where it was.
  std::string text = with("sites:\n", "sites:\n  \"bad\\nsite\": { lat: 1, lon: 2 }\n");
  text = with("site: eu-west }", "site: nowhere }", text);
  const std::string message = errors_of(text);
  CHECK_THAT(message, Catch::Contains("test.yaml:1:23: node.site: expected one of the sites "
                                      "(us-west, eu-west), found \"nowhere\""));
  std::size_t start = 0;
  while (start < message.size()) {
    CHECK(message.compare(start, 10, "test.yaml:") == 0);
    start = std::min(message.find('\n', start), message.size()) + 1;
  }
}

TEST_CASE("config: errors are capped, the rest counted", "[main]") {
  std::string records;
  for (int i = 0; i < 150; ++i) records += "      - \"r" + std::to_string(i) + " IN A bad\"\n";
  const std::string message = errors_of(with("      - \"mail IN A 192.0.2.2\"\n", records));
  CHECK(std::count(message.begin(), message.end(), '\n') == 100);
  CHECK(message.ends_with("\n... and 50 more errors"));
}

TEST_CASE("config: YAML syntax errors name file, line and column", "[main]") {
  const std::string message = errors_of(with("ns: [ns1]", "ns: [ns1"));
  CHECK(message.starts_with("test.yaml:"));
  CHECK(message.find(": YAML syntax error: ") != std::string::npos);
  CHECK(errors_of("a: b\n c: d\n") == "test.yaml:2:3: YAML syntax error: illegal map value");
}

TEST_CASE("config: an empty file or a second document is rejected", "[main]") {
  CHECK(errors_of("") == "test.yaml:1:1: expected a map, found nothing");
  CHECK(errors_of("# nothing here\n") == "test.yaml:1:1: expected a map, found nothing");
  CHECK(errors_of(kBaseConfig + "---\nnode: {}\n") ==
        "test.yaml:17:1: expected a single YAML document, found more (a second --- or a stray "
        "character)");
}

TEST_CASE("config: a stray comma is an error, not a hang", "[main]") {
  // yaml-cpp 0.7's LoadAll loops forever, allocating, on this input.
  CHECK(errors_of(",\n" + kBaseConfig) ==
        "test.yaml:1:1: expected a single YAML document, found more (a second --- or a stray "
        "character)");
  CHECK(errors_of(with("sites:", ",\nsites:")) ==
        "test.yaml:2:1: YAML syntax error: end of map not found");
}

TEST_CASE("config: zone file errors pass through with the file's own position", "[main]") {
  meridian::test::ScratchDir dir("zonefile-errors");
  const std::string zone_part = "    soa: { mname: ns1, rname: hostmaster }\n";
  SECTION("a syntax error") {
    const std::string path = dir.write("bad.zone", "ok IN A 192.0.2.7\nbad IN A 192.0.2\n");
    const std::string message =
        errors_of(with(zone_part, zone_part + "    file: bad.zone\n"), dir.path());
    CHECK(message.starts_with(path + ":2: "));
  }
  SECTION("a missing file") {
    const std::string message =
        errors_of(with(zone_part, zone_part + "    file: none.zone\n"), dir.path());
    CHECK(message == dir.path() + "/none.zone: cannot open: No such file or directory");
  }
  // ldns read these forever (found writing fuzz.config): an error, not a hang.
  SECTION("a directory") {
    std::filesystem::create_directory(dir.path() + "/zones");
    const std::string message =
        errors_of(with(zone_part, zone_part + "    file: zones\n"), dir.path());
    CHECK(message == dir.path() + "/zones: cannot open: a directory, not a file");
  }
  SECTION("a device") {
    const std::string message =
        errors_of(with(zone_part, zone_part + "    file: /dev/zero\n"), dir.path());
    CHECK(message == "/dev/zero: cannot open: not a regular file");
  }
  SECTION("a path with a line break") {
    // Found by fuzz.config: the path's newline split its error in two.
    const std::string message =
        errors_of(with(zone_part, zone_part + "    file: \"none\\n.zone\"\n"), dir.path());
    CHECK_THAT(message, Catch::Contains("zones[0].file: expected a zone file path on one line, "
                                        "found \"none\\x0a.zone\""));
    CHECK(message.find('\n') == std::string::npos);
  }
  // ldns reads C strings: a NUL read back as another record (fuzz.zone).
  SECTION("a NUL byte") {
    const std::string path =
        dir.write("nul.zone", std::string("ok IN A 192.0.2.7\nb\0ad IN A 192.0.2.8\n", 38));
    const std::string message =
        errors_of(with(zone_part, zone_part + "    file: nul.zone\n"), dir.path());
    CHECK(message == path + ":2: a NUL byte (a zone file is text; write an octet as \\000)");
  }
  SECTION("a zone builder error in the file") {
    const std::string path = dir.write("cname.zone", "; comment\nmail IN CNAME ns1\n");
    const std::string message =
        errors_of(with(zone_part, zone_part + "    file: cname.zone\n"), dir.path());
    CHECK(message == path + ":2: CNAME beside other data at mail.example.test.");
  }
  SECTION("an SOA in the file beside soa settings") {
    const std::string path = dir.write("soa.zone", "@ IN SOA ns1 hostmaster 9 1 1 1 1\n");
    const std::string message =
        errors_of(with(zone_part, zone_part + "    file: soa.zone\n"), dir.path());
    CHECK(message ==
          path + ":1: SOA record conflicts with zones[0].soa (line 7); keep one of them");
  }
}

TEST_CASE("config: load_config reports unreadable files", "[main]") {
  auto loaded = load_config("/nonexistent/meridian.yaml");
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().message ==
        "/nonexistent/meridian.yaml: cannot open: No such file or directory");

  meridian::test::ScratchDir dir("load");
  const std::string path = dir.write("bad.yaml", "node: {\n");
  loaded = load_config(path);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().message.starts_with(path + ":"));
}
