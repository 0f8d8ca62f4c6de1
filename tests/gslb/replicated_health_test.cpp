// ReplicatedHealth over real RaftMember members (tests/cluster/store_cluster.hpp):
// observations, leases, verdicts, operator overrides and the event log.

#include "gslb/replicated_health.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>

#include "gslb/health_records.hpp"
#include "net/asio_scheduler.hpp"
#include "tests/cluster/store_cluster.hpp"

using namespace meridian;
using namespace meridian::cluster;
using namespace meridian::cluster::test;
using namespace meridian::gslb;
using namespace std::chrono_literals;

namespace {

/// What a member's routing table would be told: nothing to check here.
class IgnoredVerdicts final : public VerdictSink {
 public:
  void cluster_verdicts_changed(const std::vector<TargetAnswer>&) override {}
};

/// One ReplicatedHealth per member of `cluster`, on one io thread.
class HealthCluster {
 public:
  HealthCluster(TestCluster& cluster, const std::vector<std::string>& names, Quorum quorum)
      : work_(io_.get_executor()), scheduler_(io_) {
    for (const std::string& name : names) {
      ReplicatedHealthSettings settings;
      settings.self = name;
      settings.quorum = quorum;
      settings.publish_interval = 100ms;
      settings.lease_timeout = 600ms;
      settings.local_fallback_after = 2s;
      members_[name] = std::make_unique<ReplicatedHealth>(cluster.node(name), scheduler_,
                                                          real_clock(), quiet(), settings, sink_);
    }
    thread_ = std::thread([this] { io_.run(); });
    for (auto& [name, member] : members_) {
      std::promise<Result<void>> loaded;
      on(name, [&, member = member.get()] {
        member->start([&](Result<void> done) { loaded.set_value(std::move(done)); });
      });
      auto future = loaded.get_future();
      REQUIRE(future.wait_for(10s) == std::future_status::ready);
      REQUIRE(future.get().ok());
      on(name, [member = member.get()] {
        member->set_targets({{"a", "192.0.2.1", "s1"}, {"b", "192.0.2.2", "s2"}});
      });
    }
  }
  ~HealthCluster() {
    for (auto& [name, member] : members_) on(name, [member = member.get()] { member->stop(); });
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
    on(name, [member = members_.at(name).get(), views] { member->publisher().observe(views); });
  }
  std::vector<std::optional<bool>> verdicts(const std::string& name) {
    std::vector<std::optional<bool>> out;
    on(name, [&, member = members_.at(name).get()] { out = member->follower().verdicts(); });
    return out;
  }
  std::vector<TargetAnswer> answers(const std::string& name) {
    std::vector<TargetAnswer> out;
    on(name, [&, member = members_.at(name).get()] { out = member->follower().answers(); });
    return out;
  }
  void stop(const std::string& name) {
    on(name, [member = members_.at(name).get()] { member->stop(); });
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  net::AsioScheduler scheduler_;
  IgnoredVerdicts sink_;
  std::map<std::string, std::unique_ptr<ReplicatedHealth>> members_;
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

TEST_CASE("replicated health: with quorum any one observer that sees it up is enough",
          "[cluster][health]") {
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

Answer<store::KvResult> write_system(RaftMember& node, store::KvCommand command) {
  return wait_for<store::KvResult>([&](auto done) { node.write_system(std::move(command), done); });
}

std::vector<std::pair<std::string, std::string>> scan(RaftMember& node, const std::string& prefix) {
  auto answer = wait_for<std::vector<std::pair<std::string, std::string>>>(
      [&](auto done) { node.scan(prefix, 100'000, ReadMode::linearizable, done); });
  if (answer.error) FAIL("scan " << prefix << ": " << answer.error->message);
  return answer.value;
}

std::uint64_t unix_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::vector<Event> events_of(RaftMember& node) {
  std::vector<Event> out;
  for (const auto& [key, value] : scan(node, std::string(kEventPrefix))) {
    if (auto event = decode_event(value)) out.push_back(*event);
  }
  return out;
}

bool has_event(RaftMember& node, const std::string& kind, const std::string& subject) {
  for (const Event& event : events_of(node)) {
    if (event.kind == kind && event.subject == subject) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("replicated health: operator overrides reach every member and beat the verdict",
          "[cluster][health]") {
  TestCluster cluster({"n1", "n2", "n3"});
  cluster.start_all();
  const std::string leader = cluster.leader();
  HealthCluster health(cluster, {"n1", "n2", "n3"}, Quorum::majority);
  for (const std::string name : {"n1", "n2", "n3"}) health.observe(name, {true, false});
  auto all_answer = [&](std::optional<bool> forced_a, std::optional<bool> forced_b) {
    return eventually([&] {
      for (const std::string name : {"n1", "n2", "n3"}) {
        const auto answers = health.answers(name);
        if (answers.size() != 2 || answers[0].forced != forced_a || answers[1].forced != forced_b)
          return false;
      }
      return true;
    });
  };
  REQUIRE(all_answer(std::nullopt, std::nullopt));
  REQUIRE(eventually([&] { return health.verdicts("n1") == Views{true, false}; }));

  // Drain the endpoint that is up, force up the site whose endpoint is down;
  // written through a follower, as an operator's request may be.
  RaftMember& follower = cluster.node(cluster.follower());
  OperatorOverride drain{ForcedState::drain, unix_ms(), 0, "alice", "kernel update"};
  OperatorOverride force_up{ForcedState::up, unix_ms(), 0, "bob", "the probe is wrong"};
  REQUIRE_FALSE(
      write_system(follower, store::KvPut{std::string(kEndpointOverridePrefix) + "192.0.2.1",
                                          encode_override(drain)})
          .error);
  REQUIRE_FALSE(write_system(follower, store::KvPut{std::string(kSiteOverridePrefix) + "s2",
                                                    encode_override(force_up)})
                    .error);
  CHECK(all_answer(false, true));
  // The verdicts underneath are unchanged: removing the overrides restores them.
  CHECK(health.answers("n1")[0].verdict == std::optional<bool>(true));
  REQUIRE_FALSE(
      write_system(follower, store::KvDelete{std::string(kEndpointOverridePrefix) + "192.0.2.1"})
          .error);
  REQUIRE_FALSE(
      write_system(follower, store::KvDelete{std::string(kSiteOverridePrefix) + "s2"}).error);
  CHECK(all_answer(std::nullopt, std::nullopt));

  // Scheduled maintenance ends by itself: the leader deletes the override
  // once it expires and logs that it did.
  OperatorOverride window{ForcedState::drain, unix_ms(), unix_ms() + 700, "carol",
                          "maintenance window"};
  REQUIRE_FALSE(write_system(follower, store::KvPut{std::string(kSiteOverridePrefix) + "s1",
                                                    encode_override(window)})
                    .error);
  CHECK(all_answer(false, std::nullopt));
  CHECK(all_answer(std::nullopt, std::nullopt));
  CHECK(get(cluster.node(leader), std::string(kSiteOverridePrefix) + "s1") == std::nullopt);
  CHECK(eventually([&] { return has_event(cluster.node(leader), "override-expired", "site s1"); }));
}

TEST_CASE("replicated health: verdict changes go in the event log, which stays bounded",
          "[cluster][health]") {
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
                               store::KvPut{event_key(base + i, "test", i),
                                            encode_event(Event{base + i, "note", "x",
                                                               std::to_string(i), "t"})})
                      .error);
  }
  CHECK(eventually(
      [&] { return scan(cluster.node("n2"), std::string(kEventPrefix)).size() == kMaxEvents; }));
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
  CHECK(eventually(
      [&] { return get(cluster.node(leader), key) == std::optional<std::string>("down 0/1"); }));
  // n3 stops publishing: its lease lapses, "b" has no live observer.
  health.stop("n3");
  CHECK(eventually([&] {
    return get(cluster.node(leader), key) == std::optional<std::string>("down 0/1 stale");
  }));
  CHECK(health.verdicts("n1") == Views{true, false});  // still answered from
}
