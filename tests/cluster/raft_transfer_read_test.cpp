// Raft leadership transfer and ReadIndex (linearizable reads).
#include <catch2/catch.hpp>

#include "cluster/raft.hpp"
#include "raft_network.hpp"

using namespace meridian;
using namespace meridian::cluster;
using namespace meridian::cluster::testing;

TEST_CASE("raft transfer: leadership moves to an up-to-date voter at once", "[cluster]") {
  Network net({1, 2, 3}, 41);
  REQUIRE(net.elect(1) == 1);
  net.propose(1, "a");
  const std::uint64_t term = net.raft(1).term();
  REQUIRE(net.raft(1).transfer_leadership(3).ok());
  net.stabilize();  // no ticks: the target does not wait out the lease
  CHECK(net.leader() == 3);
  CHECK(net.raft(3).term() == term + 1);
  CHECK(net.raft(1).role() == Role::follower);
  CHECK(net.raft(1).leader() == 3);
  net.propose(3, "b");
  for (NodeId id : net.ids()) CHECK(net.applied_data(id) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("raft transfer: the leader catches a lagging target up and refuses proposals meanwhile",
          "[cluster]") {
  Network net({1, 2, 3}, 42);
  REQUIRE(net.elect(1) == 1);
  net.cut(1, 3);
  net.propose(1, "a");
  net.propose(1, "b");
  REQUIRE(net.raft(1).transfer_leadership(3).ok());
  net.stabilize();
  CHECK(net.leader() == 1);  // 3 is unreachable: nothing happens yet
  const auto refused = net.raft(1).propose("c");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("transfer") != std::string::npos);
  CHECK(net.raft(1).transfer_leadership(3).ok());  // repeating it is a no-op

  SECTION("completes once the target is reachable") {
    int timeouts = 0;
    net.observe = [&](const Message& m) { timeouts += m.type == MessageType::timeout_now ? 1 : 0; };
    net.heal();
    net.tick_all();  // a heartbeat answer reveals 3's log; appends follow, then timeout-now
    CHECK(timeouts == 1);
    CHECK(net.leader() == 3);
    CHECK(net.applied_data(3) == std::vector<std::string>{"a", "b"});
  }
  SECTION("is abandoned after an election timeout") {
    net.tick_all(10);
    CHECK(net.leader() == 1);
    CHECK(net.raft(1).status().transferee == no_node);
    CHECK(net.raft(1).propose("c").ok());
  }
}

TEST_CASE("raft transfer: refused targets and callers", "[cluster]") {
  Network net({1, 2, 3}, 43, {}, {4});
  REQUIRE(net.elect(1) == 1);
  CHECK_FALSE(net.raft(1).transfer_leadership(1).ok());  // itself
  CHECK_FALSE(net.raft(1).transfer_leadership(4).ok());  // a learner
  CHECK_FALSE(net.raft(1).transfer_leadership(9).ok());  // a stranger
  const auto follower = net.raft(2).transfer_leadership(3);
  REQUIRE_FALSE(follower.ok());
  CHECK(follower.error().message.find("leader: 1") != std::string::npos);
}

TEST_CASE("raft read index: the leader answers with its commit index after a quorum confirms it",
          "[cluster]") {
  Network net({1, 2, 3}, 51);
  REQUIRE(net.elect(1) == 1);
  net.propose(1, "a");
  net.propose(1, "b");
  const std::uint64_t commit = net.raft(1).committed();

  net.drop_if = [](const Message& m) { return m.type == MessageType::heartbeat_response; };
  REQUIRE(net.raft(1).read_index(42).ok());
  net.stabilize();
  CHECK(net.node(1).reads.empty());  // leadership not confirmed yet
  net.tick_all(3);
  CHECK(net.node(1).reads.empty());

  net.drop_if = nullptr;
  net.propose(1, "c");  // commits after the request: not part of its answer
  net.tick_all();
  REQUIRE(net.node(1).reads.size() == 1);
  CHECK(net.node(1).reads[0] == ReadState{42, commit});
}

TEST_CASE("raft read index: followers and learners read through the leader", "[cluster]") {
  Network net({1, 2, 3}, 52, {}, {4});
  REQUIRE(net.elect(1) == 1);
  net.propose(1, "a");
  const std::uint64_t commit = net.raft(1).committed();
  REQUIRE(net.raft(2).read_index(7).ok());
  REQUIRE(net.raft(4).read_index(8).ok());
  net.stabilize();
  CHECK(net.node(2).reads == std::vector<ReadState>{{7, commit}});
  CHECK(net.node(4).reads == std::vector<ReadState>{{8, commit}});
  CHECK(net.node(1).reads.empty());
  // Without a known leader a read fails at once.
  net.crash(1);
  net.tick_all(12);
  if (net.raft(2).leader() == no_node) CHECK_FALSE(net.raft(2).read_index(9).ok());
}

TEST_CASE("raft read index: a new leader waits for its first commit", "[cluster]") {
  Network net({1, 2, 3}, 53);
  net.drop_if = [](const Message& m) { return m.type == MessageType::append_response; };
  REQUIRE(net.elect(1) == 1);
  REQUIRE(net.raft(1).read_index(5).ok());
  net.tick_all(2);
  CHECK(net.node(1).reads.empty());
  net.drop_if = nullptr;
  net.tick_all(2);
  REQUIRE(net.node(1).reads.size() == 1);
  CHECK(net.node(1).reads[0].context == 5);
  CHECK(net.node(1).reads[0].index == net.raft(1).committed());
}

TEST_CASE("raft read index: a deposed leader never answers", "[cluster]") {
  Network net({1, 2, 3}, 54);
  REQUIRE(net.elect(1) == 1);
  net.propose(1, "a");
  net.isolate(1);
  REQUIRE(net.raft(1).read_index(9).ok());
  net.tick_all(30);
  CHECK(net.raft(1).role() != Role::leader);
  CHECK(net.node(1).reads.empty());
}

TEST_CASE("raft read index: a single node answers at once; pending reads are bounded",
          "[cluster]") {
  Network net({1}, 55, [](Raft::Config& config) { config.max_pending_reads = 2; });
  net.tick_all(20);
  REQUIRE(net.leader() == 1);
  REQUIRE(net.raft(1).read_index(1).ok());
  net.stabilize();
  CHECK(net.node(1).reads == std::vector<ReadState>{{1, net.raft(1).committed()}});

  Network three({1, 2, 3}, 56, [](Raft::Config& config) { config.max_pending_reads = 2; });
  REQUIRE(three.elect(1) == 1);
  three.isolate(1);
  CHECK(three.raft(1).read_index(1).ok());
  CHECK(three.raft(1).read_index(2).ok());
  CHECK_FALSE(three.raft(1).read_index(3).ok());
}
