#pragma once
// One verdict per target, decided by one member (docs/architecture.md): on
// the store's decider (the Raft leader), every half publish interval, the
// views of the observers whose lease it saw renewed within lease_timeout
// become a verdict (gslb/health_records.hpp decide), written when it
// differs from the replicated one. Liveness is judged by the decider's own
// clock on the arrival of renewals, so clocks of different sites never
// compare. A new decider (or a restarted one) waits one lease_timeout to
// hear renewals before it changes any verdict. With no live observer with a
// view, the last verdict stays, marked stale.
//
// The decider also keeps what its role keeps: it removes operator overrides
// whose expiry passed (by its wall clock), logs verdict changes and
// expiries in the event log, and trims the log to kMaxEvents entries.
//
// It reads the replicated state from a VerdictFollower (what this member
// has applied) and writes verdicts: the middle arrow of the cluster's
// health flow (gslb/health_flow.hpp).
//
// Thread rule: every method runs on the scheduler's thread.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "base/clock.hpp"
#include "base/scheduler.hpp"
#include "gslb/health_records.hpp"
#include "gslb/verdict_follower.hpp"
#include "store/replicated_store.hpp"

namespace meridian::gslb {

class VerdictDecider {
 public:
  struct Settings {
    std::string self;  ///< this member: the author of its events
    Quorum quorum = Quorum::majority;
    Clock::Duration lease_timeout = std::chrono::seconds(5);
  };

  /// Every reference must outlive the decider. `follower` is this member's
  /// view of the replicated state (and of the targets).
  VerdictDecider(store::ReplicatedStore& store, Scheduler& scheduler, const Clock& clock,
                 const VerdictFollower& follower, Settings settings);

  /// Decides, if this member is the decider (see above).
  void tick(Clock::TimePoint now);

  /// Whether `observer`'s lease renewals arrive within the lease timeout
  /// here: on the decider, whether its view counts.
  bool observer_live(const std::string& observer) const;

 private:
  void decide(Clock::TimePoint now);
  void expire_overrides();
  void trim_events();
  /// Writes `command`; when the store refuses it (or cannot say), runs
  /// `refused` on the scheduler's thread so that the write may be tried
  /// again (nothing runs once the decider is gone).
  void write(store::KvCommand command, std::function<void(VerdictDecider&)> refused);
  void log_event(Event event);

  store::ReplicatedStore& store_;
  Scheduler& scheduler_;
  const Clock& clock_;
  const VerdictFollower& follower_;
  const Settings settings_;
  const Clock::TimePoint started_;
  std::optional<Clock::TimePoint> deciding_since_;

  /// Written, not yet applied: the verdict, and the index of the one it
  /// replaces (settled once the follower applies a newer one).
  struct Proposal {
    Verdict verdict;
    std::uint64_t replaced_index = 0;
  };
  std::map<std::string, Proposal> proposed_;
  std::map<std::string, std::uint64_t>
      expiring_;                    // override key -> its index when its removal was written
  std::set<std::string> trimming_;  // event keys whose deletion was written
  std::uint64_t event_sequence_ = 0;
  /// Expires with the decider: store callbacks that arrive later do nothing.
  std::shared_ptr<VerdictDecider*> alive_ = std::make_shared<VerdictDecider*>(this);
};

}  // namespace meridian::gslb
