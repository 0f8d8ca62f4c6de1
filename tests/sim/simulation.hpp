#pragma once
// The deterministic cluster simulator (docs/architecture.md): one seed, one run of a
// whole Raft cluster in one process, with a simulated clock, network and
// disk, fault injection, concurrent clients, and safety and liveness checks.
// raft_sim.cpp is the command line.
//
// The model, per seed:
//
// - Cluster: 3 or 5 voters, each a Raft over a memory RaftLog (its durable
//   state), with a memory KvState as the state machine.
// - Disk: a node takes a Ready and holds it as its unsynced buffer until a
//   seeded moment (0-3 ms later); only then is it saved, its messages sent,
//   its committed entries applied, and advance() called. A crash discards
//   the buffer with the Raft and the KV state; a restart rebuilds the Raft
//   from the durable log and the KV from its snapshot (Raft re-applies the
//   committed entries after it).
// - Network: per message seeded drop, delay (reordering) and duplication;
//   partitions that come and go.
// - Clients: put / get (read_index) / compare-and-set on a few keys, sent to
//   the node they believe leads; definite refusals are retried, timeouts
//   recorded as unknown outcomes.
// - Faults: crashes and restarts (half of them aimed at the leader),
//   partitions; in some seeds log compaction (snapshots, sent to laggards)
//   and a membership change under load (a spare node joins as a learner, is
//   promoted, then a founding voter is removed).
// - Safety phase (faults on), then liveness phase (faults healed, every
//   node up): within a bound a leader exists, every client completes fresh
//   operations and every node applies every acknowledged write.
// - Checks: election safety and leader completeness every tick, log
//   matching every 100 ms and at the end, state machine safety on every
//   apply, acknowledged writes at the end, linearizability of the history.

#include <cstdint>
#include <string>

namespace meridian::sim {

struct SimOptions {
  std::uint64_t seed = 1;
  bool trace = false;  ///< print every event to stdout
};

struct SimOutcome {
  bool ok = true;
  std::string failure;  ///< what went wrong, when !ok
  std::uint64_t nodes = 0;
  std::uint64_t operations = 0;  ///< client operations in the checked history
  std::uint64_t unknown = 0;     ///< of which the outcome was unknown
  std::uint64_t leaders = 0;     ///< terms that had a leader
  std::uint64_t crashes = 0;
  std::uint64_t partitions = 0;
  std::uint64_t snapshots = 0;
  std::uint64_t membership_changes = 0;  ///< 1 when the planned change committed
  std::uint64_t sim_ms = 0;              ///< simulated time of the run
  bool inconclusive = false;             ///< the linearizability search gave up
};

/// Runs one seed. Deterministic: the same options give the same outcome and trace.
SimOutcome run_simulation(const SimOptions& options);

}  // namespace meridian::sim
