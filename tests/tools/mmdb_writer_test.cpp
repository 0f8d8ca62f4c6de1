#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "../geo/test_support.hpp"
#include "base/rng.hpp"
#include "geo/mmdb_reader.hpp"
#include "tools/mmdb_writer.hpp"

namespace meridian::geo {
namespace {

NetworkLocation row(const char* network, double latitude, double longitude,
                    const char* country = "", const char* continent = "") {
  NetworkLocation r;
  REQUIRE(IpNetwork::parse(network, r.network));
  r.latitude_deg = latitude;
  r.longitude_deg = longitude;
  r.country = country;
  r.continent = continent;
  return r;
}

IpAddress ip(const char* text) {
  IpAddress address;
  REQUIRE(IpAddress::parse(text, address));
  return address;
}

std::unique_ptr<MmdbReader> write_and_open(const std::vector<NetworkLocation>& rows,
                                           const std::string& path) {
  const auto written = write_mmdb(rows, path);
  INFO((written.ok() ? std::string() : written.error().message));
  REQUIRE(written.ok());
  auto reader = MmdbReader::open(path);
  INFO((reader.ok() ? std::string() : reader.error().message));
  REQUIRE(reader.ok());
  return std::move(reader.value());
}

test::CommandResult mmdblookup(const std::string& file, const std::string& address,
                               const char* extra = "") {
  return test::run_command("mmdblookup --file '" + file + "' --ip " + address + " " + extra);
}

std::string format_double(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%f <double>", value);
  return text;
}

// A mixed table: IPv4 and IPv6, nested networks, and one row without codes.
std::vector<NetworkLocation> sample_rows() {
  return {
      row("81.2.69.0/24", 51.5142, -0.0931, "GB", "EU"),
      row("10.0.0.0/8", 1, 1, "AA", "AF"),
      row("10.1.0.0/16", 2, 2, "BB", "AN"),
      row("10.1.2.0/24", 3, 3, "CC", "AS"),
      row("10.1.2.128/25", 1, 1, "AA", "AF"),  // same location as 10/8, inside 10.1.2/24
      row("2001:218::/32", 35.685, 139.7514, "JP", "AS"),
      row("2a02:cf40::/29", 51.5142, -0.0931, "GB", "EU"),
      row("192.0.2.0/24", -12.5, 130.25),
  };
}

struct Expect {
  const char* address;
  bool found;
  unsigned prefix_len;
  double latitude;
  const char* country;
};

TEST_CASE("mmdb_writer: round trip through MmdbReader and mmdblookup", "[tools]") {
  test::TempDir dir;
  const auto path = dir.file("sample.mmdb");
  const auto reader = write_and_open(sample_rows(), path);
  const Expect table[] = {
      {"81.2.69.1", true, 24, 51.5142, "GB"},
      {"81.2.69.255", true, 24, 51.5142, "GB"},
      {"10.9.9.9", true, 13, 1, "AA"},    // 10/8 minus 10.1/16: 10.8.0.0/13
      {"10.1.3.1", true, 24, 2, "BB"},    // 10.1/16 minus 10.1.2/24: 10.1.3.0/24
      {"10.1.2.1", true, 25, 3, "CC"},    // 10.1.2/24 minus its upper half
      {"10.1.2.200", true, 25, 1, "AA"},  // the /25 inside wins again
      {"2001:218:1:2::3", true, 32, 35.685, "JP"},
      {"2a02:cf47:ffff::1", true, 29, 51.5142, "GB"},
      {"192.0.2.99", true, 24, -12.5, ""},
      {"81.2.68.1", false, 24, 0, ""},    // empty 81.2.68.0/24 next to 81.2.69.0/24
      {"1.2.3.4", false, 5, 0, ""},       // empty 0.0.0.0/5 below 10.0.0.0/8
      {"2001:db8::1", false, 21, 0, ""},  // empty 2001:800::/21 beside 2001:218::/32
      {"fe80::1", false, 1, 0, ""},       // empty 8000::/1
  };
  for (const auto& e : table) {
    CAPTURE(e.address);
    const Located located = reader->locate(ip(e.address));
    CHECK(located.found == e.found);
    CHECK(located.prefix_len == e.prefix_len);
    CHECK(located.location.has_coordinates == e.found);
    CHECK(located.location.country.data() == std::string(e.country));
    const auto lookup = mmdblookup(path, e.address);
    if (e.found) {
      CHECK(located.location.latitude_deg == e.latitude);
      CHECK(lookup.status == 0);
      CHECK_THAT(lookup.output, Catch::Contains(format_double(e.latitude)));
      if (*e.country != '\0')
        CHECK_THAT(lookup.output,
                   Catch::Contains(std::string("\"") + e.country + "\" <utf8_string>"));
    } else {
      CHECK(lookup.status != 0);
      CHECK_THAT(lookup.output, Catch::Contains("Could not find an entry"));
    }
  }
  const Located london = reader->locate(ip("81.2.69.1"));
  CHECK(london.location.longitude_deg == -0.0931);
  CHECK(london.location.continent.data() == std::string("EU"));
  CHECK_THAT(mmdblookup(path, "81.2.69.1", "continent code").output,
             Catch::Contains("\"EU\" <utf8_string>"));
  CHECK_THAT(mmdblookup(path, "81.2.69.1", "location longitude").output,
             Catch::Contains(format_double(-0.0931)));
}

TEST_CASE("mmdb_writer: IPv4 networks live in ::/96 and ::ffff:0:0/96 aliases them", "[tools]") {
  test::TempDir dir;
  const auto path = dir.file("alias.mmdb");
  const auto reader = write_and_open(sample_rows(), path);
  for (const char* address : {"::ffff:81.2.69.1", "::81.2.69.1"}) {
    CAPTURE(address);
    const Located located = reader->locate(ip(address));
    CHECK(located.found);
    CHECK(located.prefix_len == 96 + 24);  // IPv6 bits for an IPv6 address
    CHECK(located.location.country.data() == std::string("GB"));
    CHECK_THAT(mmdblookup(path, address, "country iso_code").output,
               Catch::Contains("\"GB\" <utf8_string>"));
  }
  CHECK_FALSE(reader->locate(ip("::ffff:1.2.3.4")).found);
}

TEST_CASE("mmdb_writer: IPv6 rows inside ::ffff:0:0/96 turn the alias off", "[tools]") {
  test::TempDir dir;
  const auto reader = write_and_open(
      {row("81.2.69.0/24", 51.5, -0.1, "GB", "EU"), row("::ffff:10.0.0.0/104", 5, 5, "DE", "EU")},
      dir.file("x.mmdb"));
  CHECK(reader->locate(ip("::ffff:10.1.1.1")).location.country.data() == std::string("DE"));
  CHECK_FALSE(reader->locate(ip("::ffff:81.2.69.1")).found);
  CHECK(reader->locate(ip("81.2.69.1")).found);
}

TEST_CASE("mmdb_writer: row order does not matter", "[tools]") {
  test::TempDir dir;
  auto rows = sample_rows();
  const auto forward = write_and_open(rows, dir.file("f.mmdb"));
  std::reverse(rows.begin(), rows.end());
  const auto backward = write_and_open(rows, dir.file("b.mmdb"));
  for (const char* address :
       {"10.9.9.9", "10.1.3.1", "10.1.2.1", "10.1.2.200", "81.2.69.1", "2a02:cf40::1"}) {
    CAPTURE(address);
    const Located a = forward->locate(ip(address)), b = backward->locate(ip(address));
    CHECK(a.prefix_len == b.prefix_len);
    CHECK(a.location.latitude_deg == b.location.latitude_deg);
  }
}

TEST_CASE("mmdb_writer: catch-all rows and IPv4 prefix lengths at the edges", "[tools]") {
  test::TempDir dir;
  SECTION("0.0.0.0/0 covers all of IPv4 and nothing of IPv6") {
    const auto reader = write_and_open({row("0.0.0.0/0", 7, 8)}, dir.file("v4.mmdb"));
    const Located v4 = reader->locate(ip("203.0.113.9"));
    CHECK(v4.found);
    CHECK(v4.prefix_len == 0);
    CHECK(reader->locate(ip("::ffff:203.0.113.9")).found);
    CHECK_FALSE(reader->locate(ip("2001:db8::1")).found);
  }
  SECTION("::/0 under IPv4 rows") {
    const auto reader =
        write_and_open({row("::/0", 7, 8), row("81.2.69.0/24", 51.5, -0.1)}, dir.file("all.mmdb"));
    CHECK(reader->locate(ip("2001:db8::1")).location.latitude_deg == 7);
    CHECK(reader->locate(ip("1.2.3.4")).location.latitude_deg == 7);
    CHECK(reader->locate(ip("1.2.3.4")).prefix_len == 2);
    CHECK(reader->locate(ip("81.2.69.9")).location.latitude_deg == 51.5);
    CHECK(reader->locate(ip("::ffff:81.2.69.9")).location.latitude_deg == 51.5);
  }
  SECTION("host routes") {
    const auto reader = write_and_open({row("198.51.100.7/32", 1, 2), row("2001:db8::7/128", 3, 4)},
                                       dir.file("h.mmdb"));
    CHECK(reader->locate(ip("198.51.100.7")).prefix_len == 32);
    CHECK_FALSE(reader->locate(ip("198.51.100.6")).found);
    CHECK(reader->locate(ip("198.51.100.6")).prefix_len == 32);
    CHECK(reader->locate(ip("2001:db8::7")).prefix_len == 128);
    CHECK(reader->locate(ip("2001:db8::6")).prefix_len == 128);
  }
  SECTION("an IPv6-only table: IPv4 lookups end above ::/96, prefix 0") {
    const auto reader =
        write_and_open({row("2001:218::/32", 35.685, 139.7514)}, dir.file("v6.mmdb"));
    const Located v4 = reader->locate(ip("81.2.69.1"));
    CHECK_FALSE(v4.found);
    CHECK(v4.prefix_len == 0);
  }
  SECTION("an empty table") {
    const auto path = dir.file("empty.mmdb");
    const auto reader = write_and_open({}, path);
    CHECK_FALSE(reader->locate(ip("81.2.69.1")).found);
    CHECK(reader->locate(ip("81.2.69.1")).prefix_len == 0);
    CHECK_FALSE(reader->locate(ip("2001:db8::1")).found);
    CHECK_THAT(mmdblookup(path, "2001:db8::1").output, Catch::Contains("Could not find an entry"));
  }
}

// Where an address is looked up in the IPv6 tree: IPv4 in ::/96, and
// IPv4-mapped addresses through the alias to the same place.
IpAddress tree_address(IpAddress address) {
  address = address.unmapped();
  if (address.family == IpAddress::Family::v6) return address;
  IpAddress v6;
  v6.family = IpAddress::Family::v6;
  std::copy_n(address.bytes.begin(), 4, v6.bytes.begin() + 12);
  return v6;
}

IpNetwork tree_network(const IpNetwork& network) {
  if (network.address.family == IpAddress::Family::v6) return network;
  return {tree_address(network.address), static_cast<std::uint8_t>(96 + network.prefix_len)};
}

TEST_CASE("mmdb_writer: matches a brute-force longest-prefix match on a random table", "[tools]") {
  Rng rng(20240601);
  std::vector<NetworkLocation> rows;
  std::vector<IpNetwork> tree_networks;
  while (rows.size() < 400) {
    NetworkLocation r;
    const bool v6 = rng.below(3) == 0;
    r.network.address.family = v6 ? IpAddress::Family::v6 : IpAddress::Family::v4;
    // Few distinct leading bytes so that networks nest and overlap.
    r.network.address.bytes[0] =
        static_cast<std::uint8_t>(v6 ? 0x20 + rng.below(2) : 10 + rng.below(3));
    for (unsigned i = 1; i < r.network.address.byte_length(); ++i)
      r.network.address.bytes[i] = rng.below(256) & 0x83;
    r.network.prefix_len = static_cast<std::uint8_t>(rng.below(r.network.address.bit_length() + 1));
    r.network.address = r.network.address.masked(r.network.prefix_len);
    const IpNetwork in_tree = tree_network(r.network);
    if (std::find(tree_networks.begin(), tree_networks.end(), in_tree) != tree_networks.end())
      continue;
    tree_networks.push_back(in_tree);
    // Few distinct locations: they get deduplicated, and equal neighbours merge.
    r.latitude_deg = static_cast<double>(rng.below(4));
    r.longitude_deg = static_cast<double>(rng.below(4));
    rows.push_back(r);
  }
  test::TempDir dir;
  const auto reader = write_and_open(rows, dir.file("random.mmdb"));
  for (int probe = 0; probe < 4000; ++probe) {
    // Probe near the rows: a row's address with random low bits (IPv6 probes
    // also land in ::/96 and, mapped, in ::ffff:0:0/96).
    IpAddress address = rows[rng.below(rows.size())].network.address;
    const unsigned keep = static_cast<unsigned>(rng.below(address.bit_length() + 1));
    for (unsigned bit = keep; bit < address.bit_length(); ++bit) {
      if (rng.below(2)) address.bytes[bit / 8] ^= static_cast<std::uint8_t>(0x80 >> (bit % 8));
    }
    if (address.family == IpAddress::Family::v4 && rng.below(4) == 0) {
      IpAddress mapped;
      mapped.family = IpAddress::Family::v6;
      mapped.bytes[10] = mapped.bytes[11] = 0xff;
      std::copy_n(address.bytes.begin(), 4, mapped.bytes.begin() + 12);
      address = mapped;
    }
    const IpAddress in_tree = tree_address(address);
    std::size_t best = rows.size();
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (tree_networks[i].contains(in_tree) &&
          (best == rows.size() || tree_networks[i].prefix_len > tree_networks[best].prefix_len)) {
        best = i;
      }
    }
    CAPTURE(address.to_string());
    const Located located = reader->locate(address);
    REQUIRE(located.found == (best != rows.size()));
    if (!located.found) continue;
    CHECK(located.location.latitude_deg == rows[best].latitude_deg);
    CHECK(located.location.longitude_deg == rows[best].longitude_deg);
    // The reported network is uniform: every row inside it has the same
    // location. (IPv4 prefix 0 and mapped prefixes < 96 stand for networks
    // wider than the IPv4 space; not checked.)
    const bool v4 = address.family == IpAddress::Family::v4;
    const bool mapped = !v4 && !(address.unmapped() == address);
    if ((v4 && located.prefix_len == 0) || (mapped && located.prefix_len < 96)) continue;
    const unsigned tree_prefix = v4 ? 96 + located.prefix_len : located.prefix_len;
    const IpNetwork reported{in_tree.masked(tree_prefix), static_cast<std::uint8_t>(tree_prefix)};
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (tree_networks[i].prefix_len <= reported.prefix_len ||
          !reported.contains(tree_networks[i].address))
        continue;
      CAPTURE(rows[i].network.to_string());
      CHECK(rows[i].latitude_deg == rows[best].latitude_deg);
      CHECK(rows[i].longitude_deg == rows[best].longitude_deg);
    }
  }
}

