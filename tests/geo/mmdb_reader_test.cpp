#include <catch2/catch.hpp>

#include <fstream>

#include "geo/mmdb_reader.hpp"
#include "test_support.hpp"
#include "tools/mmdb_writer.hpp"

namespace meridian::geo {
namespace {

TEST_CASE("mmdb_reader: a missing file is an error naming the path", "[geo]") {
  test::TempDir dir;
  const auto path = dir.file("absent.mmdb");
  const auto reader = MmdbReader::open(path);
  REQUIRE_FALSE(reader.ok());
  CHECK_THAT(reader.error().message, Catch::Contains(path) && Catch::Contains("No such file"));
}

TEST_CASE("mmdb_reader: a file that is no MaxMind DB is an error naming the path", "[geo]") {
  test::TempDir dir;
  const auto path = dir.file("bogus.mmdb");
  std::ofstream(path) << "81.2.69.0/24,51.5,-0.1,GB,EU\n";
  const auto reader = MmdbReader::open(path);
  REQUIRE_FALSE(reader.ok());
  CHECK_THAT(reader.error().message, Catch::Contains(path) && Catch::Contains("metadata"));
}

TEST_CASE("mmdb_reader: codes that are not two letters are left empty", "[geo]") {
  test::TempDir dir;
  NetworkLocation row;
  REQUIRE(IpNetwork::parse("81.2.69.0/24", row.network));
  row.latitude_deg = 51.5;
  row.country = "GBR";  // the writer takes it; the reader must not truncate it to "GB"
  row.continent = "E";
  const auto path = dir.file("codes.mmdb");
  REQUIRE(write_mmdb({row}, path).ok());
  const auto reader = MmdbReader::open(path);
  REQUIRE(reader.ok());
  const Located located = reader.value()->locate(IpAddress::v4(81, 2, 69, 1));
  CHECK(located.found);
  CHECK(located.location.has_coordinates);
  CHECK(located.location.country == std::array<char, 3>{});
  CHECK(located.location.continent == std::array<char, 3>{});
}

}  // namespace
}  // namespace meridian::geo
