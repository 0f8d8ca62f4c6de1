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

// Places 81.2.0.0/16 in London and 175.16.0.0/16 in Changchun; the rest of
// the IPv4 space is unknown (as an empty /8 network).
class FakeLocator final : public geo::Locator {
 public:
  geo::Located locate(const IpAddress& address) const noexcept override {
    geo::Located result;
    if (address.family == IpAddress::Family::v4 && address.bytes[0] == 81 &&
        address.bytes[1] == 2) {
      result.found = true;
      result.location.has_coordinates = true;
      result.location.latitude_deg = 51.51;
      result.location.longitude_deg = -0.13;
      result.prefix_len = 16;
    } else if (address.family == IpAddress::Family::v4 && address.bytes[0] == 175 &&
               address.bytes[1] == 16) {
      result.found = true;
      result.location.has_coordinates = true;
      result.location.latitude_deg = 43.88;
      result.location.longitude_deg = 125.32;
      result.prefix_len = 16;
    } else {
      result.prefix_len = 8;
    }
    return result;
  }
};

std::shared_ptr<const RoutingTable> make_table() {
  std::vector<Zone> zones;
  zones.push_back(test::make_zone("example.com.",
                                  {
                                      "@ 3600 IN SOA ns1 hostmaster 2026112801 3600 600 604800 300",
                                      "@ 3600 IN NS ns1",
                                      "@ 3600 IN NS ns2.example.net.",
                                      "@ 3600 IN MX 10 mail",
                                      "ns1 IN A 192.0.2.53",
                                      "ns1 IN AAAA 2001:db8::53",
                                      "mail IN A 192.0.2.25",
                                      "static IN A 192.0.2.1",
                                      "static IN TXT \"static text\"",
                                      "web IN CNAME www",
                                      "alias IN CNAME web",
                                      "out IN CNAME www.example.org.",
                                      "loop1 IN CNAME loop2",
                                      "loop2 IN CNAME loop1",
                                      "tolost IN CNAME nothere",
                                      "toother IN CNAME host.example.net.",
                                      "*.wild IN A 192.0.2.99",
                                      "*.wild IN TXT \"wild\"",
                                      "sub IN NS ns.sub",
                                      "ns.sub IN A 192.0.2.54",
                                      "_sip._tcp IN SRV 10 20 5060 static",
                                      "a.b.c IN TXT \"deep\"",
                                  }));
  zones.push_back(
      test::make_zone("example.net.", {"@ SOA ns1 h 1 2 3 4 60", "@ NS ns1", "host A 192.0.2.77"}));

  std::vector<geo::Site> sites = {
      {"eu-west", 51.51, -0.13}, {"ap-northeast", 35.68, 139.69}, {"us-east", 39.04, -77.49}};
  geo::ServiceSpec spec;
  IpAddress a;
  IpAddress::parse("192.0.2.30", a);
  spec.endpoints.push_back({a, 0, 100});
  IpAddress::parse("192.0.2.40", a);
  spec.endpoints.push_back({a, 1, 100});
  IpAddress::parse("192.0.2.20", a);
  spec.endpoints.push_back({a, 2, 100});
  IpAddress::parse("2001:db8:40::40", a);
  spec.endpoints.push_back({a, 1, 100});
  std::vector<Service> services;
  Name www;
  Name::from_text("www.example.com.", www);
  services.push_back(Service{www, 30, geo::Steering(sites, {2, 0, 1}, spec)});

  // Attach the service to the zone: rebuild example.com. with it.
  return std::make_shared<RoutingTable>(std::move(zones), std::move(services),
                                        std::make_shared<FakeLocator>(), 1);
}

// The table above without the service link; tests that need www as a
// service build their zone with add_service.
std::shared_ptr<const RoutingTable> make_service_table() {
  Name origin;
  Name::from_text("example.com.", origin);
  ZoneBuilder builder(origin);
  for (const char* line : {"@ SOA ns1 hostmaster 1 3600 600 604800 300", "@ NS ns1",
                           "ns1 A 192.0.2.53", "web CNAME www", "www TXT \"steered\""}) {
    REQUIRE(builder.add(*parse_record(line, origin, 3600)).ok());
  }
  Name www;
  Name::from_text("www.example.com.", www);
  REQUIRE(builder.add_service(www, 0).ok());
  std::vector<Zone> zones;
  zones.push_back(std::move(builder).build().value());
  auto base = make_table();
  std::vector<Service> services = base->services();
  return std::make_shared<RoutingTable>(std::move(zones), std::move(services),
                                        std::make_shared<FakeLocator>(), 2);
}

