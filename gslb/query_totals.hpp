#pragma once
// What every DNS worker of a node has counted, summed (docs/architecture.md:
// per-thread counters summed on read), with the names of the zone, service
// and site counters' slots. The content of the status API's "dns" numbers,
// /metrics' DNS families and the query-rate history (gslb/query_rates.hpp).
//
// Thread rule: sum_query_stats reads each worker's counters with relaxed
// loads while the workers count on, so it may run on any thread; the sum is
// consistent per counter, not across counters.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "dns/stats.hpp"
#include "dns/stats_slots.hpp"

namespace meridian::gslb {

/// The names of by_rcode's slots (RCODE 0..15, then 16 = BADVERS).
inline constexpr std::array<const char*, 17> kRcodeNames{
    "NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
    "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE", "DSOTYPENI",
    "RCODE12",  "RCODE13", "RCODE14",  "RCODE15",  "BADVERS"};

/// The DNS workers' counters summed.
struct QueryTotals {
  std::uint64_t queries = 0;
  std::uint64_t dropped = 0;
  std::uint64_t truncated = 0;
  std::uint64_t client_subnet = 0;
  std::uint64_t service_answers = 0;
  std::uint64_t fail_open = 0;
  std::uint64_t fail_closed = 0;
  std::uint64_t cookie_client_only = 0;
  std::uint64_t cookie_valid = 0;
  std::uint64_t cookie_invalid = 0;
  std::uint64_t rate_limited_dropped = 0;
  std::uint64_t rate_limited_slipped = 0;
  std::array<std::uint64_t, 17> by_rcode{};  ///< index = RCODE (kRcodeNames)
  std::array<std::uint64_t, 17> by_qtype{};  ///< index = dns::qtype_slot (dns::kCountedQtypeNames)
  /// By stats slot (dns/stats_slots.hpp): queries by zone, steered answers
  /// by service and by the site of the first address. Empty without a
  /// worker, else as long as QueryStats' arrays.
  std::vector<std::uint64_t> by_zone;
  std::vector<std::uint64_t> by_service;
  std::vector<std::uint64_t> by_site;
  /// The names of the slots assigned so far (index = slot; fewer than the
  /// counts above, whose later slots are unused); empty without a registry.
  std::vector<std::string> zone_names;
  std::vector<std::string> service_names;
  std::vector<std::string> site_names;
};

/// The sum of `workers`' counters (none may be null), with the slot names of
/// `slots` (null: no names).
QueryTotals sum_query_stats(const std::vector<const dns::QueryStats*>& workers,
                            const dns::StatsSlotRegistry* slots);

}  // namespace meridian::gslb
