#pragma once
// The health monitor: the IO shell around HealthTracker. One coroutine per
// checked target probes it every interval (first after a random start-up
// jitter, so the probes of one check do not fire together), records the
// result, and asks for a routing rebuild when answers may change. Everything
// runs on one io_context thread (the health thread); the tracker is touched
// only there. The monitor is shared-owned: its coroutines keep it alive, so
// a stopped monitor (after a config reload) is freed when its last probe ends.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "base/rng.hpp"
#include "health/probe.hpp"
#include "health/probe_metrics.hpp"
#include "health/tracker.hpp"

namespace meridian::health {

class HealthMonitor : public std::enable_shared_from_this<HealthMonitor> {
 public:
  /// Called on the health thread, at most once per event-loop turn, after
  /// any number of changes (changes are coalesced).
  using ChangeCallback = std::function<void()>;

  /// `io`, `clock` and `logger` must outlive the monitor; it owns `tracker`.
  /// Create with std::make_shared (its coroutines hold shared_from_this()).
  HealthMonitor(boost::asio::io_context& io, HealthTracker tracker, const Clock& clock,
                std::uint64_t seed, Logger& logger, ChangeCallback on_change);

  /// The tracker. Only on the health thread.
  const HealthTracker& tracker() const noexcept { return tracker_; }
  ~HealthMonitor();

  /// Probes every checked target once, all at the same time, and completes
  /// when all have answered or timed out (so within the longest timeout).
  boost::asio::awaitable<void> initial_round();
  /// Starts the periodic probing: each target's next probe falls at a random
  /// point of its first interval, then every interval after it.
  void start();
  /// Stops probing and calling back; in-flight probes end at their
  /// deadline. Only on the health thread.
  void stop();

  /// Applies an operator override on the health thread and rebuilds. The
  /// returned count (targets touched) is passed to `done`.
  void set_endpoint_override(const IpAddress& address, Override value,
                             std::function<void(std::size_t)> done);
  void set_site_override(std::uint32_t site, Override value, std::function<void(std::size_t)> done);

  /// Where every probe's outcome and latency is added (health thread; may
  /// be shared with the monitors of later config generations).
  void set_metrics(std::shared_ptr<ProbeMetrics> metrics) { metrics_ = std::move(metrics); }

  /// Probes completed since start, for the benchmark and metrics.
  std::uint64_t probes_completed() const noexcept { return probes_completed_; }

  /// How far behind schedule probes start: a probe more than this late
  /// counts as late in the periodic report.
  static constexpr std::chrono::milliseconds kLateAfter{250};
  /// Period of the "health: N probes ..." log line.
  static constexpr std::chrono::seconds kReportEvery{10};

 private:
  boost::asio::awaitable<void> probe_once(std::size_t target);
  boost::asio::awaitable<void> probe_loop(std::size_t target, std::chrono::nanoseconds first_delay);
  boost::asio::awaitable<void> report_loop();
  void changed();

  boost::asio::io_context& io_;
  HealthTracker tracker_;
  const Clock& clock_;
  Rng rng_;
  Logger& logger_;
  ChangeCallback on_change_;
  std::unique_ptr<Prober> prober_;
  std::shared_ptr<ProbeMetrics> metrics_;
  bool stopped_ = false;
  bool rebuild_pending_ = false;
  std::uint64_t probes_completed_ = 0;
  // Since the last report: probes started, started late, worst lag.
  std::uint64_t window_probes_ = 0;
  std::uint64_t window_late_ = 0;
  std::chrono::nanoseconds window_max_lag_{0};
  std::uint64_t window_no_verdict_ = 0;  ///< probes that could not run here (local_error)
};

}  // namespace meridian::health
