#include <catch2/catch.hpp>

#include "dns/wire/message.hpp"
#include "query_builder.hpp"

using namespace meridian::dns;
using meridian::dns::test::QueryBuilder;

namespace {
ParseOutcome parse(const std::vector<std::uint8_t>& bytes, Query& q) {
  return parse_query(bytes, q);
}
ParseOutcome parse(const std::vector<std::uint8_t>& bytes) {
  Query q;
  return parse_query(bytes, q);
}
}  // namespace

TEST_CASE("message: a plain query parses with its question", "[dns_wire]") {
  Query q;
  REQUIRE(parse(QueryBuilder("WwW.Example.com.", rrtype::AAAA).bytes, q) == ParseOutcome::ok);
  CHECK(q.id == 0x1234);
  CHECK(q.recursion_desired());
  CHECK(q.qname.to_text() == "WwW.Example.com.");
  CHECK(q.qtype == rrtype::AAAA);
  CHECK(q.qclass == rrclass::IN);
  CHECK_FALSE(q.edns.present);
}

TEST_CASE("message: header-level problems are dropped or answered", "[dns_wire]") {
  CHECK(parse(std::vector<std::uint8_t>(11, 0)) == ParseOutcome::drop);
  CHECK(parse({}) == ParseOutcome::drop);
  auto response = QueryBuilder().header(1, 0x8000, 1, 0, 0, 0).bytes;
  CHECK(parse(response) == ParseOutcome::drop);
  auto notify = QueryBuilder().header(1, 4 << 11, 1, 0, 0, 0).bytes;
  CHECK(parse(notify) == ParseOutcome::notimp);
  auto update = QueryBuilder().header(1, 5 << 11, 1, 0, 0, 0).bytes;
  CHECK(parse(update) == ParseOutcome::notimp);
}

TEST_CASE("message: malformed queries are FORMERR", "[dns_wire]") {
  struct Case {
    const char* what;
    std::vector<std::uint8_t> bytes;
  };
  std::vector<Case> cases;
  cases.push_back({"no question", QueryBuilder().header(1, 0, 0, 0, 0, 0).bytes});
  cases.back().bytes.resize(12);
  cases.push_back({"two questions", QueryBuilder().header(1, 0, 2, 0, 0, 0).bytes});
  cases.push_back({"answer section in a query", QueryBuilder().header(1, 0, 1, 1, 0, 0).bytes});
  cases.push_back({"authority section in a query", QueryBuilder().header(1, 0, 1, 0, 1, 0).bytes});
  {
    auto b = QueryBuilder().bytes;
    b.push_back(0);
    cases.push_back({"trailing garbage", b});
  }
  {
    auto b = QueryBuilder().bytes;
    b.resize(b.size() - 3);
    cases.push_back({"truncated question", b});
  }
  {
    std::vector<std::uint8_t> b(12, 0);
    b[5] = 1;
    b.insert(b.end(), {0xC0, 12, 0, 1, 0, 1});  // pointer to itself
    cases.push_back({"compression loop", b});
  }
  {
    std::vector<std::uint8_t> b(12, 0);
    b[5] = 1;
    b.insert(b.end(), {0xC0, 20, 0, 1, 0, 1, 1, 'a', 0});  // forward pointer
    cases.push_back({"forward pointer", b});
  }
  {
    std::vector<std::uint8_t> b(12, 0);
    b[5] = 1;
    b.insert(b.end(), {0xC0, 0xFF, 0, 1, 0, 1});
    cases.push_back({"pointer out of bounds", b});
  }
  {
    std::vector<std::uint8_t> b(12, 0);
    b[5] = 1;
    b.insert(b.end(), {0x40, 'a', 0, 0, 1, 0, 1});
    cases.push_back({"extended label type", b});
  }
  {
    std::vector<std::uint8_t> b(12, 0);
    b[5] = 1;
    b.insert(b.end(), {10, 'a', 'b'});
    cases.push_back({"label longer than the packet", b});
  }
  {
    std::vector<std::uint8_t> b(12, 0);
    b[5] = 1;
    for (int i = 0; i < 5; ++i) {
      b.push_back(63);
      b.insert(b.end(), 63, 'x');
    }
    b.insert(b.end(), {0, 0, 1, 0, 1});
    cases.push_back({"name longer than 255", b});
  }
  cases.push_back({"two OPT records", QueryBuilder().opt().opt().bytes});
  {
    auto b = QueryBuilder().opt(1232, 0, {0, 8, 0, 3, 0, 1, 24}).bytes;
    cases.push_back({"ECS shorter than its header", b});
  }
  cases.push_back({"ECS with a /33 IPv4 prefix", QueryBuilder().ecs(1, 33, {1, 2, 3, 4, 5}).bytes});
  cases.push_back({"ECS with too many address bytes", QueryBuilder().ecs(1, 16, {1, 2, 3}).bytes});
  cases.push_back({"ECS with bits past the prefix", QueryBuilder().ecs(1, 23, {81, 2, 69}).bytes});
  cases.push_back({"ECS with host bits set", QueryBuilder().ecs(1, 20, {200, 160, 15}).bytes});
  cases.push_back({"ECS with an unknown family", QueryBuilder().ecs(3, 0, {}).bytes});
  cases.push_back({"option longer than the OPT", QueryBuilder().opt(1232, 0, {0, 3, 0, 9}).bytes});
  {
    auto b = QueryBuilder().opt().bytes;
    b.resize(b.size() - 1);
    cases.push_back({"OPT cut short", b});
  }

  for (const auto& c : cases) {
    INFO(c.what);
    CHECK(parse(c.bytes) == ParseOutcome::formerr);
  }
}

