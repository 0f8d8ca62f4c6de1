#pragma once
// The peer transport (docs/architecture.md): carries Raft Messages and NodeReports
// between nodes over mutually authenticated TLS (node certificates from the
// cluster CA), framed by cluster/wire.hpp. Nodes are known by name ("fra-1",
// cluster/node_id.hpp): certificates name the node (CN or DNS SAN), and the
// Raft id is node_id_of(name). Each connection carries frames one way only.
//
// Outgoing: one connection per peer, owned by one coroutine: connect (under
// connect_timeout) -> TLS handshake as client, verifying the peer against the
// cluster CA and its certificate against the peer's name -> hello (our name)
// -> queued frames. A reader watches the socket meanwhile: the peer closing
// it, or sending anything at all, ends the connection. Any error (or an
// exception, which is logged) closes the connection, reports the peer
// unreachable, and the coroutine reconnects after an exponential backoff
// with jitter.
//
// Queues, per peer: frames (messages and reports) in a queue bounded by
// max_queue_messages and max_queue_bytes; when it is full the OLDEST are
// dropped (Raft retransmits) and counted. At most one heartbeat (or
// heartbeat_response) waits per peer: a newer one replaces it in place, and
// so does a newer report replace a waiting report (counted `coalesced`).
// Snapshot messages do not enter that queue: each peer has one snapshot
// slot, streamed as chunks of at most kSnapshotChunkBytes, with queued
// frames written between chunks (so a large snapshot does not hold back
// heartbeats; Raft tolerates the reordering). A snapshot that arrives while
// another waits replaces it; one that arrives while another is being
// streamed is dropped. Each snapshot ends with exactly one
// on_snapshot_sent: true once its last chunk is written, false when it is
// dropped, discarded with the peer, or lost with a failed connection.
//
// Incoming: accept -> TLS handshake as server requiring a client certificate
// from the cluster CA (under handshake_timeout) -> hello, whose name must be
// a valid node name that the certificate names -> frames, each read under
// idle_timeout. A peer that fails any of this is refused before a frame is
// read (rejected_handshakes; handshake_timeouts when the time ran out; at
// most one refusal a second is logged, every one is counted).
//
// Caps on incoming connections, each closing at once and counted:
//   - all of them: max_incoming_connections; more are closed at accept
//     (refused_server_limit);
//   - not yet authenticated, per source address: max_handshakes_per_address;
//     more are closed at accept (refused_handshake_limit), so a host without
//     a certificate cannot hold the transport's slots with handshakes it
//     never finishes (each is cut off at handshake_timeout anyway);
//   - authenticated, per peer name: max_connections_per_peer; one more
//     closes that peer's OLDEST connection (closed_peer_limit). A node opens
//     one connection to each peer, so more than one means leftovers of a
//     broken connection (the new one is the live one) or a certificate
//     holder opening many: either way the peer keeps at most the cap.
// Revocation (revoke()): a certificate naming a revoked name and issued at or
// before the name's revocation time is refused in both directions, after
// the TLS handshake and before any frame (revoked_certificates), and the
// connections it authenticated are closed. A name re-added later passes
// with a certificate issued after its removal.
//
// Credentials (reload_credentials()): new connections use the new
// certificate and key; open ones keep theirs until they end, so a renewal
// needs no restart and drops nothing.
//
// Addresses count as IPv4 when IPv4-mapped. A bad frame (oversized, garbage, wrong
// version), a snapshot chunk out of order or inconsistent with its first
// chunk, or a snapshot over max_snapshot_bytes counts bad_frames and closes
// the connection. Chunks are reassembled per connection into one snapshot
// Message for on_message. A message, report or chunk whose `from` is not the
// authenticated peer is dropped (wrong_sender; a partial snapshot with it).
//
// stop() closes the listener and ends every connection with a TLS shutdown
// (close_notify) bounded by shutdown_timeout; it does not block: the
// shutdowns finish while the io_context runs.
//
// Not thread-safe: every call, and every callback, runs on the thread that
// runs the io_context. Callbacks are never called from inside a Transport
// member function (events that such a call causes are posted), and never
// after stop(). A callback may call into the Transport.

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
#include "cluster/wire.hpp"
#include "store/replicated_store.hpp"