TEST_CASE("mmdb_writer: metadata as mmdblookup --verbose shows it", "[tools]") {
  test::TempDir dir;
  const auto path = dir.file("meta.mmdb");
  ::setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
  const auto written = write_mmdb(sample_rows(), path, "Meridian-Test");
  ::unsetenv("SOURCE_DATE_EPOCH");
  REQUIRE(written.ok());
  const auto lookup = mmdblookup(path, "81.2.69.1", "--verbose");
  CHECK(lookup.status == 0);
  CHECK_THAT(lookup.output, Catch::Contains("Record size:   28 bits"));
  CHECK_THAT(lookup.output, Catch::Contains("IP version:    IPv6"));
  CHECK_THAT(lookup.output, Catch::Contains("Binary format: 2.0"));
  CHECK_THAT(lookup.output, Catch::Contains("Build epoch:   1700000000"));
  CHECK_THAT(lookup.output, Catch::Contains("Type:          Meridian-Test"));
  CHECK_THAT(lookup.output, Catch::Contains("Languages:     en"));
  CHECK_THAT(lookup.output, Catch::Contains("Meridian GeoIP database, 8 networks"));
  CHECK_THAT(lookup.output, Catch::Contains("Record prefix length: 120"));
}

TEST_CASE("mmdb_writer: long strings use the extended size encodings", "[tools]") {
  test::TempDir dir;
  // Sizes 28/29 (one-byte form edge), 300 (two-byte) and 70000 (three-byte).
  for (const std::size_t length : {28u, 29u, 284u, 285u, 300u, 70'000u}) {
    CAPTURE(length);
    const std::string type(length, 'T');
    const auto path = dir.file("long.mmdb");
    REQUIRE(write_mmdb(sample_rows(), path, type).ok());
    REQUIRE(MmdbReader::open(path).ok());
    const auto lookup = mmdblookup(path, "81.2.69.1", "--verbose");
    CHECK_THAT(lookup.output, Catch::Contains("Type:          " + type + "\n"));
    CHECK_THAT(lookup.output, Catch::Contains(format_double(51.5142)));
  }
}

TEST_CASE("mmdb_writer: duplicate networks are an error", "[tools]") {
  test::TempDir dir;
  const auto path = dir.file("dup.mmdb");
  const auto written = write_mmdb(
      {row("10.0.0.0/8", 1, 1), row("81.2.69.0/24", 1, 1), row("10.0.0.0/8", 2, 2)}, path);
  REQUIRE_FALSE(written.ok());
  CHECK_THAT(written.error().message, Catch::Contains("duplicate network 10.0.0.0/8"));
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("mmdb_writer: host bits in a row's address do not hide a duplicate", "[tools]") {
  test::TempDir dir;
  NetworkLocation sloppy = row("10.0.0.0/8", 1, 1);
  sloppy.network.address = IpAddress::v4(10, 1, 2, 3);
  const auto written = write_mmdb({row("10.0.0.0/8", 1, 1), sloppy}, dir.file("x.mmdb"));
  REQUIRE_FALSE(written.ok());
  CHECK_THAT(written.error().message, Catch::Contains("duplicate network"));
  CHECK_THAT(write_mmdb({row("::10.0.0.0/104", 1, 1), row("10.0.0.0/8", 1, 1)}, dir.file("y.mmdb"))
                 .error()
                 .message,
             Catch::Contains("duplicate network"));
}

TEST_CASE("mmdb_writer: over-long strings are errors, not crashes", "[tools]") {
  test::TempDir dir;
  CHECK_FALSE(
      write_mmdb({row("10.0.0.0/8", 1, 1)}, dir.file("x.mmdb"), std::string(200'000, 'T')).ok());
  NetworkLocation long_code = row("10.0.0.0/8", 1, 1);
  long_code.country.assign(1000, 'X');
  const auto written = write_mmdb({long_code}, dir.file("x.mmdb"));
  REQUIRE_FALSE(written.ok());
  CHECK_THAT(written.error().message, Catch::Contains("10.0.0.0/8"));
}

TEST_CASE("mmdb_writer: replaces the output whole and leaves no temporary file", "[tools]") {
  test::TempDir dir;
  const auto path = dir.file("db.mmdb");
  REQUIRE(write_mmdb({row("81.2.69.0/24", 1, 1)}, path).ok());
  const auto first = MmdbReader::open(path);
  REQUIRE(first.ok());
  REQUIRE(write_mmdb({row("81.2.69.0/24", 2, 2)}, path).ok());
  // The open reader keeps its mapping of the old file; a new one sees the new.
  CHECK(first.value()->locate(ip("81.2.69.1")).location.latitude_deg == 1);
  CHECK(MmdbReader::open(path).value()->locate(ip("81.2.69.1")).location.latitude_deg == 2);
  const auto entries =
      std::distance(std::filesystem::directory_iterator(std::filesystem::path(path).parent_path()),
                    std::filesystem::directory_iterator{});
  CHECK(entries == 1);
  CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::others_read) !=
        std::filesystem::perms::none);

  const auto missing = dir.file("no/such/dir/db.mmdb");
  const auto failed = write_mmdb({row("81.2.69.0/24", 1, 1)}, missing);
  REQUIRE_FALSE(failed.ok());
  CHECK_THAT(failed.error().message, Catch::Contains(missing));
}

}  // namespace
}  // namespace meridian::geo
