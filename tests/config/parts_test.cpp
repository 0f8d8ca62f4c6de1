// Node-local and shared sections (config/config.hpp, config/parts.cpp):
// merging a node's file with a committed version, errors that name the
// text they are in, and the fingerprint of the shared sections.

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "config/config.hpp"
#include "tests/config/test_support.hpp"

using namespace meridian;
using meridian::test::kBaseConfig;
using meridian::test::with;

namespace {

// A node's file: its own sections and, as every node file must, shared ones.
const std::string kNodeFile = R"(node: { id: n1, site: eu-west }
dns: { listen: ["127.0.0.1:5353"], threads: 1 }
sites:
  us-west: { lat: 47.61, lon: -122.33 }
  eu-west: { lat: 51.51, lon: -0.13 }
zones:
  - origin: example.test.
    soa: { mname: ns1, rname: hostmaster }
    ns: [ns1]
    records: ["ns1 IN A 192.0.2.1"]
)";

// A committed version: shared sections only. Line numbers matter.
const std::string kShared = R"(sites:
  us-west: { lat: 47.61, lon: -122.33 }
  eu-west: { lat: 51.51, lon: -0.13 }
zones:
  - origin: example.test.
    soa: { mname: ns1, rname: hostmaster }
    ns: [ns1]
    records: ["ns1 IN A 192.0.2.1", "new IN A 192.0.2.99"]
    services:
      www:
        endpoints:
          - { address: 192.0.2.50, site: us-west }
)";

Result<Config> merged(const std::string& node_file, const std::string& shared,
                      const std::string& base_dir = "") {
  return parse_config_parts(ConfigText{node_file, "node.yaml"}, ConfigText{shared, "<version 7>"},
                            base_dir);
}

std::string fingerprint(const std::string& text) {
  auto result = shared_fingerprint(text);
  REQUIRE(result.ok());
  return *result;
}

}  // namespace

TEST_CASE("config parts: every top-level section is either node-local or shared",
          "[main][config_parts]") {
  std::set<std::string_view> all;
  for (auto section : kNodeSections) all.insert(section);
  for (auto section : kSharedSections) CHECK(all.insert(section).second);
  CHECK(all.size() == 12);
  // Every one of them is a key the loader knows (an unknown key is an error).
  for (auto section : all) {
    const std::string text = kBaseConfig + std::string(section) + ":\n";
    const std::string errors = meridian::test::errors_of(text);
    CHECK_THAT(errors, !Catch::Contains("unknown") && !Catch::Contains("did you mean"));
  }
}

TEST_CASE("config parts: node-local sections from the file, shared ones from the version",
          "[main][config_parts]") {
  // The version's own node-local sections are ignored.
  auto config =
      merged(kNodeFile, "node: { id: other, site: us-west }\ndns: { threads: 7 }\n" + kShared);
  REQUIRE(config.ok());
  CHECK(config->node.id == "n1");
  CHECK(config->sites[config->node.site].name == "eu-west");
  REQUIRE(config->dns.listen.size() == 1);
  CHECK(config->dns.listen[0].to_string() == "127.0.0.1:5353");
  CHECK(config->dns.threads == 1);
  REQUIRE(config->zones.size() == 1);
  CHECK(config->zones[0].records.size() == 2);  // the version's records, not the file's one
  REQUIRE(config->zones[0].services.size() == 1);
  CHECK(config->zones[0].services[0].spec.endpoints[0].address.to_string() == "192.0.2.50");
}

TEST_CASE("config parts: errors name the text they are in", "[main][config_parts]") {
  SECTION("a bad value in the version") {
    auto config = merged(kNodeFile, with("site: us-west }", "site: mars }", kShared));
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.error().message,
               Catch::StartsWith("<version 7>:12:42: zones[0].services.www.endpoints[0].site: "));
    CHECK_THAT(config.error().message, !Catch::Contains("node.yaml"));
  }
  SECTION("the node's site is gone from the version") {
    auto config = merged(kNodeFile, with("  eu-west: { lat: 51.51, lon: -0.13 }\n", "", kShared));
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.error().message, Catch::StartsWith("node.yaml:1:23: node.site: "));
  }
  SECTION("both at once: the file's first") {
    auto config = merged(with("threads: 1", "threads: 0", kNodeFile),
                         with("192.0.2.50", "192.0.2.500", kShared));
    REQUIRE_FALSE(config.ok());
    const std::string& message = config.error().message;
    CHECK_THAT(message, Catch::StartsWith("node.yaml:2:"));
    CHECK_THAT(message, Catch::Contains("\n<version 7>:12:"));
  }
  SECTION("a version without zones") {
    auto config = merged(kNodeFile, "sites: { eu-west: { lat: 1, lon: 2 } }\n");
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.error().message,
               Catch::StartsWith("<version 7>:1:1: ") && Catch::Contains("zones"));
  }
  SECTION("unknown sections are errors in the version too") {
    auto config = merged(kNodeFile, "zonez: []\n" + kShared);
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.error().message,
               Catch::StartsWith("<version 7>:1:1: ") && Catch::Contains("zones"));
  }
  SECTION("YAML syntax") {
    auto config = merged(kNodeFile, "sites: [\n");
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.error().message,
               Catch::StartsWith("<version 7>:") && Catch::Contains("YAML syntax error"));
  }
}

