// Every route of a node's admin server (admin/node_routes.hpp) over a fake
// node, through a real server: the status documents, the query-rate
// history, explain and how its errors map to statuses, /metrics, and in a
// cluster (a memory store) the store, override and config routes.

#include "admin/node_routes.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "admin/dashboard.hpp"
#include "admin/http_client.hpp"
#include "base/clock.hpp"
#include "fake_node.hpp"
#include "gslb/config_versions.hpp"
#include "gslb/health_records.hpp"
#include "http_test_support.hpp"
#include "store/memory_store.hpp"

using namespace meridian;
using namespace meridian::admin;
namespace json = boost::json;

namespace {

constexpr const char* kToken = "node-routes-token";

/// A fake node behind a real server with every route; `cluster` gives the
/// node a memory store, `token_for_reads` is admin.require_token_for_reads.
class Fixture {
 public:
  explicit Fixture(bool cluster = false, bool token_for_reads = false) {
    if (cluster) node_.store_ = &store_;
    HttpServerSettings settings = test::test_settings();
    settings.token = kToken;
    settings.token_for_reads = token_for_reads;
    server_.emplace(settings, [this](HttpServer& server, boost::asio::io_context& io) {
      // Config validation runs on the server's thread here: the fake is quick.
      add_node_routes(server, node_, io, io);
    });
  }

  ManualClock clock_;
  store::MemoryStore store_{clock_, "c1"};
  test::FakeNode node_{clock_};

  /// The reply to one request (with the token).
  HttpReply reply(http::verb method, const std::string& target, const std::string& body = "") {
    auto reply = http_request(server_->address(), method, target, body, std::string(kToken));
    REQUIRE(reply.ok());
    return std::move(reply).value();
  }

  /// The reply to one request with `token` (none: no Authorization header).
  HttpReply reply_with(const std::optional<std::string>& token, http::verb method,
                       const std::string& target) {
    auto reply = http_request(server_->address(), method, target, "", token);
    REQUIRE(reply.ok());
    return std::move(reply).value();
  }

  /// The status and body of one request.
  std::pair<unsigned, std::string> raw(http::verb method, const std::string& target,
                                       const std::string& body = "") {
    HttpReply answer = reply(method, target, body);
    return {answer.status, std::move(answer.body)};
  }

  /// The status and JSON object of one request.
  std::pair<unsigned, json::object> call(http::verb method, const std::string& target,
                                         const json::object& body = {}) {
    auto [status, text] = raw(method, target, body.empty() ? "" : json::serialize(body));
    json::value parsed = json::parse(text);
    REQUIRE(parsed.is_object());
    return {status, parsed.as_object()};
  }

 private:
  std::optional<test::ServerThread> server_;
};

std::shared_ptr<const gslb::NodeView> some_view() {
  auto view = std::make_shared<gslb::NodeView>();
  view->built_ms = 42;
  gslb::ServiceView www;
  www.name = "www.example.test.";
  www.policy = "closest";
  www.ttl_s = 30;
  gslb::EndpointView eu;
  eu.addresses = {"192.0.2.20", "2001:db8::20"};
  eu.site = "eu-west";
  eu.target = "192.0.2.20@eu-west/web:80";
  eu.check = "web";
  eu.source = gslb::VerdictSource::cluster;
  eu.probed = "up";
  eu.cluster_verdict = true;
  eu.since_ms = 7;
  eu.latency_ms = 1.5;
  gslb::OperatorOverride drain;
  drain.author = "alice";
  drain.reason = "maintenance";
  drain.set_ms = 5;
  eu.override = drain;
  www.endpoints = {eu};
  view->services = {www};
  gslb::SiteView site;
  site.name = "eu-west";
  site.latitude_deg = 51.5;
  site.longitude_deg = -0.13;
  site.endpoints = 1;
  site.usable = 0;
  site.state = "drained";
  view->sites = {site};
  view->observers = {{"c1", true}, {"c2", false}};
  gslb::MatrixRow row;
  row.target = eu.target;
  row.site = "eu-west";
  row.views = {{"c1", "up"}, {"c2", "unknown"}};
  row.verdict = true;
  view->matrix = {row};
  return view;
}

}  // namespace

