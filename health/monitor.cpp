#include "health/monitor.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace meridian::health {

namespace asio = boost::asio;

HealthMonitor::HealthMonitor(asio::io_context& io, HealthTracker tracker, const Clock& clock,
                             std::uint64_t seed, Logger& logger, ChangeCallback on_change)
    : io_(io),
      tracker_(std::move(tracker)),
      clock_(clock),
      rng_(seed),
      logger_(logger),
      on_change_(std::move(on_change)),
      prober_(std::make_unique<Prober>(io.get_executor())) {}

HealthMonitor::~HealthMonitor() = default;

asio::awaitable<void> HealthMonitor::probe_once(std::size_t i) {
  const TargetSpec& target = tracker_.target(i);
  const CheckSpec& check = *target.check;
  const ProbeResult result = co_await prober_->probe(target.address, check.port, check);
  if (stopped_) co_return;
  ++probes_completed_;
  if (metrics_) metrics_->record(check.name, result);
  if (!result.counts_as_verdict()) {
    // This host could not run the probe (out of descriptors, say): no
    // verdict, the target keeps its state. Logged once per report period,
    // since a shortage hits every probe at once.
    if (window_no_verdict_++ == 0) {
      logger_.warn("health", target.address.to_string() + ":" + std::to_string(check.port) + " (" +
                                 check.name + ") could not be probed: " + result.detail +
                                 " (no verdict; the target keeps its state)");
    }
    co_return;
  }
  const Health before = tracker_.state(i).probed;
  const bool changed_answers = tracker_.record(i, result, clock_.now());
  const Health after = tracker_.state(i).probed;
  if (before != after) {
    std::string line = target.address.to_string() + ":" + std::to_string(check.port) + " (" +
                       check.name + ") " + to_string(before) + " -> " + to_string(after);
    if (!result.ok) line += ": " + tracker_.state(i).last_failure;
    logger_.info("health", line);
  }
  if (changed_answers) changed();
}

asio::awaitable<void> HealthMonitor::initial_round() {
  std::size_t pending = 0;
  asio::steady_timer all_done(io_, asio::steady_timer::time_point::max());
  for (std::size_t i = 0; i < tracker_.size(); ++i) {
    if (!tracker_.target(i).check || !tracker_.target(i).probed_here) continue;
    ++pending;
    asio::co_spawn(
        io_,
        [self = shared_from_this(), i, &pending, &all_done]() -> asio::awaitable<void> {
          co_await self->probe_once(i);
          if (--pending == 0) all_done.cancel();
        },
        asio::detached);
  }
  if (pending > 0) co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> HealthMonitor::probe_loop(std::size_t i,
                                                std::chrono::nanoseconds first_delay) {
  const auto interval = tracker_.target(i).check->interval;
  asio::steady_timer timer(io_);
  auto next = asio::steady_timer::clock_type::now() + first_delay;
  while (true) {
    timer.expires_at(next);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopped_) co_return;
    const auto lag = asio::steady_timer::clock_type::now() - next;
    ++window_probes_;
    if (lag > kLateAfter) ++window_late_;
    if (lag > window_max_lag_) window_max_lag_ = lag;
    // Fixed-rate schedule: a slow probe does not push later ones back, and
    // missed slots are skipped rather than fired in a burst.
    next += interval;
    co_await probe_once(i);
    if (stopped_) co_return;
    const auto now = asio::steady_timer::clock_type::now();
    while (next <= now) next += interval;
  }
}

void HealthMonitor::start() {
  bool any = false;
  for (std::size_t i = 0; i < tracker_.size(); ++i) {
    if (!tracker_.target(i).check || !tracker_.target(i).probed_here) continue;
    const auto interval =
        std::chrono::duration_cast<std::chrono::nanoseconds>(tracker_.target(i).check->interval);
    const auto jitter =
        std::chrono::nanoseconds(rng_.below(static_cast<std::uint64_t>(interval.count())));
    asio::co_spawn(
        io_, [self = shared_from_this(), i, jitter]() { return self->probe_loop(i, jitter); },
        asio::detached);
    any = true;
  }
  if (any)
    asio::co_spawn(
        io_, [self = shared_from_this()]() { return self->report_loop(); }, asio::detached);
}

asio::awaitable<void> HealthMonitor::report_loop() {
  asio::steady_timer timer(io_);
  while (!stopped_) {
    timer.expires_after(kReportEvery);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopped_) co_return;
    const auto seconds = std::chrono::duration<double>(kReportEvery).count();
    logger_.info(
        "health",
        std::to_string(window_probes_) + " probes in " + std::to_string(kReportEvery.count()) +
            " s (" + std::to_string(static_cast<long>(window_probes_ / seconds)) + "/s), " +
            std::to_string(window_late_) + " started > " + std::to_string(kLateAfter.count()) +
            " ms late, max lag " +
            std::to_string(
                std::chrono::duration_cast<std::chrono::milliseconds>(window_max_lag_).count()) +
            " ms" +
            (window_no_verdict_ > 0
                 ? ", " + std::to_string(window_no_verdict_) + " could not run (local_error)"
                 : std::string()));
    window_probes_ = 0;
    window_no_verdict_ = 0;
    window_late_ = 0;
    window_max_lag_ = std::chrono::nanoseconds(0);
  }
}

void HealthMonitor::stop() {
  stopped_ = true;
}

void HealthMonitor::changed() {
  if (rebuild_pending_) return;
  rebuild_pending_ = true;
  asio::post(io_, [self = shared_from_this()] {
    self->rebuild_pending_ = false;
    if (!self->stopped_) self->on_change_();
  });
}

void HealthMonitor::set_endpoint_override(const IpAddress& address, Override value,
                                          std::function<void(std::size_t)> done) {
  asio::post(io_, [this, self = shared_from_this(), address, value, done = std::move(done)] {
    const std::size_t touched = tracker_.set_endpoint_override(address, value);
    if (touched > 0) {
      logger_.info("health", "override " + std::string(to_string(value)) + " for endpoint " +
                                 address.to_string());
      changed();
    }
    if (done) done(touched);
  });
}

void HealthMonitor::set_site_override(std::uint32_t site, Override value,
                                      std::function<void(std::size_t)> done) {
  asio::post(io_, [this, self = shared_from_this(), site, value, done = std::move(done)] {
    const std::size_t touched = tracker_.set_site_override(site, value);
    if (touched > 0) {
      logger_.info("health", "override " + std::string(to_string(value)) + " for site #" +
                                 std::to_string(site));
      changed();
    }
    if (done) done(touched);
  });
}

}  // namespace meridian::health
