#include "dns/tcp_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>

#include "dns/query_time.hpp"
#include "net/socket_deadline.hpp"

namespace meridian::dns {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr int kBacklog = 1024;

asio::ip::address to_asio(const IpAddress& address) {
  if (address.family == IpAddress::Family::v4) {
    asio::ip::address_v4::bytes_type bytes;
    std::copy_n(address.bytes.begin(), 4, bytes.begin());
    return asio::ip::address_v4(bytes);
  }
  asio::ip::address_v6::bytes_type bytes;
  std::copy_n(address.bytes.begin(), 16, bytes.begin());
  return asio::ip::address_v6(bytes);
}

IpAddress from_asio(const asio::ip::address& address) {
  IpAddress result;
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    std::copy(bytes.begin(), bytes.end(), result.bytes.begin());
    return result;
  }
  result.family = IpAddress::Family::v6;
  const auto bytes = address.to_v6().to_bytes();
  std::copy(bytes.begin(), bytes.end(), result.bytes.begin());
  return result.unmapped();
}

}  // namespace

struct TcpServer::Connection {
  explicit Connection(tcp::socket s)
      : socket(std::move(s)), deadline(socket, net::OnExpiry::close) {}
  tcp::socket socket;
  /// Closes the socket when the connection is idle (or a read or write is
  /// stuck) for idle_timeout.
  net::SocketDeadline deadline;
  std::array<std::uint8_t, kMaxTcpMessage> request;
  std::array<std::uint8_t, 2 + kMaxTcpMessage> response;
};

TcpServer::TcpServer(asio::io_context& io, const Answerer& answerer, const RoutingTableSlot& slot,
                     TcpSettings settings, Logger& logger)
    : io_(io),
      answerer_(answerer),
      slot_(slot),
      settings_(settings),
      logger_(logger),
      stats_(std::make_unique<QueryStats>()) {}

TcpServer::~TcpServer() {
  stop();
}

Result<void> TcpServer::listen(const std::vector<SocketAddress>& addresses) {
  for (const SocketAddress& address : addresses) {
    const tcp::endpoint endpoint(to_asio(address.address), address.port);
    auto acceptor = std::make_unique<tcp::acceptor>(io_);
    boost::system::error_code ec;
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && endpoint.address().is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(kBacklog, ec);
    if (ec) return fail("listen tcp ", address.to_string(), ": ", ec.message());
    SocketAddress bound = address;
    bound.port = acceptor->local_endpoint().port();
    bound_.push_back(bound);
    acceptors_.push_back(std::move(acceptor));
  }
  return {};
}

void TcpServer::start(std::uint64_t seed) {
  rng_ = std::make_unique<Rng>(seed);
  for (auto& acceptor : acceptors_) asio::co_spawn(io_, accept_loop(*acceptor), asio::detached);
}

void TcpServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& acceptor : acceptors_) {
    boost::system::error_code ignored;
    acceptor->close(ignored);
  }
  for (auto& weak : connections_) {
    if (auto connection = weak.lock()) {
      boost::system::error_code ignored;
      connection->socket.close(ignored);
      connection->deadline.disarm();
    }
  }
  connections_.clear();
}

asio::awaitable<void> TcpServer::accept_loop(tcp::acceptor& acceptor) {
  while (!stopped_) {
    auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
    if (stopped_ || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of descriptors and the like: back off instead of spinning.
      logger_.warn("dns.tcp", "accept: " + ec.message());
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    if (open_connections_ >= settings_.max_connections) {
      ++refused_connections_;
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    auto connection = std::make_shared<Connection>(std::move(socket));
    std::erase_if(connections_, [](const auto& weak) { return weak.expired(); });
    connections_.push_back(connection);
    asio::co_spawn(io_, serve(std::move(connection)), asio::detached);
  }
}

asio::awaitable<void> TcpServer::serve(std::shared_ptr<Connection> connection) {
  ++open_connections_;
  Connection& c = *connection;
  boost::system::error_code ec;
  const auto peer = c.socket.remote_endpoint(ec);
  QueryContext context{ec ? IpAddress{} : from_asio(peer.address()), Transport::tcp, rng_.get()};

  // The deadline is pushed back before each query's length prefix (the
  // query itself must follow within the same idle_timeout) and before each
  // response's write; whenever it passes, the socket is closed.
  for (std::uint32_t served = 0; served < settings_.max_queries_per_connection && !stopped_;
       ++served) {
    std::array<std::uint8_t, 2> prefix;
    c.deadline.arm(settings_.idle_timeout);
    auto [read_error, ignored1] =
        co_await asio::async_read(c.socket, asio::buffer(prefix), kUseTuple);
    if (read_error) break;
    const std::size_t length = (std::size_t{prefix[0]} << 8) | prefix[1];
    if (length == 0) break;
    auto [body_error, ignored2] =
        co_await asio::async_read(c.socket, asio::buffer(c.request.data(), length), kUseTuple);
    if (body_error) break;
    const auto table = slot_.load();
    if (!table) break;
    const std::shared_ptr<const CookieSecrets> cookies =
        defences_.cookies != nullptr ? defences_.cookies->load() : nullptr;
    const QueryTime now = query_time_now();
    context.now_s = now.unix_s;
    context.now_ms = now.monotonic_ms;
    context.cookies = cookies.get();
    const std::size_t answer_length =
        answerer_.answer(*table, context, std::span<const std::uint8_t>(c.request.data(), length),
                         std::span<std::uint8_t>(c.response.data() + 2, kMaxTcpMessage), *stats_);
    if (answer_length == 0) continue;  // dropped (e.g. a response sent to us)
    c.response[0] = static_cast<std::uint8_t>(answer_length >> 8);
    c.response[1] = static_cast<std::uint8_t>(answer_length);
    c.deadline.arm(settings_.idle_timeout);
    auto [write_error, ignored3] = co_await asio::async_write(
        c.socket, asio::buffer(c.response.data(), answer_length + 2), kUseTuple);
    if (write_error) break;
  }
  c.deadline.disarm();
  boost::system::error_code ignored;
  c.socket.shutdown(tcp::socket::shutdown_both, ignored);
  c.socket.close(ignored);
  --open_connections_;
}

}  // namespace meridian::dns
