// tests/etcd/etcd_process.hpp: the etcd members the other tests stand on
// start, lead, die, come back and pause as the tests assume.

#include "tests/etcd/etcd_process.hpp"

#include <catch2/catch.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <filesystem>
#include <string>

#include "etcd/codec.hpp"
#include "tests/cluster/store_cluster.hpp"
#include "tests/etcd/etcd_test_support.hpp"

using namespace meridian;
using namespace meridian::etcd;
using namespace meridian::etcd::test;
using namespace std::chrono_literals;
using meridian::cluster::test::eventually;

namespace json = boost::json;

TEST_CASE("etcd process: one member answers, and everything goes with the cluster",
          "[etcd][process]") {
  std::string directory;
  {
    auto cluster = start_cluster();
    directory = cluster->directory();
    REQUIRE(cluster->size() == 1);
    CHECK(cluster->running(0));
    const SocketAddress endpoint = cluster->client_endpoint(0);
    CHECK(endpoint.address == IpAddress::v4(127, 0, 0, 1));
    CHECK(endpoint.port >= 20000);
    CHECK(endpoint.port < 32768);
    auto leader = cluster->leader();
    REQUIRE(leader.ok());
    CHECK(*leader == 0);
    auto put = cluster->call(
        0, "/v3/kv/put", json::object{{"key", base64_encode("k")}, {"value", base64_encode("v")}});
    REQUIRE(put.ok());
    CHECK_FALSE(gateway_error(*put));
    auto got = etcd_get(*cluster, "k");
    REQUIRE(got);
    CHECK(got->value == "v");
    CHECK(std::filesystem::exists(directory));
  }
  CHECK_FALSE(std::filesystem::exists(directory));
}

TEST_CASE("etcd process: three members elect a leader, survive a kill and keep their data",
          "[etcd][process]") {
  auto cluster = start_cluster({.members = 3});
  REQUIRE(cluster->size() == 3);
  std::size_t leader = 0;
  REQUIRE(eventually([&] {
    auto found = cluster->leader();
    if (found) leader = *found;
    return found.ok();
  }));
  REQUIRE(cluster
              ->call(leader, "/v3/kv/put",
                     json::object{{"key", base64_encode("k")}, {"value", base64_encode("1")}})
              .ok());

  cluster->kill_member(leader);
  CHECK_FALSE(cluster->running(leader));
  CHECK_FALSE(
      cluster->call(leader, "/v3/kv/range", json::object{{"key", base64_encode("k")}}, 500ms).ok());
  // The two left elect one of themselves.
  REQUIRE(eventually(
      [&] {
        auto found = cluster->leader();
        return found.ok() && *found != leader;
      },
      15s));

  REQUIRE(cluster->restart_member(leader).ok());
  CHECK(cluster->running(leader));
  // Same data dir: the restarted member has the key (a serializable read:
  // its own copy).
  REQUIRE(eventually([&] {
    auto answer = cluster->call(leader, "/v3/kv/range",
                                json::object{{"key", base64_encode("k")}, {"serializable", true}});
    if (!answer) return false;
    auto kvs = range_kvs(*answer);
    return kvs && kvs->size() == 1 && kvs->front().value == "1";
  }));
}

TEST_CASE("etcd process: a paused member answers nothing until it resumes", "[etcd][process]") {
  auto cluster = start_cluster();
  cluster->pause_member(0);
  CHECK(cluster->running(0));
  auto silent = cluster->call(0, "/v3/maintenance/status", json::object{}, 300ms);
  CHECK_FALSE(silent.ok());
  cluster->resume_member(0);
  auto answer = cluster->call(0, "/v3/maintenance/status", json::object{});
  CHECK(answer.ok());
}

TEST_CASE("etcd process: a TLS member serves the client certificate of its CA", "[etcd][process]") {
  auto cluster = start_cluster({.tls = true});
  // The cluster's own client certificate works (start waited for /health).
  CHECK(cluster->call(0, "/v3/maintenance/status", json::object{}).ok());
  const GatewaySettings settings = cluster->gateway_settings();
  CHECK(settings.ca_pem == cluster->ca().certificate_pem);
  CHECK(settings.cert_pem == cluster->client_certificate().certificate_pem);
  CHECK(settings.endpoints == cluster->client_endpoints());
}
