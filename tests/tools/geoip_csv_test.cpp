#include <catch2/catch.hpp>

#include <fstream>

#include "../geo/test_support.hpp"
#include "tools/geoip_csv.hpp"

namespace meridian::geo {
namespace {

std::string write_text(const test::TempDir& dir, const std::string& name, const std::string& text) {
  const auto path = dir.file(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

IpNetwork net(const char* text) {
  IpNetwork network;
  REQUIRE(IpNetwork::parse(text, network));
  return network;
}

TEST_CASE("geoip_csv: reads CSV and TSV rows, skipping comments and blank lines", "[tools]") {
  test::TempDir dir;
  const auto path = write_text(dir, "t.csv",
                               "# prefix,latitude,longitude,country,continent\n"
                               "\n"
                               "81.2.69.0/24,51.5142,-0.0931,GB,EU\n"
                               "  # indented comment\n"
                               "2001:218::/32\t35.685\t139.7514\tJP\tAS\r\n"
                               " 10.0.0.0/8 , -1.5 , 2e1 \n"
                               "192.0.2.7,0,0,,EU\n");
  const auto rows = read_geoip_csv(path);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 4);
  const auto& r = *rows;
  CHECK(r[0].network == net("81.2.69.0/24"));
  CHECK(r[0].latitude_deg == 51.5142);
  CHECK(r[0].longitude_deg == -0.0931);
  CHECK(r[0].country == "GB");
  CHECK(r[0].continent == "EU");
  CHECK(r[1].network == net("2001:218::/32"));
  CHECK(r[1].longitude_deg == 139.7514);
  CHECK(r[1].continent == "AS");
  CHECK(r[2].network == net("10.0.0.0/8"));
  CHECK(r[2].latitude_deg == -1.5);
  CHECK(r[2].longitude_deg == 20);
  CHECK(r[2].country.empty());
  CHECK(r[2].continent.empty());
  CHECK(r[3].network == net("192.0.2.7/32"));
  CHECK(r[3].country.empty());
  CHECK(r[3].continent == "EU");
}

TEST_CASE("geoip_csv: errors name file:line and the bad field", "[tools]") {
  struct Case {
    const char* line;
    const char* expected;
  };
  const Case cases[] = {
      {"10.0.0.1/8,1,2,GB,EU", "bad prefix '10.0.0.1/8'"},
      {"10.0.0.0/33,1,2,GB,EU", "bad prefix '10.0.0.0/33'"},
      {"nonsense,1,2,GB,EU", "bad prefix 'nonsense'"},
      {"10.0.0.0/8,91,2,GB,EU", "bad latitude '91'"},
      {"10.0.0.0/8,north,2,GB,EU", "bad latitude 'north'"},
      {"10.0.0.0/8,1,-180.5,GB,EU", "bad longitude '-180.5'"},
      {"10.0.0.0/8,1,2x,GB,EU", "bad longitude '2x'"},
      {"10.0.0.0/8,1,nan,GB,EU", "bad longitude 'nan'"},
      {"10.0.0.0/8,1,2,gb,EU", "bad country 'gb'"},
      {"10.0.0.0/8,1,2,GBR,EU", "bad country 'GBR'"},
      {"10.0.0.0/8,1,2,GB,XX", "bad continent 'XX'"},
      {"10.0.0.0/8,1,2,GB,EU,CA,extra", "more than 6 fields"},
      {"10.0.0.0/8,1,2,US,NA,ca", "bad subdivision 'ca'"},
      {"10.0.0.0/8,1,2,,NA,CA", "a subdivision needs its country"},
      {"10.0.0.0/8,1", "expected at least prefix, latitude, longitude"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.line);
    test::TempDir dir;
    const auto path = write_text(
        dir, "bad.csv", std::string("# header\n81.2.69.0/24,51.5,-0.1,GB,EU\n") + c.line + "\n");
    const auto rows = read_geoip_csv(path);
    REQUIRE_FALSE(rows.ok());
    CHECK_THAT(rows.error().message,
               Catch::StartsWith(path + ":3: ") && Catch::Contains(c.expected));
  }
}

TEST_CASE("geoip_csv: a duplicate network names both lines", "[tools]") {
  test::TempDir dir;
  const auto path = write_text(dir, "dup.csv",
                               "81.2.69.0/24,1,2,GB,EU\n10.0.0.0/8,1,2\n81.2.69.0/24,3,4,GB,EU\n");
  const auto rows = read_geoip_csv(path);
  REQUIRE_FALSE(rows.ok());
  CHECK(rows.error().message == path + ":3: duplicate network 81.2.69.0/24 (first on line 1)");
}

TEST_CASE("geoip_csv: a missing file is an error naming it", "[tools]") {
  test::TempDir dir;
  const auto rows = read_geoip_csv(dir.file("absent.csv"));
  REQUIRE_FALSE(rows.ok());
  CHECK_THAT(rows.error().message,
             Catch::Contains(dir.file("absent.csv")) && Catch::Contains("No such file"));
}

TEST_CASE("geoip_csv: an over-long line is rejected", "[tools]") {
  test::TempDir dir;
  const auto path =
      write_text(dir, "long.csv", "10.0.0.0/8,1,2,GB,EU" + std::string(5000, ' ') + "\n");
  const auto rows = read_geoip_csv(path);
  REQUIRE_FALSE(rows.ok());
  CHECK_THAT(rows.error().message, Catch::StartsWith(path + ":1: line longer than"));
}

}  // namespace
}  // namespace meridian::geo
