// RaftMember: real Raft members (RocksDB, mutual TLS on loopback) in one
// process. Timing is real but short (20 ms ticks); every wait is bounded and
// polls a condition, never sleeps as an assertion.

#include "cluster/raft_member.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/log.hpp"
#include "cluster/certs.hpp"
#include "cluster/node_id.hpp"
#include "tests/cluster/store_cluster.hpp"

using namespace meridian;
using namespace meridian::cluster;
using namespace std::chrono_literals;
using namespace meridian::cluster::test;

TEST_CASE("raft member: three members elect one leader and replicate writes",
          "[cluster][raft_member]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start_all();
  const std::string leader = cluster.leader();

  auto written = put(cluster.node(leader), "health/a", "up");
  REQUIRE_FALSE(written.error);
  CHECK(written.value.ok);

  // A linearizable read on a follower sees the acknowledged write.
  const std::string follower = cluster.follower();
  CHECK(get(cluster.node(follower), "health/a") == std::optional<std::string>("up"));
  // Every member applies it (local reads).
  for (auto& [name, node] : cluster.nodes()) {
    CHECK(eventually([&] {
      return get(*node, "health/a", ReadMode::local) == std::optional<std::string>("up");
    }));
  }

  // A follower forwards writes to the leader and relays the answer.
  auto forwarded = put(cluster.node(follower), "health/b", "down");
  REQUIRE_FALSE(forwarded.error);
  CHECK(get(cluster.node(follower), "health/b") == std::optional<std::string>("down"));
  CHECK(get(cluster.node(leader), "health/b", ReadMode::local) ==
        std::optional<std::string>("down"));

  // Compare-and-set goes through the log too.
  auto cas = wait_for<store::KvResult>([&](auto done) {
    cluster.node(leader).write(
        store::KvCompareAndSet{"health/a", std::string("down"), std::string("x")}, done);
  });
  REQUIRE_FALSE(cas.error);
  CHECK_FALSE(cas.value.ok);
  CHECK(cas.value.current == std::optional<std::string>("up"));

  // Reserved keys are refused to clients, leader or not, but not to the
  // node's own subsystems.
  auto reserved = put(cluster.node(leader), "_cluster/members/evil", "1.2.3.4:5");
  REQUIRE(reserved.error);
  CHECK(reserved.error->kind == StoreErrorKind::invalid);
  auto reserved_forwarded = put(cluster.node(follower), "_x", "1");
  REQUIRE(reserved_forwarded.error);
  auto system = wait_for<store::KvResult>([&](auto done) {
    cluster.node(follower).write_system(store::KvPut{"_health/lease/n9", "1"}, done);
  });
  REQUIRE_FALSE(system.error);
  CHECK(get(cluster.node(leader), "_health/lease/n9") == std::optional<std::string>("1"));
}

TEST_CASE("raft member: status shows every member with role, term, indices",
          "[cluster][raft_member]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start_all();
  const std::string leader = cluster.leader();
  REQUIRE_FALSE(put(cluster.node(leader), "k", "v").error);
  REQUIRE(eventually([&] {
    const StoreStatus status = cluster.node(leader).status();
    if (status.members.size() != 3) return false;
    for (const MemberStatus& member : status.members) {
      if (!member.reported || !member.voter || member.term != status.term || !member.lag ||
          *member.lag != 0 || member.applied != status.applied) {
        return false;
      }
    }
    return true;
  }));
  const StoreStatus status = cluster.node(leader).status();
  CHECK(status.role == Role::leader);
  CHECK(status.leader == leader);
  for (const MemberStatus& member : status.members) {
    CHECK(member.applied == status.applied);
    CHECK(member.role == (member.name == leader ? Role::leader : Role::follower));
    CHECK(member.address.has_value());
  }
  // The leader timed its write, from proposal to apply; followers propose none.
  std::uint64_t timed = 0;
  for (std::uint64_t count : status.proposal_latency.counts) timed += count;
  CHECK(timed >= 1);
  CHECK(status.proposal_latency.sum_s > 0);
  CHECK(status.proposal_latency.failed == 0);
  std::uint64_t follower_timed = 0;
  for (std::uint64_t count : cluster.node(cluster.follower()).status().proposal_latency.counts) {
    follower_timed += count;
  }
  CHECK(follower_timed == 0);
}

