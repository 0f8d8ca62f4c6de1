// main/fd_budget: the descriptor budget of a config, and the refusal when it
// does not fit the open-file limit.

#include <catch2/catch.hpp>

#include "base/fd_limit.hpp"
#include "main/fd_budget.hpp"

using namespace meridian;

namespace {

Config single_node() {
  Config config;
  config.dns.listen = {SocketAddress{IpAddress::v4(127, 0, 0, 1), 53}};
  config.dns.tcp_max_connections = 1000;
  return config;
}

/// A service with `checked` endpoints that have a check and one without.
void add_service(Config& config, int checked) {
  ZoneConfig& zone = config.zones.emplace_back();
  ServiceConfig& service = zone.services.emplace_back();
  for (int i = 0; i < checked; ++i) {
    service.endpoints.emplace_back().check = health::CheckSpec{};
  }
  service.endpoints.emplace_back();
}

}  // namespace

TEST_CASE("fd budget: a single node counts TCP, sockets, probes and a margin", "[main]") {
  Config config = single_node();
  add_service(config, 10);
  const FdBudget budget = fd_budget(config, 2);
  // 1000 TCP + (1 x 2 UDP + 1 TCP listener) + 2 x 10 probes + margin.
  CHECK(budget.total() == 1000 + 3 + 20 + kMargin);
  REQUIRE(budget.items.size() == 4);
  CHECK(budget.items[0].what == "DNS TCP connections (dns.tcp_max_connections)");
  CHECK(budget.items[0].descriptors == 1000);
}

TEST_CASE("fd budget: admin, cluster and RocksDB add their caps", "[main]") {
  Config config = single_node();
  config.admin.emplace();
  ClusterSettings& cluster = config.cluster.emplace();
  cluster.peers.resize(3);
  const FdBudget budget = fd_budget(config, 1);
  // 1000 + 2 + admin 256 + 1 + transport 64 + 3 + 1 + RocksDB 512 + 32 + margin.
  CHECK(budget.total() == 1000 + 2 + 257 + 68 + 544 + kMargin);
}

TEST_CASE("fd budget: a config that does not fit is refused with the numbers and the advice",
          "[main]") {
  Config config = single_node();
  const FdBudget budget = fd_budget(config, 1);
  const std::uint64_t total = budget.total();
  CHECK(check_fd_budget(budget, total).ok());  // the edge: exactly fits
  CHECK(check_fd_budget(budget, FdLimit::kUnlimited).ok());

  const auto refused = check_fd_budget(budget, total - 1);
  REQUIRE_FALSE(refused.ok());
  const std::string& message = refused.error().message;
  CHECK_THAT(message, Catch::Contains("the open-file limit (RLIMIT_NOFILE) is " +
                                      std::to_string(total - 1) + ", but this config may need " +
                                      std::to_string(total) + " descriptors"));
  CHECK_THAT(message, Catch::Contains("\n    1000  DNS TCP connections (dns.tcp_max_connections)"));
  CHECK_THAT(message, Catch::Contains("lower dns.tcp_max_connections to at most 999"));
  CHECK_THAT(message, Catch::Contains("LimitNOFILE="));

  // When even no TCP connection would fit, only the limit can change.
  const auto hopeless = check_fd_budget(budget, 10);
  REQUIRE_FALSE(hopeless.ok());
  CHECK_THAT(hopeless.error().message, !Catch::Contains("lower dns.tcp_max_connections"));
  CHECK_THAT(hopeless.error().message,
             Catch::Contains("raise the open-file limit to at least " + std::to_string(total)));
}
