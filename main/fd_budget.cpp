#include "main/fd_budget.hpp"

#include "admin/http_server.hpp"
#include "base/fd_limit.hpp"
#include "cluster/transport.hpp"
#include "store/rocks_database.hpp"

namespace meridian {
namespace {

std::uint64_t checked_endpoints(const Config& config) {
  std::uint64_t count = 0;
  for (const ZoneConfig& zone : config.zones) {
    for (const ServiceConfig& service : zone.services) {
      for (const EndpointConfig& endpoint : service.endpoints) count += endpoint.check ? 1 : 0;
    }
  }
  return count;
}

}  // namespace

std::uint64_t FdBudget::total() const {
  std::uint64_t sum = 0;
  for (const FdBudgetItem& item : items) sum += item.descriptors;
  return sum;
}

FdBudget fd_budget(const Config& config, unsigned udp_threads) {
  FdBudget budget;
  auto add = [&](std::string what, std::uint64_t descriptors) {
    if (descriptors > 0) budget.items.push_back({std::move(what), descriptors});
  };
  budget.tcp_connections = config.dns.tcp_max_connections;
  add("DNS TCP connections (dns.tcp_max_connections)", config.dns.tcp_max_connections);
  const std::uint64_t listen = config.dns.listen.size();
  add("DNS sockets (" + std::to_string(listen) + " listen address(es) x " +
          std::to_string(udp_threads) + " UDP worker(s), and TCP listeners)",
      listen * udp_threads + listen);
  if (config.admin) {
    add("admin API connections and listener", admin::HttpServerSettings{}.max_connections + 1);
  }
  if (config.cluster) {
    add("peer transport (incoming cap, one per peer, listener)",
        cluster::TransportSettings{}.max_incoming_connections + config.cluster->peers.size() + 1);
    add("RocksDB (max_open_files and its other files)",
        store::kRocksMaxOpenFiles + store::kRocksOtherFiles);
  }
  if (config.etcd_store) add("etcd gateway connections (allowance)", kEtcdAllowance);
  add("health probes (2 x " + std::to_string(checked_endpoints(config)) + " checked endpoints)",
      2 * checked_endpoints(config));
  add("margin (standard streams, event loops, GeoIP, files being read)", kMargin);
  return budget;
}

Result<void> check_fd_budget(const FdBudget& budget, std::uint64_t limit) {
  const std::uint64_t total = budget.total();
  if (limit == FdLimit::kUnlimited || total <= limit) return {};
  std::string items;
  for (const FdBudgetItem& item : budget.items) {
    std::string count = std::to_string(item.descriptors);
    // Right-aligned, so that the column adds up at a glance.
    if (count.size() < 6) count.insert(0, 6 - count.size(), ' ');
    items += "\n  " + count + "  " + item.what;
  }
  const std::uint64_t excess = total - limit;
  std::string advice = "raise the open-file limit to at least " + std::to_string(total) +
                       " (LimitNOFILE= in the systemd unit, or ulimit -n)";
  if (budget.tcp_connections > excess) {
    advice = "lower dns.tcp_max_connections to at most " +
             std::to_string(budget.tcp_connections - excess) + ", or " + advice;
  }
  return fail("the open-file limit (RLIMIT_NOFILE) is ", std::to_string(limit),
              ", but this config may need ", std::to_string(total), " descriptors:", items, "\n",
              advice);
}

}  // namespace meridian
