#include <catch2/catch.hpp>

#include "dns_test_support.hpp"

using namespace meridian::dns;
using meridian::dns::test::make_zone;

namespace {

const std::vector<std::string> kZone = {
    "@ 3600 IN SOA ns1 hostmaster 1 3600 600 604800 300",
    "@ IN NS ns1",
    "ns1 IN A 192.0.2.53",
    "www IN A 192.0.2.1",
    "a.b.c IN TXT \"deep\"",
    "*.wild IN A 192.0.2.9",
    "sub IN NS ns.sub",
    "ns.sub IN A 192.0.2.54",
};

Name name(const char* text) {
  Name n;
  REQUIRE(Name::from_text(text, n));
  return n;
}

}  // namespace

TEST_CASE("zone: lookup classifies names per RFC 1034 and RFC 4592", "[dns]") {
  const Zone zone = make_zone("example.com.", kZone);
  struct Case {
    const char* qname;
    ZoneMatch::Kind kind;
    const char* node;
  };
  const Case cases[] = {
      {"www.example.com.", ZoneMatch::Kind::exact, "www.example.com."},
      {"WWW.Example.COM.", ZoneMatch::Kind::exact, "www.example.com."},
      {"example.com.", ZoneMatch::Kind::exact, "example.com."},
      {"b.c.example.com.", ZoneMatch::Kind::exact, "b.c.example.com."},  // empty non-terminal
      {"c.example.com.", ZoneMatch::Kind::exact, "c.example.com."},
      {"x.c.example.com.", ZoneMatch::Kind::nxdomain, "c.example.com."},
      {"nope.example.com.", ZoneMatch::Kind::nxdomain, "example.com."},
      {"foo.wild.example.com.", ZoneMatch::Kind::wildcard, "*.wild.example.com."},
      {"a.foo.wild.example.com.", ZoneMatch::Kind::wildcard, "*.wild.example.com."},
      {"wild.example.com.", ZoneMatch::Kind::exact, "wild.example.com."},
      {"sub.example.com.", ZoneMatch::Kind::delegation, "sub.example.com."},
      {"deep.below.sub.example.com.", ZoneMatch::Kind::delegation, "sub.example.com."},
      {"ns.sub.example.com.", ZoneMatch::Kind::delegation, "sub.example.com."},
  };
  for (const Case& c : cases) {
    INFO(c.qname);
    const ZoneMatch match = zone.lookup(name(c.qname));
    CHECK(match.kind == c.kind);
    REQUIRE(match.node != nullptr);
    CHECK(match.node->owner.to_text() == c.node);
  }
}

TEST_CASE("zone: negative TTL is min(SOA TTL, SOA minimum)", "[dns]") {
  CHECK(make_zone("example.com.", kZone).negative_ttl() == 300);
  CHECK(make_zone("example.com.", {"@ 60 IN SOA ns1 h 1 2 3 4 300", "@ NS ns1"}).negative_ttl() ==
        60);
}

TEST_CASE("zone: the builder rejects inconsistent data", "[dns]") {
  const Name origin = name("example.com.");
  struct Case {
    std::vector<std::string> lines;
    const char* error;
  };
  const std::vector<Case> cases = {
      {{"www IN CNAME x", "www IN A 192.0.2.1"}, "CNAME beside other data at www.example.com."},
      {{"www IN A 192.0.2.1", "www IN CNAME x"}, "CNAME beside other data at www.example.com."},
      {{"www IN CNAME x", "www IN CNAME y"}, "more than one CNAME at www.example.com."},
      {{"www.example.org. IN A 192.0.2.1"}, "www.example.org. is outside the zone example.com."},
      {{"www IN SOA a b 1 2 3 4 5"}, "SOA at www.example.com. is not at the zone apex"},
      {{"@ IN CNAME x"}, "CNAME at the zone apex"},
  };
  for (const Case& c : cases) {
    ZoneBuilder builder(origin);
    std::string error;
    for (const auto& line : c.lines) {
      auto record = parse_record(line, origin, 3600);
      REQUIRE(record.ok());
      auto added = builder.add(*record);
      if (!added) {
        error = added.error().message;
        break;
      }
    }
    INFO(c.error);
    CHECK_THAT(error, Catch::Contains(c.error));
  }
}

