// Raft elections: randomized timeouts, vote rules, pre-vote, check-quorum,
// leader failure, and election safety under a random scheduler.
#include <catch2/catch.hpp>

#include "cluster/raft.hpp"
#include "raft_network.hpp"

using namespace meridian;
using namespace meridian::cluster;
using namespace meridian::cluster::testing;

namespace {

// The answers `raft` queued (taken through a Ready, persisted nowhere: the
// unit tests below inspect single nodes).
std::vector<Message> take_messages(Raft& raft) {
  if (!raft.has_ready()) return {};
  Ready ready = raft.ready();
  raft.advance(ready);
  return ready.messages;
}

Message vote_request(MessageType type, NodeId from, std::uint64_t term, std::uint64_t index,
                     std::uint64_t log_term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = 1;
  m.term = term;
  m.index = index;
  m.log_term = log_term;
  return m;
}

}  // namespace

TEST_CASE("raft election: a single node elects itself and commits", "[cluster]") {
  Network net({1});
  CHECK(net.raft(1).role() == Role::follower);
  net.tick_all(9);
  CHECK(net.leader() == no_node);  // the timeout is at least election_tick
  net.tick_all(11);
  REQUIRE(net.leader() == 1);
  CHECK(net.raft(1).term() == 1);
  const std::uint64_t index = net.propose(1, "hello");
  CHECK(index == 2);  // after the leader's empty entry
  CHECK(net.raft(1).committed() == 2);
  CHECK(net.applied_data(1) == std::vector<std::string>{"hello"});
  CHECK(net.node(1).log->hard_state() == store::HardState{1, 1, 2});
}

TEST_CASE("raft election: three nodes elect one leader and replicate", "[cluster]") {
  Network net({1, 2, 3}, 42);
  net.tick_all(20);
  const NodeId leader = net.leader();
  REQUIRE(leader != no_node);
  for (NodeId id : net.ids()) {
    CHECK(net.raft(id).leader() == leader);
    CHECK(net.raft(id).term() == net.raft(leader).term());
  }
  net.propose(leader, "a");
  net.propose(leader, "b");
  for (NodeId id : net.ids()) CHECK(net.applied_data(id) == std::vector<std::string>{"a", "b"});
  const Status status = net.raft(leader).status();
  REQUIRE(status.progress.size() == 3);
  for (const PeerStatus& peer : status.progress) {
    CHECK(peer.match == status.last_index);
    CHECK(peer.state == ReplicationState::replicate);
  }
  CHECK(net.step_errors().empty());
}

TEST_CASE("raft election: election timeouts are randomized in [election_tick, 2 * election_tick)",
          "[cluster]") {
  std::set<int> timeouts;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    auto log = store::make_memory_log();
    Raft raft(test_config(1, {1, 2, 3}), *log, seed);
    int ticks = 0;
    while (raft.role() == Role::follower && ticks < 100) {
      raft.tick();
      ++ticks;
    }
    timeouts.insert(ticks);
  }
  CHECK(*timeouts.begin() >= 10);
  CHECK(*timeouts.rbegin() <= 19);
  CHECK(timeouts.size() >= 5);  // spread, not one value
}

