#pragma once
// The cluster's word on every target, as this member has applied it
// (docs/architecture.md): it follows the replicated health records
// (gslb/health_records.hpp: observations, verdicts, operator overrides, the
// event log) through the store seam, and hands every change of what the
// routing table needs (one TargetAnswer per target) to its VerdictSink. The
// last arrow of the cluster's health flow (gslb/health_flow.hpp): it only
// reads the store.
//
// - At start, what the store already holds (from disk after a restart) is
//   applied before `loaded` is called, so a node's first answers come from
//   the replicated state rather than from its own probes alone.
// - Cut off: a member that has known no leader for local_fallback_after
//   stops trusting the replicated verdicts (fallback() turns true, logged),
//   and its answers put its own probes first until a leader is back.
//
// Thread rule: every method runs on the scheduler's thread; the store's
// watch callbacks are handed over to it.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "base/result.hpp"
#include "base/scheduler.hpp"
#include "gslb/health_flow.hpp"
#include "gslb/health_records.hpp"
#include "store/replicated_store.hpp"

namespace meridian::gslb {

/// The replicated health records a member has applied, with the store
/// index that last changed each verdict and override (0: loaded at start).
struct ReplicatedHealthState {
  std::map<std::string, Observations> observations;  ///< by observer
  std::map<std::string, Verdict> verdicts;           ///< by target key
  std::map<std::string, std::uint64_t> verdict_index;
  std::map<std::string, OperatorOverride> overrides;  ///< by key (_ops/override/...)
  std::map<std::string, std::uint64_t> override_index;
  std::set<std::string> events;  ///< keys of the event log, oldest first
};

class VerdictFollower {
 public:
  /// `store`, `scheduler`, `clock`, `logger` and `sink` must outlive the
  /// follower.
  VerdictFollower(store::ReplicatedStore& store, Scheduler& scheduler, const Clock& clock,
                  Logger& logger, Clock::Duration local_fallback_after, VerdictSink& sink);
  ~VerdictFollower();

  /// Watches the records and loads what the store holds; `loaded` runs on
  /// the scheduler's thread once it is applied (or with the error that
  /// stopped it). The follower answers from what it has meanwhile.
  void start(const std::function<void(Result<void>)>& loaded);
  /// Stops following: later store callbacks are ignored.
  void stop();

  /// The targets, by key, in the order answers() uses; hands the answers
  /// for them to the sink.
  void set_targets(std::vector<TargetInfo> targets);
  /// Called every half publish interval: judges whether the member is cut
  /// off (no leader known for local_fallback_after).
  void tick(Clock::TimePoint now);

  /// Per target, the override in force and the last replicated verdict
  /// (both also during fallback: they were replicated before).
  std::vector<TargetAnswer> answers() const;
  /// The replicated verdict of each target (nullopt: none yet), or all
  /// nullopt while fallback().
  std::vector<std::optional<bool>> verdicts() const;
  /// The replicated verdict with its counts, by target key.
  std::optional<Verdict> verdict(const std::string& key) const;
  /// Verdicts that flipped (up to down or back) as this member applied them.
  std::uint64_t verdict_changes() const noexcept { return verdict_changes_; }
  /// True while this member answers from its own probes (no leader for too long).
  bool fallback() const noexcept { return fallback_; }
  const ReplicatedHealthState& state() const noexcept { return state_; }
  const std::vector<TargetInfo>& targets() const noexcept { return targets_; }

 private:
  void apply(const std::string& key, const std::optional<std::string>& value, std::uint64_t index);
  std::optional<bool> forced(const TargetInfo& target) const;
  void changed();

  store::ReplicatedStore& store_;
  Scheduler& scheduler_;
  Logger& logger_;
  const Clock::Duration local_fallback_after_;
  VerdictSink& sink_;
  std::vector<store::WatchId> watches_;
  bool stopped_ = false;

  std::vector<TargetInfo> targets_;
  ReplicatedHealthState state_;
  std::uint64_t verdict_changes_ = 0;
  Clock::TimePoint leader_seen_;
  bool fallback_ = false;
  /// Expires with the follower: store callbacks that arrive later do nothing.
  std::shared_ptr<VerdictFollower*> alive_ = std::make_shared<VerdictFollower*>(this);
};

}  // namespace meridian::gslb
