// open_geoip: the config's databases opened and checked, each failure with
// its key, both at once.
#include <catch2/catch.hpp>

#include "gslb/geoip_open.hpp"
#include "tests/geo/test_support.hpp"
#include "tools/mmdb_writer.hpp"

namespace meridian::gslb {
namespace {

geo::NetworkLocation row(const char* prefix, std::uint32_t asn) {
  geo::NetworkLocation location;
  REQUIRE(IpNetwork::parse(prefix, location.network));
  location.has_coordinates = asn == 0;
  location.latitude_deg = 51.5;
  location.country = asn == 0 ? "GB" : "";
  location.asn = asn;
  return location;
}

TEST_CASE("geoip_open: both databases of their kind open", "[gslb]") {
  geo::test::TempDir dir;
  REQUIRE(geo::write_mmdb({row("81.2.69.0/24", 0)}, dir.file("city.mmdb")).ok());
  REQUIRE(geo::write_mmdb({row("81.2.69.0/24", 64500)}, dir.file("asn.mmdb"), "Meridian-ASN").ok());
  auto databases = open_geoip({dir.file("city.mmdb"), dir.file("asn.mmdb")});
  REQUIRE(databases.ok());
  CHECK(databases->location->locate(IpAddress::v4(81, 2, 69, 1)).found);
  CHECK(databases->asn->locate_asn(IpAddress::v4(81, 2, 69, 1)).number == 64500);
  auto none = open_geoip({});
  REQUIRE(none.ok());
  CHECK(none->location == nullptr);
  CHECK(none->asn == nullptr);
}

TEST_CASE("geoip_open: swapped databases fail with both keys at once", "[gslb]") {
  geo::test::TempDir dir;
  REQUIRE(geo::write_mmdb({row("81.2.69.0/24", 0)}, dir.file("city.mmdb")).ok());
  REQUIRE(geo::write_mmdb({row("81.2.69.0/24", 64500)}, dir.file("asn.mmdb"), "Meridian-ASN").ok());
  auto databases = open_geoip({dir.file("asn.mmdb"), dir.file("city.mmdb")});
  REQUIRE_FALSE(databases.ok());
  CHECK_THAT(databases.error().message,
             Catch::StartsWith("geoip.database: GeoIP database " + dir.file("asn.mmdb") +
                               " is an ASN database") &&
                 Catch::Contains("\ngeoip.asn_database: GeoIP database " + dir.file("city.mmdb") +
                                 " is a City or Country database"));
}

}  // namespace
}  // namespace meridian::gslb
