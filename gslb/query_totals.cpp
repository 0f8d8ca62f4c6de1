#include "gslb/query_totals.hpp"

#include "base/assert.hpp"

namespace meridian::gslb {
namespace {

std::uint64_t load(const dns::QueryStats::Counter& counter) {
  return counter.load(std::memory_order_relaxed);
}

template <std::size_t N>
void add_all(std::vector<std::uint64_t>& into,
             const std::array<dns::QueryStats::Counter, N>& counters) {
  into.resize(N);
  for (std::size_t i = 0; i < N; ++i) into[i] += load(counters[i]);
}

}  // namespace

QueryTotals sum_query_stats(const std::vector<const dns::QueryStats*>& workers,
                            const dns::StatsSlotRegistry* slots) {
  QueryTotals totals;
  for (const dns::QueryStats* stats : workers) {
    MERIDIAN_ASSERT(stats != nullptr, "a DNS worker without counters");
    totals.queries += load(stats->queries);
    totals.dropped += load(stats->dropped);
    totals.truncated += load(stats->truncated);
    totals.client_subnet += load(stats->client_subnet);
    totals.service_answers += load(stats->service_answers);
    totals.fail_open += load(stats->fail_open);
    totals.fail_closed += load(stats->fail_closed);
    totals.cookie_client_only += load(stats->cookie_client_only);
    totals.cookie_valid += load(stats->cookie_valid);
    totals.cookie_invalid += load(stats->cookie_invalid);
    totals.rate_limited_dropped += load(stats->rate_limited_dropped);
    totals.rate_limited_slipped += load(stats->rate_limited_slipped);
    for (std::size_t i = 0; i < totals.by_rcode.size(); ++i) {
      totals.by_rcode[i] += load(stats->by_rcode[i]);
    }
    for (std::size_t i = 0; i < totals.by_qtype.size(); ++i) {
      totals.by_qtype[i] += load(stats->by_qtype[i]);
    }
    add_all(totals.by_zone, stats->by_zone);
    add_all(totals.by_service, stats->answers_by_service);
    add_all(totals.by_site, stats->answers_by_site);
  }
  if (slots != nullptr) {
    totals.zone_names = slots->zones.names();
    totals.service_names = slots->services.names();
    totals.site_names = slots->sites.names();
  }
  return totals;
}

}  // namespace meridian::gslb
