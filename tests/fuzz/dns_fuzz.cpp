// libFuzzer target for the DNS hot path (dns/wire/message.cpp, dns/answerer.cpp,
// the steering it calls), built with clang by run_fuzz.sh. Every UDP and TCP
// query from the Internet reaches this code, so whatever bytes arrive must
// end in a well-formed response or in silence, never in a crash.
//
// The first input byte picks how the query arrives (transport and source
// address); the rest is the query. The table answered from has the shapes
// the answerer handles differently: static records, CNAME chains and loops,
// a wildcard, a delegation with glue, an RRset too big for 512 bytes, and
// steered services of every policy, with ECS scopes from a real GeoIP
// database (configs/demo/geoip.csv written with write_mmdb, opened as the
// server opens it).
//
// What must hold for every input:
//   - a packet shorter than a header, or with QR set, gets no response;
//   - any other gets a response that ldns (an independent implementation)
//     parses, with the query's ID, QR set, at most one question, and the
//     query's opcode;
//   - a UDP response fits the client's limit: 512 bytes without a valid
//     OPT, else the smaller of its payload size and ours;
//   - a query that fails to parse gets FORMERR or NOTIMP, never an answer;
//   - the response depends on the query alone, not on what the buffer held
//     before: answered again (same random draws) into a buffer of 0xFF
//     bytes, it is the same, byte for byte.
// A broken property aborts, which libFuzzer reports with the input.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/ip_address.hpp"
#include "base/rng.hpp"
#include "dns/answerer.hpp"
#include "dns/presentation.hpp"
#include "dns/routing_table.hpp"
#include "dns/wire/message.hpp"
#include "dns/zone.hpp"
#include "geo/geo_index.hpp"
#include "geo/geo_map.hpp"
#include "geo/nets_map.hpp"
#include "geo/steering.hpp"
#include "tools/geoip_csv.hpp"
#include "tools/mmdb_writer.hpp"

// Last: ldns's headers define macros (bool, min, max...) that break C++
// headers included after them.
#include <ldns/ldns.h>

#ifndef MERIDIAN_SOURCE_DIR
#error "build with -DMERIDIAN_SOURCE_DIR=\"...\" (run_fuzz.sh does)"
#endif
#ifndef MERIDIAN_FUZZ_DIR
#error "build with -DMERIDIAN_FUZZ_DIR=\"...\" (run_fuzz.sh does)"
#endif

using namespace meridian;
using namespace meridian::dns;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "dns_fuzz: %s\n", what);
  std::abort();
}

void check(bool condition, const char* what) {
  if (!condition) fail(what);
}

template <typename T>
T must(Result<T> result, const char* what) {
  if (!result.ok()) {
    std::fprintf(stderr, "dns_fuzz: setup: %s: %s\n", what, result.error().message.c_str());
    std::abort();
  }
  return std::move(result).value();
}

IpAddress address(const char* text) {
  IpAddress parsed;
  if (!IpAddress::parse(text, parsed)) fail("setup: bad address");
  return parsed;
}

IpNetwork network(const char* text) {
  IpNetwork parsed;
  if (!IpNetwork::parse(text, parsed)) fail("setup: bad network");
  return parsed;
}

Name name(const char* text) {
  Name parsed;
  if (!Name::from_text(text, parsed)) fail("setup: bad name");
  return parsed;
}

std::shared_ptr<const geo::Locator> demo_locator() {
  const auto rows =
      must(geo::read_geoip_csv(MERIDIAN_SOURCE_DIR "/configs/demo/geoip.csv"), "geoip.csv");
  const std::string path = MERIDIAN_FUZZ_DIR "/dns_fuzz.mmdb";
  if (!geo::write_mmdb(rows, path).ok()) fail("setup: write_mmdb");
  // As the server opens it: compiled into a trie, with scope indexes.
  return must(geo::GeoIndex::open(path, ""), "open the database");
}

