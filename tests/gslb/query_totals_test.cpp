// The DNS totals (gslb/query_totals.hpp): every worker's counters summed,
// slot by slot, with the slots' names.

#include "gslb/query_totals.hpp"

#include <catch2/catch.hpp>

#include <memory>

using namespace meridian;
using namespace meridian::gslb;

namespace {

void add(dns::QueryStats::Counter& counter, std::uint64_t n) {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

}  // namespace

TEST_CASE("query totals: every counter is the sum over the workers", "[gslb][query_totals]") {
  auto udp = std::make_unique<dns::QueryStats>();
  auto tcp = std::make_unique<dns::QueryStats>();
  add(udp->queries, 10);
  add(tcp->queries, 5);
  add(udp->dropped, 1);
  add(tcp->truncated, 2);
  add(udp->client_subnet, 3);
  add(udp->service_answers, 7);
  add(tcp->service_answers, 1);
  add(tcp->fail_open, 4);
  add(udp->fail_closed, 6);
  add(udp->by_rcode[0], 8);
  add(tcp->by_rcode[0], 1);
  add(udp->by_rcode[16], 2);  // BADVERS
  add(udp->by_qtype[dns::qtype_slot(28)], 3);
  add(tcp->by_qtype[dns::qtype_slot(28)], 3);
  add(tcp->by_qtype[dns::qtype_slot(99)], 1);  // an uncounted type: "other"
  add(udp->by_zone[1], 9);
  add(tcp->by_zone[1], 1);
  add(udp->answers_by_service[dns::QueryStats::kServiceSlots - 1], 2);
  add(tcp->answers_by_site[3], 5);

  const QueryTotals totals = sum_query_stats({udp.get(), tcp.get()}, nullptr);
  CHECK(totals.queries == 15);
  CHECK(totals.dropped == 1);
  CHECK(totals.truncated == 2);
  CHECK(totals.client_subnet == 3);
  CHECK(totals.service_answers == 8);
  CHECK(totals.fail_open == 4);
  CHECK(totals.fail_closed == 6);
  CHECK(totals.by_rcode[0] == 9);
  CHECK(totals.by_rcode[16] == 2);
  CHECK(std::string(kRcodeNames[16]) == "BADVERS");
  CHECK(totals.by_qtype[dns::qtype_slot(28)] == 6);
  CHECK(std::string(dns::kCountedQtypeNames[dns::qtype_slot(28)]) == "AAAA");
  CHECK(totals.by_qtype[16] == 1);
  REQUIRE(totals.by_zone.size() == dns::QueryStats::kZoneSlots);
  REQUIRE(totals.by_service.size() == dns::QueryStats::kServiceSlots);
  REQUIRE(totals.by_site.size() == dns::QueryStats::kSiteSlots);
  CHECK(totals.by_zone[1] == 10);
  CHECK(totals.by_zone[0] == 0);
  CHECK(totals.by_service.back() == 2);
  CHECK(totals.by_site[3] == 5);
  // No registry: no names.
  CHECK(totals.zone_names.empty());
  CHECK(totals.service_names.empty());
  CHECK(totals.site_names.empty());
}

TEST_CASE("query totals: the slots' names come from the registry", "[gslb][query_totals]") {
  dns::StatsSlotRegistry slots;
  CHECK(slots.zones.slot_of("example.test.") == 0);
  CHECK(slots.services.slot_of("www.example.test.") == 0);
  CHECK(slots.sites.slot_of("eu-west") == 0);
  CHECK(slots.sites.slot_of("us-west") == 1);
  dns::QueryStats stats;
  add(stats.answers_by_site[1], 4);
  const QueryTotals totals = sum_query_stats({&stats}, &slots);
  CHECK(totals.zone_names == std::vector<std::string>{"example.test."});
  CHECK(totals.service_names == std::vector<std::string>{"www.example.test."});
  CHECK(totals.site_names == std::vector<std::string>{"eu-west", "us-west"});
  CHECK(totals.by_site[1] == 4);
}

TEST_CASE("query totals: no worker, no slots", "[gslb][query_totals]") {
  const QueryTotals totals = sum_query_stats({}, nullptr);
  CHECK(totals.queries == 0);
  CHECK(totals.by_zone.empty());
  CHECK(totals.by_service.empty());
  CHECK(totals.by_site.empty());
}
