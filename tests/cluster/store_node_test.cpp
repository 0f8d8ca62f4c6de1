// StoreNode: real Raft members (RocksDB, mutual TLS on loopback) in one
// process. Timing is real but short (20 ms ticks); every wait is bounded and
// polls a condition, never sleeps as an assertion.

#include "cluster/store_node.hpp"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

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
#include "cluster/replicated_health.hpp"
#include "../store/store_test_support.hpp"

using namespace meridian;
using namespace meridian::cluster;
using namespace std::chrono_literals;
using meridian::store::test::TempDir;

namespace {

Logger& quiet() {
  static Logger logger = std::getenv("MERIDIAN_TEST_LOG") != nullptr ? Logger(LogLevel::debug)
                                                                     : Logger(LogLevel::error, [](std::string_view) {});
  return logger;
}

const IssuedCertificate& test_ca() {
  static const IssuedCertificate ca = [] {
    auto created = create_ca({"store node test CA", {}, {}});
    REQUIRE(created.ok());
    return *created;
  }();
  return ca;
}

const IssuedCertificate& cert_for(const std::string& name) {
  static std::map<std::string, IssuedCertificate> certs;
  auto it = certs.find(name);
  if (it == certs.end()) {
    auto issued = issue_node_certificate(test_ca(), {name, {name}, {}});
    REQUIRE(issued.ok());
    it = certs.emplace(name, *issued).first;
  }
  return it->second;
}

// A port that was free a moment ago: the kernel rarely hands an ephemeral
// port out again right away.
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}


template <typename T>
struct Answer {
  T value{};
  std::optional<StoreError> error;
};

template <typename T, typename Call>
Answer<T> wait_for(Call call) {
  auto promise = std::make_shared<std::promise<Answer<T>>>();
  auto future = promise->get_future();
  call([promise](T value, std::optional<StoreError> error) {
    promise->set_value(Answer<T>{std::move(value), std::move(error)});
  });
  REQUIRE(future.wait_for(10s) == std::future_status::ready);
  return future.get();
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

/// A cluster of named members on loopback, each with its own data dir.
class TestCluster {
 public:
  explicit TestCluster(std::vector<std::string> founders) : founders_(std::move(founders)) {
    for (const std::string& name : founders_) addresses_[name] = {IpAddress::v4(127, 0, 0, 1), free_port()};
  }

  StoreNodeSettings settings(const std::string& name, bool founding) {
    if (!addresses_.count(name)) addresses_[name] = {IpAddress::v4(127, 0, 0, 1), free_port()};
    StoreNodeSettings s;
    s.name = name;
    s.data_dir = dir_.sub(name);
    s.transport.listen = addresses_[name];
    s.transport.ca_pem = test_ca().certificate_pem;
    s.transport.cert_pem = cert_for(name).certificate_pem;
    s.transport.key_pem = cert_for(name).key_pem;
    s.transport.backoff_min = 20ms;
    s.transport.backoff_max = 200ms;
    for (const auto& [peer, address] : addresses_) s.peers.push_back({peer, address});
    if (founding) s.founders = founders_;
    s.tick = 20ms;
    s.election_ticks = 10;
    s.heartbeat_ticks = 1;
    s.snapshot_entries = snapshot_entries;
    s.keep_entries = 5;
    s.request_timeout = 3s;
    s.report_interval = 100ms;
    s.admin_address = "127.0.0.1:" + std::to_string(8000 + nodes_.size());
    s.seed = 1 + nodes_.size();
    return s;
  }

  StoreNode& start(const std::string& name, bool founding = true) {
    auto node = StoreNode::start(settings(name, founding), quiet());
    if (!node.ok()) FAIL("start " << name << ": " << node.error().message);
    nodes_[name] = std::move(*node);
    return *nodes_[name];
  }
  void start_all() {
    for (const std::string& name : founders_) start(name);
  }
  void stop(const std::string& name) { nodes_.erase(name); }
  StoreNode& node(const std::string& name) { return *nodes_.at(name); }

  /// The member every running node agrees leads, once there is one.
  std::string leader() {
    std::string found;
    REQUIRE(eventually([&] {
      std::string agreed;
      for (auto& [name, node] : nodes_) {
        const StoreStatus status = node->status();
        if (status.leader.empty() || (!agreed.empty() && agreed != status.leader)) return false;
        agreed = status.leader;
      }
      found = agreed;
      return !found.empty() && nodes_.count(found) && nodes_.at(found)->status().role == Role::leader;
    }));
    return found;
  }
  std::string follower() {
    const std::string lead = leader();
    for (auto& [name, node] : nodes_) {
      if (name != lead) return name;
    }
    FAIL("no follower");
    return {};
  }
  std::map<std::string, std::unique_ptr<StoreNode>>& nodes() { return nodes_; }
  SocketAddress address(const std::string& name) { return addresses_.at(name); }

  std::uint64_t snapshot_entries = 10'000;

 private:
  TempDir dir_;
  std::vector<std::string> founders_;
  std::map<std::string, SocketAddress> addresses_;
  std::map<std::string, std::unique_ptr<StoreNode>> nodes_;
};

Answer<store::KvResult> put(StoreNode& node, const std::string& key, const std::string& value) {
  return wait_for<store::KvResult>([&](auto done) { node.write(store::KvPut{key, value}, done); });
}

std::optional<std::string> get(StoreNode& node, const std::string& key, ReadMode mode = ReadMode::linearizable) {
  auto answer = wait_for<std::optional<std::string>>([&](auto done) { node.read(key, mode, done); });
  if (answer.error) FAIL("read " << key << ": " << answer.error->message);
  return answer.value;
}

}  // namespace

