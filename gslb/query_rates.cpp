#include "gslb/query_rates.hpp"

#include <algorithm>
#include <map>

#include "base/assert.hpp"

namespace meridian::gslb {

void QueryRateHistory::sample(QueryTotals now, const std::vector<std::string>& sites,
                              std::uint64_t t_ms) {
  const double seconds = static_cast<double>(kInterval.count());
  QueryRateSample sample;
  sample.t_ms = t_ms;
  sample.total_qps =
      static_cast<double>(now.queries - std::min(last_.queries, now.queries)) / seconds;
  // The sites of the config of the moment, each from its own slot.
  std::map<std::string, std::size_t> slot_of;
  for (std::size_t slot = 0; slot < now.site_names.size(); ++slot) {
    slot_of.emplace(now.site_names[slot], slot);
  }
  for (const std::string& site : sites) {
    auto it = slot_of.find(site);
    const std::size_t slot = it != slot_of.end() ? it->second : now.by_site.size();
    if (slot >= now.by_site.size()) {
      sample.sites.emplace_back(site, 0.0);
      continue;
    }
    const std::uint64_t before = slot < last_.by_site.size() ? last_.by_site[slot] : 0;
    sample.sites.emplace_back(
        site,
        static_cast<double>(now.by_site[slot] - std::min(before, now.by_site[slot])) / seconds);
  }
  samples_.push_back(std::move(sample));
  if (samples_.size() > kSamples) samples_.pop_front();
  MERIDIAN_ASSERT(samples_.size() <= kSamples, "the query-rate history outgrew its limit");
  last_ = std::move(now);
}

}  // namespace meridian::gslb
