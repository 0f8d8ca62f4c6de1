// SocketDeadline on a real loopback TCP connection: what an expiry does
// (cancel, close, cancel a coroutine), and that disarm(), a new arm() and
// destruction stop it. Every io_context runs for a bounded time, so a
// deadline that never acts fails a test instead of hanging it.

#include <catch2/catch.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <optional>

#include "net/socket_deadline.hpp"

using namespace std::chrono_literals;
using meridian::net::OnExpiry;
using meridian::net::SocketDeadline;
namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

/// Far longer than any deadline here: a test that gets this far failed.
constexpr auto kGiveUp = 5s;

/// Both ends of a connection on 127.0.0.1.
struct Loopback {
  explicit Loopback(asio::io_context& io) : client(io), server(io) {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }
  tcp::socket client;
  tcp::socket server;
};

/// The outcome of one read on the server end.
struct Read {
  std::optional<error_code> error;  ///< empty while the read is pending
  std::size_t bytes = 0;
};

void start_read(tcp::socket& socket, std::array<char, 16>& buffer, Read& read) {
  socket.async_read_some(asio::buffer(buffer), [&read](const error_code& error, std::size_t n) {
    read.error = error;
    read.bytes = n;
  });
}

/// After `delay`, the client writes one byte (so a read still pending then
/// completes with data: no deadline stopped it).
void write_after(asio::steady_timer& timer, tcp::socket& client, std::chrono::milliseconds delay) {
  timer.expires_after(delay);
  timer.async_wait([&client](const error_code& error) {
    if (!error) asio::write(client, asio::buffer("x", 1));
  });
}

}  // namespace

TEST_CASE("socket deadline: on expiry, cancel ends the pending read and leaves the socket open",
          "[net]") {
  asio::io_context io;
  Loopback sockets(io);
  SocketDeadline deadline(sockets.server, OnExpiry::cancel);
  std::array<char, 16> buffer;
  Read read;
  const auto began = std::chrono::steady_clock::now();
  deadline.arm(30ms);
  start_read(sockets.server, buffer, read);
  io.run_for(kGiveUp);
  REQUIRE(read.error.has_value());
  CHECK(*read.error == asio::error::operation_aborted);
  CHECK(std::chrono::steady_clock::now() - began >= 30ms);
  deadline.disarm();
  CHECK(deadline.expired());  // disarm() keeps it, for the caller to read
  REQUIRE(sockets.server.is_open());

  // Still usable: a new read gets the client's next byte.
  asio::write(sockets.client, asio::buffer("y", 1));
  Read next;
  start_read(sockets.server, buffer, next);
  io.restart();
  io.run_for(kGiveUp);
  REQUIRE(next.error.has_value());
  CHECK_FALSE(*next.error);
  CHECK(next.bytes == 1);
}

TEST_CASE("socket deadline: on expiry, close ends the pending read and closes the socket",
          "[net]") {
  asio::io_context io;
  Loopback sockets(io);
  SocketDeadline deadline(sockets.server, OnExpiry::close);
  std::array<char, 16> buffer;
  Read read;
  deadline.arm(30ms);
  start_read(sockets.server, buffer, read);
  io.run_for(kGiveUp);
  REQUIRE(read.error.has_value());
  CHECK(*read.error == asio::error::operation_aborted);
  CHECK(deadline.expired());
  CHECK_FALSE(sockets.server.is_open());
}

TEST_CASE("socket deadline: a disarmed deadline never acts", "[net]") {
  asio::io_context io;
  Loopback sockets(io);
  SocketDeadline deadline(sockets.server, OnExpiry::close);
  std::array<char, 16> buffer;
  Read read;
  asio::steady_timer writer(io);
  deadline.arm(30ms);
  deadline.disarm();
  start_read(sockets.server, buffer, read);
  write_after(writer, sockets.client, 150ms);  // well after the 30 ms
  io.run_for(kGiveUp);
  REQUIRE(read.error.has_value());
  CHECK_FALSE(*read.error);
  CHECK(read.bytes == 1);
  CHECK_FALSE(deadline.expired());
  CHECK(sockets.server.is_open());
}

TEST_CASE("socket deadline: arm replaces a running countdown and clears expired()", "[net]") {
  asio::io_context io;
  Loopback sockets(io);
  SocketDeadline deadline(sockets.server, OnExpiry::cancel);
  std::array<char, 16> buffer;

  // Expires once.
  Read first;
  deadline.arm(20ms);
  start_read(sockets.server, buffer, first);
  io.run_for(kGiveUp);
  REQUIRE(first.error.has_value());
  CHECK(*first.error == asio::error::operation_aborted);
  REQUIRE(deadline.expired());

  // Re-armed with 30 ms, then pushed back to 2 s after 10 ms: the first
  // countdown never acts, and the client's byte at 150 ms arrives.
  Read second;
  asio::steady_timer push_back(io);
  asio::steady_timer writer(io);
  deadline.arm(30ms);
  CHECK_FALSE(deadline.expired());
  start_read(sockets.server, buffer, second);
  push_back.expires_after(10ms);
  push_back.async_wait([&](const error_code& error) {
    if (!error) deadline.arm(2s);
  });
  write_after(writer, sockets.client, 150ms);
  io.restart();
  while (!second.error && io.run_one_for(kGiveUp) > 0) {}
  REQUIRE(second.error.has_value());
  CHECK_FALSE(*second.error);
  CHECK(second.bytes == 1);
  CHECK_FALSE(deadline.expired());
  deadline.disarm();
}

TEST_CASE("socket deadline: destroying it stops the countdown", "[net]") {
  asio::io_context io;
  Loopback sockets(io);
  std::array<char, 16> buffer;
  Read read;
  asio::steady_timer writer(io);
  {
    SocketDeadline deadline(sockets.server, OnExpiry::close);
    deadline.arm(20ms);
  }
  start_read(sockets.server, buffer, read);
  write_after(writer, sockets.client, 150ms);
  io.run_for(kGiveUp);
  REQUIRE(read.error.has_value());
  CHECK_FALSE(*read.error);
  CHECK(read.bytes == 1);
  CHECK(sockets.server.is_open());
}

TEST_CASE("socket deadline: a signal's deadline cancels the operation its coroutine awaits",
          "[net]") {
  asio::io_context io;
  Loopback sockets(io);
  asio::cancellation_signal signal;
  SocketDeadline deadline(io.get_executor(), signal);
  std::optional<error_code> outcome;
  auto reader = [&]() -> asio::awaitable<void> {
    std::array<char, 16> buffer;
    auto [error, n] = co_await sockets.server.async_read_some(asio::buffer(buffer),
                                                              asio::as_tuple(asio::use_awaitable));
    outcome = error;
  };
  deadline.arm(30ms);
  bool finished = false;
  asio::co_spawn(io, reader(), asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr) {
                   finished = true;
                 }));
  io.run_for(kGiveUp);
  REQUIRE(finished);
  REQUIRE(outcome.has_value());
  CHECK(*outcome == asio::error::operation_aborted);
  CHECK(deadline.expired());
  CHECK(sockets.server.is_open());  // the socket is the coroutine's business
}