// www.example.com. as a service with `spec` over eu-west (London) and
// us-east, located by FakeLocator.
std::shared_ptr<RoutingTable> make_policy_table(const geo::ServiceSpec& spec) {
  Name origin;
  Name::from_text("example.com.", origin);
  ZoneBuilder builder(origin);
  for (const char* line :
       {"@ SOA ns1 hostmaster 1 3600 600 604800 300", "@ NS ns1", "ns1 A 192.0.2.53"}) {
    REQUIRE(builder.add(*parse_record(line, origin, 3600)).ok());
  }
  Name www;
  Name::from_text("www.example.com.", www);
  REQUIRE(builder.add_service(www, 0).ok());
  std::vector<Zone> zones;
  zones.push_back(std::move(builder).build().value());
  std::vector<Service> services;
  services.push_back(Service{
      www, 30, geo::Steering({{"eu-west", 51.5, -0.1}, {"us-east", 39.04, -77.49}}, {1}, spec), 5});
  return std::make_shared<RoutingTable>(std::move(zones), std::move(services),
                                        std::make_shared<FakeLocator>(), 4);
}

// One endpoint per site: eu-west 192.0.2.30, us-east 192.0.2.20.
geo::ServiceSpec two_sites(bool healthy = true) {
  geo::ServiceSpec spec;
  spec.endpoints = {{IpAddress::v4(192, 0, 2, 30), 0, 100, healthy},
                    {IpAddress::v4(192, 0, 2, 20), 1, 100, healthy}};
  return spec;
}

struct Harness {
  std::shared_ptr<const RoutingTable> table = make_table();
  Answerer answerer{AnswererSettings{1232, "test-node"}};
  Rng rng{42};
  QueryStats stats;
  std::array<std::uint8_t, kMaxTcpMessage> buffer{};
  std::size_t length = 0;

  Decoded ask(const std::vector<std::uint8_t>& query, Transport transport = Transport::udp,
              const char* source = "198.51.100.1") {
    QueryContext context;
    IpAddress::parse(source, context.source);
    context.transport = transport;
    context.rng = &rng;
    length = answerer.answer(*table, context, query, buffer, stats);
    if (length == 0) return {};
    Decoded decoded = decode(buffer.data(), length);
    REQUIRE(decoded.ok());
    return decoded;
  }
};

}  // namespace

TEST_CASE("answerer: exact match is authoritative and keeps the question's case", "[dns]") {
  Harness h;
  const Decoded r = h.ask(QueryBuilder("StAtIc.Example.COM.", rrtype::A).bytes);
  CHECK(r.rcode() == LDNS_RCODE_NOERROR);
  CHECK(r.aa());
  CHECK(r.qname() == "StAtIc.Example.COM.");
  CHECK(r.answer() == std::vector<std::string>{"StAtIc.Example.COM. 3600 IN A 192.0.2.1"});
  CHECK(r.authority().empty());
  CHECK_FALSE(r.has_opt());
  CHECK(ldns_pkt_rd(r.packet.get()));
  CHECK_FALSE(ldns_pkt_ra(r.packet.get()));
  CHECK(ldns_pkt_id(r.packet.get()) == 0x1234);
}

// Found by fuzz.dns: a name whose first label repeats as its second was
// compressed against its own, half-written start, completed by stale bytes
// of the previous response in the reused buffer: a pointer into itself.
TEST_CASE("answerer: a name is never compressed against itself, whatever the buffer held",
          "[dns]") {
  Harness h;
  REQUIRE(h.ask(QueryBuilder("static.example.com.", rrtype::A).bytes).rcode() ==
          LDNS_RCODE_NOERROR);
  for (const char* qname :
       {"static.static.example.com.", "www.www.example.com.", "a.a.a.example.com."}) {
    const Decoded r = h.ask(QueryBuilder(qname, rrtype::A).bytes);
    REQUIRE(r.ok());
    CHECK(r.qname() == qname);
    CHECK(r.rcode() == LDNS_RCODE_NXDOMAIN);
    CHECK(r.authority().size() == 1);
    // The answer's own bytes: the question's name is written out in full.
    Name expected;
    REQUIRE(Name::from_text(qname, expected));
    CHECK(std::equal(expected.wire().begin(), expected.wire().end(), h.buffer.begin() + 12));
  }
}

