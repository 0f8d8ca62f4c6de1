#include "store/replicated_store.hpp"

namespace meridian::store {

void ProposalLatency::record(std::chrono::duration<double> took) noexcept {
  const double seconds = took.count();
  std::size_t bucket = 0;
  while (bucket < kProposalLatencyBounds.size() && seconds > kProposalLatencyBounds[bucket])
    ++bucket;
  ++counts[bucket];
  sum_s += seconds;
}

}  // namespace meridian::store
