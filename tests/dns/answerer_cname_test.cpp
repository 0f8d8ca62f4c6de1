// Services with CNAME endpoints through the whole engine: the CNAME alone
// for A and AAAA, for other types the CNAME (or NODATA when the client's
// answer is addresses), chains into our zones, ECS scope and TTL as for
// addresses, failover from a name to an address.

#include <catch2/catch.hpp>

#include <array>

#include "dns/answerer.hpp"
#include "dns_test_support.hpp"

using namespace meridian;
using namespace meridian::dns;
using test::decode;
using test::Decoded;
using test::QueryBuilder;

namespace {

// 81.2.0.0/16 is London; everything else is unknown (an empty /8).
class LondonLocator final : public geo::Locator {
 public:
  geo::Located locate(const IpAddress& address) const noexcept override {
    geo::Located result;
    result.prefix_len = 8;
    if (address.family == IpAddress::Family::v4 && address.bytes[0] == 81 &&
        address.bytes[1] == 2) {
      result.found = true;
      result.location.has_coordinates = true;
      result.location.latitude_deg = 51.51;
      result.location.longitude_deg = -0.13;
      result.prefix_len = 16;
    }
    return result;
  }
};

Name name_of(const char* text) {
  Name name;
  REQUIRE(Name::from_text(text, name));
  return name;
}

// www: eu-west answers the CDN name eu.cdn.example.net. (outside our
// zones), us-east addresses of both families. app: eu-west answers
// eu-cdn.example.com., a name inside the zone with an A record. Unlocated
// clients get us-east first.
struct Health {
  bool www_name = true;
  bool www_address = true;
};

std::shared_ptr<const RoutingTable> make_cname_table(Health health = {}) {
  const Name origin = name_of("example.com.");
  ZoneBuilder builder(origin);
  for (const char* line : {"@ SOA ns1 hostmaster 1 3600 600 604800 300", "@ NS ns1",
                           "ns1 A 192.0.2.53", "eu-cdn A 192.0.2.99", "alias CNAME www"}) {
    REQUIRE(builder.add(*parse_record(line, origin, 3600)).ok());
  }
  REQUIRE(builder.add_service(name_of("www.example.com."), 0).ok());
  REQUIRE(builder.add_service(name_of("app.example.com."), 1).ok());
  std::vector<Zone> zones;
  zones.push_back(std::move(builder).build().value());

  const std::vector<geo::Site> sites = {{"eu-west", 51.51, -0.13}, {"us-east", 39.04, -77.49}};
  IpAddress v6;
  REQUIRE(IpAddress::parse("2001:db8::20", v6));
  const auto service = [&](const char* name, const char* target, bool name_up, bool address_up) {
    geo::ServiceSpec spec;
    spec.cname_targets = {target};
    spec.endpoints = {{IpAddress{}, 0, 100, name_up, 0},
                      {IpAddress::v4(192, 0, 2, 20), 1, 100, address_up},
                      {v6, 1, 100, address_up}};
    return Service{
        name_of(name), 30, geo::Steering(sites, {1}, spec), 5, {cname_rdata(name_of(target))}};
  };
  std::vector<Service> services;
  services.push_back(
      service("www.example.com.", "eu.cdn.example.net.", health.www_name, health.www_address));
  services.push_back(service("app.example.com.", "eu-cdn.example.com.", true, true));
  return std::make_shared<RoutingTable>(std::move(zones), std::move(services),
                                        std::make_shared<LondonLocator>(), 1);
}

struct Harness {
  std::shared_ptr<const RoutingTable> table = make_cname_table();
  Answerer answerer{AnswererSettings{1232, ""}};
  Rng rng{42};
  QueryStats stats;
  std::array<std::uint8_t, kMaxTcpMessage> buffer{};
  std::size_t length = 0;