TEST_CASE("answerer: NXDOMAIN and NODATA carry the SOA with the negative TTL", "[dns]") {
  Harness h;
  const Decoded nx = h.ask(QueryBuilder("nope.example.com.", rrtype::A).bytes);
  CHECK(nx.rcode() == LDNS_RCODE_NXDOMAIN);
  CHECK(nx.aa());
  CHECK(nx.answer().empty());
  REQUIRE(nx.authority().size() == 1);
  CHECK_THAT(nx.authority()[0], Catch::StartsWith("example.com. 300 IN SOA ns1.example.com."));

  const Decoded nodata = h.ask(QueryBuilder("static.example.com.", rrtype::AAAA).bytes);
  CHECK(nodata.rcode() == LDNS_RCODE_NOERROR);
  CHECK(nodata.answer().empty());
  REQUIRE(nodata.authority().size() == 1);
  CHECK_THAT(nodata.authority()[0], Catch::StartsWith("example.com. 300 IN SOA"));

  const Decoded ent = h.ask(QueryBuilder("b.c.example.com.", rrtype::A).bytes);
  CHECK(ent.rcode() == LDNS_RCODE_NOERROR);  // empty non-terminal: NODATA, not NXDOMAIN
  CHECK(ent.authority().size() == 1);
}

TEST_CASE("answerer: names outside our zones are REFUSED", "[dns]") {
  Harness h;
  const Decoded r = h.ask(QueryBuilder("www.example.org.", rrtype::A).bytes);
  CHECK(r.rcode() == LDNS_RCODE_REFUSED);
  CHECK_FALSE(r.aa());
  CHECK(r.answer().empty());
}

TEST_CASE("answerer: CNAME chains are followed inside our zones", "[dns]") {
  Harness h;
  const Decoded chain = h.ask(QueryBuilder("alias.example.com.", rrtype::TXT).bytes);
  // alias -> web -> www; www has no TXT in this table (no service linked) => NODATA at the end.
  REQUIRE(chain.answer().size() == 2);
  CHECK(chain.answer()[0] == "alias.example.com. 3600 IN CNAME web.example.com.");
  CHECK(chain.answer()[1] == "web.example.com. 3600 IN CNAME www.example.com.");
  CHECK(chain.rcode() == LDNS_RCODE_NXDOMAIN);  // www is not in this zone table

  const Decoded cross = h.ask(QueryBuilder("toother.example.com.", rrtype::A).bytes);
  REQUIRE(cross.answer().size() == 2);
  CHECK(cross.answer()[1] == "host.example.net. 3600 IN A 192.0.2.77");

  const Decoded out = h.ask(QueryBuilder("out.example.com.", rrtype::A).bytes);
  CHECK(out.rcode() == LDNS_RCODE_NOERROR);
  CHECK(out.answer() ==
        std::vector<std::string>{"out.example.com. 3600 IN CNAME www.example.org."});

  const Decoded loop = h.ask(QueryBuilder("loop1.example.com.", rrtype::A).bytes);
  CHECK(loop.rcode() == LDNS_RCODE_NOERROR);
  CHECK(loop.answer().size() == 2);  // each link of the loop once

  const Decoded lost = h.ask(QueryBuilder("tolost.example.com.", rrtype::A).bytes);
  CHECK(lost.rcode() == LDNS_RCODE_NXDOMAIN);  // RFC 6604: the last name's rcode
  CHECK(lost.answer().size() == 1);
  CHECK(lost.authority().size() == 1);

  const Decoded direct = h.ask(QueryBuilder("web.example.com.", rrtype::CNAME).bytes);
  CHECK(direct.answer() ==
        std::vector<std::string>{"web.example.com. 3600 IN CNAME www.example.com."});
}

TEST_CASE("answerer: wildcards synthesize the query name", "[dns]") {
  Harness h;
  const Decoded r = h.ask(QueryBuilder("Any.Thing.wild.example.com.", rrtype::A).bytes);
  CHECK(r.aa());
  CHECK(r.answer() == std::vector<std::string>{"Any.Thing.wild.example.com. 3600 IN A 192.0.2.99"});
  const Decoded nodata = h.ask(QueryBuilder("x.wild.example.com.", rrtype::MX).bytes);
  CHECK(nodata.rcode() == LDNS_RCODE_NOERROR);
  CHECK(nodata.answer().empty());
  CHECK(nodata.authority().size() == 1);
}

TEST_CASE("answerer: delegations refer with NS and glue, without AA", "[dns]") {
  Harness h;
  const Decoded r = h.ask(QueryBuilder("www.sub.example.com.", rrtype::A).bytes);
  CHECK(r.rcode() == LDNS_RCODE_NOERROR);
  CHECK_FALSE(r.aa());
  CHECK(r.answer().empty());
  CHECK(r.authority() ==
        std::vector<std::string>{"sub.example.com. 3600 IN NS ns.sub.example.com."});
  CHECK(r.additional() == std::vector<std::string>{"ns.sub.example.com. 3600 IN A 192.0.2.54"});
}

