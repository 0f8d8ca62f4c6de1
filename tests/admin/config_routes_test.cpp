// The config versions' routes (admin/config_routes.hpp) over a real
// one-member store (RocksDB, Raft, TLS on loopback) and a real admin server:
// commit, refusal, strays of lost applies, rollback, history, trimming,
// races. (The commit protocol alone: tests/gslb/config_commit_test.cpp.)

#include "admin/config_routes.hpp"

#include <unistd.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <thread>

#include "admin/http_client.hpp"
#include "base/clock.hpp"
#include "cluster/certs.hpp"
#include "cluster/raft_member.hpp"
#include "fake_node.hpp"
#include "gslb/config_versions.hpp"
#include "http_test_support.hpp"

using namespace meridian;
using namespace meridian::admin;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr const char* kToken = "config-test-token";

std::string fake_fingerprint(const std::string& text) {
  char out[17];
  std::snprintf(out, sizeof out, "%016zx", std::hash<std::string>{}(text));
  return out;
}

/// A one-member store, an admin server with the config routes, and an io
/// thread for the validation the routes post.
class Fixture {
 public:
  Fixture()
      : dir_(std::filesystem::temp_directory_path() /
             ("meridian-config-api-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto ca = cluster::create_ca({"config api test CA", {}, {}});
    REQUIRE(ca.ok());
    auto cert = cluster::issue_node_certificate(*ca, {"c1", {"c1"}, {}});
    REQUIRE(cert.ok());
    cluster::RaftMemberSettings settings;
    settings.name = "c1";
    settings.data_dir = (dir_ / "c1").string();
    settings.transport.listen = {IpAddress::v4(127, 0, 0, 1), 0};
    settings.transport.ca_pem = ca->certificate_pem;
    settings.transport.cert_pem = cert->certificate_pem;
    settings.transport.key_pem = cert->key_pem;
    settings.founders = {"c1"};
    settings.tick = 20ms;
    settings.request_timeout = 3s;
    settings.seed = 7;
    auto store = cluster::RaftMember::start(std::move(settings), test::quiet(), clock_);
    if (!store.ok()) FAIL(store.error().message);
    store_ = std::move(*store);
    for (int i = 0; i < 500 && store_->status().leader.empty(); ++i)
      std::this_thread::sleep_for(10ms);
    REQUIRE(store_->status().leader == "c1");
    io_thread_ = std::thread([this] { io_.run(); });
    HttpServerSettings server_settings = test::test_settings();
    server_settings.token = kToken;
    node_.store_ = store_.get();
    node_.validate_ = [](const std::string& text,
                         const std::string& name) -> Result<gslb::ValidatedConfig> {
      if (text.find("bad") != std::string::npos) {
        return fail(name, ":1:1: sites: expected a map, found \"bad\"\n", name,
                    ":2:1: zones: missing");
      }
      return gslb::ValidatedConfig{fake_fingerprint(text), text.find("node:") != std::string::npos
                                                               ? std::vector<std::string>{"node"}
                                                               : std::vector<std::string>{}};
    };
    gslb::ConfigNodeStatus status;
    status.file = "/etc/meridian/c1.yaml";
    status.committed = 4;
    status.committed_fingerprint = "00000000000000aa";
    status.serving = 4;
    status.fingerprint = "00000000000000aa";
    status.file_fingerprint = "00000000000000bb";
    node_.config_status_ = status;
    server_.emplace(server_settings,
                    [&](HttpServer& server) { add_config_routes(server, io_, node_); });
  }

  ~Fixture() {
    server_.reset();
    guard_.reset();
    io_.stop();
    io_thread_.join();
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  /// The status and JSON body of one request (with the token unless `anonymous`).
  std::pair<unsigned, json::object> call(http::verb method, const std::string& target,
                                         const json::object& body = {}, bool anonymous = false) {
    auto reply =
        http_request(server_->address(), method, target, body.empty() ? "" : json::serialize(body),
                     anonymous ? std::nullopt : std::optional<std::string>(kToken), 10s);
    REQUIRE(reply.ok());
    json::value parsed = json::parse(reply->body);
    REQUIRE(parsed.is_object());
    return {reply->status, parsed.as_object()};
  }

  json::object apply(const std::string& text, unsigned expected_status = 200) {
    auto [status, body] = call(http::verb::post, "/api/v1/config",
                               json::object{{"yaml", text}, {"author", "tester"}});
    INFO(json::serialize(body));
    CHECK(status == expected_status);
    return body;
  }

  /// The version numbers of the history, newest first.
  std::vector<std::uint64_t> history() {
    auto [status, body] = call(http::verb::get, "/api/v1/config/history");
    REQUIRE(status == 200);
    std::vector<std::uint64_t> numbers;
    for (const json::value& item : body.at("versions").as_array()) {
      numbers.push_back(item.as_object().at("version").to_number<std::uint64_t>());
    }
    return numbers;
  }

  /// Writes a record straight into the store (as a lost apply would leave it).
  void put_record(const gslb::ConfigVersion& version) {
    std::promise<bool> done;
    store_->write_system(
        store::KvPut{gslb::config_version_key(version.number),
                     gslb::encode_config_version(version)},
        [&](store::KvResult, std::optional<store::StoreError> error) { done.set_value(!error); });
    REQUIRE(done.get_future().get());
  }

  /// The text of version `number` as the store holds it.
  std::string stored_text(std::uint64_t number) {
    std::promise<std::string> done;
    store_->read(gslb::config_version_key(number), store::ReadMode::local,
                 [&](std::optional<std::string> value, std::optional<store::StoreError>) {
                   auto version = gslb::decode_config_version(value.value_or(""));
                   done.set_value(version ? version->text : "(no record)");
                 });
    return done.get_future().get();
  }

  /// The record keys the store holds.
  std::size_t record_count() {
    std::promise<std::size_t> done;
    store_->scan(
        std::string(gslb::kConfigVersionPrefix), 10'000, store::ReadMode::local,
        [&](auto pairs, std::optional<store::StoreError>) { done.set_value(pairs.size()); });
    return done.get_future().get();
  }

 private:
  SystemClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<cluster::RaftMember> store_;
  test::FakeNode node_{clock_};
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{
      io_.get_executor()};
  std::thread io_thread_;
  std::optional<test::ServerThread> server_;
};

}  // namespace

TEST_CASE("config routes: apply, refuse, roll back, list", "[admin][config_routes]") {
  Fixture fixture;

  SECTION("nothing committed yet") {
    auto [status, body] = fixture.call(http::verb::get, "/api/v1/config/history");
    CHECK(status == 200);
    CHECK(body.at("current").is_null());
    CHECK(body.at("versions").as_array().empty());
  }

  SECTION("this node's view") {
    auto [status, body] = fixture.call(http::verb::get, "/api/v1/config");
    CHECK(status == 200);
    CHECK(body.at("node") == "c1");
    CHECK(body.at("committed") == 4);
    CHECK(body.at("serving") == 4);
    CHECK(body.at("file_matches_committed") == false);
    CHECK(body.at("error").is_null());
  }

  SECTION("an invalid config changes nothing and says why") {
    auto body = fixture.apply("sites: bad\n", 400);
    CHECK_THAT(std::string(body.at("error").as_string()),
               Catch::StartsWith(
                   "the config has errors; nothing was changed:\n<applied config>:1:1: sites:"));
    REQUIRE(body.at("errors").as_array().size() == 2);
    CHECK(body.at("errors").as_array()[1] == "<applied config>:2:1: zones: missing");
    // Named by the client when it says which file it sent.
    auto [status, named] = fixture.call(http::verb::post, "/api/v1/config",
                                        json::object{{"yaml", "bad"}, {"name", "new.yaml"}});
    CHECK(status == 400);
    CHECK(named.at("errors").as_array()[0] == "new.yaml:1:1: sites: expected a map, found \"bad\"");
    CHECK(fixture.history().empty());
    CHECK(fixture.record_count() == 0);
  }

  SECTION("bad requests") {
    CHECK(fixture.call(http::verb::post, "/api/v1/config", json::object{{"yaml", "a: 1\n"}}, true)
              .first == 401);
    CHECK(fixture.call(http::verb::post, "/api/v1/config", json::object{{"text", "a"}}).first ==
          400);
    CHECK(fixture
              .call(http::verb::post, "/api/v1/config",
                    json::object{{"yaml", "a"}, {"author", "x\ty"}})
              .first == 400);
    const std::string huge(gslb::kMaxConfigTextBytes + 1, '#');
    auto [status, body] =
        fixture.call(http::verb::post, "/api/v1/config", json::object{{"yaml", huge}});
    CHECK(status == 400);
    CHECK_THAT(std::string(body.at("error").as_string()), Catch::Contains("more than the limit"));
    CHECK(fixture.call(http::verb::post, "/api/v1/config/rollback", json::object{{"version", "x"}})
              .first == 400);
    CHECK(fixture.call(http::verb::post, "/api/v1/config/rollback", json::object{{"version", 0}})
              .first == 400);
    CHECK(fixture.call(http::verb::get, "/api/v1/config/versions/zero").first == 400);
    CHECK(fixture.call(http::verb::get, "/api/v1/config/history?limit=101").first == 400);
    CHECK(fixture.history().empty());
  }

  SECTION("versions, strays, rollback") {
    auto first = fixture.apply("node: {}\nsites: A\n");
    CHECK(first.at("version") == 1);
    CHECK(first.at("previous").is_null());
    CHECK(first.at("ignored").as_array().size() == 1);
    auto second = fixture.apply("sites: B\n");
    CHECK(second.at("version") == 2);
    CHECK(second.at("previous") == 1);

    // A lost apply's record at 3 (it read 2 too, and lost the race): the
    // next apply takes 4, its history skips 3, and it removes the stray.
    gslb::ConfigVersion stray;
    stray.number = 3;
    stray.previous = 2;
    stray.fingerprint = fake_fingerprint("stray");
    stray.text = "sites: stray\n";
    fixture.put_record(stray);
    auto third = fixture.apply("sites: C\n");
    CHECK(third.at("version") == 4);
    CHECK(third.at("previous") == 2);
    CHECK(fixture.history() == std::vector<std::uint64_t>{4, 2, 1});
    for (int i = 0; i < 200 && fixture.record_count() != 3; ++i) std::this_thread::sleep_for(10ms);
    CHECK(fixture.record_count() == 3);

    // Rollback: the text of 1 as 5.
    auto [status, rolled] = fixture.call(http::verb::post, "/api/v1/config/rollback",
                                         json::object{{"version", 1}, {"author", "bob"}});
    CHECK(status == 200);
    CHECK(rolled.at("version") == 5);
    CHECK(rolled.at("rollback_of") == 1);
    auto [read_status, five] = fixture.call(http::verb::get, "/api/v1/config/versions/5");
    CHECK(read_status == 200);
    CHECK(five.at("text") == "node: {}\nsites: A\n");
    CHECK(five.at("author") == "bob");
    CHECK(five.at("comment") == "rollback to version 1");
    CHECK(five.at("previous") == 4);
    CHECK(five.at("fingerprint") == json::value(fake_fingerprint("node: {}\nsites: A\n")));

    auto [history_status, history] =
        fixture.call(http::verb::get, "/api/v1/config/history?limit=2");
    CHECK(history_status == 200);
    CHECK(history.at("current") == 5);
    const json::array& items = history.at("versions").as_array();
    REQUIRE(items.size() == 2);
    CHECK(items[0].as_object().at("current") == true);
    CHECK(items[0].as_object().at("rollback_of") == 1);
    CHECK(items[1].as_object().at("version") == 4);
    CHECK(items[1].as_object().at("current") == false);
    CHECK_FALSE(items[0].as_object().contains("text"));

    CHECK(fixture.call(http::verb::post, "/api/v1/config/rollback", json::object{{"version", 99}})
              .first == 404);
    CHECK(fixture.call(http::verb::get, "/api/v1/config/versions/99").first == 404);
    // A version that no longer validates on this node is not committed again.
    gslb::ConfigVersion old;
    old.number = 50;
    old.previous = 1;
    old.fingerprint = fake_fingerprint("bad");
    old.text = "sites: bad\n";
    fixture.put_record(old);
    auto [refused_status, refused] =
        fixture.call(http::verb::post, "/api/v1/config/rollback", json::object{{"version", "50"}});
    CHECK(refused_status == 400);
    CHECK_THAT(
        std::string(refused.at("error").as_string()),
        Catch::StartsWith(
            "version 50 does not load on this node; nothing was changed:\n<version 50>:1:1:"));
    CHECK(fixture.history().front() == 5);
  }
}

TEST_CASE("config routes: concurrent applies never both win one number", "[admin][config_routes]") {
  Fixture fixture;
  fixture.apply("sites: 0\n");
  std::vector<std::uint64_t> won;
  for (int round = 0; round < 5; ++round) {
    std::vector<std::future<std::pair<unsigned, json::object>>> calls;
    for (int i = 0; i < 3; ++i) {
      calls.push_back(std::async(std::launch::async, [&fixture, round, i] {
        return fixture.call(
            http::verb::post, "/api/v1/config",
            json::object{{"yaml", "sites: " + std::to_string(round * 10 + i) + "\n"}});
      }));
    }
    for (auto& call : calls) {
      auto [status, body] = call.get();
      INFO(json::serialize(body));
      CHECK((status == 200 || status == 409));
      if (status == 200) won.push_back(body.at("version").to_number<std::uint64_t>());
      if (status == 409)
        CHECK_THAT(std::string(body.at("error").as_string()),
                   Catch::Contains("nothing was changed"));
    }
  }
  // Every win is in the history exactly once, and nothing else is.
  std::vector<std::uint64_t> history = fixture.history();
  std::sort(won.begin(), won.end());
  won.insert(won.begin(), 1);
  std::sort(history.begin(), history.end());
  CHECK(history == won);
}

TEST_CASE("config routes: the history keeps the newest versions", "[admin][config_routes]") {
  Fixture fixture;
  const std::size_t total = gslb::kMaxConfigVersions + 5;
  for (std::size_t i = 1; i <= total; ++i) {
    auto body = fixture.apply("sites: " + std::to_string(i) + "\n");
    REQUIRE(body.at("version") == i);
  }
  const auto history = fixture.history();
  REQUIRE(history.size() == gslb::kMaxConfigVersions);
  CHECK(history.front() == total);
  CHECK(history.back() == total - gslb::kMaxConfigVersions + 1);
  for (int i = 0; i < 200 && fixture.record_count() != gslb::kMaxConfigVersions; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(fixture.record_count() == gslb::kMaxConfigVersions);
  CHECK(fixture.call(http::verb::get, "/api/v1/config/versions/1").first == 404);
}

TEST_CASE("config routes: a version's secrets are shown redacted, kept in the store",
          "[admin][config_routes]") {
  Fixture fixture;
  const std::string text =
      "checks:\n"
      "  api:\n"
      "    type: http\n"
      "    headers:\n"
      "      Authorization: Bearer s3cret-one  # the probe's credential\n"
      "      X-Probe: meridian\n";
  CHECK(fixture.apply(text).at("version") == 1);

  auto [status, shown] = fixture.call(http::verb::get, "/api/v1/config/versions/1");
  REQUIRE(status == 200);
  // Only the value changes: the comment, the other header and the layout stay.
  CHECK(shown.at("text") ==
        "checks:\n"
        "  api:\n"
        "    type: http\n"
        "    headers:\n"
        "      Authorization: <redacted>  # the probe's credential\n"
        "      X-Probe: meridian\n");
  // The fingerprint is the stored text's.
  CHECK(shown.at("fingerprint") == json::value(fake_fingerprint(text)));
  // Not anonymous either way, and nowhere in the history.
  auto [history_status, history] = fixture.call(http::verb::get, "/api/v1/config/history");
  REQUIRE(history_status == 200);
  CHECK(json::serialize(history).find("s3cret") == std::string::npos);

  // The store keeps the real text, and a rollback commits it, not the
  // redacted one.
  CHECK(fixture.stored_text(1) == text);
  auto [rolled_status, rolled] =
      fixture.call(http::verb::post, "/api/v1/config/rollback", json::object{{"version", 1}});
  REQUIRE(rolled_status == 200);
  CHECK(fixture.stored_text(2) == text);
  auto [two_status, two] = fixture.call(http::verb::get, "/api/v1/config/versions/2");
  REQUIRE(two_status == 200);
  CHECK(two.at("text") == shown.at("text"));
}