TEST_CASE("raft election: vote decisions, table-driven", "[cluster]") {
  // Node 1 holds entries of terms [1, 1, 2] at term 2, not having voted;
  // `in_lease` first hears a heartbeat from leader 2 in term 2.
  struct Case {
    const char* what;
    MessageType type;
    std::uint64_t term, index, log_term;
    NodeId voted_for;
    bool in_lease;
    bool transfer;
    int answer;  // -1: no answer, 0: reject, 1: grant
    std::uint64_t term_after;
  };
  const auto vote = MessageType::vote_request;
  const auto pre = MessageType::pre_vote_request;
  const Case cases[] = {
      {"newer term, equal log", vote, 3, 3, 2, 0, false, false, 1, 3},
      {"newer term, shorter log", vote, 3, 2, 2, 0, false, false, 0, 3},
      {"newer term, older last term", vote, 3, 5, 1, 0, false, false, 0, 3},
      {"newer term, newer last term", vote, 3, 1, 3, 0, false, false, 1, 3},
      {"same term, voted for another", vote, 2, 9, 2, 2, false, false, 0, 2},
      {"same term, repeated vote", vote, 2, 9, 2, 3, false, false, 1, 2},
      {"stale term", vote, 1, 9, 1, 0, false, false, -1, 2},
      {"pre-vote for the next term", pre, 3, 3, 2, 0, false, false, 1, 2},
      {"pre-vote, shorter log", pre, 3, 2, 2, 0, false, false, 0, 2},
      {"pre-vote for the current term", pre, 2, 3, 2, 2, false, false, 0, 2},
      {"pre-vote from an older term", pre, 1, 3, 1, 0, false, false, 0, 2},
      {"leader lease ignores votes", vote, 3, 3, 2, 0, true, false, -1, 2},
      {"leader lease ignores pre-votes", pre, 3, 3, 2, 0, true, false, -1, 2},
      {"transfer overrides the lease", vote, 3, 3, 2, 0, true, true, 1, 3},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    auto log = log_with({1, 1, 2}, {2, c.voted_for, 0});
    Raft raft(test_config(1, {1, 2, 3}), *log, 7);
    if (c.in_lease) {
      Message heartbeat;
      heartbeat.type = MessageType::heartbeat;
      heartbeat.from = 2;
      heartbeat.to = 1;
      heartbeat.term = 2;
      REQUIRE(raft.step(heartbeat).ok());
      take_messages(raft);
    }
    Message request = vote_request(c.type, 3, c.term, c.index, c.log_term);
    request.transfer = c.transfer;
    REQUIRE(raft.step(request).ok());
    const auto messages = take_messages(raft);
    if (c.answer < 0) {
      CHECK(messages.empty());
    } else {
      REQUIRE(messages.size() == 1);
      CHECK(messages[0].to == 3);
      CHECK(messages[0].type ==
            (c.type == vote ? MessageType::vote_response : MessageType::pre_vote_response));
      CHECK(messages[0].reject == (c.answer == 0));
    }
    CHECK(raft.term() == c.term_after);
    // A pre-vote never records a vote.
    if (c.type == pre) CHECK(raft.status().vote == c.voted_for);
  }
}

TEST_CASE("raft election: only one leader per term over 200 seeds of random scheduling",
          "[cluster]") {
  // A fault-injecting scheduler with short timeouts: random ticks, random
  // delivery order, losses, duplicates, partitions, crashes and restarts. The network
  // checks election safety (one leader per term) and state machine safety
  // on every step; the liveness phase then heals everything and expects a
  // leader that commits.
  std::size_t terms_with_leaders = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    INFO("seed " << seed);
    Network net({1, 2, 3, 4, 5}, seed, [](Raft::Config& config) { config.election_tick = 3; });
    Rng rng(seed);
    int proposals = 0;
    for (int step = 0; step < 3000; ++step) {
      const std::uint64_t choice = rng.below(100);
      const NodeId node = 1 + rng.below(5);
      auto& queue = net.queue();
      if (choice < 30) {
        if (net.up(node)) net.raft(node).tick();
        net.process_readies();
      } else if (choice < 90) {
        if (queue.empty()) continue;
        const std::size_t position = rng.below(queue.size());
        const std::uint64_t fate = rng.below(20);
        if (fate < 3) {
          queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(position));  // lost
        } else {
          if (fate == 3) queue.push_back(queue[position]);  // duplicated
          net.deliver_at(position);
        }
      } else if (choice < 95) {
        const NodeId leader = net.leader();
        if (leader != no_node) (void)net.raft(leader).propose("p" + std::to_string(proposals++));
        net.process_readies();
      } else if (choice < 96) {
        if (rng.below(2) == 0) {
          net.isolate(node);
        } else {
          net.heal();
        }
      } else if (choice < 97) {
        if (net.up(node)) net.crash(node);
      } else {
        if (!net.up(node)) net.start(node);
      }
    }
    net.heal();
    for (NodeId id : net.ids()) {
      if (!net.up(id)) net.start(id);
    }
    net.tick_all(40);
    const NodeId leader = net.leader();
    REQUIRE(leader != no_node);
    const std::uint64_t index = net.propose(leader, "final");
    net.tick_all(2);
    for (NodeId id : net.ids()) CHECK(net.raft(id).committed() >= index);
    CHECK(net.step_errors().empty());
    terms_with_leaders += net.leaders_by_term().size();
  }
  // The schedule really exercised elections: several leaders per seed.
  CHECK(terms_with_leaders >= 200 * 5);
}