TEST_CASE("answerer: NS, MX and SRV targets get addresses in additional", "[dns]") {
  Harness h;
  const Decoded ns = h.ask(QueryBuilder("example.com.", rrtype::NS).bytes);
  CHECK(ns.answer().size() == 2);
  CHECK(ns.additional() == std::vector<std::string>{"ns1.example.com. 3600 IN A 192.0.2.53",
                                                    "ns1.example.com. 3600 IN AAAA 2001:db8::53"});
  const Decoded mx = h.ask(QueryBuilder("example.com.", rrtype::MX).bytes);
  CHECK(mx.additional() == std::vector<std::string>{"mail.example.com. 3600 IN A 192.0.2.25"});
  const Decoded srv = h.ask(QueryBuilder("_sip._tcp.example.com.", rrtype::SRV).bytes);
  CHECK(srv.additional() == std::vector<std::string>{"static.example.com. 3600 IN A 192.0.2.1"});
}

TEST_CASE("answerer: ANY gets one RRset (RFC 8482)", "[dns]") {
  Harness h;
  const Decoded r = h.ask(QueryBuilder("static.example.com.", rrtype::ANY).bytes);
  CHECK(r.rcode() == LDNS_RCODE_NOERROR);
  CHECK(r.answer().size() == 1);
  const Decoded apex = h.ask(QueryBuilder("example.com.", rrtype::ANY).bytes);
  CHECK(apex.answer().size() <= 2);  // the NS RRset at most, never everything
}

TEST_CASE("answerer: opcodes, classes and EDNS versions get their RCODEs", "[dns]") {
  Harness h;
  const Decoded notimp = h.ask(QueryBuilder().header(7, 4 << 11, 1, 0, 0, 0).bytes);
  CHECK(notimp.rcode() == LDNS_RCODE_NOTIMPL);

  auto chaos = QueryBuilder("version.bind.", rrtype::TXT).bytes;
  chaos[chaos.size() - 1] = 3;
  CHECK(h.ask(chaos).rcode() == LDNS_RCODE_REFUSED);

  CHECK(h.ask(QueryBuilder("example.com.", rrtype::AXFR).bytes).rcode() == LDNS_RCODE_REFUSED);

  // BADVERS is extended RCODE 16: header RCODE 0, OPT extended RCODE 1.
  h.ask(QueryBuilder("static.example.com.", rrtype::A).opt(1232, 1).bytes);
  REQUIRE(h.length > 12);
  CHECK((h.buffer[3] & 0x0F) == 0);
  const Decoded badvers = decode(h.buffer.data(), h.length);
  CHECK(ldns_pkt_edns_extended_rcode(badvers.packet.get()) == 1);
  CHECK(ldns_pkt_edns_version(badvers.packet.get()) == 0);
  CHECK(badvers.answer().empty());

  CHECK(h.ask(QueryBuilder().header(1, 0, 2, 0, 0, 0).bytes).rcode() == LDNS_RCODE_FORMERR);
  CHECK_FALSE(
      h.ask(QueryBuilder().header(1, 0x8000, 1, 0, 0, 0).bytes).ok());  // a response: dropped
  CHECK(h.stats.dropped.load() == 1);
}

TEST_CASE("answerer: EDNS is echoed with our payload size and NSID", "[dns]") {
  Harness h;
  const Decoded r =
      h.ask(QueryBuilder("static.example.com.", rrtype::A).opt(4096, 0, {0, 3, 0, 0}, true).bytes);
  REQUIRE(r.has_opt());
  CHECK(ldns_pkt_edns_udp_size(r.packet.get()) == 1232);
  CHECK(ldns_pkt_edns_do(r.packet.get()));
  // NSID option: code 3, "test-node".
  const std::string wire(reinterpret_cast<const char*>(h.buffer.data()), h.length);
  CHECK(wire.find(std::string("\0\3\0\x09test-node", 13)) != std::string::npos);
}

