// The node's consensus-store member wired from its `cluster:` settings
// (main/store_wiring.hpp).

#include "main/store_wiring.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "config/config.hpp"
#include "tests/config/test_support.hpp"

using namespace meridian;
using meridian::test::cluster_config;
using meridian::test::parse;
using meridian::test::with;

TEST_CASE("store wiring: store settings name the founders and count ticks", "[main][cluster]") {
  meridian::test::ScratchDir dir("cluster-wiring");
  std::filesystem::create_directories(dir.path() + "/certs");
  dir.write("certs/ca.pem", "CA");
  dir.write("certs/n1.pem", "CERT");
  dir.write("certs/n1.key", "KEY");
  std::filesystem::permissions(
      dir.path() + "/certs/n1.key",
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto config = parse(cluster_config(), dir.path());
  REQUIRE(config.ok());
  auto settings = store_settings(*config, 7);
  REQUIRE(settings.ok());
  CHECK(settings->name == "n1");
  CHECK(settings->founders == std::vector<std::string>{"n1", "n2", "n3"});
  CHECK(settings->election_ticks == 15);
  CHECK(settings->heartbeat_ticks == 1);
  CHECK(settings->transport.cert_pem == "CERT");
  CHECK(settings->admin_address == "127.0.0.1:8401");

  auto joining = parse(cluster_config("  election_timeout: 1500ms", "  join: true"), dir.path());
  REQUIRE(joining.ok());
  auto join_settings = store_settings(*joining, 7);
  REQUIRE(join_settings.ok());
  CHECK(join_settings->founders.empty());

  auto missing = parse(cluster_config(), dir.path() + "/nowhere");
  REQUIRE(missing.ok());
  auto unreadable = store_settings(*missing, 7);
  REQUIRE_FALSE(unreadable.ok());
  CHECK_THAT(unreadable.error().message, Catch::Contains("certs/ca.pem"));
}

TEST_CASE("store wiring: a TLS key open to group or others is refused with the chmod fix",
          "[main][cluster]") {
  meridian::test::ScratchDir dir("cluster-wiring-key");
  std::filesystem::create_directories(dir.path() + "/certs");
  dir.write("certs/ca.pem", "CA");
  dir.write("certs/n1.pem", "CERT");
  dir.write("certs/n1.key", "KEY");
  const std::string key = dir.path() + "/certs/n1.key";
  using std::filesystem::perms;
  std::filesystem::permissions(
      key, perms::owner_read | perms::owner_write | perms::group_read | perms::others_read);
  auto config = parse(cluster_config(), dir.path());
  REQUIRE(config.ok());
  auto readable = store_settings(*config, 7);
  REQUIRE_FALSE(readable.ok());
  CHECK_THAT(readable.error().message, Catch::Contains(key) && Catch::Contains("chmod 600"));

  // Mode 0600 but far too big for a key: the wrong file.
  std::filesystem::permissions(key, perms::owner_read | perms::owner_write);
  std::ofstream(key, std::ios::binary) << std::string(64 * 1024 + 1, 'k');
  auto big = store_settings(*config, 7);
  REQUIRE_FALSE(big.ok());
  CHECK_THAT(big.error().message, Catch::Contains(key) && Catch::Contains("larger than"));
}
