#include "base/scheduler.hpp"

namespace meridian {

void ManualScheduler::after(Clock::Duration delay, Task task) {
  std::lock_guard lock(mutex_);
  tasks_.emplace(std::make_pair(clock_.now() + std::max(delay, Clock::Duration::zero()), order_++),
                 std::move(task));
}

std::size_t ManualScheduler::run_due() {
  std::size_t ran = 0;
  for (;;) {
    Task task;
    {
      std::lock_guard lock(mutex_);
      if (tasks_.empty() || tasks_.begin()->first.first > clock_.now()) return ran;
      task = std::move(tasks_.begin()->second);
      tasks_.erase(tasks_.begin());
    }
    task();  // outside the lock: it may schedule more
    ++ran;
  }
}

void ManualScheduler::advance(Clock::Duration step) {
  const Clock::TimePoint end = clock_.now() + step;
  for (;;) {
    run_due();
    Clock::TimePoint next = end;
    {
      std::lock_guard lock(mutex_);
      if (!tasks_.empty() && tasks_.begin()->first.first < end) next = tasks_.begin()->first.first;
    }
    if (next > clock_.now()) clock_.advance(next - clock_.now());
    if (next == end) {
      run_due();
      return;
    }
  }
}

std::size_t ManualScheduler::pending() const {
  std::lock_guard lock(mutex_);
  return tasks_.size();
}

}  // namespace meridian
