#pragma once
// The health flow of a node (docs/architecture.md), one way only:
//
//   probes (health::HealthMonitor: rise/fall per target)
//     --LocalHealthSink-->  this node's own observations, delivered to
//        - ObservationPublisher (in a cluster): writes them to the store and
//          renews this node's lease;
//        - RoutingPublisher: the local verdicts of a single node (or of a
//          node cut off), TTLs cut while health is in transition.
//   store --> VerdictDecider (on the decider only): the views of the live
//             observers become one verdict per target, written to the store
//   store --> VerdictFollower: the replicated verdicts, operator overrides,
//             and whether the node is cut off (fallback)
//     --VerdictSink--> RoutingPublisher --> routing table (dns::RoutingTableSlot)
//
// Each arrow is one of the interfaces below, named for where its data goes.
// No object both publishes into a flow and reads back what it published:
// the publisher never reads verdicts, the follower never writes, the decider
// reads observations and writes only verdicts (and the housekeeping of its
// role: expired overrides, the event log's bound).

#include <optional>
#include <string>
#include <vector>

#include "gslb/health_records.hpp"
#include "health/tracker.hpp"

namespace meridian::gslb {

/// A health target as the cluster knows it (gslb/health_plan.hpp makes
/// them from a config: the same keys on every node with the same config).
struct TargetInfo {
  std::string key;      ///< stable across members (gslb/health_plan.hpp target_keys)
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
  /// The member is cut off from the cluster (fallback): its own probes,
  /// where it has them, come before the verdict.
  bool local_first = false;

  friend bool operator==(const TargetAnswer&, const TargetAnswer&) = default;
};

/// Where this node's own observations go. Called on the health thread
/// after any number of probe results changed something, with the tracker
/// that holds them (valid for the call only).
class LocalHealthSink {
 public:
  virtual ~LocalHealthSink() = default;
  virtual void local_health_changed(const health::HealthTracker& tracker) = 0;
};

/// Where the cluster's word on every target goes: one answer per target
/// of the last set_targets, in that order. Called on the health thread
/// whenever a verdict, an override or the fallback changed.
class VerdictSink {
 public:
  virtual ~VerdictSink() = default;
  virtual void cluster_verdicts_changed(const std::vector<TargetAnswer>& answers) = 0;
};

}  // namespace meridian::gslb