TEST_CASE("answerer: oversized UDP answers are truncated to a valid message", "[dns]") {
  std::vector<std::string> lines = {"@ SOA ns1 h 1 2 3 4 5", "@ NS ns1"};
  for (int i = 0; i < 40; ++i)
    lines.push_back("big IN TXT \"" + std::string(40, 'a' + i % 26) + std::to_string(i) + "\"");
  std::vector<Zone> zones;
  zones.push_back(test::make_zone("example.com.", lines));
  Harness h;
  h.table = std::make_shared<RoutingTable>(std::move(zones), std::vector<Service>{}, nullptr, 1);

  const Decoded plain = h.ask(QueryBuilder("big.example.com.", rrtype::TXT).bytes);
  CHECK(h.length <= 512);
  CHECK(plain.tc());
  CHECK(plain.answer().empty());
  CHECK(plain.qname() == "big.example.com.");

  const Decoded edns = h.ask(QueryBuilder("big.example.com.", rrtype::TXT).opt(1232).bytes);
  CHECK(h.length <= 1232);
  CHECK(edns.tc());
  CHECK(edns.has_opt());

  const Decoded large = h.ask(QueryBuilder("big.example.com.", rrtype::TXT).opt(4096).bytes);
  CHECK(edns.tc());  // our own limit (1232) applies even when the client allows more
  (void)large;

  const Decoded tcp = h.ask(QueryBuilder("big.example.com.", rrtype::TXT).bytes, Transport::tcp);
  CHECK_FALSE(tcp.tc());
  CHECK(tcp.answer().size() == 40);
  CHECK(h.stats.truncated.load() == 3);
}

TEST_CASE("answerer: names are compressed in answers", "[dns]") {
  Harness h;
  h.ask(QueryBuilder("example.com.", rrtype::NS).bytes);
  const std::size_t compressed = h.length;
  // Header 12 + question 17 + two NS (owner ptr 2 + 10 + rdata) + glue:
  // without compression every "example.com." would cost 13 bytes.
  CHECK(compressed < 130);
  const Decoded r = decode(h.buffer.data(), h.length);
  CHECK(r.answer().size() == 2);
}

TEST_CASE("answerer: services answer the closest site and echo ECS scope", "[dns]") {
  Harness h;
  h.table = make_service_table();
  // London subnet -> eu-west endpoint, scope = locator's /16.
  const Decoded london =
      h.ask(QueryBuilder("www.example.com.", rrtype::A).ecs(1, 24, {81, 2, 69}).bytes);
  CHECK(london.aa());
  CHECK(london.answer() == std::vector<std::string>{"www.example.com. 30 IN A 192.0.2.30"});
  // ECS option: family 1, source 24, scope 16, 81.2.69
  const std::string wire(reinterpret_cast<const char*>(h.buffer.data()), h.length);
  CHECK(wire.find(std::string("\0\x08\0\x07\0\x01\x18\x10\x51\x02\x45", 11)) != std::string::npos);

  const Decoded changchun =
      h.ask(QueryBuilder("www.example.com.", rrtype::A).ecs(1, 24, {175, 16, 199}).bytes);
  CHECK(changchun.answer() == std::vector<std::string>{"www.example.com. 30 IN A 192.0.2.40"});

  // Unknown location: default_sites order starts with us-east.
  const Decoded unknown = h.ask(QueryBuilder("www.example.com.", rrtype::A).bytes);
  CHECK(unknown.answer() == std::vector<std::string>{"www.example.com. 30 IN A 192.0.2.20"});

  // AAAA: only ap-northeast has IPv6.
  const Decoded v6 =
      h.ask(QueryBuilder("www.example.com.", rrtype::AAAA).ecs(1, 24, {81, 2, 69}).bytes);
  CHECK(v6.answer() == std::vector<std::string>{"www.example.com. 30 IN AAAA 2001:db8:40::40"});

  // The source address is used when there is no ECS.
  const Decoded by_source =
      h.ask(QueryBuilder("www.example.com.", rrtype::A).bytes, Transport::udp, "175.16.1.1");
  CHECK(by_source.answer() == std::vector<std::string>{"www.example.com. 30 IN A 192.0.2.40"});

  // Other types at a service name are static data.
  const Decoded txt =
      h.ask(QueryBuilder("www.example.com.", rrtype::TXT).ecs(1, 24, {81, 2, 69}).bytes);
  CHECK(txt.answer() == std::vector<std::string>{"www.example.com. 3600 IN TXT \"steered\""});
  const std::string txt_wire(reinterpret_cast<const char*>(h.buffer.data()), h.length);
  CHECK(txt_wire.find(std::string("\0\x08\0\x07\0\x01\x18\x00\x51\x02\x45", 11)) !=
        std::string::npos);

  // A CNAME to a service is followed into it.
  const Decoded via =
      h.ask(QueryBuilder("web.example.com.", rrtype::A).ecs(1, 24, {81, 2, 69}).bytes);
  REQUIRE(via.answer().size() == 2);
  CHECK(via.answer()[1] == "www.example.com. 30 IN A 192.0.2.30");
  CHECK(h.stats.client_subnet.load() >= 4);
}

// ------------------------------------------------------ allocation counter