TEST_CASE("zone: build requires SOA and NS, and forbids data below a cut", "[dns]") {
  const Name origin = name("example.com.");
  auto build = [&](std::vector<std::string> lines) {
    ZoneBuilder builder(origin);
    for (const auto& line : lines) {
      auto record = parse_record(line, origin, 3600);
      REQUIRE(record.ok());
      REQUIRE(builder.add(*record).ok());
    }
    auto zone = std::move(builder).build();
    return zone.ok() ? std::string() : zone.error().message;
  };
  CHECK_THAT(build({"@ NS ns1"}), Catch::Contains("has no SOA"));
  CHECK_THAT(build({"@ SOA a b 1 2 3 4 5"}), Catch::Contains("has no NS"));
  CHECK_THAT(build({"@ SOA a b 1 2 3 4 5", "@ NS ns1", "sub NS ns.sub", "x.sub TXT \"hidden\""}),
             Catch::Contains("below the zone cut sub.example.com."));
  CHECK(build({"@ SOA a b 1 2 3 4 5", "@ NS ns1", "sub NS ns.sub", "ns.sub A 192.0.2.1"}).empty());
}

TEST_CASE("zone: services clash with CNAME and address records", "[dns]") {
  const Name origin = name("example.com.");
  ZoneBuilder builder(origin);
  REQUIRE(builder.add(*parse_record("www IN A 192.0.2.1", origin, 60)).ok());
  REQUIRE(builder.add(*parse_record("txt IN TXT hi", origin, 60)).ok());
  auto clash = builder.add_service(name("www.example.com."), 0);
  REQUIRE_FALSE(clash.ok());
  CHECK_THAT(clash.error().message, Catch::Contains("clashes with its A record"));
  CHECK(builder.add_service(name("txt.example.com."), 0).ok());  // TXT beside a service is fine
  auto twice = builder.add_service(name("txt.example.com."), 1);
  REQUIRE_FALSE(twice.ok());
  CHECK_THAT(twice.error().message, Catch::Contains("defined twice"));
  auto address = builder.add(*parse_record("txt IN AAAA 2001:db8::1", origin, 60));
  REQUIRE_FALSE(address.ok());
  CHECK_THAT(address.error().message, Catch::Contains("service name"));
}

TEST_CASE("zone: duplicate records are ignored and RRset TTL is the lowest", "[dns]") {
  const Zone zone =
      make_zone("example.com.", {"@ SOA a b 1 2 3 4 5", "@ NS ns1", "www 300 IN A 192.0.2.1",
                                 "www 60 IN A 192.0.2.2", "www 300 IN A 192.0.2.1"});
  const ZoneNode* node = zone.find_node(name("www.example.com."));
  REQUIRE(node != nullptr);
  const RRset* a = node->find(rrtype::A);
  REQUIRE(a != nullptr);
  CHECK(a->rdatas.size() == 2);
  CHECK(a->ttl == 60);
}

TEST_CASE("presentation: records of many types parse and print back", "[dns]") {
  const Name origin = name("example.com.");
  const char* lines[] = {
      "www.example.com. 300 IN A 192.0.2.1",
      "www.example.com. 300 IN AAAA 2001:db8::1",
      "example.com. 300 IN MX 10 mail.example.com.",
      "example.com. 300 IN TXT \"hello world\"",
      "_sip._tcp.example.com. 300 IN SRV 10 20 5060 sip.example.com.",
      "example.com. 300 IN CAA 0 issue \"letsencrypt.org\"",
      "1.2.0.192.in-addr.arpa. 300 IN PTR www.example.com.",
      "example.com. 300 IN SSHFP 1 1 0123456789abcdef0123456789abcdef01234567",
  };
  for (const char* line : lines) {
    INFO(line);
    auto record = parse_record(line, origin, 3600);
    REQUIRE(record.ok());
    // Printing and parsing again gives back the same record.
    auto again = parse_record(to_text(*record), origin, 3600);
    REQUIRE(again.ok());
    CHECK(again->type == record->type);
    CHECK(again->rdata == record->rdata);
    CHECK(again->owner.equals(record->owner));
  }
  auto mx = parse_record("@ MX 10 mail", origin, 3600);
  REQUIRE(mx.ok());
  CHECK(mx->ttl == 3600);
  REQUIRE(mx->rdata_names.size() == 1);
  CHECK(mx->rdata_name(0).to_text() == "mail.example.com.");
  CHECK_FALSE(parse_record("www IN A 999.1.1.1", origin, 3600).ok());
  CHECK_FALSE(parse_record("www CH TXT hi", origin, 3600).ok());
  CHECK_FALSE(parse_record("", origin, 3600).ok());
}
