#pragma once
// How many file descriptors a node may need at most, from its config, and
// whether that fits the process's open-file limit: `meridian serve` checks it
// at start (after raising the soft limit to the hard one, base/fd_limit.hpp)
// and refuses to start when it does not fit, rather than failing later, under
// load, where the shortage would hit whatever asks next (a health probe that
// cannot get a socket, an accept, a RocksDB file).
//
// The budget, item by item (docs/operating-a-cluster.md lists it too):
//   - DNS TCP connections: dns.tcp_max_connections;
//   - DNS sockets: one UDP socket per listen address and worker thread, one
//     TCP listener per listen address;
//   - the admin API, when configured: its connection cap
//     (admin::HttpServerSettings::max_connections) and its listener;
//   - the peer transport, with `cluster:`: its incoming connection cap
//     (cluster::TransportSettings::max_incoming_connections), one outgoing
//     connection per peer, and its listener;
//   - RocksDB, with `cluster:`: its max_open_files and an allowance for its
//     other files (store/rocks_database.hpp);
//   - the etcd gateway, with `store: {backend: etcd}`: an allowance of
//     kEtcdAllowance connections;
//   - health probes: one socket per checked endpoint, twice (each target has
//     at most one probe in flight, but after a reload the previous config's
//     probes may still be in flight until their timeout);
//   - a margin of kMargin: standard streams, the event loops' own
//     descriptors, GeoIP databases, config and zone files being read.

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "config/config.hpp"

namespace meridian {

inline constexpr std::uint64_t kEtcdAllowance = 64;
inline constexpr std::uint64_t kMargin = 64;

struct FdBudgetItem {
  std::string what;  ///< "DNS TCP connections (dns.tcp_max_connections)"
  std::uint64_t descriptors = 0;
};

struct FdBudget {
  std::vector<FdBudgetItem> items;    ///< in the order above; items of 0 left out
  std::uint64_t tcp_connections = 0;  ///< dns.tcp_max_connections, for the advice
  std::uint64_t total() const;
};

/// The budget of a node running `config` with `udp_threads` UDP workers.
FdBudget fd_budget(const Config& config, unsigned udp_threads);

/// Ok when budget.total() fits `limit` (the soft RLIMIT_NOFILE;
/// FdLimit::kUnlimited always fits). Else an error naming the limit, the
/// total, every item, and what to change: lower dns.tcp_max_connections
/// (to a value that would fit, when there is one) or raise the limit
/// (LimitNOFILE= of the systemd unit, ulimit -n).
Result<void> check_fd_budget(const FdBudget& budget, std::uint64_t limit);

}  // namespace meridian