  Decoded ask(const std::vector<std::uint8_t>& query) {
    QueryContext context;
    IpAddress::parse("198.51.100.1", context.source);
    context.rng = &rng;
    length = answerer.answer(*table, context, query, buffer, stats);
    REQUIRE(length > 0);
    Decoded decoded = decode(buffer.data(), length);
    REQUIRE(decoded.ok());
    return decoded;
  }
  // The scope of the response's ECS option for an IPv4 /24 query, or -1.
  int ecs_scope() const {
    const std::string wire(reinterpret_cast<const char*>(buffer.data()), length);
    const auto at = wire.find(std::string("\0\x08\0\x07\0\x01\x18", 7));
    return at == std::string::npos ? -1 : static_cast<std::uint8_t>(wire[at + 7]);
  }
};

std::vector<std::uint8_t> query(const char* name, std::uint16_t type, bool london) {
  QueryBuilder builder(name, type);
  if (london) {
    builder.ecs(1, 24, {81, 2, 69});
  } else {
    builder.ecs(1, 24, {198, 51, 100});  // public, not located: us-east first
  }
  return builder.bytes;
}

TEST_CASE("answerer cname: a name endpoint answers a lone CNAME, other types follow it", "[dns]") {
  struct Case {
    const char* what;
    const char* name;
    std::uint16_t type;
    bool london;
    std::vector<std::string> answer;
    bool soa;  // NODATA/NXDOMAIN proof in authority
    int scope;
  };
  const std::string www_cname = "www.example.com. 30 IN CNAME eu.cdn.example.net.";
  const std::string app_cname = "app.example.com. 30 IN CNAME eu-cdn.example.com.";
  const Case cases[] = {
      {"A from London: the CNAME alone",
       "www.example.com.",
       rrtype::A,
       true,
       {www_cname},
       false,
       16},
      {"AAAA from London: the same CNAME",
       "www.example.com.",
       rrtype::AAAA,
       true,
       {www_cname},
       false,
       16},
      {"TXT from London: the CNAME (the resolver asks the target)",
       "www.example.com.",
       rrtype::TXT,
       true,
       {www_cname},
       false,
       16},
      {"CNAME from London: the CNAME",
       "www.example.com.",
       rrtype::CNAME,
       true,
       {www_cname},
       false,
       16},
      {"ANY from London: the CNAME (RFC 8482: one RRset)",
       "www.example.com.",
       rrtype::ANY,
       true,
       {www_cname},
       false,
       16},
      {"A from elsewhere: us-east's address",
       "www.example.com.",
       rrtype::A,
       false,
       {"www.example.com. 30 IN A 192.0.2.20"},
       false,
       8},
      {"AAAA from elsewhere",
       "www.example.com.",
       rrtype::AAAA,
       false,
       {"www.example.com. 30 IN AAAA 2001:db8::20"},
       false,
       8},
      {"TXT from elsewhere: NODATA, scoped (London would get a CNAME)",
       "www.example.com.",
       rrtype::TXT,
       false,
       {},
       true,
       8},
      {"CNAME from elsewhere: NODATA", "www.example.com.", rrtype::CNAME, false, {}, true, 8},
      {"a static CNAME into the service, then the service's CNAME",
       "alias.example.com.",
       rrtype::A,
       true,
       {"alias.example.com. 3600 IN CNAME www.example.com.", www_cname},
       false,
       16},
      {"a target inside our zones is followed",
       "app.example.com.",
       rrtype::A,
       true,
       {app_cname, "eu-cdn.example.com. 3600 IN A 192.0.2.99"},
       false,
       16},
      {"MX through the chain: NODATA at the target",
       "app.example.com.",
       rrtype::MX,
       true,
       {app_cname},
       true,
       16},
      {"CNAME qtype: not followed",
       "app.example.com.",
       rrtype::CNAME,
       true,
       {app_cname},
       false,
       16},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    Harness h;
    const Decoded response = h.ask(query(c.name, c.type, c.london));
    CHECK(response.rcode() == LDNS_RCODE_NOERROR);
    CHECK(response.aa());
    CHECK(response.answer() == c.answer);
    CHECK(response.authority().size() == (c.soa ? 1u : 0u));
    CHECK(h.ecs_scope() == c.scope);
  }
}

TEST_CASE("answerer cname: a down name fails over to the address; nothing up fails open", "[dns]") {
  struct Case {
    const char* what;
    Health health;
    std::vector<std::string> answer;
    int scope;
  };
  const Case cases[] = {
      {"the name down: us-east's address (one site left: scope 0)",
       {false, true},
       {"www.example.com. 30 IN A 192.0.2.20"},
       0},
      {"the address down: the name, for everyone",
       {true, false},
       {"www.example.com. 30 IN CNAME eu.cdn.example.net."},
       0},
      {"both down: fail open to the nearest, the name, with the degraded TTL",
       {false, false},
       {"www.example.com. 5 IN CNAME eu.cdn.example.net."},
       16},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    Harness h;
    h.table = make_cname_table(c.health);
    const Decoded response = h.ask(query("www.example.com.", rrtype::A, true));
    CHECK(response.answer() == c.answer);
    CHECK(h.ecs_scope() == c.scope);
  }
}

#if !defined(__SANITIZE_ADDRESS__)
TEST_CASE("answerer cname: answering a CNAME allocates nothing", "[dns]") {
  Harness h;
  const std::vector<std::vector<std::uint8_t>> queries = {
      query("www.example.com.", rrtype::A, true),   query("www.example.com.", rrtype::TXT, true),
      query("app.example.com.", rrtype::A, true),   query("alias.example.com.", rrtype::AAAA, true),
      query("www.example.com.", rrtype::MX, false), query("www.example.com.", rrtype::ANY, true),
  };
  QueryContext context;
  IpAddress::parse("198.51.100.1", context.source);
  context.rng = &h.rng;
  const long before = test::allocations.load();
  std::size_t total = 0;
  for (int round = 0; round < 100; ++round) {
    for (const auto& q : queries)
      total += h.answerer.answer(*h.table, context, q, h.buffer, h.stats);
  }
  CHECK(total > 0);
  CHECK(test::allocations.load() == before);
}
#endif

}  // namespace
