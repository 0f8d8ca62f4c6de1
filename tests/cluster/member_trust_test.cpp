// Only members speak, revocation, snapshot checks and the state budget of a
// RaftMember (cluster/raft_member.hpp), against real members on loopback and
// a rogue peer: a Transport holding a certificate from the cluster CA.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>

#include "cluster/node_id.hpp"
#include "store/kv_state.hpp"
#include "store/rocks_raft_log.hpp"
#include "tests/cluster/store_cluster.hpp"

namespace meridian::cluster::test {
namespace {

namespace asio = boost::asio;

/// A Transport of its own, on its own thread, speaking as `name` with a
/// certificate of the test CA: what an attacker holding such a certificate
/// can send.
class RoguePeer {
 public:
  RoguePeer(const std::string& name, TestCluster& cluster, const std::vector<std::string>& targets)
      : work_(io_.get_executor()) {
    TransportSettings settings;
    settings.self_name = name;
    settings.listen = {IpAddress::v4(127, 0, 0, 1), 0};
    settings.ca_pem = test_ca().certificate_pem;
    settings.cert_pem = cert_for(name).certificate_pem;
    settings.key_pem = cert_for(name).key_pem;
    settings.backoff_min = 20ms;
    settings.backoff_max = 100ms;
    transport_ = std::make_unique<Transport>(
        io_, settings, quiet(), [](const Message&) {}, [](const NodeReport&) {});
    REQUIRE(transport_->start().ok());
    for (const std::string& target : targets)
      transport_->add_peer(node_id_of(target), target, cluster.address(target));
    thread_ = std::thread([this] { io_.run(); });
  }
  ~RoguePeer() {
    asio::post(io_, [this] { transport_->stop(); });
    work_.reset();
    io_.stop();
    thread_.join();
  }
  RoguePeer(const RoguePeer&) = delete;
  RoguePeer& operator=(const RoguePeer&) = delete;

