#include "main/node.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <csignal>
#include <future>
#include <mutex>
#include <thread>

#include "admin/config_api.hpp"
#include "admin/dashboard.hpp"
#include "admin/http_server.hpp"
#include "admin/health_api.hpp"
#include "admin/store_api.hpp"
#include "base/clock.hpp"
#include "gslb/replicated_health.hpp"
#include "cluster/raft_member.hpp"
#include "dns/answerer.hpp"
#include "dns/routing_table.hpp"
#include "dns/tcp_server.hpp"
#include "dns/udp_server.hpp"
#include "gslb/config_follower.hpp"
#include "main/explain_api.hpp"
#include "gslb/health_plan.hpp"
#include "gslb/node_health.hpp"
#include "net/asio_scheduler.hpp"
#include "gslb/node_view.hpp"
#include "main/status_api.hpp"
#include "main/version.hpp"
#include "gslb/routing_builder.hpp"
#include "main/store_wiring.hpp"

namespace meridian {
namespace {

namespace asio = boost::asio;

std::size_t count_services(const Config& config) {
  std::size_t count = 0;
  for (const auto& zone : config.zones) count += zone.services.size();
  return count;
}

// Runs `work` on `io` and waits for it (the health thread must be running).
void run_on(asio::io_context& io, std::function<asio::awaitable<void>()> work) {
  std::promise<void> done;
  asio::co_spawn(io, std::move(work), [&](std::exception_ptr) { done.set_value(); });
  done.get_future().wait();
}

/// The config in force, for readers on other threads (the admin API).
class CurrentConfig {
 public:
  explicit CurrentConfig(std::shared_ptr<const Config> config) : config_(std::move(config)) {}
  std::shared_ptr<const Config> get() const {
    std::lock_guard lock(mutex_);
    return config_;
  }
  void set(std::shared_ptr<const Config> config) {
    std::lock_guard lock(mutex_);
    config_ = std::move(config);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Config> config_;
};

/// Whether an operator override may name `name`: a site of the config, or
/// an address its endpoints are probed at.
Result<void> override_target_known(const Config& config, bool site, const std::string& name) {
  if (site) {
    for (const geo::Site& known : config.sites) {
      if (known.name == name) return {};
    }
    return fail("no site '", name, "' in the config");
  }
  IpAddress address;
  if (!IpAddress::parse(name, address)) return fail("'", name, "' is not an IP address");
  for (const ZoneConfig& zone : config.zones) {
    for (const ServiceConfig& service : zone.services) {
      for (const EndpointConfig& endpoint : service.endpoints) {
        if (endpoint.probe_address == address) return {};
      }
      for (const geo::Endpoint& endpoint : service.spec.endpoints) {
        if (endpoint.address == address) return {};
      }
    }
  }
  return fail("no endpoint answers or is probed at ", name);
}

// The admin server's settings from `admin:`; the token is read now.
Result<admin::HttpServerSettings> admin_settings(const AdminSettings& settings) {
  admin::HttpServerSettings out;
  out.listen = settings.listen;
  if (!settings.token_file.empty()) {
    auto token = read_text_file(settings.token_file);
    if (!token) return token.error();
    while (!token->empty() && (token->back() == '\n' || token->back() == '\r' || token->back() == ' ')) {
      token->pop_back();
    }
    if (token->empty()) return fail(settings.token_file, " is empty (it should hold the admin token)");
    out.token = std::move(*token);
  }
  return out;
}

}  // namespace

int run_node(const NodeOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  auto first = gslb::load_generation(options.config_path);
  if (!first) {
    Logger().error("config", first.error().message);
    return 1;
  }
  const std::shared_ptr<const Config> config = first->config;
  CurrentConfig current_config(config);
  Logger logger(config->log_level);
  const std::uint64_t seed = options.seed != 0 ? options.seed
                                               : static_cast<std::uint64_t>(
                                                     std::chrono::steady_clock::now().time_since_epoch().count());
  SystemClock clock;
  dns::RoutingTableSlot slot;

  // Health first: one round of probes before the listeners open, so the
  // first answers already reflect health.
  asio::io_context health_io(1);
  auto health_work = asio::make_work_guard(health_io);
  std::thread health_thread([&] { health_io.run(); });
  gslb::NodeViewSlot views;
  dns::StatsSlotRegistry stats_slots;
  gslb::NodeHealth routing(health_io, slot, views, stats_slots, clock, logger, seed ^ 0x68656c7468ULL);
  net::AsioScheduler health_scheduler(health_io);
  run_on(health_io, [&]() { return routing.switch_to(std::move(first).value(), true); });

  const dns::Answerer answerer(dns::AnswererSettings{config->dns.udp_payload, config->dns.nsid});
  const unsigned threads =
      config->dns.threads > 0 ? config->dns.threads : std::max(1u, std::thread::hardware_concurrency());
  asio::io_context io(1);
  dns::UdpServer udp(answerer, slot, logger);
  dns::TcpServer tcp(io, answerer, slot,
                     dns::TcpSettings{config->dns.tcp_idle_timeout, config->dns.tcp_max_connections,
                                      config->dns.max_tcp_queries_per_connection},
                     logger);
  bool health_stopped = false;
  auto stop_health = [&] {
    if (std::exchange(health_stopped, true)) return;
    asio::post(health_io, [&] { routing.stop(); });
    health_work.reset();
    health_io.stop();
    health_thread.join();
  };
  Result<void> bound = udp.bind(config->dns.listen, threads);
  if (bound) bound = tcp.listen(config->dns.listen);
  if (!bound) {
    logger.error("node", bound.error().message);
    stop_health();
    return 1;
  }

  // The control plane: the node's member of the consensus store, and the
  // admin API.
  std::unique_ptr<cluster::RaftMember> store;
  std::unique_ptr<gslb::ReplicatedHealth> replicated;  // on the health thread; stopped with it
  std::shared_ptr<gslb::ConfigFollower> follower;  // the committed config version (DESIGN.md section 3)
  // In this order: what runs on the health thread uses the store.
  auto stop_control = [&] {
    if (follower) follower->stop();
    stop_health();
    replicated.reset();
    store.reset();
  };
  if (config->cluster) {
    auto settings = store_settings(*config, seed ^ 0x7261667400ULL);
    auto started = settings ? cluster::RaftMember::start(std::move(*settings), logger, clock)
                            : Result<std::unique_ptr<cluster::RaftMember>>(settings.error());
    if (!started) {
      logger.error("node", "cannot start the cluster member: " + started.error().message);
      stop_health();
      return 1;
    }
    store = std::move(*started);
    gslb::ReplicatedHealthSettings health_settings;
    health_settings.self = config->node.id;
    health_settings.lease_timeout = config->health.observer_lease;
    health_settings.local_fallback_after = config->health.local_fallback_after;
    replicated = std::make_unique<gslb::ReplicatedHealth>(*store, health_scheduler, clock, logger, health_settings,
                                                          routing.verdict_sink());
    // What the store holds is applied before the node answers from it.
    auto loaded = std::make_shared<std::promise<Result<void>>>();
    auto loading = loaded->get_future();
    asio::post(health_io, [&replicated, loaded] {
      replicated->start([loaded](Result<void> done) { loaded->set_value(std::move(done)); });
    });
    Result<void> watching = loading.wait_for(std::chrono::seconds(10)) == std::future_status::ready
                                ? loading.get()
                                : Result<void>(fail("the store did not return its replicated health state within 10 s"));
    if (!watching) {
      logger.error("node", "cannot follow the replicated health: " + watching.error().message);
      stop_control();
      return 1;
    }
    run_on(health_io, [&routing, &replicated]() -> asio::awaitable<void> {
      routing.join_cluster(*replicated);
      co_return;
    });
    // Runs on the health thread: the same swap as SIGHUP.
    follower = gslb::ConfigFollower::create(health_io, *store, options.config_path, logger,
                                      [&](std::shared_ptr<const Config> next) -> Result<void> {
                                        auto generation = gslb::make_generation(std::move(next));
                                        if (!generation) return generation.error();
                                        current_config.set(generation->config);
                                        asio::co_spawn(health_io, routing.switch_to(std::move(*generation), false),
                                                       asio::detached);
                                        return {};
                                      });
    if (auto following = follower->start(); !following) {
      logger.error("node", "cannot follow the committed config: " + following.error().message);
      stop_control();
      return 1;
    }
  }
  std::unique_ptr<admin::HttpServer> admin_server;
  if (config->admin) {
    auto settings = admin_settings(*config->admin);
    if (settings) {
      admin_server = std::make_unique<admin::HttpServer>(io, std::move(*settings), logger);
      add_explain_route(*admin_server, slot, [&current_config] { return current_config.get(); });
      StatusSources status{config->node.id, config->sites[config->node.site].name, kVersion, started, 0, &views,
                           &stats_slots, &io, store.get(), {}, [&tcp] { return tcp.open_connections(); },
                           {}, {}};
      status.started_ms = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(clock.wall_now().time_since_epoch()).count() -
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
      status.fresh_view = [&routing](std::function<void(std::shared_ptr<const gslb::NodeView>)> done) {
        routing.fresh_view(std::move(done));
      };
      status.query_stats = [&udp, &tcp] {
        std::vector<const dns::QueryStats*> all;
        for (const auto& stats : udp.stats()) all.push_back(stats.get());
        all.push_back(&tcp.stats());
        return all;
      };
      if (follower) {
        status.config_status = [follower, name = config->node.id]() -> boost::json::value {
          return admin::config_status_json(name, follower->status());
        };
      }
      add_status_routes(*admin_server, std::move(status));
      admin::add_dashboard_routes(*admin_server);  // GET /: the dashboard, from memory
      if (store) {
        admin::add_store_routes(*admin_server, *store);
        admin::add_health_routes(*admin_server, *store, config->node.id,
                                 [&current_config](bool site, const std::string& name) {
                                   return override_target_known(*current_config.get(), site, name);
                                 });
        admin::add_config_routes(
            *admin_server, health_io, *store, config->node.id,
            admin::ConfigHooks{[follower](const std::string& text, const std::string& name) {
                                 return follower->validate(text, name);
                               },
                               [follower] { return follower->status(); }});
      }
      if (auto started = admin_server->start(); !started) settings = started.error();
    }
    if (!settings) {
      logger.error("node", "cannot start the admin API: " + settings.error().message);
      admin_server.reset();
      stop_control();
      return 1;
    }
    logger.info("node", "admin API on " + admin_server->bound().to_string());
  }

  udp.start(seed);
  tcp.start(seed ^ 0x9e3779b97f4a7c15ULL);

  std::string where;
  for (const auto& address : udp.bound()) where += (where.empty() ? "" : ", ") + address.to_string();
  logger.info("node", "node " + config->node.id + " (site " + config->sites[config->node.site].name + ") serving " +
                          std::to_string(config->zones.size()) + " zone(s), " +
                          std::to_string(count_services(*config)) + " service(s) on " + where + " (udp x" +
                          std::to_string(threads) + ", tcp)" +
                          (config->geoip.database.empty() ? ", no GeoIP database" : ", GeoIP " + config->geoip.database));

  asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec,
                                                                              int signal) {
    if (ec) return;
    if (signal == SIGHUP && follower) {
      follower->reload_file();  // node-local sections; the committed version stays
      signals.async_wait(on_signal);
      return;
    }
    if (signal == SIGHUP) {
      // Zones, services, sites, checks and GeoIP reload; listeners do not.
      auto next = gslb::load_generation(options.config_path);
      if (next) {
        auto generation = std::make_shared<gslb::Generation>(std::move(next).value());
        current_config.set(generation->config);
        asio::co_spawn(
            health_io, [&routing, generation]() { return routing.switch_to(std::move(*generation), false); },
            asio::detached);
        logger.info("node", "reloaded " + options.config_path);
      } else {
        logger.error("node", "reload failed, still serving the previous config:\n" + next.error().message);
      }
      signals.async_wait(on_signal);
      return;
    }
    logger.info("node", "stopping on signal " + std::to_string(signal));
    if (admin_server) admin_server->stop();
    tcp.stop();
    udp.stop();
    io.stop();
  };
  signals.async_wait(on_signal);
  io.run();
  udp.stop();
  admin_server.reset();
  stop_control();
  logger.info("node", "stopped");
  return 0;
}

}  // namespace meridian
