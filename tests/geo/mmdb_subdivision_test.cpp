// Subdivisions (ISO 3166-2, for geo-map) survive the writer and the reader.

#include <catch2/catch.hpp>

#include <string>

#include "geo/mmdb_reader.hpp"
#include "test_support.hpp"
#include "tools/mmdb_writer.hpp"

namespace meridian::geo {
namespace {

TEST_CASE("mmdb: a row's subdivision reads back as location.subdivision", "[geo]") {
  test::TempDir dir;
  std::vector<NetworkLocation> rows(2);
  IpNetwork::parse("64.0.0.0/16", rows[0].network);
  rows[0].latitude_deg = 37.77;
  rows[0].longitude_deg = -122.42;
  rows[0].country = "US";
  rows[0].continent = "NA";
  rows[0].subdivision = "CA";
  IpNetwork::parse("81.2.69.0/24", rows[1].network);
  rows[1].country = "GB";
  const auto path = dir.file("sub.mmdb");
  REQUIRE(write_mmdb(rows, path).ok());
  auto reader = MmdbReader::open(path);
  REQUIRE(reader.ok());
  IpAddress address;
  IpAddress::parse("64.0.1.2", address);
  const Located sf = (*reader)->locate(address);
  REQUIRE(sf.found);
  CHECK(std::string(sf.location.subdivision.data()) == "CA");
  CHECK(std::string(sf.location.country.data()) == "US");
  IpAddress::parse("81.2.69.1", address);
  const Located london = (*reader)->locate(address);
  REQUIRE(london.found);
  CHECK(std::string(london.location.subdivision.data()).empty());
  // mmdblookup, an independent reader, sees the GeoIP2 layout.
  const auto lookup =
      test::run_command("mmdblookup --file " + path + " --ip 64.0.1.2 subdivisions 0 iso_code");
  CHECK_THAT(lookup.output, Catch::Contains("\"CA\""));
}

}  // namespace
}  // namespace meridian::geo
