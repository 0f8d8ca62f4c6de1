#include "net/socket_deadline.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

#include "base/assert.hpp"

namespace meridian::net {

namespace asio = boost::asio;

struct SocketDeadline::State {
  State(const asio::any_io_executor& executor, void* target_in, Action action_in)
      : timer(executor), target(target_in), action(action_in) {}

  asio::steady_timer timer;
  void* target;  ///< nullptr once the deadline is destroyed
  Action action;
  /// Counts arm() and disarm() calls: an expiry acts only for the arm()
  /// that started it. (A cancelled wait normally completes with
  /// operation_aborted, but one that had already expired may be queued
  /// with success when the countdown is replaced.)
  std::uint64_t generation = 0;
  bool expired = false;
};

SocketDeadline::SocketDeadline(const asio::any_io_executor& executor, void* target, Action action)
    : state_(std::make_shared<State>(executor, target, action)) {
  MERIDIAN_ASSERT(target != nullptr && action != nullptr, "a deadline bounds something");
}

SocketDeadline::SocketDeadline(const asio::any_io_executor& executor,
                               asio::cancellation_signal& signal)
    : SocketDeadline(executor, &signal, [](void* target) {
        static_cast<asio::cancellation_signal*>(target)->emit(asio::cancellation_type::terminal);
      }) {}

SocketDeadline::~SocketDeadline() {
  // A queued expiry finds no target and does nothing, cancelled or not.
  state_->target = nullptr;
  try {
    state_->timer.cancel();
  } catch (const boost::system::system_error&) {
    // cancel() reports a failure by throwing, which a destructor must not
    // pass on; the wait then just runs out, keeping the state until it does.
  }
}

void SocketDeadline::arm(std::chrono::steady_clock::duration timeout) {
  const std::uint64_t generation = ++state_->generation;
  state_->expired = false;
  state_->timer.expires_after(timeout);
  state_->timer.async_wait([state = state_, generation](const boost::system::error_code& error) {
    if (error || state->target == nullptr || state->generation != generation) return;
    state->expired = true;
    state->action(state->target);
  });
}

void SocketDeadline::disarm() {
  ++state_->generation;
  state_->timer.cancel();
}

bool SocketDeadline::expired() const noexcept {
  return state_->expired;
}

}  // namespace meridian::net
