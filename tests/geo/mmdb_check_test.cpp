// MmdbReader::check and open(path, kind): the databases a node refuses to
// serve from (corrupt files, databases of the wrong kind), named in the
// error with libmaxminddb's reason or with the kind found and expected.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "geo/mmdb_reader.hpp"
#include "test_support.hpp"
#include "tools/mmdb_writer.hpp"

namespace meridian::geo {
namespace {

NetworkLocation city_row(const char* prefix, double latitude, const char* country) {
  NetworkLocation row;
  REQUIRE(IpNetwork::parse(prefix, row.network));
  row.latitude_deg = latitude;
  row.longitude_deg = -0.1;
  row.country = country;
  row.continent = "EU";
  return row;
}

NetworkLocation asn_row(const char* prefix, std::uint32_t asn) {
  NetworkLocation row;
  REQUIRE(IpNetwork::parse(prefix, row.network));
  row.has_coordinates = false;
  row.asn = asn;
  row.asn_organization = "Example Networks";
  return row;
}

std::vector<NetworkLocation> city_rows() {
  return {city_row("81.2.69.0/24", 51.5, "GB"), city_row("2001:218::/32", 35.6, "JP"),
          city_row("192.0.2.0/24", 48.8, "FR")};
}

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
}

// Where the metadata starts (its marker), which MMDB_open needs intact.
std::size_t metadata_start(const std::vector<char>& bytes) {
  static const std::string kMarker = "\xAB\xCD\xEFMaxMind.com";
  const auto at = std::search(bytes.begin(), bytes.end(), kMarker.begin(), kMarker.end());
  REQUIRE(at != bytes.end());
  return static_cast<std::size_t>(at - bytes.begin());
}

TEST_CASE("mmdb_check: databases of the expected kind pass", "[geo]") {
  test::TempDir dir;
  const auto city = dir.file("city.mmdb");
  const auto asn = dir.file("asn.mmdb");
  REQUIRE(write_mmdb(city_rows(), city, "GeoLite2-City").ok());
  REQUIRE(write_mmdb({asn_row("81.2.69.0/24", 64500)}, asn, "GeoLite2-ASN").ok());
  auto location = MmdbReader::open(city, DatabaseKind::location);
  REQUIRE(location.ok());
  CHECK(location.value()->database_type() == "GeoLite2-City");
  CHECK(location.value()->locate(IpAddress::v4(81, 2, 69, 1)).found);
  auto asns = MmdbReader::open(asn, DatabaseKind::asn);
  REQUIRE(asns.ok());
  CHECK(asns.value()->locate_asn(IpAddress::v4(81, 2, 69, 1)).number == 64500);
  // A Country layout (no coordinates) is a location database too.
  auto country = city_row("81.2.69.0/24", 0, "GB");
  country.has_coordinates = false;
  REQUIRE(write_mmdb({country}, dir.file("country.mmdb"), "GeoLite2-Country").ok());
  CHECK(MmdbReader::open(dir.file("country.mmdb"), DatabaseKind::location).ok());
}

TEST_CASE("mmdb_check: an ASN database given for locations names both kinds", "[geo]") {
  test::TempDir dir;
  const auto path = dir.file("asn.mmdb");
  REQUIRE(write_mmdb({asn_row("81.2.69.0/24", 64500), asn_row("10.0.0.0/8", 64501)}, path,
                     "GeoLite2-ASN")
              .ok());
  const auto reader = MmdbReader::open(path, DatabaseKind::location);
  REQUIRE_FALSE(reader.ok());
  CHECK_THAT(reader.error().message, Catch::Contains(path) &&
                                         Catch::Contains("is an ASN database") &&
                                         Catch::Contains("\"GeoLite2-ASN\"") &&
                                         Catch::Contains("expected a City or Country database"));
  // The unchecked open still reads it: the check is what refuses it.
  CHECK(MmdbReader::open(path).ok());
}

TEST_CASE("mmdb_check: a City database given for ASNs names both kinds", "[geo]") {
  test::TempDir dir;
  const auto path = dir.file("city.mmdb");
  REQUIRE(write_mmdb(city_rows(), path, "GeoLite2-City").ok());
  const auto reader = MmdbReader::open(path, DatabaseKind::asn);
  REQUIRE_FALSE(reader.ok());
  CHECK_THAT(reader.error().message, Catch::Contains(path) &&
                                         Catch::Contains("is a City or Country database") &&
                                         Catch::Contains("\"GeoLite2-City\"") &&
                                         Catch::Contains("expected an ASN database"));
}

TEST_CASE("mmdb_check: records of neither kind are refused for both keys", "[geo]") {
  test::TempDir dir;
  const auto path = dir.file("empty-records.mmdb");
  NetworkLocation row;  // a record with no field steering reads
  REQUIRE(IpNetwork::parse("81.2.69.0/24", row.network));
  row.has_coordinates = false;
  REQUIRE(write_mmdb({row}, path, "GeoIP2-Anonymous-IP").ok());
  for (const DatabaseKind kind : {DatabaseKind::location, DatabaseKind::asn}) {
    const auto reader = MmdbReader::open(path, kind);
    REQUIRE_FALSE(reader.ok());
    CHECK_THAT(reader.error().message,
               Catch::Contains("neither a location nor") && Catch::Contains("GeoIP2-Anonymous-IP"));
  }
}

TEST_CASE("mmdb_check: a database holding both kinds passes for both keys", "[geo]") {
  test::TempDir dir;
  const auto path = dir.file("both.mmdb");
  REQUIRE(
      write_mmdb({city_row("81.2.69.0/24", 51.5, "GB"), asn_row("10.0.0.0/8", 64500)}, path).ok());
  CHECK(MmdbReader::open(path, DatabaseKind::location).ok());
  CHECK(MmdbReader::open(path, DatabaseKind::asn).ok());
}

TEST_CASE("mmdb_check: a truncated file is refused with libmaxminddb's reason", "[geo]") {
  test::TempDir dir;
  const auto path = dir.file("city.mmdb");
  REQUIRE(write_mmdb(city_rows(), path).ok());
  auto bytes = read_bytes(path);
  bytes.resize(bytes.size() / 2);  // the metadata at the end is gone
  write_bytes(path, bytes);
  const auto reader = MmdbReader::open(path, DatabaseKind::location);
  REQUIRE_FALSE(reader.ok());
  CHECK_THAT(reader.error().message, Catch::Contains(path) && Catch::Contains("metadata"));
}

TEST_CASE("mmdb_check: a data section cut short behind intact metadata is corrupt", "[geo]") {
  test::TempDir dir;
  const auto path = dir.file("city.mmdb");
  REQUIRE(write_mmdb(city_rows(), path).ok());
  auto bytes = read_bytes(path);
  const std::size_t metadata = metadata_start(bytes);
  // Drop the last data bytes before the metadata: MMDB_open still accepts
  // the file, but records now point past the data section or decode short.
  const std::size_t cut = 24;
  REQUIRE(metadata > cut);
  bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(metadata - cut),
              bytes.begin() + static_cast<std::ptrdiff_t>(metadata));
  write_bytes(path, bytes);
  REQUIRE(MmdbReader::open(path).ok());
  const auto reader = MmdbReader::open(path, DatabaseKind::location);
  REQUIRE_FALSE(reader.ok());
  CHECK_THAT(reader.error().message, Catch::Contains(path) && Catch::Contains("is corrupt: "));
}

