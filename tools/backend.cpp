#include "tools/backend.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <csignal>
#include <iostream>

#include "net/socket_deadline.hpp"

namespace meridian {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxRequestHead = std::size_t{16} * 1024;
constexpr auto kIdle = std::chrono::seconds(30);

const char* reason(unsigned status) {
  switch (status) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

asio::awaitable<void> serve(tcp::socket socket, const BackendOptions& options) {
  asio::streambuf head(kMaxRequestHead);
  if (options.hang) {
    // Hold the connection without a byte in reply until the client gives
    // up; after kIdle the deadline closes it, which ends the wait.
    net::SocketDeadline idle(socket, net::OnExpiry::close);
    idle.arm(kIdle);
    co_await socket.async_wait(tcp::socket::wait_error, kUseTuple);
    co_return;
  }
  const std::string body = options.name + " ok\n";
  const std::string response =
      "HTTP/1.1 " + std::to_string(options.status) + " " + reason(options.status) +
      "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  auto [read_error, size] = co_await asio::async_read_until(socket, head, "\r\n\r\n", kUseTuple);
  if (read_error) co_return;
  co_await asio::async_write(socket, asio::buffer(response), kUseTuple);
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, const BackendOptions& options) {
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(kUseTuple);
    if (error == asio::error::operation_aborted) co_return;
    if (error) continue;
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), options), asio::detached);
  }
}

}  // namespace

int run_backend(const BackendOptions& options) {
  asio::io_context io(1);
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  for (const SocketAddress& address : options.listen) {
    boost::system::error_code ec;
    const auto ip = asio::ip::make_address(address.address.to_string(), ec);
    auto acceptor = std::make_unique<tcp::acceptor>(io);
    const tcp::endpoint endpoint(ip, address.port);
    if (!ec) acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(1024, ec);
    if (ec) {
      std::cerr << "backend " << options.name << ": listen " << address.to_string() << ": "
                << ec.message() << "\n";
      return 1;
    }
    asio::co_spawn(io, accept_loop(*acceptor, options), asio::detached);
    acceptors.push_back(std::move(acceptor));
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  io.run();
  return 0;
}

}  // namespace meridian
