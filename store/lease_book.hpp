#pragma once
// Leases over plain writes, for backends without leases of their own (the
// Raft member, the memory store, the simulator's store): a holder renews by
// writing a fresh counter to "<kLeasePrefix><holder>"; every member stamps
// each renewal with its own clock as it applies, so the decider judges
// liveness by its own clock and the clocks of different sites never meet.
//
// Thread rule: on_change runs on the store's apply thread; everything else
// may be called from any thread (one mutex).

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.hpp"
#include "store/kv_state.hpp"
#include "store/replicated_store.hpp"

namespace meridian::store {

class LeaseBook {
 public:
  /// `clock` stamps renewals; it must outlive the book.
  explicit LeaseBook(const Clock& clock) : clock_(clock) {}

  /// The write that renews `holder`'s lease: a new counter value each time,
  /// so that every renewal is a change the watchers see.
  KvPut renewal(const std::string& holder);
  /// A change under kLeasePrefix was applied: stamps (or, deleted, forgets)
  /// its holder. Other keys are ignored.
  void on_change(std::string_view key, const std::optional<std::string>& value);
  /// When each holder's latest renewal applied here.
  LeaseRenewals renewals() const;

 private:
  const Clock& clock_;
  mutable std::mutex mutex_;
  LeaseRenewals renewals_;
  std::uint64_t counter_ = 0;
};

}  // namespace meridian::store
