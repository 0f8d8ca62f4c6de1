// Raft membership: config entries (encoding, validation), learners, single-
// server changes through the leader, and restarts with changed membership.
#include <catch2/catch.hpp>

#include "cluster/membership.hpp"
#include "cluster/raft.hpp"
#include "raft_network.hpp"

using namespace meridian;
using namespace meridian::cluster;
using namespace meridian::cluster::testing;

namespace {

const store::Membership three{{1, 2, 3}, {}};

}  // namespace

TEST_CASE("membership: apply_change, table-driven", "[cluster]") {
  const store::Membership base{{1, 2, 3}, {4}};
  struct Case {
    ChangeKind kind;
    NodeId node;
    bool ok;
    store::Membership after;
  };
  const Case cases[] = {
      {ChangeKind::add_voter, 5, true, {{1, 2, 3, 5}, {4}}},
      {ChangeKind::add_voter, 2, false, {}},
      {ChangeKind::add_voter, 4, false, {}},  // a learner is promoted, not added
      {ChangeKind::add_learner, 6, true, {{1, 2, 3}, {4, 6}}},
      {ChangeKind::add_learner, 1, false, {}},
      {ChangeKind::promote_learner, 4, true, {{1, 2, 3, 4}, {}}},
      {ChangeKind::promote_learner, 2, false, {}},
      {ChangeKind::promote_learner, 9, false, {}},
      {ChangeKind::remove, 2, true, {{1, 3}, {4}}},
      {ChangeKind::remove, 4, true, {{1, 2, 3}, {}}},
      {ChangeKind::remove, 9, false, {}},
      {ChangeKind::add_voter, 0, false, {}},
  };
  for (const Case& c : cases) {
    INFO(to_string(c.kind) << " " << c.node);
    const auto result = apply_change(base, {c.kind, c.node});
    REQUIRE(result.ok() == c.ok);
    if (c.ok) CHECK(*result == c.after);
  }
  CHECK_FALSE(apply_change({{1}, {}}, {ChangeKind::remove, 1}).ok());  // the last voter stays
}

TEST_CASE("membership: config entries round-trip and garbage is refused", "[cluster]") {
  const ConfigEntry entry{{ChangeKind::add_learner, 7}, {{1, 2, 3}, {7}}};
  const std::string bytes = encode_config(entry);
  const auto decoded = decode_config(bytes);
  REQUIRE(decoded.ok());
  CHECK(*decoded == entry);

  struct Case {
    const char* what;
    std::string bytes;
  };
  std::string wrong_version = bytes;
  wrong_version[0] = 2;
  std::string wrong_kind = bytes;
  wrong_kind[1] = 9;
  std::string huge_count = bytes.substr(0, 10) + std::string("\xff\xff\xff\x7f", 4);
  const ConfigEntry inconsistent{{ChangeKind::remove, 3}, {{1, 2, 3}, {}}};
  const ConfigEntry duplicate{{ChangeKind::add_voter, 3}, {{1, 3, 3}, {}}};
  const ConfigEntry no_voters{{ChangeKind::add_learner, 3}, {{}, {3}}};
  const Case cases[] = {
      {"empty", ""},
      {"truncated", bytes.substr(0, bytes.size() - 3)},
      {"trailing bytes", bytes + "x"},
      {"unknown version", wrong_version},
      {"unknown change kind", wrong_kind},
      {"absurd node count", huge_count},
      {"membership contradicts the change", encode_config(inconsistent)},
      {"a voter listed twice", encode_config(duplicate)},
      {"no voters", encode_config(no_voters)},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    CHECK_FALSE(decode_config(c.bytes).ok());
  }
}