TEST_CASE("raft member: proposal latency falls in the bucket of its upper bound",
          "[cluster][raft_member]") {
  ProposalLatency latency;
  latency.record(std::chrono::microseconds(200));  // <= 1 ms
  latency.record(std::chrono::milliseconds(1));    // on the bound: still the first bucket
  latency.record(std::chrono::milliseconds(30));   // (25 ms, 50 ms]
  latency.record(std::chrono::seconds(7));         // above the last bound
  CHECK(latency.counts[0] == 2);
  CHECK(latency.counts[5] == 1);
  CHECK(latency.counts.back() == 1);
  CHECK(latency.sum_s == Approx(7.0312));
}

TEST_CASE("raft member: a restarted member recovers term, log and state from disk",
          "[cluster][raft_member]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start_all();
  std::string leader = cluster.leader();
  for (int i = 0; i < 20; ++i)
    REQUIRE_FALSE(put(cluster.node(leader), "key" + std::to_string(i), "v").error);
  const std::uint64_t term = cluster.node(leader).status().term;

  // Stop everyone, start again from the data dirs. The old leader applied
  // every acknowledged write before acknowledging it, so its state has them
  // at once; followers may learn the last commit index only after restart.
  const std::string old_leader = leader;
  for (const std::string name : {"n1", "n2", "n3"}) cluster.stop(name);
  cluster.start_all();
  CHECK(get(cluster.node(old_leader), "key19", ReadMode::local) == std::optional<std::string>("v"));
  for (const std::string name : {"n1", "n2", "n3"}) {
    CHECK(cluster.node(name).status().term >= term);
    CHECK(eventually([&] {
      return get(cluster.node(name), "key19", ReadMode::local) == std::optional<std::string>("v");
    }));
  }
  leader = cluster.leader();
  CHECK(get(cluster.node(leader), "key7") == std::optional<std::string>("v"));
}

TEST_CASE(
    "raft member: a new member joins as a learner through a snapshot, is promoted, a founder is "
    "removed",
    "[cluster][raft_member]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.snapshot_entries = 100;  // compact early, so n4 needs the snapshot
  cluster.start_all();
  std::string leader = cluster.leader();
  for (int i = 0; i < 150; ++i)
    REQUIRE_FALSE(put(cluster.node(leader), "key" + std::to_string(i), "v").error);
  REQUIRE(eventually([&] { return cluster.node(leader).status().snapshot_index > 0; }));

  RaftMember& n4 = cluster.start("n4", false);
  auto added = wait_for<bool>(
      [&](auto done) { cluster.node(leader).add_learner("n4", cluster.address("n4"), done); });
  REQUIRE_FALSE(added.error);
  CHECK(eventually(
      [&] { return get(n4, "key149", ReadMode::local) == std::optional<std::string>("v"); }));

  auto promoted = wait_for<bool>([&](auto done) { cluster.node(leader).promote("n4", done); });
  REQUIRE_FALSE(promoted.error);
  const std::string victim = leader == "n1" ? "n2" : "n1";
  auto removed = wait_for<bool>([&](auto done) { cluster.node(leader).remove(victim, done); });
  REQUIRE_FALSE(removed.error);
  cluster.stop(victim);

  const StoreStatus status = cluster.node(leader).status();
  REQUIRE(status.members.size() == 3);
  for (const MemberStatus& member : status.members) {
    CHECK(member.voter);
    CHECK(member.name != victim);
  }
  REQUIRE_FALSE(put(cluster.node(leader), "after", "change").error);
  CHECK(get(n4, "after") == std::optional<std::string>("change"));

  // Errors: promoting a voter, adding a member again.
  auto again = wait_for<bool>(
      [&](auto done) { cluster.node(leader).add_learner("n4", cluster.address("n4"), done); });
  CHECK(again.error);
  auto voter = wait_for<bool>([&](auto done) { cluster.node(leader).promote("n4", done); });
  CHECK(voter.error);
}

