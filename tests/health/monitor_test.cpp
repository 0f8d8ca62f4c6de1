#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "health/monitor.hpp"
#include "probe_test_support.hpp"

using namespace meridian;
using namespace meridian::health;
using meridian::health::test::NoFreeDescriptors;
namespace asio = boost::asio;

namespace {

struct Rig {
  asio::io_context io;
  SystemClock clock;
  Logger logger{LogLevel::error};
  int changes = 0;
  asio::ip::tcp::acceptor listener{io,
                                   asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};

  std::shared_ptr<HealthMonitor> monitor(std::vector<TargetSpec> targets) {
    return std::make_shared<HealthMonitor>(io, HealthTracker(std::move(targets), UnknownPolicy::up),
                                           clock, 1, logger, [this] { ++changes; });
  }
  std::uint16_t open_port() const { return listener.local_endpoint().port(); }
  std::uint16_t closed_port() {
    asio::ip::tcp::acceptor temporary(
        io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return temporary.local_endpoint().port();  // closed when `temporary` goes
  }
};

CheckSpec tcp_check(std::uint16_t port, std::chrono::milliseconds interval) {
  CheckSpec check;
  check.name = "tcp";
  check.type = CheckType::tcp;
  check.port = port;
  check.interval = interval;
  check.timeout = std::chrono::milliseconds(50);
  check.rise = 1;
  check.fall = 1;
  return check;
}

}  // namespace

TEST_CASE("monitor: the initial round probes every target once", "[health]") {
  Rig rig;
  const auto closed = rig.closed_port();
  auto monitor = rig.monitor(
      {{IpAddress::v4(127, 0, 0, 1), 0, tcp_check(rig.open_port(), std::chrono::seconds(5))},
       {IpAddress::v4(127, 0, 0, 1), 0, tcp_check(closed, std::chrono::seconds(5))},
       {IpAddress::v4(127, 0, 0, 1), 0, std::nullopt}});
  bool done = false;
  asio::co_spawn(rig.io, monitor->initial_round(), [&](std::exception_ptr) { done = true; });
  rig.io.run_for(std::chrono::seconds(2));
  REQUIRE(done);
  CHECK(monitor->probes_completed() == 2);
  CHECK(monitor->tracker().state(0).probed == Health::up);
  CHECK(monitor->tracker().state(1).probed == Health::down);
  CHECK(monitor->tracker().state(1).last_failure.rfind("refused", 0) == 0);
  CHECK(monitor->tracker().state(2).probed == Health::up);  // unchecked
}

TEST_CASE("monitor: probes repeat every interval once started", "[health]") {
  Rig rig;
  auto monitor = rig.monitor({{IpAddress::v4(127, 0, 0, 1), 0,
                               tcp_check(rig.open_port(), std::chrono::milliseconds(100))}});
  monitor->start();
  rig.io.run_for(std::chrono::milliseconds(550));
  // First probe within the first interval (jitter), then one per 100 ms.
  CHECK(monitor->probes_completed() >= 3);  // slack for a loaded CI machine
  CHECK(monitor->probes_completed() <= 6);
  monitor->stop();
  const auto after_stop = monitor->probes_completed();
  rig.io.run_for(std::chrono::milliseconds(300));
  CHECK(monitor->probes_completed() == after_stop);
}

TEST_CASE("monitor: overrides apply on the health thread and trigger a rebuild", "[health]") {
  Rig rig;
  auto monitor = rig.monitor({{IpAddress::v4(192, 0, 2, 1), 3, std::nullopt}});
  std::size_t touched = 99;
  monitor->set_site_override(3, Override::force_down, [&](std::size_t n) { touched = n; });
  rig.io.run_for(std::chrono::milliseconds(50));
  CHECK(touched == 1);
  CHECK(rig.changes == 1);
  CHECK_FALSE(monitor->tracker().usable(0));
  CHECK(monitor->tracker().state(0).effective_override() == Override::force_down);

  monitor->set_endpoint_override(IpAddress::v4(192, 0, 2, 1), Override::force_up,
                                 [&](std::size_t n) { touched = n; });
  rig.io.restart();  // run_for stopped when it ran out of work
  rig.io.run_for(std::chrono::milliseconds(50));
  CHECK(touched == 1);
  CHECK(monitor->tracker().usable(0));

  monitor->set_endpoint_override(IpAddress::v4(10, 9, 9, 9), Override::force_down,
                                 [&](std::size_t n) { touched = n; });
  rig.io.restart();
  rig.io.run_for(std::chrono::milliseconds(50));
  CHECK(touched == 0);
  CHECK(rig.changes == 2);  // the force-up rebuilt; nothing touched: no rebuild
}

TEST_CASE("monitor: targets other sites probe (probe_from) get no probes here", "[health]") {
  Rig rig;
  TargetSpec elsewhere{IpAddress::v4(127, 0, 0, 1), 0,
                       tcp_check(rig.open_port(), std::chrono::milliseconds(100))};
  elsewhere.probed_here = false;
  auto monitor = rig.monitor(
      {{IpAddress::v4(127, 0, 0, 1), 0, tcp_check(rig.open_port(), std::chrono::milliseconds(100))},
       elsewhere});
  bool done = false;
  asio::co_spawn(rig.io, monitor->initial_round(), [&](std::exception_ptr) { done = true; });
  rig.io.run_for(std::chrono::seconds(1));
  REQUIRE(done);
  rig.io.restart();  // it ran out of work after the round
  monitor->start();
  rig.io.run_for(std::chrono::milliseconds(350));
  monitor->stop();
  CHECK(monitor->tracker().state(0).probed == Health::up);
  CHECK(monitor->tracker().state(1).probed == Health::unknown);  // no view of its own
  CHECK(monitor->probes_completed() >= 2);                       // all of them for target 0
}

TEST_CASE("monitor: every probe's outcome and latency goes to the shared metrics", "[health]") {
  Rig rig;
  const auto closed = rig.closed_port();
  auto metrics = std::make_shared<ProbeMetrics>();
  auto monitor = rig.monitor(
      {{IpAddress::v4(127, 0, 0, 1), 0, tcp_check(rig.open_port(), std::chrono::seconds(5))},
       {IpAddress::v4(127, 0, 0, 1), 0, tcp_check(closed, std::chrono::seconds(5))}});
  monitor->set_metrics(metrics);
  asio::co_spawn(rig.io, monitor->initial_round(), asio::detached);
  rig.io.run_for(std::chrono::seconds(2));
  REQUIRE(metrics->by_check().count("tcp") == 1);
  const ProbeMetrics::PerCheck& tcp = metrics->by_check().at("tcp");
  CHECK(tcp.outcomes[static_cast<std::size_t>(ProbeFailure::none)] == 1);
  CHECK(tcp.outcomes[static_cast<std::size_t>(ProbeFailure::refused)] == 1);
  std::uint64_t observed = 0;
  for (const auto count : tcp.buckets) observed += count;
  CHECK(observed == 2);
  CHECK(tcp.latency_sum_s >= 0);
}

TEST_CASE("monitor: probes that cannot get a socket leave the target's state alone", "[health]") {
  Rig rig;
  auto metrics = std::make_shared<ProbeMetrics>();
  // rise 1, fall 1: a single failure would mark it down.
  auto monitor = rig.monitor({{IpAddress::v4(127, 0, 0, 1), 0,
                               tcp_check(rig.open_port(), std::chrono::milliseconds(100))}});
  monitor->set_metrics(metrics);
  asio::co_spawn(rig.io, monitor->initial_round(), asio::detached);
  rig.io.run_for(std::chrono::milliseconds(500));
  REQUIRE(monitor->tracker().state(0).probed == Health::up);
  const int changes_before = rig.changes;

  monitor->start();
  rig.io.restart();  // the initial round left it out of work
  {
    NoFreeDescriptors starved;
    rig.io.run_for(std::chrono::milliseconds(400));
  }
  const ProbeMetrics::PerCheck& tcp = metrics->by_check().at("tcp");
  CHECK(tcp.outcomes[static_cast<std::size_t>(ProbeFailure::local_error)] >= 2);
  CHECK(tcp.outcomes[static_cast<std::size_t>(ProbeFailure::refused)] == 0);
  CHECK(tcp.outcomes[static_cast<std::size_t>(ProbeFailure::unreachable)] == 0);
  CHECK(monitor->tracker().state(0).probed == Health::up);
  CHECK(monitor->tracker().state(0).last_failure.empty());
  CHECK(rig.changes == changes_before);

  // With descriptors again, probes pass as before.
  const auto passed = tcp.outcomes[static_cast<std::size_t>(ProbeFailure::none)];
  rig.io.run_for(std::chrono::milliseconds(300));
  CHECK(metrics->by_check().at("tcp").outcomes[0] > passed);
  CHECK(monitor->tracker().state(0).probed == Health::up);
  monitor->stop();
}
