#pragma once
// Replicated health (docs/architecture.md): every member publishes what its
// own probes see, the decider turns the views of the live observers into
// one verdict per target, and every member answers from those replicated
// verdicts, so the same client gets the same answer at every site.
//
// This is the cluster's part of the health flow (gslb/health_flow.hpp),
// three one-way stages over the store seam driven by one clock:
//   ObservationPublisher  local observations -> _health/obs/<node>, lease
//   VerdictDecider        (decider only) live observers' views -> _health/verdict/<target>
//   VerdictFollower       _health/, _ops/, _events/ -> answers -> VerdictSink
// ReplicatedHealth owns them, gives them the same targets, and ticks them
// every half publish interval on its Scheduler: the node runs it on its
// health thread, the simulator on virtual time.
//
// Records (keys, encodings): gslb/health_records.hpp. Operator overrides
// (_ops/override/, written through the admin API) beat every verdict: an
// endpoint's beats its site's.
//
// Thread rule: every method runs on the scheduler's thread.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "base/result.hpp"
#include "base/scheduler.hpp"
#include "gslb/health_flow.hpp"
#include "gslb/health_records.hpp"
#include "gslb/observation_publisher.hpp"
#include "gslb/verdict_decider.hpp"
#include "gslb/verdict_follower.hpp"
#include "store/replicated_store.hpp"

namespace meridian::gslb {

struct ReplicatedHealthSettings {
  std::string self;  ///< this member's name
  Quorum quorum = Quorum::majority;
  std::chrono::milliseconds publish_interval{1000};
  std::chrono::milliseconds lease_timeout{5000};
  std::chrono::milliseconds local_fallback_after{30000};
};

class ReplicatedHealth {
 public:
  /// Every reference must outlive the object. `sink` receives the answers
  /// (the routing table's builder).
  ReplicatedHealth(store::ReplicatedStore& store, Scheduler& scheduler, const Clock& clock,
                   Logger& logger, ReplicatedHealthSettings settings, VerdictSink& sink);
  ~ReplicatedHealth();
  ReplicatedHealth(const ReplicatedHealth&) = delete;
  ReplicatedHealth& operator=(const ReplicatedHealth&) = delete;

  /// Follows the store (what it holds is applied before `loaded` runs) and
  /// starts ticking.
  void start(const std::function<void(Result<void>)>& loaded);
  /// Stops ticking and following. Idempotent.
  void stop();

  /// The targets, by key. Every member must use the same keys for the same
  /// targets (they come from the cluster-wide config).
  void set_targets(std::vector<TargetInfo> targets);

  /// Where this node's own observations go (the publisher).
  ObservationPublisher& publisher() noexcept { return publisher_; }
  /// This member's view of the replicated state.
  const VerdictFollower& follower() const noexcept { return follower_; }
  /// Whether `observer`'s lease renewals arrive within the lease timeout.
  bool observer_live(const std::string& observer) const { return decider_.observer_live(observer); }

 private:
  void tick();

  Scheduler& scheduler_;
  const Clock& clock_;
  const ReplicatedHealthSettings settings_;
  ObservationPublisher publisher_;
  VerdictFollower follower_;
  VerdictDecider decider_;
  bool running_ = false;
  /// Expires with the object: ticks scheduled before do nothing.
  std::shared_ptr<ReplicatedHealth*> alive_ = std::make_shared<ReplicatedHealth*>(this);
};

}  // namespace meridian::gslb