TEST_CASE("raft member: leadership transfer moves the leader and writes go on",
          "[cluster][raft_member]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start_all();
  const std::string leader = cluster.leader();
  const std::string target = cluster.follower();
  auto moved =
      wait_for<bool>([&](auto done) { cluster.node(leader).transfer_leadership(target, done); });
  REQUIRE_FALSE(moved.error);
  CHECK(cluster.leader() == target);
  CHECK_FALSE(put(cluster.node(target), "after-transfer", "ok").error);
}

TEST_CASE("raft member: a stopped leader is replaced and acknowledged writes survive",
          "[cluster][raft_member]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start_all();
  const std::string first = cluster.leader();
  for (int i = 0; i < 10; ++i)
    REQUIRE_FALSE(put(cluster.node(first), "w" + std::to_string(i), "1").error);
  cluster.stop(first);
  const std::string second = cluster.leader();
  CHECK(second != first);
  for (int i = 0; i < 10; ++i)
    CHECK(get(cluster.node(second), "w" + std::to_string(i)) == std::optional<std::string>("1"));
  REQUIRE_FALSE(put(cluster.node(second), "w10", "1").error);
  cluster.start(first);
  CHECK(eventually([&] {
    return get(cluster.node(first), "w10", ReadMode::local) == std::optional<std::string>("1");
  }));
}

TEST_CASE("raft member: a write to a follower cut off from the leader is not acknowledged",
          "[cluster][raft_member]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start_all();
  const std::string leader = cluster.leader();
  const std::string follower = cluster.follower();
  cluster.stop(leader);
  // The follower still believes in the old leader for a while: its forward
  // goes nowhere and must end in an error (timeout or not-leader), never in
  // success; once a new leader is elected, writes through it succeed.
  auto answer = put(cluster.node(follower), "k", "v");
  if (!answer.error) {
    CHECK(cluster.leader() != leader);  // only possible through a new leader
  }
  REQUIRE(eventually([&] { return !put(cluster.node(follower), "k2", "v").error; }));
}

TEST_CASE("raft member: start errors name the problem", "[cluster][raft_member]") {
  TestCluster cluster({"n1"});
  auto settings = cluster.settings("n1", true);
  settings.name = "Bad_Name";
  auto bad = RaftMember::start(settings, quiet(), real_clock());
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error().message, Catch::Contains("Bad_Name"));

  settings = cluster.settings("n1", true);
  settings.transport.cert_pem = "not a certificate";
  auto no_cert = RaftMember::start(settings, quiet(), real_clock());
  CHECK_FALSE(no_cert.ok());
}

TEST_CASE("raft member: a single founder leads alone", "[cluster][raft_member]") {
  TestCluster cluster({"solo"});
  cluster.start_all();
  CHECK(cluster.leader() == "solo");
  REQUIRE_FALSE(put(cluster.node("solo"), "x", "1").error);
  CHECK(get(cluster.node("solo"), "x") == std::optional<std::string>("1"));
  auto seen = std::make_shared<std::atomic<int>>(0);
  auto id = cluster.node("solo").watch(
      "x", [seen](const std::string&, const std::optional<std::string>& value, std::uint64_t) {
        if (value == std::optional<std::string>("2")) ++*seen;
      });
  REQUIRE(id.ok());
  REQUIRE_FALSE(put(cluster.node("solo"), "x", "2").error);
  CHECK(*seen == 1);  // watches run before the write is acknowledged
}
