// The other layouts the writer and reader handle: GeoLite2-ASN records
// (autonomous_system_number and _organization) and Country records (no
// location), from the build-db tables to lookups, checked with mmdblookup.

#include <catch2/catch.hpp>

#include <fstream>

#include "../geo/test_support.hpp"
#include "geo/geo_index.hpp"
#include "geo/mmdb_reader.hpp"
#include "tools/geoip_csv.hpp"
#include "tools/mmdb_writer.hpp"

namespace meridian::geo {
namespace {

IpAddress ip(const char* text) {
  IpAddress address;
  REQUIRE(IpAddress::parse(text, address));
  return address;
}

std::string write_text(const test::TempDir& dir, const std::string& name, const std::string& text) {
  const auto path = dir.file(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST_CASE("mmdb layouts: an ASN table reads, writes and looks up like GeoLite2-ASN", "[tools]") {
  test::TempDir dir;
  const auto table = write_text(dir, "asn.csv",
                                "# prefix, asn, organization\n"
                                "81.2.0.0/17, 64500, Example Org\n"
                                "81.2.128.0/17\tAS64501\tOther, Inc.\n"
                                "2001:db8::/32, as64502,\n"
                                "65.0.0.0/16, 64500, Example Org\n");
  const auto rows = read_asn_csv(table);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 4);
  CHECK((*rows)[1].asn == 64501);
  CHECK((*rows)[1].asn_organization == "Other, Inc.");
  CHECK((*rows)[2].asn_organization.empty());
  const auto path = dir.file("asn.mmdb");
  REQUIRE(write_mmdb(*rows, path, "Meridian-ASN").ok());
  auto reader = MmdbReader::open(path);
  REQUIRE(reader.ok());
  struct Case {
    const char* address;
    bool found;
    std::uint32_t number;
    const char* organization;
    unsigned prefix_len;
  };
  const Case cases[] = {
      {"81.2.69.1", true, 64500, "Example Org", 17},
      {"81.2.200.1", true, 64501, "Other, Inc.", 17},
      {"2001:db8::1", true, 64502, "", 32},
      {"65.0.1.1", true, 64500, "Example Org", 16},
      {"82.0.0.1", false, 0, "", 7},  // empty 82.0.0.0/7
  };
  for (const Case& c : cases) {
    CAPTURE(c.address);
    const AsnLocated located = (*reader)->locate_asn(ip(c.address));
    CHECK(located.found == c.found);
    CHECK(located.number == c.number);
    CHECK(std::string(located.organization) == c.organization);
    CHECK(unsigned{located.prefix_len} == c.prefix_len);
    // An ASN record has no location.
    CHECK_FALSE((*reader)->locate(ip(c.address)).location.has_coordinates);
  }
  const auto lookup = test::run_command("mmdblookup --file '" + path + "' --ip 81.2.69.1");
  CHECK(lookup.status == 0);
  CHECK_THAT(lookup.output, Catch::Contains("\"autonomous_system_number\""));
  CHECK_THAT(lookup.output, Catch::Contains("64500 <uint32>"));
  CHECK_THAT(lookup.output, Catch::Contains("\"Example Org\" <utf8_string>"));
  // A GeoIndex answers ASNs from its ASN database only.
  const GeoIndex index(nullptr, std::shared_ptr<const Locator>(std::move(reader).value()));
  CHECK(index.locate_asn(ip("81.2.69.1")).number == 64500);
  CHECK_FALSE(index.locate(ip("81.2.69.1")).found);
  CHECK(index.build_trie() == nullptr);
}

TEST_CASE("mmdb layouts: ASN table errors name file:line", "[tools]") {
  struct Case {
    const char* line;
    const char* expected;
  };
  const Case cases[] = {
      {"81.2.0.0/17", "expected prefix, asn, organization"},
      {"81.2.0.1/17, 64500, X", "bad prefix '81.2.0.1/17'"},
      {"81.2.0.0/17, 0, X", "bad asn '0'"},
      {"81.2.0.0/17, 4294967295, X", "bad asn '4294967295'"},
      {"81.2.0.0/17, ASX, X", "bad asn 'ASX'"},
      {"81.2.0.0/17, , X", "bad asn ''"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    test::TempDir dir;
    const auto path = write_text(dir, "bad.csv", std::string("# header\n") + c.line + "\n");
    const auto rows = read_asn_csv(path);
    REQUIRE_FALSE(rows.ok());
    CHECK_THAT(rows.error().message, Catch::StartsWith(path + ":2: "));
    CHECK_THAT(rows.error().message, Catch::Contains(c.expected));
  }
}

TEST_CASE("mmdb layouts: rows without coordinates write Country records", "[tools]") {
  test::TempDir dir;
  const auto table = write_text(dir, "country.csv",
                                "89.160.0.0/16,,,SE,EU\n"
                                "81.2.69.0/24,51.5142,-0.0931,GB,EU\n"
                                "2a02:1000::/24,,,FR,EU\n");
  const auto rows = read_geoip_csv(table);
  REQUIRE(rows.ok());
  CHECK_FALSE((*rows)[0].has_coordinates);
  CHECK((*rows)[1].has_coordinates);
  const auto path = dir.file("country.mmdb");
  REQUIRE(write_mmdb(*rows, path).ok());
  auto reader = MmdbReader::open(path);
  REQUIRE(reader.ok());
  const Located sweden = (*reader)->locate(ip("89.160.20.1"));
  CHECK(sweden.found);
  CHECK_FALSE(sweden.location.has_coordinates);
  CHECK(sweden.location.country.data() == std::string("SE"));
  CHECK((*reader)->locate(ip("81.2.69.1")).location.has_coordinates);
  const auto lookup = test::run_command("mmdblookup --file '" + path + "' --ip 89.160.20.1");
  CHECK(lookup.status == 0);
  CHECK_THAT(lookup.output, Catch::Contains("\"SE\" <utf8_string>"));
  CHECK_THAT(lookup.output, !Catch::Contains("location"));
  // Half a coordinate pair is an error.
  const auto bad = write_text(dir, "half.csv", "89.160.0.0/16,,18.6,SE,EU\n");
  const auto half = read_geoip_csv(bad);
  REQUIRE_FALSE(half.ok());
  CHECK_THAT(half.error().message, Catch::Contains("bad latitude ''"));
}

}  // namespace
}  // namespace meridian::geo
