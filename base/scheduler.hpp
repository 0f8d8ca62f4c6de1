#pragma once
// Deferred work behind an interface, as time is behind Clock: a core that
// must do something later (renew a lease, decide again in half a second) or
// on its own thread (a store callback handed over) asks its Scheduler, so
// the node runs it on an Asio thread (net/asio_scheduler.hpp) and the
// simulator on virtual time, one seed, one thread (tests/sim).

#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <utility>

#include "base/clock.hpp"

namespace meridian {

/// Runs tasks on one thread, the scheduler's, in order: posted tasks in the
/// order posted, timers in the order they fall due (ties in the order set).
class Scheduler {
 public:
  using Task = std::function<void()>;

  virtual ~Scheduler() = default;
  /// Runs `task` soon on the scheduler's thread. Any thread.
  virtual void post(Task task) = 0;
  /// Runs `task` on the scheduler's thread once `delay` has passed on the
  /// scheduler's clock. Any thread. There is no cancel: a task that may
  /// outlive its object checks a weak reference when it runs.
  virtual void after(Clock::Duration delay, Task task) = 0;
};

/// A Scheduler on a ManualClock, run by hand: run_due() runs everything due
/// at the clock's present, advance() moves the clock and runs what falls
/// due on the way, each at its own time. For tests of the cores that use
/// one. Thread-safe; tasks run on the thread that calls run_due/advance.
class ManualScheduler final : public Scheduler {
 public:
  explicit ManualScheduler(ManualClock& clock) : clock_(clock) {}

  void post(Task task) override { after(Clock::Duration::zero(), std::move(task)); }
  void after(Clock::Duration delay, Task task) override;

  /// Runs every task due now (also those that tasks post for now); returns
  /// how many ran.
  std::size_t run_due();
  /// Moves the clock forward by `step`, stopping at each task's due time to
  /// run it.
  void advance(Clock::Duration step);
  /// Tasks not yet run.
  std::size_t pending() const;

 private:
  ManualClock& clock_;
  mutable std::mutex mutex_;
  std::multimap<std::pair<Clock::TimePoint, std::uint64_t>, Task> tasks_;  // (due, order)
  std::uint64_t order_ = 0;
};

}  // namespace meridian