Zone example_zone(const std::vector<std::pair<const char*, std::uint32_t>>& services) {
  const Name origin = name("example.com.");
  ZoneBuilder builder(origin);
  std::vector<std::string> lines = {
      "@ 3600 IN SOA ns1 hostmaster 2026112901 3600 600 604800 300",
      "@ NS ns1",
      "@ NS ns2.example.net.",
      "@ MX 10 mail",
      "ns1 A 192.0.2.53",
      "ns1 AAAA 2001:db8::53",
      "mail A 192.0.2.25",
      "static A 192.0.2.1",
      "static TXT \"static text\"",
      "web CNAME www",
      "alias CNAME web",
      "out CNAME www.example.org.",
      "loop1 CNAME loop2",
      "loop2 CNAME loop1",
      "tolost CNAME nothere",
      "*.wild A 192.0.2.99",
      "*.wild TXT \"wild\"",
      "sub NS ns.sub",
      "ns.sub A 192.0.2.54",
      "ns.sub AAAA 2001:db8::54",
      "_sip._tcp SRV 10 20 5060 static",
      "a.b.c TXT \"deep\"",
  };
  // An RRset that only fits over TCP or with a large EDNS payload.
  for (int i = 0; i < 40; ++i)
    lines.push_back("big TXT \"" + std::string(60, static_cast<char>('a' + i % 26)) + "\"");
  for (const auto& line : lines)
    check(builder.add(must(parse_record(line, origin, 3600), line.c_str())).ok(), "add");
  for (const auto& [service, index] : services)
    check(builder.add_service(name(service), index).ok(), "add_service");
  return must(std::move(builder).build(), "build the zone");
}

Service service(const char* owner, const std::vector<geo::Site>& sites,
                std::vector<std::uint32_t> order, geo::ServiceSpec spec,
                const geo::Locator& locator) {
  auto scope = locator.scope_index(sites, order, spec);
  std::vector<Rdata> cnames;
  for (const auto& target : spec.cname_targets) cnames.push_back(cname_rdata(name(target.c_str())));
  return Service{name(owner), 30,
                 geo::Steering(sites, std::move(order), std::move(spec), std::move(scope)), 5,
                 std::move(cnames)};
}