TEST_CASE("raft election: a new leader follows a failed one, which rejoins as follower",
          "[cluster]") {
  Network net({1, 2, 3}, 3);
  REQUIRE(net.elect(1) == 1);
  const std::uint64_t first_term = net.raft(1).term();
  net.propose(1, "a");

  SECTION("crash and restart") {
    net.crash(1);
    net.tick_all(30);
    const NodeId leader = net.leader();
    REQUIRE((leader == 2 || leader == 3));
    CHECK(net.raft(leader).term() > first_term);
    net.propose(leader, "b");
    net.start(1);
    CHECK(net.raft(1).role() == Role::follower);
    net.tick_all(3);
    CHECK(net.raft(1).leader() == leader);
    CHECK(net.applied_data(1) == std::vector<std::string>{"a", "b"});
  }
  SECTION("partition and heal") {
    net.isolate(1);
    net.tick_all(30);
    const NodeId leader = net.leader();
    REQUIRE((leader == 2 || leader == 3));
    CHECK(net.raft(1).role() != Role::leader);  // check-quorum stepped it down
    net.propose(leader, "b");
    net.heal();
    net.tick_all(3);
    CHECK(net.raft(1).leader() == leader);
    CHECK(net.raft(1).term() == net.raft(leader).term());
    CHECK(net.applied_data(1) == std::vector<std::string>{"a", "b"});
  }
}

TEST_CASE("raft election: pre-vote keeps an isolated node from inflating its term", "[cluster]") {
  struct Case {
    bool pre_vote;
    bool inflates;
  };
  for (const Case c : {Case{true, false}, Case{false, true}}) {
    INFO("pre_vote " << c.pre_vote);
    Network net({1, 2, 3}, 5, [&](Raft::Config& config) { config.pre_vote = c.pre_vote; });
    REQUIRE(net.elect(1) == 1);
    const std::uint64_t term = net.raft(1).term();
    net.isolate(3);
    net.tick_all(100);
    CHECK((net.raft(3).term() > term) == c.inflates);
    net.heal();
    net.tick_all(40);
    const NodeId leader = net.leader();
    REQUIRE(leader != no_node);
    if (c.pre_vote) {
      // The rejoining node follows the leader it left; nothing was disrupted.
      CHECK(leader == 1);
      CHECK(net.raft(1).term() == term);
    } else {
      // Its inflated term forces a new election.
      CHECK(net.raft(leader).term() > term);
    }
    CHECK(net.raft(3).leader() == leader);
  }
}

TEST_CASE("raft election: check-quorum steps a leader down within two election timeouts",
          "[cluster]") {
  for (const bool check_quorum : {true, false}) {
    INFO("check_quorum " << check_quorum);
    Network net({1, 2, 3}, 9, [&](Raft::Config& config) { config.check_quorum = check_quorum; });
    REQUIRE(net.elect(1) == 1);
    net.cut(1, 2);
    net.cut(1, 3);
    // 2 and 3 would elect a new leader; keep them quiet to isolate the effect.
    net.crash(2);
    net.crash(3);
    for (int tick = 0; tick < 20; ++tick) net.tick_all();
    CHECK((net.raft(1).role() == Role::leader) == !check_quorum);
    if (check_quorum) {
      CHECK(net.raft(1).leader() == no_node);
      CHECK(net.raft(1).propose("x").ok() == false);
    }
  }
}

TEST_CASE("raft election: campaign refuses leaders and non-voters", "[cluster]") {
  Network net({1, 2, 3}, 1, {}, {4});  // 4 is founded as a learner
  REQUIRE(net.elect(1) == 1);
  CHECK_FALSE(net.raft(1).campaign().ok());
  CHECK_FALSE(net.raft(4).campaign().ok());
  // A learner never campaigns on its own either, even when cut off.
  net.tick_all(2);
  const std::uint64_t term = net.raft(1).term();
  CHECK(net.raft(4).term() == term);
  net.isolate(4);
  net.tick_all(50);
  CHECK(net.raft(4).role() == Role::follower);
  CHECK(net.raft(4).term() == term);
}

TEST_CASE("raft election: Config validation names the bad field", "[cluster]") {
  auto config = test_config(1, {1, 2, 3});
  CHECK(Raft::validate(config).ok());
  config.election_tick = 1;
  REQUIRE_FALSE(Raft::validate(config).ok());
  CHECK(Raft::validate(config).error().message.find("election_tick") != std::string::npos);
  config = test_config(0, {1});
  CHECK_FALSE(Raft::validate(config).ok());
  config = test_config(1, {1, 1});
  CHECK_FALSE(Raft::validate(config).ok());
  config = test_config(1, {1, 2}, {2});
  CHECK_FALSE(Raft::validate(config).ok());
  config = test_config(1, {1});
  config.max_inflight_msgs = 0;
  CHECK_FALSE(Raft::validate(config).ok());
  config = test_config(1, {1});
  config.max_entries_per_msg = 0;
  CHECK_FALSE(Raft::validate(config).ok());
  config = test_config(1, {1});
  config.max_pending_reads = 0;
  CHECK_FALSE(Raft::validate(config).ok());
}