// Replaces the global allocator of this test binary with one that counts.
// GCC cannot see that malloc pairs with free through the replacement. Not
// under AddressSanitizer, whose runtime owns operator new itself.
#if !defined(__SANITIZE_ADDRESS__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
std::atomic<long>& g_allocations = test::allocations;
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

TEST_CASE("answerer: answering allocates nothing on the heap", "[dns]") {
  Harness h;
  h.table = make_service_table();
  auto full = make_table();
  const std::vector<std::vector<std::uint8_t>> queries = {
      QueryBuilder("www.example.com.", rrtype::A).ecs(1, 24, {81, 2, 69}).bytes,
      QueryBuilder("www.example.com.", rrtype::AAAA).bytes,
      QueryBuilder("web.example.com.", rrtype::A).opt(1232, 0, {0, 3, 0, 0}).bytes,
      QueryBuilder("nope.example.com.", rrtype::A).bytes,
      QueryBuilder("www.example.com.", rrtype::ANY).bytes,
      QueryBuilder().header(1, 0, 2, 0, 0, 0).bytes,
  };
  const std::vector<std::vector<std::uint8_t>> static_queries = {
      QueryBuilder("alias.example.com.", rrtype::A).bytes,
      QueryBuilder("x.wild.example.com.", rrtype::A).bytes,
      QueryBuilder("a.sub.example.com.", rrtype::A).bytes,
      QueryBuilder("example.com.", rrtype::MX).bytes,
      QueryBuilder("example.org.", rrtype::A).bytes,
  };
  QueryContext context;
  IpAddress::parse("198.51.100.1", context.source);
  context.rng = &h.rng;
  // Every fail mode and the ECS rules, through the whole engine.
  std::vector<std::shared_ptr<const RoutingTable>> policy_tables;
  for (int variant = 0; variant < 4; ++variant) {
    geo::ServiceSpec spec = two_sites(variant == 0);
    spec.use_ecs = variant != 1;
    spec.sticky = variant == 1;
    if (variant == 2)
      spec.fail = geo::FailMode::servfail, spec.endpoints[0].healthy = false,
      spec.endpoints[1].healthy = false;
    if (variant == 3) spec.fallback = {IpAddress::v4(198, 51, 100, 1)};
    policy_tables.push_back(make_policy_table(spec));
  }
  const std::vector<std::vector<std::uint8_t>> policy_queries = {
      QueryBuilder("www.example.com.", rrtype::A).ecs(1, 24, {81, 2, 69}).bytes,
      QueryBuilder("www.example.com.", rrtype::A).ecs(1, 24, {10, 1, 2}).bytes,
      QueryBuilder("www.example.com.", rrtype::ANY).bytes,
  };
  const long before = g_allocations.load();
  std::size_t total = 0;
  for (int round = 0; round < 100; ++round) {
    for (const auto& q : queries)
      total += h.answerer.answer(*h.table, context, q, h.buffer, h.stats);
    for (const auto& q : static_queries)
      total += h.answerer.answer(*full, context, q, h.buffer, h.stats);
    for (const auto& table : policy_tables) {
      for (const auto& q : policy_queries)
        total += h.answerer.answer(*table, context, q, h.buffer, h.stats);
    }
  }
  const long after = g_allocations.load();
  CHECK(total > 0);
  CHECK(after - before == 0);
}
#endif  // !__SANITIZE_ADDRESS__

TEST_CASE("answerer: fail-open answers use the degraded TTL and are counted", "[dns]") {
  Name origin;
  Name::from_text("example.com.", origin);
  ZoneBuilder builder(origin);
  for (const char* line :
       {"@ SOA ns1 hostmaster 1 3600 600 604800 300", "@ NS ns1", "ns1 A 192.0.2.53"}) {
    REQUIRE(builder.add(*parse_record(line, origin, 3600)).ok());
  }
  Name www;
  Name::from_text("www.example.com.", www);
  REQUIRE(builder.add_service(www, 0).ok());
  std::vector<Zone> zones;
  zones.push_back(std::move(builder).build().value());

  geo::ServiceSpec spec;
  geo::Endpoint down{IpAddress::v4(192, 0, 2, 30), 0, 100};
  down.healthy = false;
  spec.endpoints.push_back(down);
  std::vector<Service> services;
  services.push_back(Service{www, 30, geo::Steering({{"eu-west", 51.5, -0.1}}, {0}, spec), 5});

  Harness h;
  h.table = std::make_shared<RoutingTable>(std::move(zones), std::move(services), nullptr, 3);
  const Decoded r = h.ask(QueryBuilder("www.example.com.", rrtype::A).bytes);
  CHECK(r.answer() == std::vector<std::string>{"www.example.com. 5 IN A 192.0.2.30"});
  CHECK(h.stats.fail_open.load() == 1);
}