TEST_CASE("message: EDNS fields and options are read", "[dns_wire]") {
  Query q;
  REQUIRE(parse(QueryBuilder().opt(4000, 0, {0, 3, 0, 0}, true).bytes, q) == ParseOutcome::ok);
  CHECK(q.edns.present);
  CHECK(q.edns.udp_payload == 4000);
  CHECK(q.edns.dnssec_ok);
  CHECK(q.edns.nsid_requested);

  REQUIRE(parse(QueryBuilder().opt(100).bytes, q) == ParseOutcome::ok);
  CHECK(q.edns.udp_payload == 512);  // RFC 6891 6.2.5: below 512 means 512

  Query v;
  REQUIRE(parse(QueryBuilder().opt(1232, 1).bytes, v) == ParseOutcome::ok);
  CHECK(v.edns.version == 1);
}

TEST_CASE("message: ECS subnets are read and masked", "[dns_wire]") {
  Query q;
  REQUIRE(parse(QueryBuilder().ecs(1, 24, {81, 2, 69}).bytes, q) == ParseOutcome::ok);
  CHECK(q.edns.client_subnet.present);
  CHECK(q.edns.client_subnet.source_prefix_len == 24);
  CHECK(q.edns.client_subnet.address.to_string() == "81.2.69.0");

  Query v6;
  REQUIRE(parse(QueryBuilder().ecs(2, 32, {0x20, 0x01, 0x02, 0x18}).bytes, v6) == ParseOutcome::ok);
  CHECK(v6.edns.client_subnet.address.to_string() == "2001:218::");

  Query zero;
  REQUIRE(parse(QueryBuilder().ecs(1, 0, {}).bytes, zero) == ParseOutcome::ok);
  CHECK(zero.edns.client_subnet.source_prefix_len == 0);
}

TEST_CASE("message: compressed names in the additional section are followed", "[dns_wire]") {
  // An OPT-less additional record whose owner points back at the qname.
  auto b = QueryBuilder("a.example.").bytes;
  b[11] = 1;
  b.insert(b.end(), {0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4});
  CHECK(parse(b) == ParseOutcome::ok);
}

TEST_CASE("message: read_name never reads outside the buffer", "[dns_wire]") {
  // Every prefix of a valid packet with a compressed name must fail cleanly.
  std::vector<std::uint8_t> packet = {3,   'w', 'w', 'w', 7, 'e', 'x',  'a', 'm',
                                      'p', 'l', 'e', 0,   1, 'a', 0xC0, 0};
  for (std::size_t size = 0; size < packet.size(); ++size) {
    std::vector<std::uint8_t> cut(packet.begin(), packet.begin() + static_cast<long>(size));
    std::size_t offset = 13;
    Name n;
    if (size <= 13) continue;
    CHECK_FALSE(read_name(cut, offset, n));
  }
  std::size_t offset = 13;
  Name n;
  REQUIRE(read_name(packet, offset, n));
  CHECK(n.to_text() == "a.www.example.");
  CHECK(offset == packet.size());
}
