// MmdbReader reads a private copy of its database: a file truncated or
// overwritten in place under an open reader (as `cp NEW OLD` does) changes
// none of its answers and cannot crash it (SIGBUS on a mapped page that
// vanished), and the reader maps its sealed copy, never the file.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "geo/location_trie.hpp"
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

NetworkLocation asn_row(const char* prefix, std::uint32_t asn, const char* organization) {
  NetworkLocation row;
  REQUIRE(IpNetwork::parse(prefix, row.network));
  row.has_coordinates = false;
  row.asn = asn;
  row.asn_organization = organization;
  return row;
}

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// What `cp FROM TO` does to an existing TO: truncate it, then write the
// new bytes into the same inode.
void overwrite_in_place(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
  REQUIRE(std::filesystem::file_size(path) == bytes.size());
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t open_descriptors() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    ++count;
  return count;
}

void check_city(const MmdbReader& reader) {
  const Located london = reader.locate(IpAddress::v4(81, 2, 69, 1));
  CHECK(london.found);
  CHECK(london.prefix_len == 24);
  CHECK(london.location.latitude_deg == 51.5);
  CHECK(std::string(london.location.country.data()) == "GB");
  const Located paris = reader.locate(IpAddress::v4(192, 0, 2, 7));
  CHECK(paris.found);
  CHECK(std::string(paris.location.country.data()) == "FR");
  CHECK_FALSE(reader.locate(IpAddress::v4(10, 0, 0, 1)).found);
}

void check_asn(const MmdbReader& reader) {
  const AsnLocated asn = reader.locate_asn(IpAddress::v4(81, 2, 69, 1));
  CHECK(asn.found);
  CHECK(asn.number == 64500);
  CHECK(asn.organization == "Example Networks");
}

TEST_CASE("mmdb_replace: a database truncated or overwritten in place answers as before", "[geo]") {
  test::TempDir dir;
  const auto city = dir.file("city.mmdb");
  const auto asn = dir.file("asn.mmdb");
  const auto other = dir.file("other.mmdb");
  REQUIRE(write_mmdb({city_row("81.2.69.0/24", 51.5, "GB"), city_row("192.0.2.0/24", 48.8, "FR")},
                     city, "GeoLite2-City")
              .ok());
  REQUIRE(
      write_mmdb({asn_row("81.2.69.0/24", 64500, "Example Networks")}, asn, "GeoLite2-ASN").ok());
  // A different database of more networks, written over both in place.
  std::vector<NetworkLocation> rows;
  for (int i = 0; i < 200; ++i) {
    const std::string prefix = "10." + std::to_string(i) + ".0.0/16";
    rows.push_back(city_row(prefix.c_str(), 10 + i * 0.1, "DE"));
  }
  rows.push_back(city_row("81.2.69.0/24", -33.9, "AU"));
  REQUIRE(write_mmdb(rows, other, "GeoLite2-City").ok());

  auto city_reader = MmdbReader::open(city, DatabaseKind::location);
  REQUIRE(city_reader.ok());
  auto asn_reader = MmdbReader::open(asn, DatabaseKind::asn);
  REQUIRE(asn_reader.ok());
  check_city(*city_reader.value());
  check_asn(*asn_reader.value());

  SECTION("truncated to 0 bytes") {
    std::filesystem::resize_file(city, 0);
    std::filesystem::resize_file(asn, 0);
    CHECK(std::filesystem::file_size(city) + std::filesystem::file_size(asn) == 0);
  }
  SECTION("overwritten with another database") {
    overwrite_in_place(city, read_bytes(other));
    overwrite_in_place(asn, read_bytes(other));
  }
  SECTION("overwritten with garbage, shorter then longer") {
    overwrite_in_place(city, std::vector<char>(100, '\xff'));
    overwrite_in_place(asn, std::vector<char>(100, '\0'));
    overwrite_in_place(city, std::vector<char>(1 << 20, '\x5a'));
    overwrite_in_place(asn, std::vector<char>(1 << 20, '\x7f'));
  }
  check_city(*city_reader.value());
  check_asn(*asn_reader.value());
  CHECK(city_reader.value()->check(DatabaseKind::location).ok());
  CHECK(city_reader.value()->database_type() == "GeoLite2-City");
  const auto trie = city_reader.value()->build_trie();
  REQUIRE(trie != nullptr);
  CHECK(LocationTrie::is_location(trie->find(IpAddress::v4(81, 2, 69, 1)).ref));

  // A reader opened now reads what the file holds now.
  if (std::filesystem::file_size(city) == read_bytes(other).size()) {
    auto reopened = MmdbReader::open(city, DatabaseKind::location);
    REQUIRE(reopened.ok());
    CHECK(std::string(
              reopened.value()->locate(IpAddress::v4(81, 2, 69, 1)).location.country.data()) ==
          "AU");
  } else {
    CHECK_FALSE(MmdbReader::open(city, DatabaseKind::location).ok());
  }
}

TEST_CASE("mmdb_replace: the reader maps a sealed copy, not the file, and keeps no descriptor",
          "[geo]") {
  test::TempDir dir;
  const auto city = dir.file("mapped.mmdb");
  REQUIRE(write_mmdb({city_row("81.2.69.0/24", 51.5, "GB")}, city).ok());
  const std::size_t before = open_descriptors();
  {
    auto reader = MmdbReader::open(city);
    REQUIRE(reader.ok());
    CHECK(open_descriptors() == before);
    const std::string maps = read_text("/proc/self/maps");
    CHECK(maps.find("mapped.mmdb") == std::string::npos);
    CHECK(maps.find("memfd:meridian-geoip") != std::string::npos);
    CHECK(reader.value()->locate(IpAddress::v4(81, 2, 69, 1)).found);
  }
  CHECK(open_descriptors() == before);
  CHECK(read_text("/proc/self/maps").find("memfd:meridian-geoip") == std::string::npos);
}

TEST_CASE("mmdb_replace: files that cannot be copied are errors naming the path", "[geo]") {
  test::TempDir dir;
  const auto empty = dir.file("empty.mmdb");
  std::ofstream(empty).flush();
  auto reader = MmdbReader::open(empty);
  REQUIRE_FALSE(reader.ok());
  CHECK_THAT(reader.error().message,
             Catch::Equals("cannot open GeoIP database " + empty + ": the file is empty"));

  reader = MmdbReader::open(dir.file(""));
  REQUIRE_FALSE(reader.ok());
  CHECK_THAT(reader.error().message, Catch::Contains("not a regular file"));

  // Larger than the limit (a sparse file: refused before anything is read).
  const auto huge = dir.file("huge.mmdb");
  std::ofstream(huge).flush();
  std::filesystem::resize_file(huge, kMaxDatabaseBytes + 1);
  reader = MmdbReader::open(huge);
  REQUIRE_FALSE(reader.ok());
  CHECK_THAT(reader.error().message, Catch::Contains(huge) && Catch::Contains("2147483649 bytes") &&
                                         Catch::Contains("limit of 2147483648 bytes"));

  // An unreadable file names errno, as libmaxminddb's open did.
  const auto secret = dir.file("secret.mmdb");
  REQUIRE(write_mmdb({city_row("81.2.69.0/24", 51.5, "GB")}, secret).ok());
  std::filesystem::permissions(secret, std::filesystem::perms::none);
  if (::geteuid() != 0) {  // root reads it anyway
    reader = MmdbReader::open(secret);
    REQUIRE_FALSE(reader.ok());
    CHECK_THAT(reader.error().message,
               Catch::Contains(secret) && Catch::Contains("Permission denied"));
  }
}

}  // namespace
}  // namespace meridian::geo