TEST_CASE("mmdb_check: a search tree overwritten with random bytes is corrupt", "[geo]") {
  test::TempDir dir;
  const auto path = dir.file("city.mmdb");
  REQUIRE(write_mmdb(city_rows(), path).ok());
  auto bytes = read_bytes(path);
  std::mt19937 rng(14);
  // The tree is at the start of the file; 0xff.. records point far past
  // both the tree and the data section.
  for (std::size_t i = 0; i < 64 && i < bytes.size(); ++i)
    bytes[i] = static_cast<char>(0xf0 | (rng() & 0x0f));
  write_bytes(path, bytes);
  const auto reader = MmdbReader::open(path, DatabaseKind::location);
  REQUIRE_FALSE(reader.ok());
  CHECK_THAT(reader.error().message,
             Catch::Contains(path) && Catch::Contains("search tree is corrupt"));
}

TEST_CASE("mmdb_check: a file of random bytes is refused, never read", "[geo]") {
  test::TempDir dir;
  const auto path = dir.file("random.mmdb");
  std::mt19937 rng(9);
  std::vector<char> bytes(4096);
  for (char& byte : bytes) byte = static_cast<char>(rng());
  write_bytes(path, bytes);
  for (const DatabaseKind kind : {DatabaseKind::location, DatabaseKind::asn}) {
    const auto reader = MmdbReader::open(path, kind);
    REQUIRE_FALSE(reader.ok());
    CHECK_THAT(reader.error().message, Catch::Contains(path));
  }
}

}  // namespace
}  // namespace meridian::geo
