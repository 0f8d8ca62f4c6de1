#pragma once
// Which DNS TCP connections may be open: the bookkeeping behind the TCP
// server's two connection caps, IO-free (no socket, no clock), so that the
// policy is tested as a table of admissions.
//
// Clients are counted by network, not by address: an IPv4 client by its
// /24, an IPv6 client by its /56 (kClientPrefixV4/V6). One host rarely holds
// a single address of its network (IPv6 privacy addresses, a /64 per host or
// per customer, NAT pools), so a per-address cap would be a cap in name
// only; the /24 and /56 are the prefixes a resolver operator or an ISP
// customer typically owns, the same ones Meridian's sticky steering hashes.
//
// The policy, at each accepted connection (admit()):
//   1. Its network already holds max_per_client connections: refused
//      (refused_client_limit). A client cannot take more than its share,
//      whatever the server's load.
//   2. The server holds max_connections: one connection is evicted to make
//      room, chosen in the network holding the most connections: the one
//      of them whose last answer (or accept) is the oldest, among those not
//      writing an answer right now (evicted). So a client that fills the
//      server with idle connections loses them to newcomers, and a client
//      with one connection keeps it unless everyone has one. When no
//      connection of any network can be evicted (all are writing answers):
//      refused (refused_server_limit). This is what Knot DNS and NSD do
//      under pressure (they close idle connections early) rather than
//      refusing everyone once the table is full.
//   3. Otherwise: accepted.
// An evicted connection leaves the table at once (its network's count and
// the total drop before the newcomer is counted), so the caps hold at every
// moment; the server then closes its socket.
//
// Thread rule: not thread-safe; the TCP server uses it from its one thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include "base/ip_address.hpp"

namespace meridian::dns {

/// The prefixes clients are counted by (see above).
inline constexpr unsigned kClientPrefixV4 = 24;
inline constexpr unsigned kClientPrefixV6 = 56;

struct TcpConnectionLimits {
  std::uint32_t max_connections = 1000;  ///< in all; at least 1
  std::uint32_t max_per_client = 64;     ///< per client network; at least 1
};

/// What happened to connections at admission, since the table was made.
struct TcpLimitCounters {
  std::uint64_t accepted = 0;              ///< admitted (with or without an eviction)
  std::uint64_t refused_client_limit = 0;  ///< their network held max_per_client
  std::uint64_t refused_server_limit = 0;  ///< the server was full and nothing could be evicted
  std::uint64_t evicted = 0;               ///< closed to make room for a newcomer
};

class TcpConnectionTable {
 public:
  /// Names one admitted connection; never reused by a table.
  using Id = std::uint64_t;

  enum class Verdict : std::uint8_t {
    accepted,              ///< serve it (`evict` may name one to close first)
    refused_client_limit,  ///< close it now: its network holds max_per_client
    refused_server_limit,  ///< close it now: full, and nothing evictable
  };

  struct Admission {
    Verdict verdict = Verdict::accepted;
    Id id = 0;                  ///< when accepted: the new connection's id
    std::optional<Id> evicted;  ///< when accepted at the cap: close this one
  };

  /// Precondition (asserted): both limits at least 1.
  explicit TcpConnectionTable(TcpConnectionLimits limits);

  /// The network `client` is counted by: the address masked to /24 or /56
  /// (an IPv4-mapped IPv6 address counts as IPv4).
  static IpAddress network_of(const IpAddress& client) noexcept;

  /// Decides on a connection just accepted from `client` (see the policy
  /// above). An accepted connection starts idle.
  Admission admit(const IpAddress& client);
  /// The connection is writing an answer: it cannot be evicted until
  /// idle(). Unknown ids (already evicted or released) are ignored.
  void writing(Id id);
  /// The connection finished an answer: evictable again, as the most
  /// recently active one of its network. Unknown ids are ignored.
  void idle(Id id);
  /// The connection closed. Unknown ids (evicted ones) are ignored.
  void release(Id id);

  std::uint32_t open() const noexcept { return static_cast<std::uint32_t>(connections_.size()); }
  /// Networks holding at least one connection.
  std::size_t clients() const noexcept { return networks_.size(); }
  /// Connections held by `client`'s network.
  std::uint32_t held_by(const IpAddress& client) const;
  const TcpLimitCounters& counters() const noexcept { return counters_; }

 private:
  /// A network as one number: the family, then the prefix's bytes.
  using NetworkKey = std::uint64_t;
  struct Connection {
    NetworkKey network = 0;
    /// When it last became idle (admit() or idle()), by the table's own
    /// sequence; 0 while writing.
    std::uint64_t idle_since = 0;
  };
  struct Network {
    std::uint32_t count = 0;
    /// Its idle connections, oldest first: (idle_since, id).
    std::set<std::pair<std::uint64_t, Id>> idle;
  };

  static NetworkKey key_of(const IpAddress& client) noexcept;
  /// The connection to evict for a newcomer, if any.
  std::optional<Id> victim() const;
  void set_count(NetworkKey key, Network& network, std::uint32_t count);
  void remove(Id id);

  TcpConnectionLimits limits_;
  std::unordered_map<Id, Connection> connections_;
  std::unordered_map<NetworkKey, Network> networks_;
  /// Every network with connections, by count: the largest is the last.
  std::set<std::pair<std::uint32_t, NetworkKey>> by_count_;
  Id next_id_ = 1;
  std::uint64_t sequence_ = 0;
  TcpLimitCounters counters_;
};

}  // namespace meridian::dns
