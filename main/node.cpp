#include "main/node.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <sys/random.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <future>
#include <thread>

#include "admin/http_server.hpp"
#include "admin/node_routes.hpp"
#include "admin/token_file.hpp"
#include "base/clock.hpp"
#include "base/fd_limit.hpp"
#include "base/secret_file.hpp"
#include "dns/answerer.hpp"
#include "dns/routing_table.hpp"
#include "dns/tcp_server.hpp"
#include "dns/udp_server.hpp"
#include "gslb/config_follower.hpp"
#include "gslb/config_slot.hpp"
#include "gslb/cookie_secret_keeper.hpp"
#include "gslb/node_api.hpp"
#include "gslb/node_health.hpp"
#include "gslb/node_view.hpp"
#include "gslb/operator_actions.hpp"
#include "gslb/replicated_health.hpp"
#include "main/fd_budget.hpp"
#include "main/privileges.hpp"
#include "main/store_wiring.hpp"
#include "main/version.hpp"
#include "net/asio_scheduler.hpp"

namespace meridian {
namespace {

namespace asio = boost::asio;

std::size_t count_services(const Config& config) {
  std::size_t count = 0;
  for (const auto& zone : config.zones) count += zone.services.size();
  return count;
}

// A new cookie secret from the kernel's random source (getrandom blocks
// only until the pool is first seeded, early at boot).
dns::CookieSecret random_cookie_secret() {
  dns::CookieSecret secret{};
  std::size_t filled = 0;
  while (filled < secret.size()) {
    const ssize_t got = ::getrandom(secret.data() + filled, secret.size() - filled, 0);
    if (got > 0) filled += static_cast<std::size_t>(got);
  }
  return secret;
}

// dns.cookies.secret_file: refused when others than its owner may read it
// (whoever reads the secret can make cookies that pass rate limiting).
Result<dns::CookieSecrets> read_cookie_secret_file(const std::string& path) {
  auto text = read_secret_file(path);
  if (!text) return fail("dns.cookies.secret_file: ", text.error().message);
  auto secrets = gslb::parse_cookie_secret_file(*text);
  if (!secrets) return fail("dns.cookies.secret_file ", path, ": ", secrets.error().message);
  return secrets;
}

// Runs `work` on `io` and waits for it (the health thread must be running).
void run_on(asio::io_context& io, std::function<asio::awaitable<void>()> work) {
  std::promise<void> done;
  asio::co_spawn(io, std::move(work), [&](const std::exception_ptr&) { done.set_value(); });
  done.get_future().wait();
}

// The admin server's settings from `admin:`; the token is read now.
Result<admin::HttpServerSettings> admin_settings(const AdminSettings& settings) {
  admin::HttpServerSettings out;
  out.listen = settings.listen;
  out.host_names = settings.hosts;
  out.token_for_reads = settings.require_token_for_reads;
  out.max_connections_per_client = settings.max_connections_per_client;
  if (!settings.token_file.empty()) {
    auto text = read_secret_file(settings.token_file);
    if (!text) return text.error();
    auto token = admin::token_from_file_text(std::move(*text), settings.token_file);
    if (!token) return token.error();
    out.token = std::move(*token);
  }
  return out;
}

/// Raises the soft open-file limit to the hard one (logged), then checks
/// that the config's descriptor budget fits it (main/fd_budget.hpp).
Result<void> prepare_fd_limit(const Config& config, unsigned udp_threads, Logger& logger) {
  auto raised = raise_fd_limit();
  if (!raised) {
    // Not fatal in itself: the budget check below decides with the limit
    // as it is.
    logger.warn("node", raised.error().message);
  } else if (raised->after.soft != raised->before.soft) {
    logger.info("node", "open-file limit raised from " + std::to_string(raised->before.soft) +
                            " to " + std::to_string(raised->after.soft) + " (the hard limit)");
  }
  auto limit = read_fd_limit();
  if (!limit) return limit.error();
  const FdBudget budget = fd_budget(config, udp_threads);
  if (auto fits = check_fd_budget(budget, limit->soft); !fits) return fits;
  logger.info("node", "open-file limit " + std::to_string(limit->soft) + ", budget " +
                          std::to_string(budget.total()) + " descriptors");
  return {};
}

/// The node as the admin routes see it (gslb/node_api.hpp), over the parts
/// run_node wires. Wiring only: what it answers is computed in gslb/.
class NodeAdapter final : public gslb::NodeApi {
 public:
  /// Every reference must outlive the adapter; `follower` and `store` are
  /// null outside a cluster.
  struct Parts {
    gslb::NodeIdentity identity;
    const Clock& clock;
    const gslb::NodeViewSlot& views;
    gslb::NodeHealth& health;
    const dns::UdpServer& udp;
    const dns::TcpServer& tcp;
    const dns::StatsSlotRegistry& stats_slots;
    const gslb::ConfigSlot& config;
    const dns::RoutingTableSlot& table;
    const gslb::ConfigFollower* follower = nullptr;
    store::ReplicatedStore* store = nullptr;
  };

