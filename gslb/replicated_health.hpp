#pragma once
// Replicated health (DESIGN.md §5): every member publishes what its own
// probes see, the leader turns the views of the live observers into one
// verdict per target, and every member answers from those replicated
// verdicts, so the same client gets the same answer at every site.
//
// - Observations: each member writes its whole view (_health/obs/<node>,
//   gslb/health_records.hpp) when it changed, at most once per
//   publish_interval, never once per probe; and renews its lease
//   (_health/lease/<node>) every publish_interval.
// - Verdicts: the leader, every publish_interval / 2, takes for each target
//   the views of the observers whose lease it saw renewed within
//   lease_timeout, decides (quorum), and writes the verdict when it differs
//   from the replicated one. Liveness is judged by the leader's own clock on
//   the arrival of renewals, so clocks of different sites never compare. A
//   new leader (or a restarted one) waits one lease_timeout to hear
//   renewals before it changes any verdict. With no live observer with a
//   view, the last verdict stays (stale).
// - Operator actions: overrides under _ops/override/ (written through the
//   admin API) beat every verdict: an endpoint's beats its site's. The
//   leader removes an override whose expiry passed (by its wall clock) and
//   logs that; verdict changes are logged by the leader too; the log
//   (_events/) is trimmed by the leader to kMaxEvents entries.
// - Cut off: a member that has known no leader for local_fallback_after
//   stops trusting the replicated verdicts (fallback() turns true, logged)
//   and the node uses its own probes until a leader is back.
//
// Thread rule: lives on the caller's io_context (the node's health thread);
// every method runs there. Store watch callbacks are posted to it.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "base/result.hpp"
#include "gslb/health_records.hpp"
#include "store/replicated_store.hpp"

namespace meridian::gslb {

struct ReplicatedHealthSettings {
  std::string self;  ///< this member's name
  Quorum quorum = Quorum::majority;
  std::chrono::milliseconds publish_interval{1000};
  std::chrono::milliseconds lease_timeout{5000};
  std::chrono::milliseconds local_fallback_after{30000};
};

/// A target as the cluster knows it.
struct TargetInfo {
  std::string key;      ///< stable across members (see gslb/health_plan.hpp target_keys)
  std::string address;  ///< the probed address, as overrides name it
  std::string site;     ///< the site name, as overrides name it
  /// The addresses answered for the endpoints probed through this target;
  /// an endpoint override may name any of them too.
  std::vector<std::string> answered = {};
  /// How many observers must see it up; nullopt: the settings' quorum.
  std::optional<Quorum> quorum = std::nullopt;
};

/// What the cluster says of one target.
struct TargetAnswer {
  std::optional<bool> forced;   ///< an operator's override: up (true) or out (false)
  std::optional<bool> verdict;  ///< the last replicated verdict (nullopt: none yet)
  /// The member is cut off from the cluster (fallback()): its own probes,
  /// where it has them, come before the verdict.
  bool local_first = false;
};

class ReplicatedHealth : public std::enable_shared_from_this<ReplicatedHealth> {
 public:
  /// Called (on the io thread) whenever verdicts() or fallback() changed.
  using ChangeHandler = std::function<void()>;

  static std::shared_ptr<ReplicatedHealth> create(boost::asio::io_context& io, store::ReplicatedStore& store,
                                                  ReplicatedHealthSettings settings, Logger& logger,
                                                  ChangeHandler on_change);

  /// Registers the store watch, applies what the store already holds, and
  /// starts the timers. Call from a thread other than the store's and the
  /// io's (it waits for both).
  Result<void> start();
  /// Stops the timers; pending store callbacks are ignored afterwards.
  void stop();

  /// The targets, by key, in the order observe() and verdicts() use. Every
  /// member must use the same keys for the same targets (they come from the
  /// cluster-wide config).
  void set_targets(std::vector<TargetInfo> targets);
  /// This member's own view, one entry per target (nullopt: not probed yet).
  void observe(std::vector<std::optional<bool>> views);

  /// The replicated verdict of each target (nullopt: none yet), or all
  /// nullopt while fallback().
  std::vector<std::optional<bool>> verdicts() const;
  /// Per target, the override in force and the last replicated verdict
  /// (both also during fallback: they were replicated before).
  std::vector<TargetAnswer> answers() const;
  /// The replicated verdict with its counts, by target key.
  std::optional<Verdict> verdict(const std::string& key) const;
  /// Verdicts that flipped (up to down or back) as this member applied them.
  std::uint64_t verdict_changes() const noexcept { return verdict_changes_; }
  /// The operator overrides in force, by key (_ops/override/...).
  const std::map<std::string, OperatorOverride>& overrides() const noexcept { return overrides_; }
  /// Every observer's last published view of the targets, by observer name.
  const std::map<std::string, Observations>& observations() const noexcept { return observations_; }
  /// Whether this member hears `observer`'s lease renewals (within the lease
  /// timeout): on the leader, whether its view counts.
  bool observer_live(const std::string& observer) const;
  /// True while this member uses its own probes (no leader for too long).
  bool fallback() const noexcept { return fallback_; }

  ReplicatedHealth(boost::asio::io_context& io, store::ReplicatedStore& store, ReplicatedHealthSettings settings, Logger& logger,
                   ChangeHandler on_change);  // use create()

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;

  void on_key(const std::string& key, const std::optional<std::string>& value);
  void tick();
  void publish(SteadyTime now);
  void decide_as_leader(SteadyTime now);
  void check_fallback(SteadyTime now);
  void expire_overrides();
  void trim_events();
  void log_event(Event event);
  std::optional<bool> forced(const TargetInfo& target) const;

  boost::asio::io_context& io_;
  store::ReplicatedStore& store_;
  ReplicatedHealthSettings settings_;
  Logger& logger_;
  ChangeHandler on_change_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;

  std::vector<TargetInfo> targets_;
  Observations mine_;
  bool mine_changed_ = true;
  SteadyTime last_publish_{};
  std::uint64_t lease_counter_ = 0;

  std::map<std::string, Observations> observations_;  // by observer
  std::map<std::string, SteadyTime> lease_seen_;      // by observer: when its last renewal applied here
  std::map<std::string, Verdict> verdicts_;           // by target key
  std::map<std::string, Verdict> proposed_;           // leader: written, not yet applied
  std::uint64_t verdict_changes_ = 0;
  std::map<std::string, OperatorOverride> overrides_; // by key (_ops/override/...)
  std::set<std::string> expiring_;                    // leader: removals written, not yet applied
  std::set<std::string> events_;                      // keys of the event log, oldest first
  std::size_t trimming_ = 0;                          // leader: deletions written, not yet applied
  std::uint64_t event_sequence_ = 0;
  SteadyTime started_ = std::chrono::steady_clock::now();
  std::optional<SteadyTime> leading_since_;
  SteadyTime leader_seen_ = std::chrono::steady_clock::now();
  bool fallback_ = false;
};

}  // namespace meridian::gslb