TEST_CASE("store node: three members elect one leader and replicate writes", "[cluster][store_node]") {
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
    CHECK(eventually([&] { return get(*node, "health/a", ReadMode::local) == std::optional<std::string>("up"); }));
  }

  // A follower forwards writes to the leader and relays the answer.
  auto forwarded = put(cluster.node(follower), "health/b", "down");
  REQUIRE_FALSE(forwarded.error);
  CHECK(get(cluster.node(follower), "health/b") == std::optional<std::string>("down"));
  CHECK(get(cluster.node(leader), "health/b", ReadMode::local) == std::optional<std::string>("down"));

  // Compare-and-set goes through the log too.
  auto cas = wait_for<store::KvResult>([&](auto done) {
    cluster.node(leader).write(store::KvCompareAndSet{"health/a", std::string("down"), std::string("x")}, done);
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

TEST_CASE("store node: status shows every member with role, term, indices", "[cluster][store_node]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start_all();
  const std::string leader = cluster.leader();
  REQUIRE_FALSE(put(cluster.node(leader), "k", "v").error);
  REQUIRE(eventually([&] {
    const StoreStatus status = cluster.node(leader).status();
    if (status.members.size() != 3) return false;
    for (const MemberStatus& member : status.members) {
      if (!member.reported || !member.voter || member.term != status.term || !member.lag || *member.lag != 0 ||
          member.applied != status.applied) {
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

TEST_CASE("store node: proposal latency falls in the bucket of its upper bound", "[cluster][store_node]") {
  ProposalLatency latency;
  latency.record(std::chrono::microseconds(200));   // <= 1 ms
  latency.record(std::chrono::milliseconds(1));     // on the bound: still the first bucket
  latency.record(std::chrono::milliseconds(30));    // (25 ms, 50 ms]
  latency.record(std::chrono::seconds(7));          // above the last bound
  CHECK(latency.counts[0] == 2);
  CHECK(latency.counts[5] == 1);
  CHECK(latency.counts.back() == 1);
  CHECK(latency.sum_s == Approx(7.0312));
}

TEST_CASE("store node: a restarted member recovers term, log and state from disk", "[cluster][store_node]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start_all();
  std::string leader = cluster.leader();
  for (int i = 0; i < 20; ++i) REQUIRE_FALSE(put(cluster.node(leader), "key" + std::to_string(i), "v").error);
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
    CHECK(eventually([&] { return get(cluster.node(name), "key19", ReadMode::local) == std::optional<std::string>("v"); }));
  }
  leader = cluster.leader();
  CHECK(get(cluster.node(leader), "key7") == std::optional<std::string>("v"));
}

TEST_CASE("store node: a new member joins as a learner through a snapshot, is promoted, a founder is removed",
          "[cluster][store_node]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.snapshot_entries = 100;  // compact early, so n4 needs the snapshot
  cluster.start_all();
  std::string leader = cluster.leader();
  for (int i = 0; i < 150; ++i) REQUIRE_FALSE(put(cluster.node(leader), "key" + std::to_string(i), "v").error);
  REQUIRE(eventually([&] { return cluster.node(leader).status().snapshot_index > 0; }));

  StoreNode& n4 = cluster.start("n4", false);
  auto added = wait_for<bool>([&](auto done) { cluster.node(leader).add_learner("n4", cluster.address("n4"), done); });
  REQUIRE_FALSE(added.error);
  CHECK(eventually([&] { return get(n4, "key149", ReadMode::local) == std::optional<std::string>("v"); }));

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
  auto again = wait_for<bool>([&](auto done) { cluster.node(leader).add_learner("n4", cluster.address("n4"), done); });
  CHECK(again.error);
  auto voter = wait_for<bool>([&](auto done) { cluster.node(leader).promote("n4", done); });
  CHECK(voter.error);
}

TEST_CASE("store node: leadership transfer moves the leader and writes go on", "[cluster][store_node]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start_all();
  const std::string leader = cluster.leader();
  const std::string target = cluster.follower();
  auto moved = wait_for<bool>([&](auto done) { cluster.node(leader).transfer_leadership(target, done); });
  REQUIRE_FALSE(moved.error);
  CHECK(cluster.leader() == target);
  CHECK_FALSE(put(cluster.node(target), "after-transfer", "ok").error);
}

TEST_CASE("store node: a stopped leader is replaced and acknowledged writes survive", "[cluster][store_node]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start_all();
  const std::string first = cluster.leader();
  for (int i = 0; i < 10; ++i) REQUIRE_FALSE(put(cluster.node(first), "w" + std::to_string(i), "1").error);
  cluster.stop(first);
  const std::string second = cluster.leader();
  CHECK(second != first);
  for (int i = 0; i < 10; ++i) CHECK(get(cluster.node(second), "w" + std::to_string(i)) == std::optional<std::string>("1"));
  REQUIRE_FALSE(put(cluster.node(second), "w10", "1").error);
  cluster.start(first);
  CHECK(eventually([&] { return get(cluster.node(first), "w10", ReadMode::local) == std::optional<std::string>("1"); }));
}

TEST_CASE("store node: a write to a follower cut off from the leader is not acknowledged", "[cluster][store_node]") {
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

TEST_CASE("store node: start errors name the problem", "[cluster][store_node]") {
  TestCluster cluster({"n1"});
  auto settings = cluster.settings("n1", true);
  settings.name = "Bad_Name";
  auto bad = StoreNode::start(settings, quiet());
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error().message, Catch::Contains("Bad_Name"));

  settings = cluster.settings("n1", true);
  settings.transport.cert_pem = "not a certificate";
  auto no_cert = StoreNode::start(settings, quiet());
  CHECK_FALSE(no_cert.ok());
}

TEST_CASE("store node: a single founder leads alone", "[cluster][store_node]") {
  TestCluster cluster({"solo"});
  cluster.start_all();
  CHECK(cluster.leader() == "solo");
  REQUIRE_FALSE(put(cluster.node("solo"), "x", "1").error);
  CHECK(get(cluster.node("solo"), "x") == std::optional<std::string>("1"));
  auto seen = std::make_shared<std::atomic<int>>(0);
  auto id = cluster.node("solo").watch("x", [seen](const std::string&, const std::optional<std::string>& value,
                                                   std::uint64_t) {
    if (value == std::optional<std::string>("2")) ++*seen;
  });
  REQUIRE(id.ok());
  REQUIRE_FALSE(put(cluster.node("solo"), "x", "2").error);
  CHECK(*seen == 1);  // watches run before the write is acknowledged
}

namespace {

/// One ReplicatedHealth per member of `cluster`, on one io thread.
class HealthCluster {
 public:
  HealthCluster(TestCluster& cluster, const std::vector<std::string>& names, Quorum quorum)
      : work_(io_.get_executor()) {
    for (const std::string& name : names) {
      ReplicatedHealthSettings settings;
      settings.self = name;
      settings.quorum = quorum;
      settings.publish_interval = 100ms;
      settings.lease_timeout = 600ms;
      settings.local_fallback_after = 2s;
      members_[name] = ReplicatedHealth::create(io_, cluster.node(name), settings, quiet(), [] {});
    }
    thread_ = std::thread([this] { io_.run(); });
    for (auto& [name, member] : members_) {
      REQUIRE(member->start().ok());
      on(name, [member = member] {
        member->set_targets({{"a", "192.0.2.1", "s1"}, {"b", "192.0.2.2", "s2"}});
      });
    }
  }
  ~HealthCluster() {
    for (auto& [name, member] : members_) on(name, [member = member] { member->stop(); });
    work_.reset();
    io_.stop();
    thread_.join();
  }
  /// Runs `task` on the io thread and waits for it.
  void on(const std::string&, std::function<void()> task) {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      task();
      done.set_value();
    });
    done.get_future().wait();
  }
  void observe(const std::string& name, std::vector<std::optional<bool>> views) {
    on(name, [member = members_.at(name), views] { member->observe(views); });
  }
  std::vector<std::optional<bool>> verdicts(const std::string& name) {
    std::vector<std::optional<bool>> out;
    on(name, [&, member = members_.at(name)] { out = member->verdicts(); });
    return out;
  }
  std::vector<TargetAnswer> answers(const std::string& name) {
    std::vector<TargetAnswer> out;
    on(name, [&, member = members_.at(name)] { out = member->answers(); });
    return out;
  }
  void stop(const std::string& name) {
    on(name, [member = members_.at(name)] { member->stop(); });
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::map<std::string, std::shared_ptr<ReplicatedHealth>> members_;
  std::thread thread_;
};

using Views = std::vector<std::optional<bool>>;

}  // namespace

TEST_CASE("replicated health: every member answers the majority's verdict", "[cluster][health]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start_all();
  cluster.leader();
  HealthCluster health(cluster, {"n1", "n2", "n3"}, Quorum::majority);
  const Views up{true, true};
  for (const std::string name : {"n1", "n2", "n3"}) health.observe(name, up);
  std::vector<std::string> running{"n1", "n2", "n3"};
  auto all_see = [&](const Views& expected) {
    return eventually([&] {
      for (const std::string& name : running) {
        if (health.verdicts(name) != expected) return false;
      }
      return true;
    });
  };
  REQUIRE(all_see(up));

  // One observer alone sees "a" down: the verdict stays up everywhere.
  health.observe("n1", {false, true});
  std::this_thread::sleep_for(500ms);  // several publish intervals: nothing may change
  CHECK(all_see(up));
  // A second one agrees: down everywhere.
  health.observe("n2", {false, true});
  CHECK(all_see(Views{false, true}));
  // It recovers on one of them: 1 of 3 up is still down; 2 of 3 is up.
  health.observe("n1", {true, true});
  CHECK(all_see(Views{true, true}));

  // An observer that stops renewing its lease no longer counts. n3's last
  // word on "b" was up: while it counted, n1 (up) and n3 outvote n2 (down);
  // once its lease lapses, n1 against n2 is a tie, which is no majority.
  health.stop("n3");
  running = {"n1", "n2"};
  health.observe("n2", {true, false});
  CHECK(all_see(Views{true, false}));
}

TEST_CASE("replicated health: with quorum any one observer that sees it up is enough", "[cluster][health]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start_all();
  cluster.leader();
  {
    HealthCluster health(cluster, {"n1", "n2", "n3"}, Quorum::any);
    health.observe("n1", {true, false});
    health.observe("n2", {false, false});
    health.observe("n3", {false, false});
    CHECK(eventually([&] { return health.verdicts("n2") == Views{true, false}; }));
  }
}

namespace {

Answer<store::KvResult> write_system(StoreNode& node, store::KvCommand command) {
  return wait_for<store::KvResult>([&](auto done) { node.write_system(std::move(command), done); });
}

std::vector<std::pair<std::string, std::string>> scan(StoreNode& node, const std::string& prefix) {
  auto answer = wait_for<std::vector<std::pair<std::string, std::string>>>(
      [&](auto done) { node.scan(prefix, 100'000, ReadMode::linearizable, done); });
  if (answer.error) FAIL("scan " << prefix << ": " << answer.error->message);
  return answer.value;
}

std::uint64_t unix_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

std::vector<Event> events_of(StoreNode& node) {
  std::vector<Event> out;
  for (const auto& [key, value] : scan(node, std::string(kEventPrefix))) {
    if (auto event = decode_event(value)) out.push_back(*event);
  }
  return out;
}

bool has_event(StoreNode& node, const std::string& kind, const std::string& subject) {
  for (const Event& event : events_of(node)) {
    if (event.kind == kind && event.subject == subject) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("replicated health: operator overrides reach every member and beat the verdict", "[cluster][health]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start_all();
  const std::string leader = cluster.leader();
  HealthCluster health(cluster, {"n1", "n2", "n3"}, Quorum::majority);
  for (const std::string name : {"n1", "n2", "n3"}) health.observe(name, {true, false});
  auto all_answer = [&](std::optional<bool> forced_a, std::optional<bool> forced_b) {
    return eventually([&] {
      for (const std::string name : {"n1", "n2", "n3"}) {
        const auto answers = health.answers(name);
        if (answers.size() != 2 || answers[0].forced != forced_a || answers[1].forced != forced_b) return false;
      }
      return true;
    });
  };
  REQUIRE(all_answer(std::nullopt, std::nullopt));
  REQUIRE(eventually([&] { return health.verdicts("n1") == Views{true, false}; }));

  // Drain the endpoint that is up, force up the site whose endpoint is down;
  // written through a follower, as an operator's request may be.
  StoreNode& follower = cluster.node(cluster.follower());
  OperatorOverride drain{ForcedState::drain, unix_ms(), 0, "alice", "kernel update"};
  OperatorOverride force_up{ForcedState::up, unix_ms(), 0, "bob", "the probe is wrong"};
  REQUIRE_FALSE(write_system(follower, store::KvPut{std::string(kEndpointOverridePrefix) + "192.0.2.1",
                                                    encode_override(drain)})
                    .error);
  REQUIRE_FALSE(
      write_system(follower, store::KvPut{std::string(kSiteOverridePrefix) + "s2", encode_override(force_up)}).error);
  CHECK(all_answer(false, true));
  // The verdicts underneath are unchanged: removing the overrides restores them.
  CHECK(health.answers("n1")[0].verdict == std::optional<bool>(true));
  REQUIRE_FALSE(write_system(follower, store::KvDelete{std::string(kEndpointOverridePrefix) + "192.0.2.1"}).error);
  REQUIRE_FALSE(write_system(follower, store::KvDelete{std::string(kSiteOverridePrefix) + "s2"}).error);
  CHECK(all_answer(std::nullopt, std::nullopt));

  // Scheduled maintenance ends by itself: the leader deletes the override
  // once it expires and logs that it did.
  OperatorOverride window{ForcedState::drain, unix_ms(), unix_ms() + 700, "carol", "maintenance window"};
  REQUIRE_FALSE(
      write_system(follower, store::KvPut{std::string(kSiteOverridePrefix) + "s1", encode_override(window)}).error);
  CHECK(all_answer(false, std::nullopt));
  CHECK(all_answer(std::nullopt, std::nullopt));
  CHECK(get(cluster.node(leader), std::string(kSiteOverridePrefix) + "s1") == std::nullopt);
  CHECK(eventually([&] { return has_event(cluster.node(leader), "override-expired", "site s1"); }));
}

TEST_CASE("replicated health: verdict changes go in the event log, which stays bounded", "[cluster][health]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start_all();
  const std::string leader = cluster.leader();
  HealthCluster health(cluster, {"n1", "n2", "n3"}, Quorum::majority);
  for (const std::string name : {"n1", "n2", "n3"}) health.observe(name, {true, true});
  REQUIRE(eventually([&] { return health.verdicts("n1") == Views{true, true}; }));
  for (const std::string name : {"n1", "n2", "n3"}) health.observe(name, {false, true});
  CHECK(eventually([&] { return health.verdicts("n3") == Views{false, true}; }));
  CHECK(eventually([&] { return has_event(cluster.node(leader), "verdict", "a"); }));
  for (const Event& event : events_of(cluster.node(leader))) {
    if (event.kind != "verdict" || event.subject != "a") continue;
    CHECK(event.author == leader);  // the member that decided
  }

  // More events than the log keeps: the leader deletes the oldest.
  const std::uint64_t base = unix_ms() - 3'600'000;  // older than anything the members log
  for (std::uint64_t i = 0; i < kMaxEvents + 20; ++i) {
    REQUIRE_FALSE(write_system(cluster.node(leader),
                               store::KvPut{event_key(base + i, "test", i), encode_event(Event{base + i, "note", "x",
                                                                                                std::to_string(i), "t"})})
                      .error);
  }
  CHECK(eventually([&] { return scan(cluster.node("n2"), std::string(kEventPrefix)).size() == kMaxEvents; }));
  // The newest survive: the verdict change is still there.
  CHECK(has_event(cluster.node("n2"), "verdict", "a"));
}

TEST_CASE("replicated health: when no live observer is left the last verdict stands, marked stale",
          "[cluster][health]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start_all();
  const std::string leader = cluster.leader();
  HealthCluster health(cluster, {"n1", "n2", "n3"}, Quorum::majority);
  // Only n3 probes "b" (probe_from): the others have no view of it.
  health.observe("n1", {true, std::nullopt});
  health.observe("n2", {true, std::nullopt});
  health.observe("n3", {true, false});
  const std::string key = std::string(kVerdictPrefix) + "b";
  CHECK(eventually([&] { return get(cluster.node(leader), key) == std::optional<std::string>("down 0/1"); }));
  // n3 stops publishing: its lease lapses, "b" has no live observer.
  health.stop("n3");
  CHECK(eventually([&] { return get(cluster.node(leader), key) == std::optional<std::string>("down 0/1 stale"); }));
  CHECK(health.verdicts("n1") == Views{true, false});  // still answered from
}
