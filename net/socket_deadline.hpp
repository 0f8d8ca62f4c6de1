#pragma once
// SocketDeadline: the one timer that bounds socket operations, so no peer
// holds a connection, a request or a probe open forever (STYLE.md rule 10:
// every async operation has a deadline). Every server and client shell
// uses it: the admin HTTP server, the peer transport, DNS over TCP, the
// health prober and the demo backend.
//
// Use: arm(timeout) before an operation, disarm() after it, and expired()
// to tell a timeout from the peer's own error:
//
//   deadline.arm(settings.idle_timeout);
//   auto [error, n] = co_await socket.async_read_some(buffer, as_tuple(use_awaitable));
//   deadline.disarm();
//   if (error) log(deadline.expired() ? "idle timeout" : error.message());
//
// arm() replaces a running countdown (several operations may share one,
// or each get its own). When the countdown runs out before disarm(), the
// deadline acts once on what it bounds, as chosen at construction:
//
//   OnExpiry::cancel  the socket's pending operations complete at once with
//                     operation_aborted; the socket stays open, so an answer
//                     can still be written on it (the admin server's 408).
//   OnExpiry::close   the socket is closed: its pending operations complete
//                     with operation_aborted and any later one fails (the
//                     peer transport, DNS over TCP, the demo backend).
//   a cancellation    terminal cancellation is emitted on the signal, which
//   signal            ends whatever operation the coroutine bound to its
//                     slot is awaiting, on whichever socket (the health
//                     prober: one deadline over connect, TLS handshake,
//                     request and answer, whose sockets the exchange owns).
//
// Threads: not thread-safe. Construct, arm, disarm, ask and destroy it on
// the thread that runs the socket's executor (for the signal form, the
// executor given), where the expiry runs too: then an expiry never races
// a disarm().
// Lifetime: the socket (or signal) must outlive the deadline, not the other
// way round: destroying the deadline stops it, and an expiry already queued
// then does nothing.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace meridian::net {

/// What a socket's deadline does to the socket when it expires.
enum class OnExpiry : std::uint8_t {
  cancel,  ///< cancel its pending operations; it stays open
  close,   ///< close it
};

class SocketDeadline {
 public:
  /// Bounds the operations of `socket` (any Asio socket: tcp, udp, the
  /// next layer of a TLS stream). The timer runs on the socket's executor.
  template <class Socket>
  SocketDeadline(Socket& socket, OnExpiry on_expiry)
      : SocketDeadline(
            socket.get_executor(), &socket,
            on_expiry == OnExpiry::cancel ? &cancel_socket<Socket> : &close_socket<Socket>) {}

  /// Bounds the coroutine whose awaited operations listen on `signal`'s
  /// slot (co_spawn(..., bind_cancellation_slot(signal.slot(), ...))): on
  /// expiry, emits cancellation_type::terminal on `signal`.
  SocketDeadline(const boost::asio::any_io_executor& executor,
                 boost::asio::cancellation_signal& signal);

  /// Stops the countdown; a pending expiry does nothing.
  ~SocketDeadline();
  SocketDeadline(const SocketDeadline&) = delete;
  SocketDeadline& operator=(const SocketDeadline&) = delete;

  /// Starts the countdown of `timeout` from now, replacing a running one
  /// (whose expiry then never happens), and clears expired().
  void arm(std::chrono::steady_clock::duration timeout);

  /// Stops the countdown. expired() keeps its value, for the caller to read
  /// after the operation.
  void disarm();

  /// True when the deadline acted since the last arm().
  bool expired() const noexcept;

 private:
  /// What the deadline does to its target on expiry.
  using Action = void (*)(void* target);

  SocketDeadline(const boost::asio::any_io_executor& executor, void* target, Action action);

  template <class Socket>
  static void cancel_socket(void* socket) {
    boost::system::error_code ignored;
    static_cast<Socket*>(socket)->cancel(ignored);
  }
  template <class Socket>
  static void close_socket(void* socket) {
    boost::system::error_code ignored;
    static_cast<Socket*>(socket)->close(ignored);
  }

  // Shared with the timer's handler, which may run after the deadline is
  // gone: it then finds the target cleared.
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace meridian::net
