#pragma once
// This node's own observations into the cluster (docs/architecture.md):
// its view of every target it probes, written to _health/obs/<node> when it
// changed, at most once per publish interval and never once per probe, one
// write at a time, and written again whenever the store's record is not
// the view (a write that timed out may still land after a newer one: an
// older view must not stay until the next change); and
// its lease, renewed every publish interval (store/replicated_store.hpp),
// so that the decider counts its view. The first arrow of the cluster's
// health flow (gslb/health_flow.hpp): it reads nothing back.
//
// Thread rule: every method runs on the scheduler's thread (the node's
// health thread); store callbacks are handed back to it.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/scheduler.hpp"
#include "gslb/health_flow.hpp"
#include "gslb/health_records.hpp"
#include "store/replicated_store.hpp"

namespace meridian::gslb {

/// What the tracker's probes say of each target, overrides ignored: up,
/// down, or nullopt (not probed yet).
std::vector<std::optional<bool>> local_views(const health::HealthTracker& tracker);

class ObservationPublisher final : public LocalHealthSink {
 public:
  /// `store` and `scheduler` must outlive the publisher. `self` names this
  /// member (its observations' and lease's key).
  ObservationPublisher(store::ReplicatedStore& store, Scheduler& scheduler, std::string self,
                       Clock::Duration publish_interval);

  /// The targets, by key, in the order of the tracker's targets. Keeps the
  /// view of targets that stay.
  void set_targets(const std::vector<TargetInfo>& targets);
  /// Takes the tracker's views of the targets (published at the next tick).
  void local_health_changed(const health::HealthTracker& tracker) override;
  /// The same with the views given: one per target of set_targets, in order.
  void observe(const std::vector<std::optional<bool>>& views);
  /// Called every half publish interval: once a publish interval has passed
  /// since the last, writes the view if it changed, and renews the lease.
  void tick(Clock::TimePoint now);

  /// The view as it will be (or was last) written.
  const Observations& mine() const noexcept { return mine_; }

 private:
  /// Compares the store's own record with the view (a local read); a
  /// difference is written at the next interval.
  void check_record();

  store::ReplicatedStore& store_;
  Scheduler& scheduler_;
  const std::string self_;
  const Clock::Duration publish_interval_;
  std::vector<std::string> keys_;  // by target index
  Observations mine_;
  bool changed_ = true;
  bool writing_ = false;  // a write of mine_ is in flight
  std::optional<Clock::TimePoint> last_publish_;
  /// Expires with the publisher: store callbacks that arrive later do nothing.
  std::shared_ptr<ObservationPublisher*> alive_ = std::make_shared<ObservationPublisher*>(this);
};

}  // namespace meridian::gslb
