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
  Connection(tcp::socket s, TcpConnectionTable::Id table_id, IpAddress peer)
      : socket(std::move(s)), deadline(socket, net::OnExpiry::close), id(table_id), client(peer) {}
  tcp::socket socket;
  /// Closes the socket when the connection is idle (or a read or write is
  /// stuck) for idle_timeout.
  net::SocketDeadline deadline;
  TcpConnectionTable::Id id;
  IpAddress client;
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
      stats_(std::make_unique<QueryStats>()),
      table_(TcpConnectionLimits{settings.max_connections, settings.max_connections_per_client}) {}

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
  for (auto& [id, weak] : connections_) {
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
    boost::system::error_code peer_error;
    const auto peer = socket.remote_endpoint(peer_error);
    if (peer_error) continue;  // reset before we got to it; the socket closes here
    const IpAddress client = from_asio(peer.address());
    const TcpConnectionTable::Admission admission = table_.admit(client);
    if (admission.verdict != TcpConnectionTable::Verdict::accepted) {
      // Closed before anything is read: a client over its share gets
      // nothing to hold on to. Debug only: a flood would fill the log.
      if (logger_.enabled(LogLevel::debug))
        logger_.debug("dns.tcp",
                      "closing a connection from " + client.to_string() + ": " +
                          (admission.verdict == TcpConnectionTable::Verdict::refused_client_limit
                               ? "its network holds tcp_max_connections_per_client"
                               : "tcp_max_connections reached, none idle"));
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    if (admission.evicted) close_evicted(*admission.evicted);
    auto connection = std::make_shared<Connection>(std::move(socket), admission.id, client);
    connections_.emplace(admission.id, connection);
    asio::co_spawn(io_, serve(std::move(connection)), asio::detached);
  }
}

void TcpServer::close_evicted(TcpConnectionTable::Id id) {
  const auto it = connections_.find(id);
  if (it == connections_.end()) return;
  // The table no longer counts it; its coroutine sees the closed socket,
  // ends, and erases it from connections_.
  if (auto connection = it->second.lock()) {
    boost::system::error_code ignored;
    connection->socket.close(ignored);
  }
}

asio::awaitable<void> TcpServer::serve(std::shared_ptr<Connection> connection) {
  Connection& c = *connection;
  QueryContext context{c.client, Transport::tcp, rng_.get()};

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
    // Not evictable while its answer is being written: a client reading
    // answers is using the connection.
    table_.writing(c.id);
    auto [write_error, ignored3] = co_await asio::async_write(
        c.socket, asio::buffer(c.response.data(), answer_length + 2), kUseTuple);
    if (write_error) break;
    table_.idle(c.id);
  }
  c.deadline.disarm();
  boost::system::error_code ignored;
  c.socket.shutdown(tcp::socket::shutdown_both, ignored);
  c.socket.close(ignored);
  table_.release(c.id);  // a no-op for an evicted connection, already gone
  connections_.erase(c.id);
}

}  // namespace meridian::dns