// The scope of the IPv4 ECS option of the last response, whose source
// prefix was `source_prefix`.
std::uint8_t ecs_scope(const Harness& h, std::uint8_t source_prefix) {
  const std::string wire(reinterpret_cast<const char*>(h.buffer.data()), h.length);
  const char head[] = {0,
                       8,
                       0,
                       static_cast<char>(4 + (source_prefix + 7) / 8),
                       0,
                       1,
                       static_cast<char>(source_prefix)};
  const auto at = wire.rfind(std::string(head, sizeof head));
  REQUIRE(at != std::string::npos);
  return static_cast<std::uint8_t>(wire[at + sizeof head]);
}

TEST_CASE("answerer: ECS is honoured per service; private and /0 subnets are ignored", "[dns]") {
  struct Case {
    const char* what;
    bool use_ecs;
    std::vector<std::uint8_t> subnet;
    std::uint8_t source_prefix;
    const char* source;
    const char* answer;
    std::uint8_t scope;
  };
  const Case cases[] = {
      {"ECS London", true, {81, 2, 69}, 24, "175.16.1.1", "192.0.2.30", 16},
      {"ecs: false: the source (not located: default us-east) decides, scope 0",
       false,
       {81, 2, 69},
       24,
       "198.51.100.1",
       "192.0.2.20",
       0},
      {"private ECS: the source decides, scope 0",
       true,
       {10, 1, 2},
       24,
       "81.2.1.1",
       "192.0.2.30",
       0},
      {"/0: the source decides, scope 0", true, {}, 0, "81.2.1.1", "192.0.2.30", 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    geo::ServiceSpec spec = two_sites();
    spec.use_ecs = c.use_ecs;
    Harness h;
    h.table = make_policy_table(spec);
    const Decoded r =
        h.ask(QueryBuilder("www.example.com.", rrtype::A).ecs(1, c.source_prefix, c.subnet).bytes,
              Transport::udp, c.source);
    CHECK(r.answer() ==
          std::vector<std::string>{std::string("www.example.com. 30 IN A ") + c.answer});
    CHECK(ecs_scope(h, c.source_prefix) == c.scope);
  }
}

TEST_CASE("answerer: fail closed answers NODATA or SERVFAIL; fallback answers its addresses",
          "[dns]") {
  Harness h;
  geo::ServiceSpec spec = two_sites(false);
  SECTION("closed: NODATA with the SOA") {
    spec.fail = geo::FailMode::closed;
    h.table = make_policy_table(spec);
    const Decoded r = h.ask(QueryBuilder("www.example.com.", rrtype::A).bytes);
    CHECK(r.rcode() == LDNS_RCODE_NOERROR);
    CHECK(r.answer().empty());
    CHECK(r.authority().size() == 1);
    CHECK(h.stats.fail_closed.load() == 1);
    CHECK(h.stats.fail_open.load() == 0);  // closed is not open
  }
  SECTION("servfail") {
    spec.fail = geo::FailMode::servfail;
    h.table = make_policy_table(spec);
    const Decoded r = h.ask(QueryBuilder("www.example.com.", rrtype::A).bytes);
    CHECK(r.rcode() == LDNS_RCODE_SERVFAIL);
    CHECK_FALSE(r.aa());
    CHECK(r.authority().empty());
    CHECK(h.stats.fail_closed.load() == 1);
  }
  SECTION("fallback: degraded TTL, counted") {
    spec.fallback = {IpAddress::v4(198, 51, 100, 1)};
    h.table = make_policy_table(spec);
    const Decoded r = h.ask(QueryBuilder("www.example.com.", rrtype::A).bytes);
    CHECK(r.answer() == std::vector<std::string>{"www.example.com. 5 IN A 198.51.100.1"});
    CHECK(h.stats.fail_open.load() == 1);
    // No fallback of the family: NODATA.
    const Decoded aaaa = h.ask(QueryBuilder("www.example.com.", rrtype::AAAA).bytes);
    CHECK(aaaa.answer().empty());
    CHECK(aaaa.rcode() == LDNS_RCODE_NOERROR);
  }
}

TEST_CASE("answerer: queries are counted by type and zone, answers by service and site", "[dns]") {
  Harness h;
  h.table = make_policy_table(two_sites());
  h.ask(QueryBuilder("www.example.com.", rrtype::A).bytes);
  h.ask(QueryBuilder("www.example.com.", rrtype::A).bytes);
  h.ask(QueryBuilder("example.com.", rrtype::SOA).bytes);
  h.ask(QueryBuilder("example.com.", 99).bytes);            // SPF: an "other" type
  h.ask(QueryBuilder("elsewhere.test.", rrtype::A).bytes);  // REFUSED: no zone
  CHECK(h.stats.by_qtype[qtype_slot(rrtype::A)].load() == 3);
  CHECK(h.stats.by_qtype[qtype_slot(rrtype::SOA)].load() == 1);
  CHECK(h.stats.by_qtype[kCountedQtypes.size()].load() == 1);
  CHECK(std::string(kCountedQtypeNames[qtype_slot(rrtype::AAAA)]) == "AAAA");
  CHECK(h.stats.by_zone[0].load() == 4);  // not the refused one
  CHECK(h.stats.answers_by_service[0].load() == 2);
  // The unlocated client gets the default order: us-east (site 1) first.
  CHECK(h.stats.answers_by_site[1].load() == 2);
  CHECK(h.stats.answers_by_site[0].load() == 0);
  CHECK(QueryStats::slot(5000, 4096) == 4095);
}

TEST_CASE("answerer: with a stats slot map, counters go to the names' slots, not the positions",
          "[dns]") {
  Harness h;
  auto table = make_policy_table(two_sites());
  table->set_stats_slots(StatsSlotMap{{3}, {7}, {11, 9}});
  h.table = table;
  h.ask(QueryBuilder("www.example.com.", rrtype::A).bytes);
  CHECK(h.stats.by_zone[3].load() == 1);
  CHECK(h.stats.by_zone[0].load() == 0);
  CHECK(h.stats.answers_by_service[7].load() == 1);
  CHECK(h.stats.answers_by_service[0].load() == 0);
  CHECK(h.stats.answers_by_site[9].load() == 1);  // us-east, the config's site 1
  CHECK(h.stats.answers_by_site[1].load() == 0);
}

TEST_CASE("answerer: extended DNS errors say why, only to queries with EDNS", "[dns][ede]") {
  Harness h;
  // Outside our zones: Not Authoritative (20).
  const Decoded outside = h.ask(QueryBuilder("www.example.org.", rrtype::A).opt().bytes);
  CHECK(outside.rcode() == LDNS_RCODE_REFUSED);
  CHECK(outside.extended_error() == "20 not in a zone of this server");
  // Without EDNS nothing changes (no OPT at all).
  const Decoded plain = h.ask(QueryBuilder("www.example.org.", rrtype::A).bytes);
  CHECK(plain.rcode() == LDNS_RCODE_REFUSED);
  CHECK_FALSE(plain.has_opt());
  // Zone transfers: Prohibited (18); another class: Not Supported (21).
  CHECK(h.ask(QueryBuilder("example.com.", rrtype::AXFR).opt().bytes).extended_error() ==
        "18 zone transfers are not served");
  auto chaos_with_opt = QueryBuilder("version.bind.", rrtype::TXT).opt().bytes;
  // The question's class (CH) sits before the OPT: header 12, name 14, type 2.
  chaos_with_opt[12 + 14 + 3] = 3;
  CHECK(h.ask(chaos_with_opt).extended_error() == "21 only class IN is served");
  // An ordinary answer has none.
  CHECK(h.ask(QueryBuilder("static.example.com.", rrtype::A).opt().bytes).extended_error().empty());

  geo::ServiceSpec spec = two_sites(false);
  SECTION("fail-open") {
    h.table = make_policy_table(spec);
    const Decoded r = h.ask(QueryBuilder("www.example.com.", rrtype::A).opt().bytes);
    CHECK(r.answer().size() == 1);
    CHECK(r.extended_error() ==
          "0 fail-open: no endpoint of the service is healthy; answering them all");
  }
  SECTION("fallback") {
    spec.fallback = {IpAddress::v4(198, 51, 100, 1)};
    h.table = make_policy_table(spec);
    CHECK(h.ask(QueryBuilder("www.example.com.", rrtype::A).opt().bytes).extended_error() ==
          "0 fallback: no endpoint of the service is healthy; answering its fallback");
  }
  SECTION("servfail") {
    spec.fail = geo::FailMode::servfail;
    h.table = make_policy_table(spec);
    const Decoded r = h.ask(QueryBuilder("www.example.com.", rrtype::A).opt().bytes);
    CHECK(r.rcode() == LDNS_RCODE_SERVFAIL);
    CHECK(r.extended_error() == "0 fail-closed: no endpoint of the service is healthy");
  }
  SECTION("healthy: none") {
    h.table = make_policy_table(two_sites());
    CHECK(h.ask(QueryBuilder("www.example.com.", rrtype::A).opt().bytes).extended_error().empty());
  }
}
