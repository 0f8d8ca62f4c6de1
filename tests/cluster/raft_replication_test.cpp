// Raft log replication: commitment of current-term entries only (figure 8),
// conflict repair with fast back-off, flow control and message limits.
#include <catch2/catch.hpp>

#include <algorithm>

#include "cluster/raft.hpp"
#include "raft_network.hpp"

using namespace meridian;
using namespace meridian::cluster;
using namespace meridian::cluster::testing;

namespace {

std::vector<std::uint64_t> terms_of(const store::RaftLog& log) {
  std::vector<std::uint64_t> terms;
  for (std::uint64_t i = log.first_index(); i <= log.last_index(); ++i)
    terms.push_back(*log.term(i));
  return terms;
}

bool carries_index(const Message& m, std::uint64_t index) {
  return m.type == MessageType::append &&
         std::any_of(m.entries.begin(), m.entries.end(),
                     [&](const store::Entry& e) { return e.index == index; });
}

}  // namespace

TEST_CASE("raft replication: figure 8, an old-term entry commits only through a current-term one",
          "[cluster]") {
  // Raft paper, figure 8. Terms of each log; every node is at term 3, commit 1.
  Network net({}, 8, {});
  const std::vector<std::vector<std::uint64_t>> logs = {{1, 2}, {1, 2}, {1}, {1}, {1, 3}};
  for (NodeId id = 1; id <= 5; ++id) {
    auto config = test_config(id, {1, 2, 3, 4, 5});
    config.max_size_per_msg = 0;  // one entry per append, so acks arrive entry by entry
    net.add(std::move(config), log_with(logs[id - 1], {3, 0, 1}));
  }
  // S1 wins term 4 (S5 is out of reach) and appends its no-op at index 3,
  // which reaches only S2. S3 and S4 reject the first append carrying it
  // (they lack index 2), then accept index 2 alone; every later append
  // carrying index 3 to them is lost. Index 2 (term 2) is then on a
  // majority, index 3 on two nodes.
  net.cut(1, 5);
  std::map<NodeId, int> carrying_3;
  net.drop_if = [&](const Message& m) {
    return m.to != 2 && carries_index(m, 3) && ++carrying_3[m.to] > 1;
  };
  REQUIRE(net.elect(1) == 1);
  REQUIRE(net.raft(1).term() == 4);
  std::size_t holding_index_2 = 0;
  for (const PeerStatus& peer : net.raft(1).status().progress)
    holding_index_2 += peer.match >= 2 ? 1 : 0;
  REQUIRE(holding_index_2 == 4);
  // Counting replicas of the term-2 entry must not commit it.
  CHECK(net.raft(1).committed() == 1);

  SECTION("it was right not to: a later leader overwrites it") {
    // S5 (last term 3) can win with S3 and S4 while S1 and S2 are away.
    net.drop_if = nullptr;
    net.isolate(1);
    net.isolate(2);
    net.tick_all(40);
    REQUIRE(net.leader() == 5);
    CHECK(net.raft(5).committed() >= 2);
    net.heal();
    net.tick_all(5);
    for (NodeId id = 1; id <= 5; ++id) {
      INFO("node " << id);
      // The network fails the test had any node applied index 2 of term 2.
      CHECK(*net.node(id).log->term(2) == 3);
      CHECK(net.node(id).applied.at(1).term == 3);
    }
  }
  SECTION("once the current-term entry is on a majority, both commit") {
    net.drop_if = nullptr;
    net.tick_all(2);
    CHECK(net.raft(1).committed() == 3);
    REQUIRE(net.node(3).applied.size() == 3);
    CHECK(net.node(3).applied[1].term == 2);
    CHECK(net.node(3).applied[2].term == 4);
  }
}