TEST_CASE("raft membership: a learner is added, promoted, then removed", "[cluster]") {
  Network net({1, 2, 3}, 31);
  REQUIRE(net.elect(1) == 1);
  net.propose(1, "a");
  net.add(test_config(4, {}));  // joins with an empty log and no membership
  CHECK(net.raft(4).membership() == store::Membership{});

  REQUIRE(net.raft(1).propose_membership({ChangeKind::add_learner, 4}).ok());
  net.stabilize();
  const store::Membership with_learner{{1, 2, 3}, {4}};
  for (NodeId id : net.ids()) CHECK(net.raft(id).membership() == with_learner);
  CHECK(net.applied_data(4) == std::vector<std::string>{"a"});

  // The learner does not count for the quorum: with two voters down,
  // nothing commits although the learner holds the entry.
  net.crash(2);
  net.crash(3);
  const std::uint64_t committed = net.raft(1).committed();
  const std::uint64_t index = net.propose(1, "b");
  CHECK(net.raft(1).committed() == committed);
  CHECK(net.node(4).log->last_index() == index);
  net.start(2);
  net.start(3);
  net.tick_all(2);
  CHECK(net.raft(1).committed() == index);

  REQUIRE(net.raft(1).propose_membership({ChangeKind::promote_learner, 4}).ok());
  net.stabilize();
  const store::Membership four{{1, 2, 3, 4}, {}};
  for (NodeId id : net.ids()) CHECK(net.raft(id).membership() == four);
  // A voter now: with 1 and 2 down, 3 and 4 are not a quorum of four...
  net.crash(2);
  net.isolate(1);
  net.tick_all(40);
  CHECK(net.leader() != 3);
  CHECK(net.leader() != 4);
  // ...but with 2 back they are.
  net.start(2);
  net.tick_all(40);
  const NodeId leader = net.leader();
  REQUIRE((leader == 2 || leader == 3 || leader == 4));
  net.heal();
  net.tick_all(3);

  REQUIRE(net.raft(leader).propose_membership({ChangeKind::remove, 4}).ok());
  net.stabilize();
  if (leader == 4) net.tick_all(30);  // a removed leader steps down; the rest elect
  const NodeId last_leader = net.leader();
  REQUIRE(last_leader != no_node);
  REQUIRE(last_leader != 4);
  for (NodeId id : {1, 2, 3}) CHECK(net.raft(id).membership() == three);
  net.propose(last_leader, "c");
  CHECK(net.applied_data(1).back() == "c");
  CHECK(net.applied_data(4).back() != "c");  // no longer replicated to
}

TEST_CASE("raft membership: a second change is refused while one is pending", "[cluster]") {
  Network net({1, 2, 3}, 32);
  REQUIRE(net.elect(1) == 1);
  net.add(test_config(4, {}));
  net.add(test_config(5, {}));
  net.crash(2);
  net.crash(3);  // nothing can commit
  const auto first = net.raft(1).propose_membership({ChangeKind::add_learner, 4});
  REQUIRE(first.ok());
  net.stabilize();
  const auto second = net.raft(1).propose_membership({ChangeKind::add_learner, 5});
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().message.find("not committed") != std::string::npos);
  // In force on append already, committed or not.
  CHECK(net.raft(1).membership() == store::Membership{{1, 2, 3}, {4}});
  CHECK(net.raft(4).membership() == store::Membership{{1, 2, 3}, {4}});
  net.start(2);
  net.start(3);
  net.tick_all(2);
  REQUIRE(net.raft(1).committed() >= *first);
  CHECK(net.raft(1).propose_membership({ChangeKind::add_learner, 5}).ok());
  // Invalid changes are refused with the reason.
  net.stabilize();
  const auto invalid = net.raft(1).propose_membership({ChangeKind::promote_learner, 2});
  REQUIRE_FALSE(invalid.ok());
  CHECK(invalid.error().message.find("not a learner") != std::string::npos);
}

TEST_CASE("raft membership: a new leader changes nothing before its first commit", "[cluster]") {
  Network net({1, 2, 3}, 33);
  net.drop_if = [](const Message& m) { return m.type == MessageType::append_response; };
  REQUIRE(net.elect(1) == 1);
  const auto refused = net.raft(1).propose_membership({ChangeKind::add_learner, 4});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("not committed an entry of its term") != std::string::npos);
  net.drop_if = nullptr;
  net.tick_all(2);
  CHECK(net.raft(1).propose_membership({ChangeKind::add_learner, 4}).ok());
}

TEST_CASE("raft membership: an uncommitted change is rolled back when a new leader truncates it",
          "[cluster]") {
  Network net({1, 2, 3}, 34);
  REQUIRE(net.elect(1) == 1);
  net.isolate(1);
  REQUIRE(net.raft(1).propose_membership({ChangeKind::add_learner, 4}).ok());
  net.stabilize();
  CHECK(net.raft(1).membership() == store::Membership{{1, 2, 3}, {4}});
  net.tick_all(30);  // 2 or 3 takes over
  const NodeId leader = net.leader();
  REQUIRE((leader == 2 || leader == 3));
  net.propose(leader, "x");
  net.heal();
  net.tick_all(3);
  CHECK(net.raft(1).membership() == three);  // the entry was overwritten
  CHECK(net.applied_data(1) == std::vector<std::string>{"x"});
}

TEST_CASE("raft membership: restart takes the membership from the log, not from Config",
          "[cluster]") {
  Network net({1, 2, 3}, 35);
  REQUIRE(net.elect(1) == 1);
  net.add(test_config(4, {}));
  REQUIRE(net.raft(1).propose_membership({ChangeKind::add_learner, 4}).ok());
  net.stabilize();
  for (NodeId id : net.ids()) net.crash(id);
  for (NodeId id : net.ids()) net.start(id);
  const store::Membership with_learner{{1, 2, 3}, {4}};
  for (NodeId id : net.ids()) CHECK(net.raft(id).membership() == with_learner);
  net.tick_all(30);
  REQUIRE(net.leader() != no_node);
  CHECK(net.leader() != 4);
}
