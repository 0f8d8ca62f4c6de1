#include "main/node.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <csignal>
#include <thread>

#include "dns/answerer.hpp"
#include "dns/routing_table.hpp"
#include "dns/tcp_server.hpp"
#include "dns/udp_server.hpp"
#include "geo/mmdb_reader.hpp"
#include "main/routing_builder.hpp"

namespace meridian {
namespace {

// Opens the GeoIP database named by the config, if any.
Result<std::shared_ptr<const geo::Locator>> open_locator(const Config& config) {
  if (config.geoip.database.empty()) return std::shared_ptr<const geo::Locator>();
  auto reader = geo::MmdbReader::open(config.geoip.database);
  if (!reader) return reader.error();
  return std::shared_ptr<const geo::Locator>(std::move(reader).value());
}

Result<std::shared_ptr<const dns::RoutingTable>> build_table(const Config& config, std::uint64_t version) {
  auto locator = open_locator(config);
  if (!locator) return locator.error();
  return build_routing_table(config, *locator, version);
}

std::size_t count_services(const Config& config) {
  std::size_t count = 0;
  for (const auto& zone : config.zones) count += zone.services.size();
  return count;
}

}  // namespace

int run_node(const NodeOptions& options) {
  auto loaded = load_config(options.config_path);
  if (!loaded) {
    Logger().error("config", loaded.error().message);
    return 1;
  }
  const Config config = std::move(loaded).value();
  Logger logger(config.log_level);

  std::uint64_t version = 1;
  auto table = build_table(config, version);
  if (!table) {
    logger.error("node", table.error().message);
    return 1;
  }
  dns::RoutingTableSlot slot;
  slot.publish(*table);

  const dns::Answerer answerer(dns::AnswererSettings{config.dns.udp_payload, config.dns.nsid});
  const unsigned threads =
      config.dns.threads > 0 ? config.dns.threads : std::max(1u, std::thread::hardware_concurrency());
  const std::vector<SocketAddress>& listen = config.dns.listen;

  boost::asio::io_context io(1);
  dns::UdpServer udp(answerer, slot, logger);
  dns::TcpServer tcp(io, answerer, slot,
                     dns::TcpSettings{config.dns.tcp_idle_timeout, config.dns.tcp_max_connections,
                                      config.dns.max_tcp_queries_per_connection},
                     logger);
  if (auto bound = udp.bind(listen, threads); !bound) {
    logger.error("node", bound.error().message);
    return 1;
  }
  if (auto bound = tcp.listen(listen); !bound) {
    logger.error("node", bound.error().message);
    return 1;
  }
  const std::uint64_t seed = options.seed != 0
                                 ? options.seed
                                 : static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  udp.start(seed);
  tcp.start(seed ^ 0x9e3779b97f4a7c15ULL);

  std::string where;
  for (const auto& address : udp.bound()) where += (where.empty() ? "" : ", ") + address.to_string();
  logger.info("node", "node " + config.node.id + " (site " + config.sites[config.node.site].name + ") serving " +
                          std::to_string(config.zones.size()) + " zone(s), " + std::to_string(count_services(config)) +
                          " service(s) on " + where + " (udp x" + std::to_string(threads) + ", tcp)" +
                          (config.geoip.database.empty() ? ", no GeoIP database" : ", GeoIP " + config.geoip.database));

  boost::asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        if (signal == SIGHUP) {
          auto reloaded = load_config(options.config_path);
          auto rebuilt = reloaded ? build_table(*reloaded, version + 1)
                                  : Result<std::shared_ptr<const dns::RoutingTable>>(reloaded.error());
          if (rebuilt) {
            slot.publish(*rebuilt);
            ++version;
            logger.info("node", "reloaded " + options.config_path + " (routing table " + std::to_string(version) + ")");
          } else {
            logger.error("node", "reload failed, still serving table " + std::to_string(version) + ":\n" +
                                     rebuilt.error().message);
          }
          signals.async_wait(on_signal);
          return;
        }
        logger.info("node", "stopping on signal " + std::to_string(signal));
        tcp.stop();
        udp.stop();
        io.stop();
      };
  signals.async_wait(on_signal);
  io.run();
  udp.stop();
  logger.info("node", "stopped");
  return 0;
}

}  // namespace meridian