  explicit NodeAdapter(Parts parts) : parts_(std::move(parts)) {}

  const gslb::NodeIdentity& identity() const override { return parts_.identity; }
  const Clock& clock() const override { return parts_.clock; }
  std::shared_ptr<const gslb::NodeView> current_view() const override {
    return parts_.views.load();
  }
  void fresh_view(std::function<void(std::shared_ptr<const gslb::NodeView>)> done) override {
    parts_.health.fresh_view(std::move(done));
  }
  gslb::QueryTotals query_totals() const override {
    std::vector<const dns::QueryStats*> workers;
    for (const auto& stats : parts_.udp.stats()) workers.push_back(stats.get());
    workers.push_back(&parts_.tcp.stats());
    return gslb::sum_query_stats(workers, &parts_.stats_slots);
  }
  std::uint32_t tcp_connections() const override { return parts_.tcp.open_connections(); }
  gslb::TcpLimitStats tcp_limits() const override {
    const dns::TcpLimitCounters& counters = parts_.tcp.limit_counters();
    return gslb::TcpLimitStats{parts_.tcp.client_networks(), counters.refused_client_limit,
                               counters.refused_server_limit, counters.evicted};
  }
  std::variant<gslb::CurrentExplanation, gslb::ExplainError> explain(
      const gslb::ExplainQuery& query) const override {
    return gslb::explain_current(parts_.config.load(), parts_.table.load(), query);
  }
  std::optional<gslb::ConfigNodeStatus> config_status() const override {
    if (parts_.follower == nullptr) return std::nullopt;
    return parts_.follower->status();
  }
  Result<gslb::ValidatedConfig> validate_config(const std::string& text,
                                                const std::string& name) const override {
    if (parts_.follower == nullptr) {
      return fail("this node is not in a cluster: it has no config versions");
    }
    return parts_.follower->validate(text, name);
  }
  Result<void> override_target_known(bool site, const std::string& name) const override {
    return gslb::override_target_known(*parts_.config.load(), site, name);
  }
  store::ReplicatedStore* store() const override { return parts_.store; }

