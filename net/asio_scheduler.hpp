#pragma once
// The Scheduler (base/scheduler.hpp) of a node's threads: tasks and timers
// on an Asio io_context, which one thread runs. The timers use the steady
// clock, as SystemClock does.

#include <boost/asio/io_context.hpp>

#include "base/scheduler.hpp"

namespace meridian::net {

class AsioScheduler final : public Scheduler {
 public:
  /// `io` must outlive the scheduler; tasks still pending when it stops
  /// are dropped with it.
  explicit AsioScheduler(boost::asio::io_context& io) : io_(io) {}

  void post(Task task) override;
  void after(Clock::Duration delay, Task task) override;

 private:
  boost::asio::io_context& io_;
};

}  // namespace meridian::net