  void send(Message message) {
    asio::post(io_, [this, message = std::move(message)]() mutable {
      transport_->send(std::move(message));
    });
  }
  void forward(ForwardFrame frame) {
    asio::post(io_, [this, frame = std::move(frame)] { transport_->send_forward(frame); });
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::unique_ptr<Transport> transport_;
  std::thread thread_;
};

/// What a disruptive peer sends: vote requests that claim a leadership
/// transfer (which skip the leader-lease check), appends and heartbeats of
/// a far higher term.
std::vector<Message> disruptive_messages(NodeId from, NodeId to, std::uint64_t term) {
  std::vector<Message> out;
  Message vote;
  vote.type = MessageType::vote_request;
  vote.from = from;
  vote.to = to;
  vote.term = term;
  vote.index = 1'000'000;
  vote.log_term = term;
  vote.transfer = true;
  out.push_back(vote);
  Message append;
  append.type = MessageType::append;
  append.from = from;
  append.to = to;
  append.term = term;
  append.index = 0;
  append.log_term = 0;
  append.commit = 0;
  append.entries.push_back(store::Entry{1, term, store::EntryType::normal, "bogus"});
  out.push_back(append);
  Message heartbeat;
  heartbeat.type = MessageType::heartbeat;
  heartbeat.from = from;
  heartbeat.to = to;
  heartbeat.term = term;
  out.push_back(heartbeat);
  return out;
}

/// A forwarded request as a member sends it (write_forwarding.cpp: version
/// 1, kind 2 = system, the command as u32 length + bytes): a system write of
/// n9's address into the address book.
std::string forwarded_member_write() {
  auto command =
      store::encode_command(store::KvPut{std::string(kMemberKeyPrefix) + "n9", "127.0.0.1:9"});
  REQUIRE(command.ok());
  std::string body{'\x01', '\x02'};
  const auto size = static_cast<std::uint32_t>(command->size());
  for (int shift = 24; shift >= 0; shift -= 8) body.push_back(static_cast<char>(size >> shift));
  return body + *command;
}

Message bogus_snapshot(NodeId from, NodeId to, std::uint64_t term, std::string data) {
  Message message;
  message.type = MessageType::snapshot;
  message.from = from;
  message.to = to;
  message.term = term;
  store::Snapshot snapshot;
  snapshot.index = 5'000;
  snapshot.term = term;
  snapshot.membership.voters = {from, to};
  snapshot.data = std::move(data);
  message.snapshot = snapshot;
  return message;
}

}  // namespace

TEST_CASE("member trust: a node that is not a member is not heard", "[cluster][trust]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start_all();
  const std::string leader = cluster.leader();
  const std::uint64_t term = cluster.node(leader).status().term;
  REQUIRE_FALSE(put(cluster.node(leader), "before", "1").error);

  // "n9" holds a certificate of the cluster CA but was never added.
  RoguePeer rogue("n9", cluster, {"n1", "n2", "n3"});
  const NodeId n9 = node_id_of("n9");
  for (int round = 0; round < 20; ++round) {
    for (const std::string target : {"n1", "n2", "n3"}) {
      for (Message message : disruptive_messages(n9, node_id_of(target), term + 100))
        rogue.send(std::move(message));
      rogue.forward(ForwardFrame{n9, node_id_of(target), 1, false, forwarded_member_write()});
    }
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(eventually([&] {
    std::uint64_t dropped = 0;
    for (auto& [name, node] : cluster.nodes()) dropped += node->status().transport.not_member;
    return dropped >= 20;
  }));
  // No election was disturbed and writes go on.
  for (auto& [name, node] : cluster.nodes()) {
    CHECK(node->status().term == term);
    CHECK(node->status().leader == leader);
  }
  REQUIRE_FALSE(put(cluster.node(leader), "after", "2").error);
  CHECK(get(cluster.node(cluster.follower()), "after") == std::optional<std::string>("2"));
  // Its well-formed forwarded system write of an address was never proposed.
  CHECK_FALSE(get(cluster.node(leader), std::string(kMemberKeyPrefix) + "n9").has_value());
}

TEST_CASE("member trust: remove revokes the member's certificates", "[cluster][trust]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start_all();
  std::string leader = cluster.leader();
  const std::string victim = leader == "n3" ? "n2" : "n3";
  auto removed = wait_for<bool>([&](auto done) { cluster.node(leader).remove(victim, done); });
  REQUIRE_FALSE(removed.error);
  CHECK(removed.value);
  const auto revocation = get(cluster.node(leader), std::string(kRevokedKeyPrefix) + victim);
  REQUIRE(revocation.has_value());

  // The victim keeps running with its (valid, CA-signed) certificate: the
  // others refuse it at the handshake from now on.
  REQUIRE(eventually([&] {
    std::uint64_t refused = 0;
    for (auto& [name, node] : cluster.nodes())
      if (name != victim) refused += node->status().transport.revoked_certificates;
    return refused > 0;
  }));
  const std::uint64_t term = cluster.node(leader).status().term;
  RoguePeer rogue(victim, cluster, {"n1", "n2", "n3"});
  for (int round = 0; round < 10; ++round) {
    for (const auto& [name, node] : cluster.nodes()) {
      if (name == victim) continue;
      for (Message message : disruptive_messages(node_id_of(victim), node_id_of(name), term + 100))
        rogue.send(std::move(message));
    }
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE_FALSE(put(cluster.node(leader), "after", "removal").error);
  for (const auto& [name, node] : cluster.nodes()) {
    if (name == victim) continue;
    CHECK(node->status().term == term);
  }

  // Removing it again only revokes again; a name never known is an error.
  auto again = wait_for<bool>([&](auto done) { cluster.node(leader).remove(victim, done); });
  CHECK_FALSE(again.error);
  auto unknown = wait_for<bool>([&](auto done) { cluster.node(leader).remove("zz-9", done); });
  CHECK(unknown.error);
  auto self = wait_for<bool>([&](auto done) { cluster.node(leader).remove(leader, done); });
  CHECK(self.error);
}

TEST_CASE("member trust: a snapshot that does not decode is refused, never installed",
          "[cluster][trust]") {
  // n3 is a founder that does not run: its certificate is a member's, so
  // what it sends passes "only members speak" and meets the snapshot check.
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start("n1");
  cluster.start("n2");
  const std::string leader = cluster.leader();
  REQUIRE_FALSE(put(cluster.node(leader), "key", "v").error);
  const std::string follower = cluster.follower();
  const StoreStatus before = cluster.node(follower).status();

  RoguePeer rogue("n3", cluster, {follower});
  const NodeId n3 = node_id_of("n3");
  const NodeId to = node_id_of(follower);
  rogue.send(bogus_snapshot(n3, to, before.term, "not a state"));
  REQUIRE(eventually([&] { return cluster.node(follower).status().transport.bad_snapshots >= 1; }));
  // A well-formed state whose index is not the snapshot's own.
  rogue.send(bogus_snapshot(n3, to, before.term, store::empty_kv_snapshot()));
  REQUIRE(eventually([&] { return cluster.node(follower).status().transport.bad_snapshots >= 2; }));
  const StoreStatus after = cluster.node(follower).status();
  CHECK(after.snapshot_index == before.snapshot_index);
  CHECK(after.applied < 5'000);
  CHECK(get(cluster.node(follower), "key", ReadMode::local) == std::optional<std::string>("v"));
  REQUIRE_FALSE(put(cluster.node(leader), "after", "x").error);
}

TEST_CASE("member trust: a saved snapshot that no longer restores is discarded at start",
          "[cluster][trust]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.snapshot_entries = 100;
  cluster.start_all();
  std::string leader = cluster.leader();
  for (int i = 0; i < 150; ++i)
    REQUIRE_FALSE(put(cluster.node(leader), "key" + std::to_string(i), "v").error);
  const std::string victim = cluster.follower();
  cluster.stop(victim);
  {
    // Damage: a snapshot ahead of the state, whose data does not decode.
    auto database = store::open_database(cluster.data_dir(victim));
    REQUIRE(database.ok());
    auto log = store::make_rocks_log(*database);
    REQUIRE(log.ok());
    store::Snapshot damaged = (*log)->snapshot();
    damaged.index = (*log)->last_index() + 10;
    damaged.data = "damaged";
    if (damaged.membership.voters.empty())
      damaged.membership.voters = {node_id_of("n1"), node_id_of("n2"), node_id_of("n3")};
    REQUIRE((*log)->install_snapshot(damaged).ok());
  }
  RaftMember& restarted = cluster.start(victim);  // does not fail: it starts over
  for (int i = 150; i < 160; ++i)
    REQUIRE_FALSE(put(cluster.node(leader), "key" + std::to_string(i), "v").error);
  CHECK(eventually([&] {
    return get(restarted, "key159", ReadMode::local) == std::optional<std::string>("v") &&
           get(restarted, "key0", ReadMode::local) == std::optional<std::string>("v");
  }));
}

TEST_CASE("member trust: writes past the state budget are refused", "[cluster][trust]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.max_state_bytes = 10'000;
  cluster.start_all();
  RaftMember& leader = cluster.node(cluster.leader());
  // Through a follower: the refusal comes back over the forwarding link.
  RaftMember& node = cluster.node(cluster.follower());
  const std::string value(3'000, 'x');
  // The cluster's own keys count too, so fill until refused.
  std::optional<StoreError> refused;
  int written = 0;
  for (; written < 10 && !refused; ++written)
    refused = put(node, "k" + std::to_string(written), value).error;
  REQUIRE(refused);
  CHECK(refused->kind == store::StoreErrorKind::over_budget);
  CHECK_THAT(refused->message, Catch::Contains("budget of 10000"));
  CHECK(written >= 3);
  CHECK(eventually([&] { return leader.status().writes_over_budget == 1; }));
  CHECK(leader.status().state_bytes <= 10'000);
  // A delete, and a write that does not grow the state, always pass.
  REQUIRE_FALSE(
      wait_for<store::KvResult>([&](auto done) { node.write(store::KvDelete{"k0"}, done); }).error);
  CHECK_FALSE(put(node, "k1", "small").error);
  CHECK_FALSE(put(node, "k0", value).error);
}

}  // namespace meridian::cluster::test
