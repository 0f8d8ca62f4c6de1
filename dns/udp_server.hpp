#pragma once
// The UDP transport: worker threads, each with its own SO_REUSEPORT socket
// per listen address, receiving and sending in batches (recvmmsg/sendmmsg).
// A worker loads the current RoutingTable once per batch and calls the
// Answerer for each datagram; nothing is allocated per query.

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "base/ip_address.hpp"
#include "base/log.hpp"
#include "base/result.hpp"
#include "dns/answerer.hpp"
#include "dns/routing_table.hpp"
#include "dns/stats.hpp"

namespace meridian::dns {

class UdpServer {
 public:
  /// Datagrams handled per recvmmsg/sendmmsg call.
  static constexpr unsigned kBatch = 32;

  /// `answerer`, `slot` and `logger` must outlive the server.
  UdpServer(const Answerer& answerer, const RoutingTableSlot& slot, Logger& logger);
  ~UdpServer();

  UdpServer(const UdpServer&) = delete;
  UdpServer& operator=(const UdpServer&) = delete;

  /// Opens `threads` sockets on each address (all bound before any worker
  /// runs, so a bind error leaves nothing half-started).
  Result<void> bind(const std::vector<SocketAddress>& addresses, unsigned threads);
  /// Cookies and rate limiting for every query from now on; call before
  /// start().
  void defend_with(QueryDefences defences) noexcept { defences_ = defences; }
  /// Starts the workers; worker i seeds its Rng with seed + i.
  /// Precondition: bind() succeeded.
  void start(std::uint64_t seed);
  /// Stops and joins the workers; idempotent.
  void stop();

  /// Per-worker counters, for summing.
  const std::vector<std::unique_ptr<QueryStats>>& stats() const noexcept { return stats_; }
  /// The addresses actually bound (port 0 resolved), one per listen address.
  const std::vector<SocketAddress>& bound() const noexcept { return bound_; }

 private:
  struct Worker;
  void run(Worker& worker, std::uint64_t seed);

  const Answerer& answerer_;
  const RoutingTableSlot& slot_;
  Logger& logger_;
  QueryDefences defences_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<QueryStats>> stats_;
  std::vector<SocketAddress> bound_;
  std::vector<std::thread> threads_;
  int stop_fd_ = -1;  // eventfd that wakes every worker's poll
};

}  // namespace meridian::dns
