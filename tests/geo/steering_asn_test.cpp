// The asn stage (after nets, before geo) and the country centroid that
// places clients of a Country database for `closest`.

#include <catch2/catch.hpp>

#include <cstring>

#include "fake_locator.hpp"
#include "geo/country_centroids.hpp"
#include "geo/steering.hpp"

namespace meridian::geo {
namespace {

using test::address_of;
using test::network_of;
using test::TableLocator;

enum : std::uint32_t { kUsWest, kUsEast, kEuWest, kApNortheast, kSaEast };
const std::vector<Site> kSites = {
    {"us-west", 47.61, -122.33},     {"us-east", 39.04, -77.49},  {"eu-west", 51.51, -0.13},
    {"ap-northeast", 35.68, 139.69}, {"sa-east", -23.55, -46.63},
};

ServiceSpec one_per_site(Policy policy = Policy::closest) {
  ServiceSpec spec;
  spec.policy = policy;
  for (std::uint32_t site = 0; site < kSites.size(); ++site) {
    spec.endpoints.push_back(
        {IpAddress::v4(192, 0, 2, static_cast<std::uint8_t>(10 + site)), site});
  }
  return spec;
}

// London in 81.2.0.0/16, announced by AS64500 (81.2.0.0/17) and AS64501
// (81.2.128.0/17); New York in 65.0.0.0/16 by AS64502.
TableLocator world() {
  TableLocator locator;
  locator.add("81.2.0.0/16", 51.5142, -0.0931, "GB", "EU");
  locator.add("65.0.0.0/16", 40.71, -74.0, "US", "NA");
  locator.add_codes("89.160.0.0/16", "SE", "EU");  // a Country database row
  locator.add_codes("41.0.0.0/16", "ZZ", "AF");    // a code without a centroid
  locator.add_asn("81.2.0.0/17", 64500, "Example Org");
  locator.add_asn("81.2.128.0/17", 64501, "Other Org");
  locator.add_asn("65.0.0.0/16", 64502, "New York Net");
  return locator;
}

struct Asked {
  Choice choice;
  Trace trace;
};

Asked ask(const Steering& steering, const Locator& locator, const char* client) {
  Rng rng(1);
  const IpAddress* out[8] = {};
  Asked asked;
  asked.choice =
      steering.choose(&locator, network_of(client), IpAddress::Family::v4, rng, out, &asked.trace);
  return asked;
}

TEST_CASE("asn: the client's AS beats geo, nets beat the AS, unmapped ASes fall through to geo",
          "[geo]") {
  const TableLocator locator = world();
  ServiceSpec spec = one_per_site();
  spec.asn = std::make_shared<const AsnMap>(
      AsnMap({{64500, {kApNortheast, kUsEast}}, {64502, {kSaEast}}}));
  std::vector<NetsMap::Row> rows = {{network_of("81.2.1.0/24"), 0, 1}};
  spec.nets = std::make_shared<const NetsMap>(
      *NetsMap::build({{kUsWest}}, rows, [](std::uint32_t) { return std::string(); }));
  const Steering steering(kSites, {}, spec);
  struct Case {
    const char* what;
    const char* client;
    Stage stage;
    std::uint32_t site;
    unsigned scope;
  };
  const Case cases[] = {
      // The scope: the longest prefix consulted, here the nets range that
      // misses (81.2.64.0/18) over the AS network (/17).
      {"AS64500 maps London to ap-northeast: asn beats geo", "81.2.69.0/24", Stage::asn,
       kApNortheast, 18},
      {"a nets row inside AS64500 beats the AS", "81.2.1.0/24", Stage::nets, kUsWest, 24},
      {"AS64501 is not mapped: geo decides, scoped by the AS network", "81.2.200.0/24",
       Stage::closest, kEuWest, 17},
      {"AS64502 maps New York to sa-east", "65.0.1.0/24", Stage::asn, kSaEast, 16},
      {"no AS at all: geo", "89.160.1.0/24", Stage::closest, kEuWest, 16},
      {"the ECS scope is never longer than the client's prefix", "81.2.0.0/16", Stage::asn,
       kApNortheast, 16},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const Asked asked = ask(steering, locator, c.client);
    CHECK(asked.choice.stage == c.stage);
    CHECK(asked.choice.site == c.site);
    CHECK(unsigned{asked.choice.scope_prefix_len} == c.scope);
  }
  // Without nets, the AS network alone scopes an AS answer.
  ServiceSpec plain = one_per_site();
  plain.asn = spec.asn;
  const Asked scoped = ask(Steering(kSites, {}, plain), locator, "81.2.69.0/24");
  CHECK(scoped.choice.stage == Stage::asn);
  CHECK(unsigned{scoped.choice.scope_prefix_len} == 17);
  // The trace names the AS and its organization; geo was not asked.
  const Asked london = ask(steering, locator, "81.2.69.0/24");
  CHECK(london.trace.asn_asked);
  CHECK(london.trace.asn.number == 64500);
  CHECK(london.trace.asn_organization == "Example Org");
  CHECK(london.trace.asn_mapped);
  CHECK_FALSE(london.trace.locator_asked);
  const Asked unmapped = ask(steering, locator, "81.2.200.0/24");
  CHECK(unmapped.trace.asn.number == 64501);
  CHECK_FALSE(unmapped.trace.asn_mapped);
  CHECK(unmapped.trace.locator_asked);
}

TEST_CASE("asn: the AS list fails over along itself, then the default order", "[geo]") {
  const TableLocator locator = world();
  ServiceSpec spec = one_per_site(Policy::failover);
  spec.asn = std::make_shared<const AsnMap>(AsnMap({{64500, {kApNortheast, kUsEast}}}));
  for (auto& endpoint : spec.endpoints) endpoint.healthy = endpoint.site != kApNortheast;
  const Steering steering(kSites, {kSaEast}, spec);
  const Asked asked = ask(steering, locator, "81.2.69.0/24");
  CHECK(asked.choice.stage == Stage::asn);
  CHECK(asked.choice.site == kUsEast);
  // failover without an AS entry: its order, the ASN still scoped.
  const Asked other = ask(steering, locator, "65.0.1.0/24");
  CHECK(other.choice.stage == Stage::failover);
  CHECK(other.choice.site == kSaEast);
  CHECK(unsigned{other.choice.scope_prefix_len} == 16);
}

TEST_CASE("country centroids: closest places a Country database's client at its country", "[geo]") {
  const TableLocator locator = world();
  const Steering steering(kSites, {kSaEast}, one_per_site());
  struct Case {
    const char* what;
    const char* client;
    Stage stage;
    std::uint32_t site;
    Placement placement;
  };
  const Case cases[] = {
      {"coordinates: London -> eu-west", "81.2.69.0/24", Stage::closest, kEuWest,
       Placement::coordinates},
      {"Sweden without coordinates: its centroid -> eu-west", "89.160.20.0/24", Stage::closest,
       kEuWest, Placement::country_centroid},
      {"an unknown country code: the default order", "41.0.1.0/24", Stage::default_order, kSaEast,
       Placement::none},
      {"not in the database: the default order", "100.0.0.0/24", Stage::default_order, kSaEast,
       Placement::none},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const Asked asked = ask(steering, locator, c.client);
    CHECK(asked.choice.stage == c.stage);
    CHECK(asked.choice.site == c.site);
    CHECK(asked.trace.placement == c.placement);
    CHECK(asked.choice.located == (c.placement != Placement::none));
  }
  const Asked sweden = ask(steering, locator, "89.160.20.0/24");
  const auto centroid = country_centroid("SE");
  REQUIRE(centroid.has_value());
  CHECK(sweden.trace.placed.latitude_deg == centroid->latitude_deg);
  // Distances in the trace are from the centroid.
  REQUIRE(sweden.trace.candidates.front().distance_km.has_value());
  CHECK(*sweden.trace.candidates.front().distance_km ==
        Approx(great_circle_km(centroid->latitude_deg, centroid->longitude_deg, 51.51, -0.13)));
}

TEST_CASE("country centroids: every ISO 3166-1 alpha-2 code has one, in range", "[geo]") {
  // The 249 officially assigned codes (ISO 3166-1, 2024).
  const char* const kCodes =
      "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ "
      "BR BS BT BV BW BY "
      "BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH "
      "ER ES ET FI FJ FK "
      "FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE "
      "IL IM IN IO IQ IR "
      "IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC "
      "MD ME MF MG MH MK "
      "ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE "
      "PF PG PH PK PL PM "
      "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV "
      "SX SY SZ TC TD TF "
      "TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT "
      "ZA ZM ZW";
  std::size_t count = 0;
  for (const char* code = kCodes; *code != '\0'; code += code[2] == ' ' ? 3 : 2, ++count) {
    const std::string_view iso(code, 2);
    CAPTURE(iso);
    const auto centroid = country_centroid(iso);
    REQUIRE(centroid.has_value());
    CHECK(std::abs(centroid->latitude_deg) <= 90);
    CHECK(std::abs(centroid->longitude_deg) <= 180);
  }
  CHECK(count == 249);
  CHECK(country_centroids().size() == 250);  // and XK (Kosovo), as MaxMind uses it
  CHECK(country_centroid("XK").has_value());
  CHECK_FALSE(country_centroid("ZZ").has_value());
  CHECK_FALSE(country_centroid("de").has_value());
  CHECK_FALSE(country_centroid("").has_value());
  CHECK_FALSE(country_centroid("DEU").has_value());
  // A few sanity anchors, within a few hundred km of the capital region.
  CHECK(great_circle_km(country_centroid("DE")->latitude_deg, country_centroid("DE")->longitude_deg,
                        52.52, 13.40) < 500);
  CHECK(great_circle_km(country_centroid("AU")->latitude_deg, country_centroid("AU")->longitude_deg,
                        -25, 134) < 300);
  CHECK(great_circle_km(country_centroid("BR")->latitude_deg, country_centroid("BR")->longitude_deg,
                        -15.8, -47.9) < 800);
}

}  // namespace
}  // namespace meridian::geo
