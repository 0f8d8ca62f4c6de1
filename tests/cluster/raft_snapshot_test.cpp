// Raft snapshots and restarts: a follower behind the compacted log gets the
// snapshot; a node restarted over its durable log resumes where it was.
#include <catch2/catch.hpp>

#include "cluster/raft.hpp"
#include "raft_network.hpp"

using namespace meridian;
using namespace meridian::cluster;
using namespace meridian::cluster::testing;

namespace {

// The state machine's snapshot at node `id`'s applied index, recorded in its
// log with `keep` entries kept for slow followers.
store::Snapshot compact(Network& net, NodeId id, std::uint64_t keep) {
  TestNode& node = net.node(id);
  store::Snapshot snapshot;
  snapshot.index = node.applied_index;
  snapshot.term = *node.log->term(snapshot.index);
  snapshot.membership = net.raft(id).membership();
  snapshot.data = "state@" + std::to_string(snapshot.index);
  REQUIRE(node.log->compact(snapshot, keep).ok());
  return snapshot;
}

PeerStatus peer_status(Raft& leader, NodeId id) {
  for (const PeerStatus& peer : leader.status().progress) {
    if (peer.id == id) return peer;
  }
  FAIL("no progress for node " << id);
  return {};
}

}  // namespace

TEST_CASE("raft snapshot: a follower behind the compacted log receives the snapshot", "[cluster]") {
  // drop_first: the first snapshot is lost and sent again after
  // snapshot_retry_ticks.
  for (const bool drop_first : {false, true}) {
    INFO("drop_first " << drop_first);
    Network net({1, 2, 3}, 21);
    REQUIRE(net.elect(1) == 1);
    net.propose(1, "a");
    net.crash(3);
    for (const char* data : {"b", "c", "d"}) net.propose(1, data);
    const store::Snapshot snapshot = compact(net, 1, 0);
    REQUIRE(net.node(1).log->first_index() == snapshot.index + 1);

    int snapshots = 0;
    net.drop_if = [&](const Message& m) {
      if (m.type != MessageType::snapshot) return false;
      ++snapshots;
      return drop_first && snapshots == 1;
    };
    net.start(3);
    net.tick_all(3);
    if (drop_first) {
      CHECK(snapshots == 1);
      CHECK(peer_status(net.raft(1), 3).state == ReplicationState::snapshot);
      CHECK_FALSE(net.node(3).restored.has_value());
      net.tick_all(30);
    }
    CHECK(snapshots == (drop_first ? 2 : 1));
    REQUIRE(net.node(3).restored.has_value());
    CHECK(*net.node(3).restored == snapshot);
    CHECK(net.node(3).log->snapshot() == snapshot);
    CHECK(net.raft(3).committed() == snapshot.index);
    CHECK(peer_status(net.raft(1), 3).state == ReplicationState::replicate);
    // Replication continues after the snapshot.
    net.propose(1, "e");
    CHECK(net.applied_data(3) == std::vector<std::string>{"e"});
    CHECK(net.raft(3).committed() == net.raft(1).committed());
    CHECK(net.raft(3).status().applied == net.raft(1).committed());
  }
}

TEST_CASE("raft snapshot: a follower that still holds the kept tail gets entries, not the snapshot",
          "[cluster]") {
  Network net({1, 2, 3}, 23);
  REQUIRE(net.elect(1) == 1);
  net.propose(1, "a");
  net.crash(3);
  net.propose(1, "b");
  compact(net, 1, 5);  // keeps entries for slow followers
  int snapshots = 0;
  net.observe = [&](const Message& m) { snapshots += m.type == MessageType::snapshot ? 1 : 0; };
  net.start(3);
  net.tick_all(3);
  CHECK(snapshots == 0);
  CHECK(net.applied_data(3) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("raft snapshot: a snapshot the follower's log already covers only advances its commit",
          "[cluster]") {
  // Node 2 holds entries of terms [1, 1, 1], committed up to 1.
  auto log = log_with({1, 1, 1}, {1, 0, 1});
  Raft raft(test_config(2, {1, 2, 3}), *log, 3);
  Message m;
  m.type = MessageType::snapshot;
  m.from = 1;
  m.to = 2;
  m.term = 1;
  m.snapshot = store::Snapshot{2, 1, {{1, 2, 3}, {}}, "state"};
  REQUIRE(raft.step(m).ok());
  CHECK(raft.committed() == 2);
  Ready ready = raft.ready();
  CHECK_FALSE(ready.snapshot.has_value());
  REQUIRE(ready.messages.size() == 1);
  CHECK(ready.messages[0].index == 3);  // its whole log matches
  CHECK(ready.committed_entries.size() == 2);
  raft.advance(ready);
}

TEST_CASE("raft snapshot: a restarted node resumes from its persisted log", "[cluster]") {
  Network net({1, 2, 3}, 22);
  REQUIRE(net.elect(1) == 1);
  for (const char* data : {"a", "b", "c"}) net.propose(1, data);
  const store::Snapshot snapshot = compact(net, 2, 1);
  std::map<NodeId, store::HardState> before;
  for (NodeId id : net.ids()) before[id] = net.node(id).log->hard_state();

  for (NodeId id : net.ids()) net.crash(id);
  for (NodeId id : net.ids()) net.start(id);
  net.process_readies();
  for (NodeId id : net.ids()) {
    INFO("node " << id);
    const Status status = net.raft(id).status();
    CHECK(status.role == Role::follower);
    CHECK(status.leader == no_node);
    CHECK(status.term == before[id].term);
    CHECK(status.vote == before[id].vote);
    CHECK(status.commit == before[id].commit);
    CHECK(status.membership == store::Membership{{1, 2, 3}, {}});
  }
  // State machines restart from their snapshot and re-apply what was
  // committed (entries are indexed: no-op 1, a 2, b 3, c 4).
  CHECK(net.applied_data(1) == std::vector<std::string>{"a", "b", "c"});
  CHECK(snapshot.index == 4);
  CHECK(net.node(2).applied_index == 4);
  CHECK(net.applied_data(2).empty());

  net.tick_all(30);
  const NodeId leader = net.leader();
  REQUIRE(leader != no_node);
  CHECK(net.raft(leader).term() > before[1].term);
  net.propose(leader, "d");
  CHECK(net.applied_data(1) == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(net.applied_data(2) == std::vector<std::string>{"d"});
}

TEST_CASE("raft snapshot: a restart honours Config.applied and keeps unpersisted work out",
          "[cluster]") {
  auto log = log_with({1, 1, 1, 1}, {1, 1, 4});
  auto config = test_config(1, {1});
  config.applied = 3;  // a persistent state machine already holds 1..3
  Raft raft(config, *log, 5);
  Ready ready = raft.ready();
  REQUIRE(ready.committed_entries.size() == 1);
  CHECK(ready.committed_entries[0].index == 4);
  raft.advance(ready);
  // Elected alone, the node appends a no-op that is not durable until the
  // driver saves it; a "crash" before that loses it, and the restart does
  // not see it.
  REQUIRE(raft.campaign().ok());
  CHECK(raft.role() == Role::leader);
  CHECK(raft.status().last_index == 5);
  Raft restarted(config, *log, 6);
  CHECK(restarted.status().last_index == 4);
  CHECK(restarted.term() == 1);
}
