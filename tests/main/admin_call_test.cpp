// The CLI's admin calls: the token follows a follower's 421 only to a host
// the operator's own configuration names.

#include "main/admin_call.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace meridian;

namespace {

SocketAddress at(const char* text) {
  SocketAddress out;
  REQUIRE(SocketAddress::parse(text, out));
  return out;
}

}  // namespace

TEST_CASE("admin call: the token follows a 421 only to a host the operator named", "[main]") {
  AdminTarget target;
  target.admin = at("192.0.2.10:8053");
  target.trusted_hosts = {target.admin.address};
  // The same host on another port: no new party sees the token.
  CHECK(may_follow_to(target, at("192.0.2.10:8054")));
  // A host a member reported: not followed.
  CHECK_FALSE(may_follow_to(target, at("203.0.113.66:8053")));
  target.trusted_hosts.push_back(at("192.0.2.20:7400").address);
  CHECK(may_follow_to(target, at("192.0.2.20:8053")));
  // An IPv4-mapped address is its IPv4 host.
  CHECK(may_follow_to(target, at("[::ffff:192.0.2.20]:8053")));
}

TEST_CASE("admin call: the trusted hosts come from --admin and the node's config", "[main]") {
  const auto dir = std::filesystem::temp_directory_path() / "meridian-admin-call-test";
  std::filesystem::create_directories(dir);
  const auto config = dir / "node.yaml";
  std::ofstream(config) << R"(node: { id: n1, site: s1, data_dir: data }
admin: { listen: "127.0.0.1:8401" }
cluster:
  listen: "192.0.2.10:7401"
  peers:
    - { id: n1, address: "192.0.2.10:7401" }
    - { id: n2, address: "192.0.2.20:7402" }
    - { id: n3, address: "[2001:db8::30]:7403" }
  tls: { ca: ca.pem, cert: n1.pem, key: n1.key }
sites: { s1: { lat: 1, lon: 2 } }
zones:
  - { origin: example.test., soa: { mname: ns1, rname: hostmaster }, ns: [ns1],
      records: ["ns1 IN A 192.0.2.1"] }
)";
  CliArguments args;
  args.config = config.string();
  auto target = resolve_admin_target(args);
  REQUIRE(target.ok());
  CHECK(target->admin == at("127.0.0.1:8401"));
  CHECK(may_follow_to(*target, at("127.0.0.1:8402")));
  CHECK(may_follow_to(*target, at("192.0.2.10:8401")));
  CHECK(may_follow_to(*target, at("192.0.2.20:8402")));
  CHECK(may_follow_to(*target, at("[2001:db8::30]:8403")));
  CHECK_FALSE(may_follow_to(*target, at("198.51.100.1:8402")));

  // Without a config only the --admin host is trusted.
  CliArguments bare;
  bare.admin = "198.51.100.5:8053";
  auto alone = resolve_admin_target(bare);
  REQUIRE(alone.ok());
  CHECK(may_follow_to(*alone, at("198.51.100.5:9000")));
  CHECK_FALSE(may_follow_to(*alone, at("192.0.2.20:8402")));
  std::filesystem::remove_all(dir);
}
