#pragma once
// The peer transport (DESIGN.md §6): carries Raft Messages between nodes over
// mutually authenticated TLS (node certificates from the cluster CA), framed
// by cluster/wire.hpp.
//
// Outgoing: one connection per peer, owned by one coroutine: connect (under
// connect_timeout) -> TLS handshake as client, verifying the peer against the
// cluster CA and its certificate name (CN / DNS SAN) against the peer's node
// id -> hello (our node id) -> queued frames. Any error closes the connection
// and the coroutine reconnects after an exponential backoff with jitter.
// Each peer has a bounded queue (messages and bytes); when it is full the
// OLDEST frames are dropped (Raft retransmits) and counted.
//
// Incoming: accept -> TLS handshake as server requiring a client certificate
// from the cluster CA (under handshake_timeout) -> hello, whose node id must
// match the certificate's name -> frames, each read under idle_timeout. A
// peer that fails any of this is refused before a Raft message is read
// (rejected_handshakes). A bad frame (oversized, garbage, wrong version)
// counts bad_frames and closes the connection. A message whose `from` is not
// the authenticated peer is dropped (wrong_sender).
//
// Not thread-safe: every call, and every callback, runs on the thread that
// runs the io_context. Heartbeat coalescing and chunked snapshot transfer are
// not implemented (frames are bounded by kMaxFrameBytes).

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/ip_address.hpp"
#include "base/log.hpp"
#include "base/result.hpp"
#include "cluster/raft_types.hpp"

namespace meridian::cluster {

struct TransportSettings {
  NodeId self = no_node;
  SocketAddress listen;  ///< port 0 picks a free port (see Transport::bound())
  std::string ca_pem;    ///< the cluster CA certificate
  std::string cert_pem;  ///< this node's certificate (CN / DNS SAN = node id)
  std::string key_pem;   ///< its private key
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds handshake_timeout{2000};  ///< TLS handshake + hello
  std::chrono::milliseconds idle_timeout{10000};      ///< per read (incoming) and per write (outgoing)
  std::size_t max_queue_messages = 1024;              ///< per peer
  std::size_t max_queue_bytes = 64u * 1024 * 1024;    ///< per peer (encoded frames)
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  std::size_t max_incoming_connections = 64;  ///< concurrent; more are closed at accept
};

struct TransportCounters {
  std::uint64_t sent = 0;                 ///< frames written to a peer
  std::uint64_t received = 0;             ///< messages handed to on_message
  std::uint64_t dropped = 0;              ///< frames dropped: queue full, unknown peer, encode error
  std::uint64_t rejected_handshakes = 0;  ///< incoming connections refused before any message
  std::uint64_t bad_frames = 0;           ///< malformed incoming frames (connection closed)
  std::uint64_t wrong_sender = 0;         ///< messages whose `from` is not the authenticated peer
};

/// The hello an outgoing connection sends right after the TLS handshake:
/// "MRDN", a version byte (1), the node id as 8 bytes big-endian.
inline constexpr std::size_t kHelloBytes = 13;
std::string encode_hello(NodeId id);

class Transport {
 public:
  using MessageHandler = std::function<void(Message)>;

  Transport(boost::asio::io_context& io, TransportSettings settings, Logger& logger, MessageHandler on_message);
  ~Transport();  // stops
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  /// Loads the TLS material and listens. Errors name the address.
  Result<void> start();
  /// The address actually bound (after start()).
  SocketAddress bound() const;

  /// Adds (or re-addresses) a peer. Connects once started.
  void add_peer(NodeId id, SocketAddress address);
  /// Closes the connection and discards the queue of `id`.
  void remove_peer(NodeId id);

  /// Queues `message` for message.to; never blocks. Dropped (and counted)
  /// when the peer is unknown or the message cannot be encoded.
  void send(Message message);

  /// Closes the listener and every connection; pending messages are lost.
  void stop();

  const TransportCounters& counters() const;
  /// Messages queued for `id` (0 for an unknown peer).
  std::size_t queued(NodeId id) const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace meridian::cluster
