// Answers the RFCs decide and where Meridian once differed from Knot and
// NSD on the same zone: DS at a zone cut (RFC 4035 3.1.4.1), CNAME loops,
// RRSIG and NSEC beside a CNAME (RFC 4035 2.5), meta query types, and
// QCLASS * (RFC 1034 3.7.1).

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

class NowhereLocator final : public geo::Locator {
 public:
  geo::Located locate(const IpAddress&) const noexcept override { return {}; }
};

std::shared_ptr<const RoutingTable> make_table() {
  std::vector<Zone> zones;
  zones.push_back(test::make_zone(
      "example.com.",
      {
          "@ 3600 IN SOA ns1 hostmaster 2026120701 3600 600 604800 300",
          "@ 3600 IN NS ns1",
          "ns1 IN A 192.0.2.53",
          "static IN A 192.0.2.1",
          "signed IN DS 12345 13 2 "
          "49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE86C4A5D6A6A8C3B35A5E6C12",
          "signed IN NS ns.signed",
          "ns.signed IN A 192.0.2.54",
          "unsigned IN NS ns.unsigned",
          "ns.unsigned IN A 192.0.2.55",
          "a IN CNAME b",
          "b IN CNAME c",
          "c IN CNAME a",
          "self IN CNAME self",
          "alias IN CNAME static",
          "alias IN RRSIG CNAME 13 3 3600 20270101000000 20261201000000 12345 example.com. "
          "AAAA",
          "alias IN NSEC static.example.com. CNAME RRSIG NSEC",
          "todelegated IN CNAME signed",
      }));
  return std::make_shared<RoutingTable>(std::move(zones), std::vector<Service>{},
                                        std::make_shared<NowhereLocator>(), 1);
}

struct Harness {
  std::shared_ptr<const RoutingTable> table = make_table();
  Answerer answerer{AnswererSettings{1232, ""}};
  Rng rng{7};
  QueryStats stats;
  std::array<std::uint8_t, kMaxTcpMessage> buffer{};

  Decoded ask(const std::vector<std::uint8_t>& query, Transport transport = Transport::udp) {
    QueryContext context;
    IpAddress::parse("198.51.100.1", context.source);
    context.transport = transport;
    context.rng = &rng;
    const std::size_t length = answerer.answer(*table, context, query, buffer, stats);
    REQUIRE(length > 0);
    Decoded decoded = decode(buffer.data(), length);
    REQUIRE(decoded.ok());
    return decoded;
  }
};

}  // namespace

TEST_CASE("answerer: DS at a zone cut is the parent's, answered with AA", "[dns][rfc]") {
  Harness h;
  for (const Transport transport : {Transport::udp, Transport::tcp}) {
    const Decoded ds = h.ask(QueryBuilder("signed.example.com.", rrtype::DS).bytes, transport);
    CHECK(ds.rcode() == LDNS_RCODE_NOERROR);
    CHECK(ds.aa());
    REQUIRE(ds.answer().size() == 1);
    CHECK(ds.answer()[0].rfind("signed.example.com. 3600 IN DS 12345 13 2 ", 0) == 0);
    CHECK(ds.authority().empty());  // not a referral

    // No DS at the cut: NODATA with the SOA, authoritative.
    const Decoded none = h.ask(QueryBuilder("unsigned.example.com.", rrtype::DS).bytes, transport);
    CHECK(none.rcode() == LDNS_RCODE_NOERROR);
    CHECK(none.aa());
    CHECK(none.answer().empty());
    REQUIRE(none.authority().size() == 1);
    CHECK(none.authority()[0].find(" SOA ") != std::string::npos);
  }
  // Below the cut the DS is the child's: a referral, as for any type.
  const Decoded below = h.ask(QueryBuilder("x.signed.example.com.", rrtype::DS).bytes);
  CHECK_FALSE(below.aa());
  REQUIRE(below.authority().size() == 1);
  CHECK(below.authority()[0].find(" NS ") != std::string::npos);
  // Other types at the cut are still referred.
  const Decoded a = h.ask(QueryBuilder("signed.example.com.", rrtype::A).bytes);
  CHECK_FALSE(a.aa());
  CHECK(a.answer().empty());
  // A chain that reaches the cut answers its DS too.
  const Decoded chained = h.ask(QueryBuilder("todelegated.example.com.", rrtype::DS).bytes);
  CHECK(chained.aa());
  REQUIRE(chained.answer().size() == 2);
  CHECK(chained.answer()[1].find(" DS ") != std::string::npos);
}