TEST_CASE("raft replication: conflicting follower logs are overwritten with fast back-off",
          "[cluster]") {
  // Raft paper, figure 7: the leader's log and followers (a)-(f). Node 1
  // leads with `leader`, node 2 holds the same log (for the quorum), node 3
  // holds `follower`. Rejections are counted: fast back-off skips a whole
  // term per round trip where one-entry back-off would need up to 7.
  const std::vector<std::uint64_t> leader = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
  struct Case {
    const char* what;
    std::vector<std::uint64_t> follower;
    int rejections;
  };
  const Case cases[] = {
      {"(a) one entry short", {1, 1, 1, 4, 4, 5, 5, 6, 6}, 1},
      {"(b) far behind", {1, 1, 1, 4}, 1},
      {"(c) one extra entry: matches at once", {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6}, 0},
      {"(d) extra entries of a newer term", {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7}, 0},
      {"(e) an unknown term-4 tail", {1, 1, 1, 4, 4, 4, 4}, 1},
      {"(f) terms 2 and 3 never committed", {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}, 1},
      {"a newer term in the middle", {1, 1, 1, 4, 4, 5, 5, 7, 7}, 1},
      {"a long term-2 tail: one term per round trip", {1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, 2},
      {"empty", {}, 1},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const std::uint64_t term = 7;
    Network net({}, 11);
    net.add(test_config(1, {1, 2, 3}), log_with(leader, {term, 0, 0}));
    net.add(test_config(2, {1, 2, 3}), log_with(leader, {term, 0, 0}));
    net.add(test_config(3, {1, 2, 3}), log_with(c.follower, {term, 0, 0}));
    int rejections = 0;
    net.observe = [&](const Message& m) {
      if (m.type == MessageType::append_response && m.from == 3 && m.reject) ++rejections;
    };
    REQUIRE(net.elect(1) == 1);
    CHECK(rejections == c.rejections);
    auto expected = leader;
    expected.push_back(net.raft(1).term());  // the new leader's empty entry
    CHECK(terms_of(*net.node(3).log) == expected);
    CHECK(net.raft(3).committed() == expected.size());
  }
}

TEST_CASE("raft replication: flow control caps appends in flight per follower", "[cluster]") {
  Network net({1, 2, 3}, 4, [](Raft::Config& config) {
    config.max_inflight_msgs = 3;
    config.max_size_per_msg = 0;
  });
  REQUIRE(net.elect(1) == 1);
  net.propose(1, "warm-up");  // both followers reach replicate state
  int appends_to_2 = 0;
  net.observe = [&](const Message& m) {
    if (m.type == MessageType::append && m.to == 2 && !m.entries.empty()) ++appends_to_2;
  };
  // Node 2 receives everything but its acknowledgements are lost.
  net.drop_if = [](const Message& m) {
    return m.type == MessageType::append_response && m.from == 2;
  };
  for (int i = 0; i < 10; ++i) REQUIRE(net.raft(1).propose("p" + std::to_string(i)).ok());
  net.stabilize();
  CHECK(appends_to_2 == 3);
  const auto peer_2 = [&] {
    for (const PeerStatus& peer : net.raft(1).status().progress) {
      if (peer.id == 2) return peer;
    }
    FAIL("no progress for node 2");
    return PeerStatus{};
  };
  CHECK(peer_2().state == ReplicationState::replicate);
  CHECK(peer_2().inflight == 3);
  CHECK(net.applied_data(3).size() == 11);  // node 3 is not slowed down
  // A heartbeat answer proves node 2 alive: one slot opens per round.
  net.tick_all();
  CHECK(appends_to_2 == 4);
  CHECK(peer_2().inflight == 3);
  net.drop_if = nullptr;
  net.tick_all(2);
  CHECK(net.applied_data(2) == net.applied_data(1));
  CHECK(peer_2().inflight == 0);
}

TEST_CASE("raft replication: appends are split at max_size_per_msg", "[cluster]") {
  Network net({1, 2}, 6, [](Raft::Config& config) { config.max_size_per_msg = 10; });
  REQUIRE(net.elect(1) == 1);
  net.crash(2);
  for (int i = 0; i < 6; ++i) REQUIRE(net.raft(1).propose("12345").ok());
  net.stabilize();  // the appends to the crashed node are lost
  std::size_t largest = 0;
  net.observe = [&](const Message& m) {
    if (m.type == MessageType::append) largest = std::max(largest, m.entries.size());
  };
  net.start(2);
  net.tick_all(3);
  CHECK(largest == 2);  // 2 x 5 bytes fill 10
  CHECK(net.applied_data(2).size() == 6);
}

TEST_CASE("raft replication: appends are capped at max_entries_per_msg", "[cluster]") {
  Network net({1, 2}, 7, [](Raft::Config& config) { config.max_entries_per_msg = 3; });
  REQUIRE(net.elect(1) == 1);
  net.crash(2);
  for (int i = 0; i < 7; ++i) REQUIRE(net.raft(1).propose("").ok());  // empty: no byte limit helps
  net.stabilize();
  std::size_t largest = 0;
  net.observe = [&](const Message& m) {
    if (m.type == MessageType::append) largest = std::max(largest, m.entries.size());
  };
  net.start(2);
  net.tick_all(3);
  CHECK(largest == 3);
  CHECK(net.raft(2).committed() == net.raft(1).committed());
}

TEST_CASE("raft replication: proposals are bounded in size and in uncommitted bytes", "[cluster]") {
  Network net({1, 2, 3}, 8, [](Raft::Config& config) {
    config.max_entry_bytes = 10;
    config.max_uncommitted_bytes = 25;
  });
  REQUIRE(net.elect(1) == 1);
  CHECK(net.raft(1).propose(std::string(10, 'x')).ok());
  const auto too_large = net.raft(1).propose(std::string(11, 'x'));
  REQUIRE_FALSE(too_large.ok());
  CHECK(too_large.error().message.find("max_entry_bytes") != std::string::npos);
  net.stabilize();
  // With the followers down nothing commits: 10 + 10 fit, 5 more do not.
  net.crash(2);
  net.crash(3);
  CHECK(net.raft(1).propose(std::string(10, 'a')).ok());
  CHECK(net.raft(1).propose(std::string(10, 'b')).ok());
  CHECK(net.raft(1).propose(std::string(5, 'c')).ok());
  CHECK_FALSE(net.raft(1).propose("d").ok());
  net.start(2);
  net.tick_all(2);  // committed: room again
  CHECK(net.raft(1).propose("d").ok());
}
