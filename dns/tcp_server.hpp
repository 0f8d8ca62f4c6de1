#pragma once
// The TCP transport (RFC 7766): two-byte length-prefixed messages, several
// queries per connection answered in order, an idle timeout on every read
// and write, a cap on queries per connection, and two caps on concurrent
// connections: per client network and in all (dns/tcp_connection_table.hpp
// decides; a refused connection is closed right after accept, and at the
// total cap the oldest idle connection of the client holding the most is
// closed to make room). One coroutine owns each connection; all run on the
// caller's io_context.

#include <chrono>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "base/ip_address.hpp"
#include "base/log.hpp"
#include "base/result.hpp"
#include "dns/answerer.hpp"
#include "dns/routing_table.hpp"
#include "dns/stats.hpp"
#include "dns/tcp_connection_table.hpp"

namespace meridian::dns {

struct TcpSettings {
  std::chrono::milliseconds idle_timeout{10'000};
  std::uint32_t max_connections = 1000;
  std::uint32_t max_queries_per_connection = 1000;
  /// Per client network (/24, /56); see dns/tcp_connection_table.hpp.
  std::uint32_t max_connections_per_client = 64;
};

class TcpServer {
 public:
  /// Everything passed in must outlive the server. The server runs on
  /// `io`'s threads; it is not thread-safe itself (one strand: run `io`
  /// from one thread).
  TcpServer(boost::asio::io_context& io, const Answerer& answerer, const RoutingTableSlot& slot,
            TcpSettings settings, Logger& logger);
  ~TcpServer();

  /// Listens on every address (backlog 1024). Errors name the address.
  Result<void> listen(const std::vector<SocketAddress>& addresses);
  /// Cookies for every query from now on (rate limiting is for UDP alone:
  /// a TCP source has proved its address); call before start().
  void defend_with(QueryDefences defences) noexcept { defences_ = defences; }
  /// Starts accepting.
  void start(std::uint64_t seed);
  /// Closes the listeners and every open connection.
  void stop();

  const QueryStats& stats() const noexcept { return *stats_; }
  std::uint32_t open_connections() const noexcept { return table_.open(); }
  /// Client networks holding at least one connection.
  std::size_t client_networks() const noexcept { return table_.clients(); }
  /// Admissions, refusals and evictions since the start.
  const TcpLimitCounters& limit_counters() const noexcept { return table_.counters(); }
  const std::vector<SocketAddress>& bound() const noexcept { return bound_; }

 private:
  struct Connection;
  boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor& acceptor);
  boost::asio::awaitable<void> serve(std::shared_ptr<Connection> connection);
  /// Closes the connection the table evicted (its coroutine then ends).
  void close_evicted(TcpConnectionTable::Id id);

  boost::asio::io_context& io_;
  const Answerer& answerer_;
  const RoutingTableSlot& slot_;
  TcpSettings settings_;
  Logger& logger_;
  QueryDefences defences_;
  std::unique_ptr<QueryStats> stats_;
  std::unique_ptr<Rng> rng_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  TcpConnectionTable table_;
  /// Every open connection by its table id, to close it on eviction or stop.
  std::unordered_map<TcpConnectionTable::Id, std::weak_ptr<Connection>> connections_;
  std::vector<SocketAddress> bound_;
  bool stopped_ = false;
};

}  // namespace meridian::dns