TEST_CASE("config parts: relative paths resolve against the node's directory",
          "[main][config_parts]") {
  meridian::test::ScratchDir dir("config-parts");
  dir.write("extra.zone", "$ORIGIN example.test.\nextra 300 IN A 192.0.2.77\n");
  const std::string ns = "    ns: [ns1]\n";
  auto config = merged(kNodeFile, with(ns, ns + "    file: extra.zone\n", kShared), dir.path());
  REQUIRE(config.ok());
  CHECK(config->zones[0].file == dir.path() + "/extra.zone");
  // Missing on this node: an error naming the file where this node looked.
  auto missing = merged(kNodeFile, with(ns, ns + "    file: gone.zone\n", kShared), dir.path());
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message, Catch::StartsWith(dir.path() + "/gone.zone: cannot open"));
}

TEST_CASE("config parts: a single file still parses as one", "[main][config_parts]") {
  // The two-part reader with the same text on both sides agrees with parse_config.
  auto single = parse_config(kNodeFile, "node.yaml", "");
  auto both = merged(kNodeFile, kNodeFile);
  REQUIRE(single.ok());
  REQUIRE(both.ok());
  CHECK(single->node.id == both->node.id);
  CHECK(single->zones[0].records.size() == both->zones[0].records.size());
}

TEST_CASE("config fingerprint: formatting, comments and node sections do not count",
          "[main][config_parts]") {
  const std::string base = fingerprint(kShared);
  CHECK(base.size() == 16);
  CHECK(std::all_of(base.begin(), base.end(),
                    [](char c) { return std::isxdigit(c) && !std::isupper(c); }));
  // Comments, quoting, flow vs block style, section order.
  CHECK(fingerprint("# the service\n" + with("lat: 47.61", "lat: \"47.61\"", kShared)) == base);
  CHECK(fingerprint(with("  us-west: { lat: 47.61, lon: -122.33 }\n",
                         "  us-west:\n    lat: 47.61\n    lon: -122.33\n", kShared)) == base);
  const auto zones_at = kShared.find("zones:");
  CHECK(fingerprint(kShared.substr(zones_at) + kShared.substr(0, zones_at)) == base);
  // A node's whole file: its node-local sections do not count.
  CHECK(fingerprint("node: { id: n9, site: eu-west }\nadmin: { listen: \"127.0.0.1:9\" }\n" +
                    kShared) == base);
}

TEST_CASE("config fingerprint: any change of the service counts", "[main][config_parts]") {
  const std::string base = fingerprint(kShared);
  CHECK(fingerprint(with("192.0.2.50", "192.0.2.51", kShared)) != base);
  // Order inside a section matters (sites are ordered).
  CHECK(fingerprint(
            with("  us-west: { lat: 47.61, lon: -122.33 }\n  eu-west: { lat: 51.51, lon: -0.13 }\n",
                 "  eu-west: { lat: 51.51, lon: -0.13 }\n  us-west: { lat: 47.61, lon: -122.33 }\n",
                 kShared)) != base);
  CHECK(fingerprint(kShared + "health: { unknown: down }\n") != base);
  CHECK(fingerprint(kShared + "overrides: []\n") != base);
  // A value that is null is not the same as an empty string.
  CHECK(fingerprint("sites:\nzones: ''\n") != fingerprint("sites:\nzones:\n"));
  // Without shared sections at all.
  CHECK(fingerprint("node: { id: a }\n") == fingerprint("node: { id: b }\n"));
}

TEST_CASE("config fingerprint: errors", "[main][config_parts]") {
  CHECK_FALSE(shared_fingerprint("sites: [\n").ok());
  CHECK_THAT(shared_fingerprint("- a\n- b\n").error().message, Catch::Contains("not a map"));
  // Nesting beyond the limit.
  std::string deep = "sites: ";
  for (int i = 0; i < 70; ++i) deep += "[";
  for (int i = 0; i < 70; ++i) deep += "]";
  CHECK_THAT(shared_fingerprint(deep).error().message, Catch::Contains("deeper than 64"));
  // An alias bomb expands beyond the limit instead of hashing for ever.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x]\n";
  char previous = 'a';
  for (char name = 'b'; name <= 'j'; ++name, ++previous) {
    bomb += std::string(1, name) + ": &" + name + " [";
    for (int i = 0; i < 16; ++i) bomb += std::string(i ? ", *" : "*") + previous;
    bomb += "]\n";
  }
  bomb += "zones: *j\n";
  CHECK_THAT(shared_fingerprint(bomb).error().message, Catch::Contains("larger than"));
}

TEST_CASE("config parts: the node-local sections a text has", "[main][config_parts]") {
  CHECK(node_sections_in(kShared).empty());
  CHECK(node_sections_in("cluster: {}\nnode: {}\n" + kShared) ==
        std::vector<std::string>{"node", "cluster"});
  CHECK(node_sections_in("[").empty());
}