TEST_CASE("node routes: status outside a cluster", "[admin][node_routes]") {
  Fixture f;
  f.node_.totals_.queries = 15;
  f.node_.totals_.service_answers = 8;
  f.node_.totals_.fail_open = 1;
  f.node_.tcp_connections_ = 2;
  f.clock_.advance(std::chrono::milliseconds(61'500));
  auto [status, body] = f.call(http::verb::get, "/api/v1/status");
  CHECK(status == 200);
  CHECK(json::serialize(body) ==
        R"({"name":"c1","site":"here","version":"0.0.0-test","uptime_s":61,)"
        R"("started_ms":1700000000000,"config":null,"cluster":null,)"
        R"("health":{"fallback":false,"observers_live":0},)"
        R"("dns":{"queries":15,"service_answers":8,"fail_open":1,"tcp_connections":2}})");
  // No view yet: the view routes wait.
  for (const char* path : {"/api/v1/sites", "/api/v1/services", "/api/v1/health/matrix"}) {
    auto [starting, error] = f.call(http::verb::get, path);
    CHECK(starting == 503);
    CHECK(error.at("error") == "the node is starting");
  }
  auto [stats_status, stats] = f.call(http::verb::get, "/api/v1/stats");
  CHECK(stats_status == 200);
  CHECK(json::serialize(stats) == R"({"interval_s":10,"samples":[]})");
  // Nothing of a cluster, and the dashboard.
  CHECK(f.raw(http::verb::get, "/api/v1/cluster").first == 404);
  CHECK(f.raw(http::verb::get, "/api/v1/overrides").first == 404);
  CHECK(f.raw(http::verb::get, "/api/v1/config").first == 404);
  CHECK(f.raw(http::verb::get, "/").first == 200);
  // /metrics: the Prometheus text (admin/metrics_route.hpp has its content).
  const HttpReply metrics = f.reply(http::verb::get, "/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK_THAT(metrics.body, Catch::Contains("\nmeridian_dns_queries_total 15\n"));
}

TEST_CASE("node routes: the view's documents", "[admin][node_routes]") {
  Fixture f;
  f.node_.view_ = some_view();
  auto [sites_status, sites] = f.call(http::verb::get, "/api/v1/sites");
  CHECK(sites_status == 200);
  CHECK(json::serialize(sites) ==
        R"({"sites":[{"name":"eu-west","lat":5.15E1,"lon":-1.3E-1,"endpoints":1,"usable":0,)"
        R"("state":"drained","override":null}],"built_ms":42})");
  auto [services_status, services] = f.call(http::verb::get, "/api/v1/services");
  CHECK(services_status == 200);
  CHECK(json::serialize(services) ==
        R"({"services":[{"name":"www.example.test.","policy":"closest","ttl":30,)"
        R"("endpoints":[{"addresses":["192.0.2.20","2001:db8::20"],"site":"eu-west",)"
        R"("target":"192.0.2.20@eu-west/web:80","check":"web","usable":true,)"
        R"("source":"cluster verdict","probed":"up","cluster_verdict":"up","stale":false,)"
        R"("since_ms":7,"reason":"","latency_ms":1.5E0,"override":{"state":"drain",)"
        R"("author":"alice","reason":"maintenance","set_ms":5,"expires_ms":null}}]}],)"
        R"("built_ms":42})");
  auto [matrix_status, matrix] = f.call(http::verb::get, "/api/v1/health/matrix");
  CHECK(matrix_status == 200);
  CHECK(json::serialize(matrix) ==
        R"({"observers":[{"name":"c1","live":true},{"name":"c2","live":false}],)"
        R"("targets":[{"target":"192.0.2.20@eu-west/web:80","site":"eu-west",)"
        R"("views":{"c1":"up","c2":"unknown"},"verdict":"up","stale":false}],"built_ms":42})");
  auto [status, body] = f.call(http::verb::get, "/api/v1/status");
  CHECK(status == 200);
  CHECK(json::serialize(body.at("health")) == R"({"fallback":false,"observers_live":1})");
}

TEST_CASE("node routes: explain, and what its refusals answer", "[admin][node_routes]") {
  Fixture f;
  std::optional<gslb::ExplainQuery> asked;
  std::optional<gslb::ExplainError> refusal;
  f.node_.explain_ = [&](const gslb::ExplainQuery& query)
      -> std::variant<gslb::CurrentExplanation, gslb::ExplainError> {
    asked = query;
    return *refusal;
  };
  // Bad parameters never reach the node.
  refusal = gslb::ExplainError{gslb::ExplainErrorKind::bad_query, "unused"};
  for (const auto& [target, message] : std::vector<std::pair<std::string, std::string>>{
           {"/api/v1/explain?client=192.0.2.1", "name= is required"},
           {"/api/v1/explain?name=www&client=nowhere", "client= must be an IPv4 or IPv6 address"},
           {"/api/v1/explain?name=www&client=192.0.2.1&ecs=1.2.3.4/99",
            "ecs= must be a subnet like 81.2.69.0/24"},
           {"/api/v1/explain?name=www&client=192.0.2.1&type=MX", "type= must be A or AAAA"}}) {
    INFO(target);
    auto [status, body] = f.call(http::verb::get, target);
    CHECK(status == 400);
    CHECK(body.at("error") == json::value(message));
  }
  CHECK_FALSE(asked);
  // The query as parsed: a mapped address unmapped, ECS, AAAA.
  auto [status, body] = f.call(http::verb::get,
                               "/api/v1/explain?name=www.example.test&client=::ffff:192.0.2.1"
                               "&ecs=81.2.69.0/24&type=AAAA");
  CHECK(status == 400);
  REQUIRE(asked);
  CHECK(asked->name == "www.example.test");
  CHECK(asked->source.to_string() == "192.0.2.1");
  CHECK(asked->ecs->to_string() == "81.2.69.0/24");
  CHECK(asked->family == IpAddress::Family::v6);

  const auto answer_to = [&](gslb::ExplainErrorKind kind, std::string message) {
    refusal = gslb::ExplainError{kind, std::move(message)};
    return f.call(http::verb::get, "/api/v1/explain?name=www.example.test&client=192.0.2.1");
  };
  auto [starting, starting_body] =
      answer_to(gslb::ExplainErrorKind::starting, "the node is starting");
  CHECK(starting == 503);
  CHECK(starting_body.at("error") == "the node is starting");
  CHECK(answer_to(gslb::ExplainErrorKind::reloading, "the config is being reloaded; ask again")
            .first == 503);
  auto [not_service, not_service_body] =
      answer_to(gslb::ExplainErrorKind::bad_query, "x. is not a service");
  CHECK(not_service == 400);
  CHECK(not_service_body.at("error") == "x. is not a service");
  // A name that merely contains "reloaded" is a bad query like any other
  // (the route once matched the message's text and answered 503).
  CHECK(answer_to(gslb::ExplainErrorKind::bad_query, "reloaded. is not a service of this config")
            .first == 400);
}

TEST_CASE("node routes: in a cluster, the store's routes over the node's store",
          "[admin][node_routes]") {
  Fixture f(true);
  gslb::ConfigNodeStatus config;
  config.file = "/etc/meridian/c1.yaml";
  config.fingerprint = "00000000000000aa";
  config.file_fingerprint = "00000000000000aa";
  f.node_.config_status_ = config;
  f.node_.target_known_ = [](bool site, const std::string& name) -> Result<void> {
    if (site && name == "eu-west") return {};
    if (!site && name == "192.0.2.20") return {};
    return fail("no such target: ", name);
  };

  auto [cluster_status, cluster] = f.call(http::verb::get, "/api/v1/cluster");
  CHECK(cluster_status == 200);
  CHECK(cluster.at("name") == "c1");
  CHECK(cluster.at("role") == "leader");
  // The memory store has no membership facet.
  auto [membership, refused] =
      f.call(http::verb::post, "/api/v1/cluster/promote", json::object{{"name", "c2"}});
  CHECK(membership == 501);
  CHECK(refused.at("error") == "this store's membership (memory) is managed outside Meridian");

  auto [status_status, status] = f.call(http::verb::get, "/api/v1/status");
  CHECK(status_status == 200);
  CHECK(status.at("cluster").as_object().at("role") == "leader");
  CHECK(status.at("config").as_object().at("node") == "c1");
  CHECK(status.at("config").as_object().at("committed").is_null());
  auto [config_status, config_body] = f.call(http::verb::get, "/api/v1/config");
  CHECK(config_status == 200);
  CHECK(config_body == status.at("config").as_object());

  // Overrides: the node says which targets exist.
  auto [unknown, unknown_body] = f.call(http::verb::post, "/api/v1/overrides",
                                        json::object{{"site", "mars"}, {"state", "drain"}});
  CHECK(unknown == 400);
  CHECK(unknown_body.at("error") == "no such target: mars");
  auto [drained, drain] = f.call(http::verb::post, "/api/v1/overrides",
                                 json::object{{"endpoint", "192.0.2.20"},
                                              {"state", "drain"},
                                              {"for", "2h"},
                                              {"author", "alice"},
                                              {"reason", "maintenance"}});
  CHECK(drained == 200);
  const std::uint64_t set_ms = 1'767'225'600'000;  // ManualClock's wall epoch
  CHECK(json::serialize(drain) == R"({"endpoint":"192.0.2.20","state":"drain","set_ms":)" +
                                      std::to_string(set_ms) +
                                      R"(,"author":"alice","reason":"maintenance","expires_ms":)" +
                                      std::to_string(set_ms + 7'200'000) + "}");
  auto [down_status, down] = f.call(http::verb::post, "/api/v1/overrides",
                                    json::object{{"site", "eu-west"}, {"state", "down"}});
  CHECK(down_status == 200);
  // The answer shows the override written (it once said "drain" whatever
  // was set), and the override in force is the one asked for.
  CHECK(down.at("state") == "down");
  auto [list_status, list] = f.call(http::verb::get, "/api/v1/overrides");
  CHECK(list_status == 200);
  REQUIRE(list.at("overrides").as_array().size() == 2);
  CHECK(list.at("overrides").as_array()[0].as_object().at("endpoint") == "192.0.2.20");
  CHECK(list.at("overrides").as_array()[1].as_object().at("site") == "eu-west");
  CHECK(list.at("overrides").as_array()[1].as_object().at("state") == "down");
  auto [removed_status, removed] = f.call(http::verb::post, "/api/v1/overrides",
                                          json::object{{"site", "eu-west"}, {"state", "none"}});
  CHECK(removed_status == 200);
  CHECK(json::serialize(removed) == R"({"ok":true,"removed":"_ops/override/site/eu-west"})");

  auto [events_status, events] = f.call(http::verb::get, "/api/v1/events?limit=2");
  CHECK(events_status == 200);
  const json::array& entries = events.at("events").as_array();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].as_object().at("kind") == "override-removed");
  CHECK(entries[1].as_object().at("kind") == "override");
  CHECK(entries[1].as_object().at("detail") == "down");
  CHECK(entries[1].as_object().at("id") == json::value(gslb::event_key(set_ms, "c1-api", 2)));
  CHECK(events.at("next") == entries[1].as_object().at("id"));
  CHECK(f.call(http::verb::get, "/api/v1/events?limit=0").first == 400);
  CHECK(f.call(http::verb::get, "/api/v1/events?before=x").first == 400);
}

TEST_CASE("node routes: the store's state exported, and imported into another store",
          "[admin][node_routes]") {
  Fixture from(true);
  const auto put = [](store::MemoryStore& store, std::string key, std::string value) {
    store.write_system(store::KvPut{std::move(key), std::move(value)},
                       [](const store::KvResult&, const std::optional<store::StoreError>& error) {
                         REQUIRE_FALSE(error);
                       });
  };
  put(from.store_, "_config/current", "2");
  put(from.store_, "_config/version/2", "v2");
  put(from.store_, "_events/0001-c1-api-1", "e1");
  put(from.store_, "_health/verdict/x", "up 3/3");  // remade by the nodes: stays behind
  put(from.store_, "_ops/override/site/eu-west", "o1");
  put(from.store_, "note", "keep me");
  auto [exported_status, exported] = from.call(http::verb::get, "/api/v1/store/export");
  REQUIRE(exported_status == 200);
  CHECK(exported.at("format") == "meridian-store");
  CHECK(exported.at("backend") == "memory");
  json::array keys;
  for (const json::value& entry : exported.at("entries").as_array()) {
    keys.push_back(entry.as_object().at("key"));
  }
  // Config versions first, the pointer to the current one last.
  CHECK(json::serialize(keys) ==
        R"(["_config/version/2","_events/0001-c1-api-1","_ops/override/site/eu-west","note",)"
        R"("_config/current"])");

  Fixture to(true);
  put(to.store_, "_ops/override/site/us-east", "old");
  json::object import = exported;
  import["begin"] = true;
  auto [refused, refusal] = to.call(http::verb::post, "/api/v1/store/import", import);
  CHECK(refused == 409);
  CHECK_THAT(std::string(refusal.at("error").as_string()),
             Catch::Contains("this store already holds 1 key(s)"));
  import["replace"] = true;
  auto [imported_status, imported] = to.call(http::verb::post, "/api/v1/store/import", import);
  REQUIRE(imported_status == 200);
  CHECK(imported.at("written") == 5);
  CHECK(imported.at("deleted") == 1);  // what the export did not have
  store::KeyValues held;
  to.store_.scan("", 100, store::ReadMode::local,
                 [&](store::KeyValues pairs, const std::optional<store::StoreError>&) {
                   held = std::move(pairs);
                 });
  CHECK(held == store::KeyValues{{"_config/current", "2"},
                                 {"_config/version/2", "v2"},
                                 {"_events/0001-c1-api-1", "e1"},
                                 {"_ops/override/site/eu-west", "o1"},
                                 {"note", "keep me"}});

  // What does not move is refused by name; so is what is not an export.
  json::object bad{
      {"format", "meridian-store"},
      {"version", 1},
      {"entries", json::array{json::object{{"key", "_health/verdict/x"}, {"value", "up"}}}}};
  auto [bad_status, bad_body] = to.call(http::verb::post, "/api/v1/store/import", bad);
  CHECK(bad_status == 400);
  CHECK_THAT(std::string(bad_body.at("error").as_string()),
             Catch::Contains("the key _health/verdict/x is not part of an export"));
  auto [alien, alien_body] = to.call(http::verb::post, "/api/v1/store/import",
                                     json::object{{"format", "other"}, {"entries", json::array{}}});
  CHECK(alien == 400);
  CHECK_THAT(std::string(alien_body.at("error").as_string()),
             Catch::Contains("not a Meridian store export"));
}

TEST_CASE("node routes: with require_token_for_reads every read needs the token, the page does not",
          "[admin][node_routes]") {
  Fixture f(true, true);
  f.node_.view_ = some_view();
  f.node_.config_status_ = gslb::ConfigNodeStatus{};
  // Every GET route a node in a cluster has (docs/admin-api.md), with a
  // target that reaches it.
  const char* reads[] = {"/api/v1/status",
                         "/api/v1/sites",
                         "/api/v1/services",
                         "/api/v1/health/matrix",
                         "/api/v1/stats",
                         "/api/v1/explain?name=www.example.test&client=192.0.2.1",
                         "/api/v1/verdicts",
                         "/api/v1/overrides",
                         "/api/v1/events",
                         "/api/v1/cluster",
                         "/api/v1/kv",
                         "/api/v1/kv/note",
                         "/api/v1/config",
                         "/api/v1/config/history",
                         "/api/v1/config/versions/1",
                         "/api/v1/store/export",
                         "/metrics"};
  for (const char* target : reads) {
    INFO(target);
    for (const http::verb method : {http::verb::get, http::verb::head}) {
      const HttpReply without = f.reply_with(std::nullopt, method, target);
      CHECK(without.status == 401);
      if (method == http::verb::get)
        CHECK_THAT(without.body, Catch::Contains("Authorization: Bearer <admin token>"));
      CHECK(f.reply_with("wrong", method, target).status == 403);
      // With the token the route answers as it would anyway (404: no such
      // key or version yet; 503 where the fake has nothing to explain).
      const unsigned with = f.reply_with(kToken, method, target).status;
      CHECK(with != 401);
      CHECK(with != 403);
    }
  }
  // The page and its assets hold nothing of the node: a browser loads them,
  // then the page asks for the token.
  for (const DashboardAsset& asset : dashboard_assets()) {
    INFO(asset.route);
    CHECK(f.reply_with(std::nullopt, http::verb::get, std::string(asset.route)).status == 200);
  }
}

TEST_CASE("node routes: the store export needs the token even when reads do not",
          "[admin][node_routes]") {
  Fixture f(true);
  CHECK(f.reply_with(std::nullopt, http::verb::get, "/api/v1/status").status == 200);
  CHECK(f.reply_with(std::nullopt, http::verb::get, "/api/v1/kv").status == 200);
  const HttpReply without = f.reply_with(std::nullopt, http::verb::get, "/api/v1/store/export");
  CHECK(without.status == 401);
  CHECK(f.reply_with("wrong", http::verb::get, "/api/v1/store/export").status == 403);
  CHECK(f.reply_with(kToken, http::verb::get, "/api/v1/store/export").status == 200);
}

TEST_CASE("node routes: a raw read of a config version shows its secrets redacted",
          "[admin][node_routes]") {
  Fixture f(true);
  gslb::ConfigVersion version;
  version.number = 1;
  version.fingerprint = "00000000000000aa";
  version.author = "tester";
  version.text =
      "checks:\n  api: { type: http, headers: { Authorization: \"Bearer s3cret-value\", "
      "X-Probe: meridian } }\n";
  f.store_.write_system(
      store::KvPut{gslb::config_version_key(1), gslb::encode_config_version(version)},
      [](const store::KvResult&, const std::optional<store::StoreError>& error) {
        REQUIRE_FALSE(error);
      });
  const std::string key = gslb::config_version_key(1);
  auto [got_status, got] = f.call(http::verb::get, "/api/v1/kv/" + key);
  REQUIRE(got_status == 200);
  const std::string value(got.at("value").as_string());
  CHECK(value.find("s3cret-value") == std::string::npos);
  CHECK_THAT(value, Catch::Contains("Authorization: \"<redacted>\", X-Probe: meridian"));
  CHECK_THAT(value, Catch::StartsWith("v1\t1\t"));  // the record's own header line

  auto [scan_status, scan] = f.call(http::verb::get, "/api/v1/kv?prefix=_config/");
  REQUIRE(scan_status == 200);
  CHECK(json::serialize(scan).find("s3cret-value") == std::string::npos);
  CHECK(scan.at("items").as_array()[0].as_object().at("value") == json::value(value));

  // The export, with the token, carries the record as stored: an import
  // must restore the secret.
  auto [exported_status, exported] = f.call(http::verb::get, "/api/v1/store/export");
  REQUIRE(exported_status == 200);
  CHECK(json::serialize(exported).find("s3cret-value") != std::string::npos);
}
