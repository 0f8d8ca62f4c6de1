// The `cluster:` and `admin:` sections: what they produce, and their errors.

#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "tests/config/test_support.hpp"

using namespace meridian;
using namespace std::chrono_literals;
using meridian::test::cluster_config;
using meridian::test::errors_of;
using meridian::test::kBaseConfig;
using meridian::test::parse;
using meridian::test::with;

TEST_CASE("config cluster: a member's settings with defaults", "[main][cluster]") {
  auto config = parse(cluster_config(), "/etc/meridian");
  REQUIRE(config.ok());
  REQUIRE(config->cluster);
  const ClusterSettings& cluster = *config->cluster;
  CHECK(cluster.listen.to_string() == "127.0.0.1:7401");
  REQUIRE(cluster.peers.size() == 3);
  CHECK(cluster.peers[2].id == "n3");
  CHECK(cluster.peers[2].address.to_string() == "[::1]:7403");
  CHECK_FALSE(cluster.join);
  CHECK(cluster.ca_file == "/etc/meridian/certs/ca.pem");
  CHECK(cluster.tick == 100ms);
  CHECK(cluster.election_timeout == 1500ms);
  CHECK(cluster.heartbeat_interval == 100ms);
  CHECK(cluster.max_state_mb == 64);
  REQUIRE(config->admin);
  CHECK(config->admin->listen.to_string() == "127.0.0.1:8401");
}

TEST_CASE("config cluster: errors name file, line, column and what was expected",
          "[main][cluster]") {
  struct Case {
    std::string from, to, expected;
  };
  const Case cases[] = {
      {"data_dir: /var/lib/meridian ", "",
       "test.yaml:4:3: cluster: a cluster member needs node.data_dir"},
      {"id: n1, site", "id: N_1, site", "cannot name a cluster member"},
      {"{ id: n2,", "{ id: Node2,",
       "test.yaml:7:13: cluster.peers[1].id: expected a node name of a-z, 0-9 and '-'"},
      {"\"127.0.0.1:7402\"", "\"127.0.0.1\"",
       "test.yaml:7:26: cluster.peers[1].address: expected an address:port like \"127.0.0.1:7400\" "
       "or \"[::1]:7400\" "
       "(missing :PORT after the address)"},
      {"\"127.0.0.1:7402\"", "\"127.0.0.1:7401\"", "repeats the id or the address of another peer"},
      {"  election_timeout: 1500ms", "  election_timeout: 1550ms",
       "cluster.election_timeout: expected a multiple of cluster.tick (100ms)"},
      {"  election_timeout: 1500ms", "  election_timeout: 100ms",
       "cluster.election_timeout: expected election_timeout longer than heartbeat_interval"},
      {"  election_timeout: 1500ms", "  join: maybe", "cluster.join: expected one of"},
      {"  election_timeout: 1500ms", "  max_state_mb: 129",
       "cluster.max_state_mb: expected an integer from 1 to 128"},
      {"  election_timeout: 1500ms", "  max_state_mb: 0",
       "cluster.max_state_mb: expected an integer from 1 to 128"},
      {"key: certs/n1.key }", "}", "cluster.tls: missing required key \"key\""},
      {"  listen: \"127.0.0.1:7401\"", "  lissen: \"127.0.0.1:7401\"", "unknown key \"lissen\""},
      {"admin: { listen: \"127.0.0.1:8401\" }", "admin: { listen: \"0.0.0.0:8401\" }",
       "admin.listen: expected a loopback address, or a token_file"},
  };
  for (const Case& c : cases) {
    INFO(c.to);
    CHECK_THAT(errors_of(cluster_config(c.from, c.to)), Catch::Contains(c.expected));
  }
}

TEST_CASE("config cluster: the cluster example loads cleanly", "[main][cluster]") {
  auto loaded = load_config(MERIDIAN_SOURCE_DIR "/configs/examples/cluster-node.yaml");
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded.ok());
  REQUIRE(loaded->cluster);
  CHECK(loaded->cluster->peers.size() == 3);
  CHECK(loaded->admin->token_file == "/etc/meridian/admin.token");
}

TEST_CASE("config admin: the per-client connection cap, 16 by default, 1 to 256",
          "[main][cluster]") {
  auto defaults = parse(cluster_config(), "");
  REQUIRE(defaults.ok());
  CHECK(defaults->admin->max_connections_per_client == 16);
  auto config = parse(cluster_config("admin: { listen: \"127.0.0.1:8401\" }",
                                     "admin: { listen: \"127.0.0.1:8401\", "
                                     "max_connections_per_client: 256 }"),
                      "");
  REQUIRE(config.ok());
  CHECK(config->admin->max_connections_per_client == 256);
  for (const char* bad : {"0", "257"}) {
    CHECK_THAT(errors_of(cluster_config("admin: { listen: \"127.0.0.1:8401\" }",
                                        std::string("admin: { listen: \"127.0.0.1:8401\", "
                                                    "max_connections_per_client: ") +
                                            bad + " }")),
               Catch::Contains("admin.max_connections_per_client: expected an integer from 1 to "
                               "256, found \"" +
                               std::string(bad) + "\""));
  }
}

TEST_CASE("config admin: the names the API may be reached by", "[main][cluster]") {
  auto config =
      parse(cluster_config("admin: { listen: \"127.0.0.1:8401\" }",
                           "admin: { listen: \"127.0.0.1:8401\", hosts: [gslb.example.net] }"),
            "");
  REQUIRE(config.ok());
  CHECK(config->admin->hosts == std::vector<std::string>{"gslb.example.net"});
  CHECK_THAT(
      errors_of(cluster_config("admin: { listen: \"127.0.0.1:8401\" }",
                               "admin: { listen: \"127.0.0.1:8401\", hosts: [\"a b\"] }")),
      Catch::Contains("admin.hosts[0]: expected a host name of letters, digits, '-' and '.'"));
}

TEST_CASE("config admin: reads may need the token, which needs a token_file", "[main][cluster]") {
  const std::string admin = "admin: { listen: \"127.0.0.1:8401\" }";
  auto plain = parse(cluster_config(), "");
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->admin->require_token_for_reads);

  auto guarded = parse(cluster_config(admin,
                                      "admin: { listen: \"127.0.0.1:8401\", token_file: t, "
                                      "require_token_for_reads: true }"),
                       "/etc/meridian");
  REQUIRE(guarded.ok());
  CHECK(guarded->admin->require_token_for_reads);
  CHECK(guarded->admin->token_file == "/etc/meridian/t");

  // Without a token_file there is no token for reads to need: named at the
  // key, with what would do.
  CHECK_THAT(errors_of(cluster_config(
                 admin, "admin: { listen: \"127.0.0.1:8401\", require_token_for_reads: true }")),
             Catch::Contains(
                 "test.yaml:2:61: admin.require_token_for_reads: expected false, or a "
                 "token_file beside it (reads would need the token it holds), found \"true\""));
  CHECK_THAT(errors_of(cluster_config(
                 admin, "admin: { listen: \"127.0.0.1:8401\", require_token_for_reads: yes }")),
             Catch::Contains("admin.require_token_for_reads: expected one of"));
  auto off = parse(cluster_config(admin,
                                  "admin: { listen: \"127.0.0.1:8401\", "
                                  "require_token_for_reads: false }"),
                   "");
  REQUIRE(off.ok());
  CHECK_FALSE(off->admin->require_token_for_reads);
}