 private:
  Parts parts_;
};

}  // namespace

int run_node(const NodeOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  // Before any key, token or secret is read: no core file will hold them.
  if (auto forbidden = forbid_core_dumps(); !forbidden) {
    Logger().error("node", forbidden.error().message);
    return 1;
  }
  auto first = gslb::load_generation(options.config_path);
  if (!first) {
    Logger().error("config", first.error().message);
    return 1;
  }
  const std::shared_ptr<const Config> config = first->config;
  gslb::ConfigSlot current_config(config);
  Logger logger(config->log_level);
  const std::uint64_t seed =
      options.seed != 0
          ? options.seed
          : static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  SystemClock clock;
  dns::RoutingTableSlot slot;
  const unsigned threads = config->dns.threads > 0
                               ? config->dns.threads
                               : std::max(1u, std::thread::hardware_concurrency());
  // Before anything opens a descriptor: a config that cannot fit the limit
  // is refused now, not discovered under load.
  if (auto fits = prepare_fd_limit(*config, threads, logger); !fits) {
    logger.error("node", "cannot start: " + fits.error().message);
    return 1;
  }

  // Health first: one round of probes before the listeners open, so the
  // first answers already reflect health.
  asio::io_context health_io(1);
  auto health_work = asio::make_work_guard(health_io);
  std::thread health_thread([&] { health_io.run(); });
  gslb::NodeViewSlot views;
  dns::StatsSlotRegistry stats_slots;
  gslb::NodeHealth routing(health_io, slot, views, stats_slots, clock, logger,
                           seed ^ 0x68656c7468ULL);
  net::AsioScheduler health_scheduler(health_io);
  run_on(health_io, [&]() { return routing.switch_to(std::move(first).value(), true); });

  const dns::Answerer answerer(dns::AnswererSettings{config->dns.udp_payload, config->dns.nsid});
  asio::io_context io(1);
  dns::UdpServer udp(answerer, slot, logger);
  dns::TcpServer tcp(io, answerer, slot,
                     dns::TcpSettings{config->dns.tcp_idle_timeout, config->dns.tcp_max_connections,
                                      config->dns.max_tcp_queries_per_connection,
                                      config->dns.tcp_max_connections_per_client},
                     logger);
  // The abuse defences (docs/security.md): response rate limiting for UDP,
  // and cookies whose secret the cluster shares.
  std::unique_ptr<dns::ResponseRateLimiter> rate_limiter;
  if (config->dns.rrl.responses_per_second > 0)
    rate_limiter = std::make_unique<dns::ResponseRateLimiter>(config->dns.rrl);
  dns::CookieSecretSlot cookie_secrets;
  const dns::CookieSecretSlot* cookies = config->dns.cookies.enabled ? &cookie_secrets : nullptr;
  udp.defend_with(dns::QueryDefences{cookies, rate_limiter.get()});
  tcp.defend_with(dns::QueryDefences{cookies, nullptr});
  std::unique_ptr<gslb::CookieSecretKeeper> cookie_keeper;  // on the health thread
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
  // The DNS ports are the only ones that may need root: from here on the
  // node runs as --user (its data_dir, keys and token must be its own).
  if (!options.user.empty()) {
    if (auto dropped = drop_privileges(options.user); !dropped) {
      logger.error("node", dropped.error().message);
      stop_health();
      return 1;
    }
    logger.info("node", "running as user " + options.user);
  } else if (::geteuid() == 0) {
    logger.warn("node",
                "running as root: start it with --user NAME (or under systemd as a user "
                "with CAP_NET_BIND_SERVICE) to drop root after binding the DNS ports");
  }

  // The control plane: the node's member of the consensus store, and the
  // admin API.
  std::unique_ptr<store::ReplicatedStore> store;
  std::unique_ptr<gslb::ReplicatedHealth> replicated;  // on the health thread; stopped with it
  std::shared_ptr<gslb::ConfigFollower>
      follower;  // the committed config version (docs/configuration.md)
  // In this order: what runs on the health thread uses the store.
  auto stop_control = [&] {
    if (follower) follower->stop();
    stop_health();
    replicated.reset();
    cookie_keeper.reset();
    store.reset();
  };
  if (config->replicated()) {
    auto started = start_store(*config, seed ^ 0x7261667400ULL, logger, clock);
    if (!started) {
      logger.error("node", started.error().message);
      stop_health();
      return 1;
    }
    store = std::move(*started);
    gslb::ReplicatedHealthSettings health_settings;
    health_settings.self = config->node.id;
    health_settings.lease_timeout = config->health.observer_lease;
    health_settings.local_fallback_after = config->health.local_fallback_after;
    replicated = std::make_unique<gslb::ReplicatedHealth>(*store, health_scheduler, clock, logger,
                                                          health_settings, routing.verdict_sink());
    // What the store holds is applied before the node answers from it.
    auto loaded = std::make_shared<std::promise<Result<void>>>();
    auto loading = loaded->get_future();
    asio::post(health_io, [&replicated, loaded] {
      replicated->start([loaded](Result<void> done) { loaded->set_value(std::move(done)); });
    });
    Result<void> watching =
        loading.wait_for(std::chrono::seconds(10)) == std::future_status::ready
            ? loading.get()
            : Result<void>(
                  fail("the store did not return its replicated health state within 10 s"));
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
    follower = gslb::ConfigFollower::create(
        health_io, *store, options.config_path, logger,
        [&](std::shared_ptr<const Config> next) -> Result<void> {
          auto generation = gslb::make_generation(std::move(next));
          if (!generation) return generation.error();
          current_config.publish(generation->config);
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
  if (cookies != nullptr && !config->dns.cookies.secret_file.empty()) {
    // The operator's secret, shared with the other servers of an anycast
    // set: neither made nor rotated here.
    auto secrets = read_cookie_secret_file(config->dns.cookies.secret_file);
    if (!secrets) {
      logger.error("node", secrets.error().message);
      stop_control();
      return 1;
    }
    cookie_secrets.publish(std::make_shared<const dns::CookieSecrets>(*secrets));
  } else if (cookies != nullptr) {
    cookie_keeper = std::make_unique<gslb::CookieSecretKeeper>(
        store.get(), health_scheduler, clock, logger,
        std::chrono::duration_cast<Clock::Duration>(config->dns.cookies.rotate_every),
        random_cookie_secret, cookie_secrets);
    run_on(health_io, [&cookie_keeper]() -> asio::awaitable<void> {
      cookie_keeper->start();
      co_return;
    });
  }
  // The admin API's view of the node; it started `uptime` ago.
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock.wall_now().time_since_epoch());
  const auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  const auto started_ms = static_cast<std::uint64_t>((now_ms - uptime).count());
  NodeAdapter node_api(NodeAdapter::Parts{
      gslb::NodeIdentity{config->node.id, config->sites[config->node.site].name, kVersion,
                         std::chrono::time_point_cast<Clock::Duration>(started), started_ms},
      clock, views, routing, udp, tcp, stats_slots, current_config, slot, follower.get(),
      store.get()});
  std::unique_ptr<admin::HttpServer> admin_server;
  if (config->admin) {
    auto settings = admin_settings(*config->admin);
    if (settings) {
      admin_server = std::make_unique<admin::HttpServer>(io, std::move(*settings), logger);
      admin::add_node_routes(*admin_server, node_api, io, health_io);
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
  for (const auto& address : udp.bound())
    where += (where.empty() ? "" : ", ") + address.to_string();
  logger.info("node", "node " + config->node.id + " (site " +
                          config->sites[config->node.site].name + ") serving " +
                          std::to_string(config->zones.size()) + " zone(s), " +
                          std::to_string(count_services(*config)) + " service(s) on " + where +
                          " (udp x" + std::to_string(threads) + ", tcp)" +
                          (config->geoip.database.empty() ? ", no GeoIP database"
                                                          : ", GeoIP " + config->geoip.database));

  asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        if (signal == SIGHUP && store) {
          // A renewed cluster certificate: the new pair serves new peer
          // connections (cluster.tls is not otherwise reloadable).
          if (auto reloaded = reload_store_credentials(*config, *store); !reloaded) {
            logger.error("node", "cluster credentials not reloaded: " + reloaded.error().message);
          }
        }
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
            current_config.publish(generation->config);
            asio::co_spawn(
                health_io,
                [&routing, generation]() {
                  return routing.switch_to(std::move(*generation), false);
                },
                asio::detached);
            logger.info("node", "reloaded " + options.config_path);
          } else {
            logger.error("node", "reload failed, still serving the previous config:\n" +
                                     next.error().message);
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
