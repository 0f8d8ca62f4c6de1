#include "net/asio_scheduler.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

namespace meridian::net {

void AsioScheduler::post(Task task) {
  boost::asio::post(io_, std::move(task));
}

void AsioScheduler::after(Clock::Duration delay, Task task) {
  // The timer lives until it fires (or the io_context is destroyed).
  auto timer = std::make_shared<boost::asio::steady_timer>(io_, delay);
  timer->async_wait([timer, task = std::move(task)](const boost::system::error_code& error) {
    if (!error) task();
  });
}

}  // namespace meridian::net