namespace meridian::cluster {

struct TransportSettings {
  std::string self_name;  ///< this node's name; its Raft id is node_id_of(self_name)
  SocketAddress listen;   ///< port 0 picks a free port (see Transport::bound())
  std::string ca_pem;     ///< the cluster CA certificate
  std::string cert_pem;   ///< this node's certificate (CN / DNS SAN = self_name)
  std::string key_pem;    ///< its private key
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds handshake_timeout{2000};  ///< TLS handshake + hello
  std::chrono::milliseconds idle_timeout{10000};  ///< per read (incoming) and per write (outgoing)
  std::chrono::milliseconds shutdown_timeout{
      250};                               ///< the TLS shutdown when a connection ends by stop()
  std::size_t max_queue_messages = 1024;  ///< per peer
  /// Per peer (encoded frames; snapshots aside).
  std::size_t max_queue_bytes = std::size_t{64} * 1024 * 1024;
  std::uint64_t max_snapshot_bytes =
      kMaxSnapshotBytes;  ///< sent and accepted; at most kMaxSnapshotBytes
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  std::size_t max_incoming_connections = 64;  ///< concurrent; more are closed at accept
  /// Concurrent unauthenticated incoming connections (TLS handshake or hello
  /// in progress) of one source address; more are closed at accept.
  std::size_t max_handshakes_per_address = 8;
  /// Concurrent authenticated incoming connections of one peer name; one
  /// more closes the peer's oldest.
  std::size_t max_connections_per_peer = 4;
};

using store::TransportCounters;  // store/replicated_store.hpp: the counts, as the store's status
                                 // shows them

/// What the Raft driver learns about peers (each may be left empty).
struct TransportEvents {
  /// A connection attempt to the peer failed, or its connection ended
  /// (not by remove_peer() or stop()). Raft::report_unreachable.
  std::function<void(NodeId)> on_unreachable;
  /// A snapshot message to the peer was fully written (true), or was lost:
  /// dropped, discarded, or cut off with its connection (false).
  /// Raft::report_snapshot.
  std::function<void(NodeId, bool)> on_snapshot_sent;
  /// A forwarded request or answer arrived from the (authenticated) peer
  /// it names as `from`.
  std::function<void(ForwardFrame)> on_forward;
};

/// The hello an outgoing connection sends right after the TLS handshake:
/// "MRDN", a version byte (2), the name's length (1 byte), the name.
/// Precondition: `name` is a valid node name (asserted).
std::string encode_hello(std::string_view name);
/// The hello's fixed part (magic, version, length).
inline constexpr std::size_t kHelloHeaderBytes = 6;

class Transport {
 public:
  using MessageHandler = std::function<void(Message)>;
  using ReportHandler = std::function<void(NodeReport)>;

  /// `on_message` gets every authenticated message (a snapshot as one
  /// Message once all its chunks arrived); `on_report` every authenticated
  /// report (reports are dropped when it is empty).
  Transport(boost::asio::io_context& io, TransportSettings settings, Logger& logger,
            MessageHandler on_message, ReportHandler on_report, TransportEvents events = {});
  ~Transport();  // stops
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  /// Checks the name, loads the TLS material and listens. Errors name the
  /// address.
  Result<void> start();
  /// The address actually bound (after start()).
  SocketAddress bound() const;
  /// node_id_of(settings.self_name).
  NodeId self() const;

  /// Adds (or re-addresses) the peer named `name`. Connects once started.
  /// A new address discards the old connection and queue. Preconditions
  /// (asserted): `name` is a valid node name and id == node_id_of(name).
  void add_peer(NodeId id, std::string name, SocketAddress address);
  /// Closes the connection and discards the queue of `id`.
  void remove_peer(NodeId id);

  /// Refuses, from now on, certificates naming `name` issued at or before
  /// `issued_until_s` (seconds since the Unix epoch; the later of two calls
  /// holds), and closes the connections such a certificate authenticated.
  /// Precondition: `name` is a valid node name.
  void revoke(const std::string& name, std::int64_t issued_until_s);
  /// Replaces this node's certificate and key for new connections (the CA
  /// stays). On error (the PEM does not load, the key does not match) the
  /// old ones stay in use and the error says why.
  Result<void> reload_credentials(const std::string& cert_pem, const std::string& key_pem);

  /// Queues `message` for message.to; never blocks. Dropped (and counted)
  /// when the peer is unknown or the message cannot be encoded; a snapshot
  /// message also when it exceeds max_snapshot_bytes (on_snapshot_sent
  /// false follows).
  void send(Message message);
  /// Queues `report` for report.to, replacing a report still waiting for
  /// that peer. Dropped (and counted) when the peer is unknown or the
  /// report cannot be encoded.
  void send_report(const NodeReport& report);
  /// Queues a forwarded request or answer for frame.to, like send().
  void send_forward(const ForwardFrame& frame);

  /// Closes the listener and every connection (see above); pending messages
  /// are lost, and no callback runs afterwards.
  void stop();

  const TransportCounters& counters() const;
  /// Frames waiting for `id`, plus 1 for a waiting or streaming snapshot
  /// (0 for an unknown peer).
  std::size_t queued(NodeId id) const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace meridian::cluster