std::shared_ptr<const RoutingTable> make_table() {
  const auto locator = demo_locator();
  const std::vector<geo::Site> sites = {{"eu-west", 51.51, -0.13},
                                        {"us-east", 39.04, -77.49},
                                        {"ap-northeast", 35.68, 139.69},
                                        {"sa-east", -23.55, -46.63}};
  auto endpoint = [](const char* text, std::uint32_t site, bool healthy = true,
                     std::uint32_t weight = 100) {
    geo::Endpoint result;
    result.address = address(text);
    result.site = site;
    result.weight = weight;
    result.healthy = healthy;
    return result;
  };
  std::vector<Service> services;

  geo::ServiceSpec closest;  // bias, tolerance, several sites per answer, one endpoint down
  closest.answer_count = 3;
  closest.sites_per_answer = 2;
  closest.bias_percent = {10, -20, 0, 0};
  closest.tolerance_percent = 15;
  closest.endpoints = {endpoint("192.0.2.10", 0),  endpoint("192.0.2.11", 0, false),
                       endpoint("192.0.2.20", 1),  endpoint("192.0.2.30", 2),
                       endpoint("192.0.2.40", 3),  endpoint("2001:db8::10", 0),
                       endpoint("2001:db8::30", 2)};
  {
    std::vector<geo::NetsMap::Row> rows = {{network("10.0.0.0/8"), 0, 1},
                                           {network("10.1.0.0/16"), 1, 2},
                                           {network("2001:db8:f::/48"), 0, 3}};
    closest.nets = std::make_shared<geo::NetsMap>(
        must(geo::NetsMap::build({{3, 2}, {1}}, std::move(rows),
                                 [](std::uint32_t line) { return std::to_string(line); }),
             "nets"));
  }
  services.push_back(service("www.example.com.", sites, {1, 0, 2, 3}, closest, *locator));

  geo::ServiceSpec mapped;  // geo-map, sticky, percentage threshold
  mapped.policy = geo::Policy::geo_map;
  mapped.sticky = true;
  mapped.min_healthy = 50;
  mapped.min_healthy_percent = true;
  mapped.geo_map = std::make_shared<geo::GeoMap>(
      std::vector<geo::GeoMap::Entry>{{geo::GeoMap::Level::continent, "EU", {0, 1}},
                                      {geo::GeoMap::Level::country, "SE", {2}},
                                      {geo::GeoMap::Level::subdivision, "US-WA", {3, 1}}},
      geo::SiteList{1});
  mapped.endpoints = {endpoint("192.0.2.110", 0), endpoint("192.0.2.111", 0),
                      endpoint("192.0.2.120", 1), endpoint("192.0.2.130", 2, false),
                      endpoint("192.0.2.140", 3)};
  services.push_back(service("map.example.com.", sites, {0, 1, 2, 3}, mapped, *locator));

  geo::ServiceSpec cdn;  // failover to CNAME endpoints (one in our zone), fail closed
  cdn.policy = geo::Policy::failover;
  cdn.fail = geo::FailMode::closed;
  cdn.cname_targets = {"cdn-eu.example.net.", "static.example.com."};
  geo::Endpoint eu_cname;
  eu_cname.site = 0;
  eu_cname.cname = 0;
  geo::Endpoint us_cname;
  us_cname.site = 1;
  us_cname.cname = 1;
  cdn.endpoints = {eu_cname, us_cname};
  services.push_back(service("cdn.example.com.", sites, {0, 1}, cdn, *locator));

  geo::ServiceSpec weighted;  // everything by weight, ECS ignored, nothing healthy: fallback
  weighted.policy = geo::Policy::weighted;
  weighted.use_ecs = false;
  weighted.answer_count = 8;
  weighted.fallback = {address("192.0.2.250"), address("2001:db8::250")};
  weighted.endpoints = {endpoint("192.0.2.210", 0, false, 10),
                        endpoint("192.0.2.220", 1, false, 90), endpoint("2001:db8::220", 1, false)};
  services.push_back(service("pool.example.com.", sites, {0, 1, 2, 3}, weighted, *locator));

  geo::ServiceSpec down;  // nothing healthy and no fallback: SERVFAIL
  down.fail = geo::FailMode::servfail;
  down.endpoints = {endpoint("192.0.2.230", 2, false)};
  services.push_back(service("down.example.com.", sites, {2}, down, *locator));

  std::vector<Zone> zones;
  zones.push_back(example_zone({{"www.example.com.", 0},
                                {"map.example.com.", 1},
                                {"cdn.example.com.", 2},
                                {"pool.example.com.", 3},
                                {"down.example.com.", 4}}));
  const Name net_origin = name("example.net.");
  ZoneBuilder net(net_origin);
  for (const char* line :
       {"@ SOA ns1 h 1 2 3 4 60", "@ NS ns1", "ns1 A 192.0.2.77", "cdn-eu A 192.0.2.78"}) {
    check(net.add(must(parse_record(line, net_origin, 3600), line)).ok(), "add");
  }
  zones.push_back(must(std::move(net).build(), "build example.net."));
  return std::make_shared<RoutingTable>(std::move(zones), std::move(services), locator, 1);
}

