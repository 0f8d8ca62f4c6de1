// The `store:` section (the replicated state in etcd): what it produces,
// and its errors.

#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "tests/config/test_support.hpp"

using namespace meridian;
using namespace std::chrono_literals;
using meridian::test::errors_of;
using meridian::test::parse;
using meridian::test::with;

namespace {

/// kBaseConfig with a node whose store is a three-member etcd cluster, then
/// `from` replaced by `to` when given.
std::string etcd_config(const std::string& from = "", const std::string& to = "") {
  const std::string node = R"(node: { id: n1, site: eu-west }
store:
  backend: etcd
  endpoints: ["127.0.0.1:2379", "127.0.0.2:2379", "[::1]:2379"]
  prefix: /meridian/prod/
  tls: { ca: certs/ca.pem, cert: certs/n1.pem, key: certs/n1.key }
  decider_lease: 4s)";
  std::string text = with("node: { id: n1, site: eu-west }", node);
  if (!from.empty()) text = with(from, to, text);
  return text;
}

}  // namespace

TEST_CASE("config store: an etcd store's settings with defaults", "[config][store]") {
  auto config = parse(etcd_config(), "/etc/meridian");
  REQUIRE(config.ok());
  CHECK_FALSE(config->cluster);
  REQUIRE(config->etcd_store);
  CHECK(config->replicated());
  const EtcdStoreConfig& store = *config->etcd_store;
  REQUIRE(store.endpoints.size() == 3);
  CHECK(store.endpoints[2].to_string() == "[::1]:2379");
  CHECK(store.prefix == "/meridian/prod/");
  CHECK(store.ca_file == "/etc/meridian/certs/ca.pem");
  CHECK(store.key_file == "/etc/meridian/certs/n1.key");
  CHECK(store.decider_lease == 4s);
  CHECK(store.timeout == 3s);
  // No data_dir needed: the state lives in etcd.
  CHECK(config->node.data_dir.empty());
}

TEST_CASE("config store: without tls the store speaks plain HTTP", "[config][store]") {
  auto config = parse(
      etcd_config("  tls: { ca: certs/ca.pem, cert: certs/n1.pem, key: certs/n1.key }\n", ""), "");
  REQUIRE(config.ok());
  CHECK(config->etcd_store->ca_file.empty());
}

TEST_CASE("config store: a node without cluster: or store: is not replicated", "[config][store]") {
  auto config = parse(meridian::test::kBaseConfig, "");
  REQUIRE(config.ok());
  CHECK_FALSE(config->replicated());
}

TEST_CASE("config store: errors name file, line, column and what was expected", "[config][store]") {
  struct Case {
    std::string from, to, expected;
  };
  const Case cases[] = {
      {"backend: etcd", "backend: consul", "test.yaml:3:12: store.backend: expected one of (etcd)"},
      {"backend: etcd", "backnd: etcd", "unknown key \"backnd\""},
      {"prefix: /meridian/prod/", "prefix: /meridian/prod",
       "test.yaml:5:11: store.prefix: expected a key prefix that starts and ends with '/'"},
      {"prefix: /meridian/prod/", "prefix: \"/a b/\"", "store.prefix: expected a key prefix"},
      {"\"127.0.0.2:2379\"", "\"etcd-2:2379\"", "store.endpoints[1]: expected an address:port"},
      {"\"127.0.0.2:2379\"", "\"127.0.0.1:2379\"",
       "store.endpoints[1]: expected each endpoint once"},
      {"endpoints: [\"127.0.0.1:2379\", \"127.0.0.2:2379\", \"[::1]:2379\"]", "endpoints: []",
       "store.endpoints"},
      {"decider_lease: 4s", "decider_lease: 500ms", "store.decider_lease"},
      {"key: certs/n1.key }", "}", "store.tls: missing required key \"key\""},
      {"id: n1, site", "id: N_1, site", "cannot name a store member"},
  };
  for (const Case& c : cases) {
    INFO(c.to);
    CHECK_THAT(errors_of(etcd_config(c.from, c.to)), Catch::Contains(c.expected));
  }
}

TEST_CASE("config store: cluster: and store: exclude each other", "[config][store]") {
  const std::string both = etcd_config() + R"(
cluster:
  listen: "127.0.0.1:7401"
  peers: [ { id: n1, address: "127.0.0.1:7401" } ]
  tls: { ca: certs/ca.pem, cert: certs/n1.pem, key: certs/n1.key })";
  const std::string errors =
      errors_of(with("node: { id: n1, site: eu-west }",
                     "node: { id: n1, site: eu-west, data_dir: /var/lib/meridian }", both));
  CHECK_THAT(errors, Catch::Contains("store: expected either cluster: (the built-in store) or "
                                     "store: (etcd), not both"));
}