TEST_CASE("answerer: a CNAME loop ends once each of its links is in the answer", "[dns][rfc]") {
  Harness h;
  const Decoded loop = h.ask(QueryBuilder("a.example.com.", rrtype::A).bytes);
  CHECK(loop.rcode() == LDNS_RCODE_NOERROR);
  CHECK(loop.answer() == std::vector<std::string>{"a.example.com. 3600 IN CNAME b.example.com.",
                                                  "b.example.com. 3600 IN CNAME c.example.com.",
                                                  "c.example.com. 3600 IN CNAME a.example.com."});
  const Decoded self = h.ask(QueryBuilder("self.example.com.", rrtype::A).bytes);
  CHECK(self.answer() ==
        std::vector<std::string>{"self.example.com. 3600 IN CNAME self.example.com."});
}

TEST_CASE("answerer: RRSIG and NSEC beside a CNAME are answered at the owner", "[dns][rfc]") {
  Harness h;
  const Decoded rrsig = h.ask(QueryBuilder("alias.example.com.", rrtype::RRSIG).bytes);
  CHECK(rrsig.aa());
  REQUIRE(rrsig.answer().size() == 1);
  CHECK(rrsig.answer()[0].find(" RRSIG CNAME ") != std::string::npos);
  const Decoded nsec = h.ask(QueryBuilder("alias.example.com.", rrtype::NSEC).bytes);
  REQUIRE(nsec.answer().size() == 1);
  CHECK(nsec.answer()[0].find(" NSEC ") != std::string::npos);
  // Other types still follow the CNAME.
  const Decoded a = h.ask(QueryBuilder("alias.example.com.", rrtype::A).bytes);
  CHECK(a.answer().size() == 2);
  // Where there is none beside a CNAME: NODATA at the owner, not the target's.
  const Decoded none = h.ask(QueryBuilder("self.example.com.", rrtype::RRSIG).bytes);
  CHECK(none.rcode() == LDNS_RCODE_NOERROR);
  CHECK(none.answer().empty());
  CHECK(none.authority().size() == 1);
}

TEST_CASE("answerer: meta query types get NODATA or NXDOMAIN with the SOA, authoritative",
          "[dns][rfc]") {
  Harness h;
  // OPT, MAILB, MAILA, TKEY, TSIG: no data of those types exists anywhere.
  for (const std::uint16_t type : {std::uint16_t{41}, std::uint16_t{253}, std::uint16_t{254},
                                   std::uint16_t{249}, std::uint16_t{250}}) {
    INFO("type " << type);
    const Decoded nodata = h.ask(QueryBuilder("static.example.com.", type).bytes);
    CHECK(nodata.rcode() == LDNS_RCODE_NOERROR);
    CHECK(nodata.aa());
    CHECK(nodata.answer().empty());
    CHECK(nodata.authority().size() == 1);
    const Decoded nxdomain = h.ask(QueryBuilder("missing.example.com.", type).bytes);
    CHECK(nxdomain.rcode() == LDNS_RCODE_NXDOMAIN);
    CHECK(nxdomain.aa());
    CHECK(nxdomain.authority().size() == 1);
  }
  // Zone transfers stay refused.
  CHECK(h.ask(QueryBuilder("example.com.", rrtype::AXFR).bytes).rcode() == LDNS_RCODE_REFUSED);
  CHECK(h.ask(QueryBuilder("example.com.", rrtype::IXFR).bytes).rcode() == LDNS_RCODE_REFUSED);
}

TEST_CASE("answerer: QCLASS * is refused, never answered with IN data as if authoritative",
          "[dns][rfc]") {
  Harness h;
  auto any_class = QueryBuilder("static.example.com.", rrtype::A).bytes;
  any_class[any_class.size() - 1] = 255;  // the question's class: ANY
  const Decoded refused = h.ask(any_class);
  CHECK(refused.rcode() == LDNS_RCODE_REFUSED);
  CHECK_FALSE(refused.aa());
  CHECK(refused.answer().empty());
}