struct Fixture {
  std::shared_ptr<const RoutingTable> table = make_table();
  Answerer answerer{AnswererSettings{1232, "fuzz-node"}};
  Rng rng{42};
  QueryStats stats;
  // COOKIE options are parsed and answered (at a fixed time, so a replay
  // answers the same); rate limiting is left out: it answers a repeated
  // query differently by design.
  CookieSecrets cookies{CookieSecret{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
                        CookieSecret{16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}};
  std::vector<std::uint8_t> response = std::vector<std::uint8_t>(kMaxTcpMessage);
  std::vector<std::uint8_t> again = std::vector<std::uint8_t>(kMaxTcpMessage);
  // London, Stockholm (SE), Milton WA (US-WA), an unknown address, a nets
  // row, Tokyo over IPv6, an IPv6 nets row, and an IPv4-mapped source.
  std::array<IpAddress, 8> sources = {address("81.2.69.160"),   address("89.160.1.1"),
                                      address("216.160.83.56"), address("198.51.100.7"),
                                      address("10.1.2.3"),      address("2001:218::1"),
                                      address("2001:db8:f::9"), address("::ffff:175.16.199.1")};
};

/// The response's own view of itself through ldns; aborts when it cannot
/// parse it.
void check_response(std::span<const std::uint8_t> query, std::span<const std::uint8_t> response) {
  ldns_pkt* parsed = nullptr;
  if (const ldns_status status = ldns_wire2pkt(&parsed, response.data(), response.size());
      status != LDNS_STATUS_OK) {
    std::fprintf(stderr, "dns_fuzz: ldns: %s; the response:", ldns_get_errorstr_by_id(status));
    for (const std::uint8_t byte : response) std::fprintf(stderr, " %02x", byte);
    std::fprintf(stderr, "\n");
    fail("ldns cannot parse the response");
  }
  check(ldns_pkt_qr(parsed), "QR is not set in the response");
  check(ldns_pkt_qdcount(parsed) <= 1, "more than one question in the response");
  check(ldns_pkt_id(parsed) == ((query[0] << 8) | query[1]),
        "the response's ID is not the query's");
  check(static_cast<unsigned>(ldns_pkt_get_opcode(parsed)) == ((query[2] >> 3) & 0x0F),
        "the response's opcode is not the query's");
  ldns_pkt_free(parsed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  if (size < 1) return 0;
  const std::uint8_t how = data[0];
  const std::span<const std::uint8_t> query(data + 1, size - 1);
  QueryContext context{fixture.sources[(how >> 1) % fixture.sources.size()],
                       (how & 1) != 0 ? Transport::tcp : Transport::udp, &fixture.rng};
  context.now_s = 1'800'000'000;
  context.cookies = &fixture.cookies;

  Query parsed;
  const ParseOutcome outcome = parse_query(query, parsed);
  const Rng before = fixture.rng;
  const std::size_t length =
      fixture.answerer.answer(*fixture.table, context, query, fixture.response, fixture.stats);
  check(length <= fixture.response.size(), "the response overran its buffer");

  // fixture.response keeps whatever earlier inputs left in it, as a
  // server's reused buffer does; `again` starts from 0xFF bytes.
  Rng replay = before;
  QueryContext replay_context = context;
  replay_context.rng = &replay;
  std::fill(fixture.again.begin(), fixture.again.end(), 0xFF);
  const std::size_t again_length =
      fixture.answerer.answer(*fixture.table, replay_context, query, fixture.again, fixture.stats);
  check(again_length == length && std::equal(fixture.again.begin(), fixture.again.begin() + length,
                                             fixture.response.begin()),
        "the response depends on what the buffer held before");

  if (outcome == ParseOutcome::drop) {
    check(length == 0, "a packet that must be dropped got a response");
    check(query.size() < 12 || (query[2] & 0x80) != 0,
          "a query with a header and QR clear was dropped");
    return 0;
  }
  check(length >= 12, "a query that must be answered got no response");
  const std::span<const std::uint8_t> response(fixture.response.data(), length);
  check_response(query, response);

  const unsigned rcode = response[3] & 0x0F;
  if (outcome == ParseOutcome::formerr) check(rcode == 1, "a malformed query did not get FORMERR");
  if (outcome == ParseOutcome::notimp) check(rcode == 4, "an unknown opcode did not get NOTIMP");
  if (outcome != ParseOutcome::ok) {
    check(response[6] == 0 && response[7] == 0, "a query that failed to parse got answer records");
  }
  if (context.transport == Transport::udp) {
    const std::size_t limit =
        (outcome == ParseOutcome::ok && parsed.edns.present)
            ? std::max<std::size_t>(512, std::min<std::size_t>(parsed.edns.udp_payload, 1232))
            : 512;
    check(length <= limit, "a UDP response is larger than the client can take");
  }
  return 0;
}
