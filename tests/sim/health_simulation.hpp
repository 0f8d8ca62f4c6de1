#pragma once
// The whole cluster in the simulator (docs/architecture.md): one seed,
// one run of three or five Meridian nodes in one thread on virtual time,
// each with the product's own health code over a simulated Raft member:
//
//   probes (simulated: a world of endpoints that are up or down, and links
//   from nodes to endpoints that may be cut) -> health::HealthTracker
//   (rise/fall) -> gslb::ReplicatedHealth (ObservationPublisher,
//   VerdictDecider, VerdictFollower) over tests/sim/sim_store.hpp ->
//   gslb::RoutingPublisher -> a routing table per node, asked for the
//   answers of a set of clients through the real steering (GeoIP from the
//   demo database).
//
// Per seed: 3 or 5 nodes over three sites; check timings, rise/fall,
// quorum and probe_from; observer lease and local_fallback_after; whether
// the world is stable (nothing ever changes: any verdict flip is a bug),
// whether endpoints flap and links to them are cut; crashes and restarts,
// partitions long enough to cut a node off, lost, duplicated and delayed
// messages, log compaction, and operator overrides (drain, down, up, with
// and without expiry) written through any node.
//
// Checked after every simulated millisecond that changed a node's table or
// whether it hears a leader, and every 10 ms regardless (answers for every
// client every 100 ms):
// - agreement: nodes that hear from a leader and have applied the same
//   replicated health answer alike (the same usable endpoints, and the same
//   answer for every client and service);
// - fallback: a node falls back only after local_fallback_after without a
//   leader (within one health tick), always does after it plus a tick, then
//   answers from its own probes, and stops within a tick of a leader's
//   return;
// - overrides: an applied operator override is honoured in that node's
//   answers, whatever else holds;
// - rise/fall: every change of a node's own view obeys rise/fall; in a
//   stable world no verdict ever flips and every verdict is the truth;
//   published views are ones the observer's tracker held.
// Then a liveness phase (faults healed, every node up, the world frozen):
// within a bound the cluster converges: one leader, no fallback, the same
// replicated state everywhere, every verdict the truth, every acknowledged
// override in force (or expired) everywhere, the same answers everywhere.

#include <cstdint>
#include <string>

namespace meridian::sim {

struct HealthSimOptions {
  std::uint64_t seed = 1;
  bool trace = false;  ///< print every event to stdout
};

struct HealthSimOutcome {
  bool ok = true;
  std::string failure;  ///< what went wrong, when !ok
  std::uint64_t nodes = 0;
  std::uint64_t sim_ms = 0;
  std::uint64_t leaders = 0;  ///< distinct leader terms seen
  std::uint64_t crashes = 0;
  std::uint64_t partitions = 0;
  std::uint64_t fallbacks = 0;  ///< times a node went into fallback
  std::uint64_t flips = 0;      ///< verdict changes applied (summed over nodes)
  std::uint64_t overrides = 0;  ///< operator actions acknowledged
  std::uint64_t probes = 0;
  std::uint64_t answers_compared = 0;
  bool stable_world = false;
};

/// Runs one seed. Deterministic: the same options give the same outcome and trace.
HealthSimOutcome run_health_simulation(const HealthSimOptions& options);

}  // namespace meridian::sim
