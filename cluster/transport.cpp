// The peer transport: see transport.hpp. One coroutine per connection owns
// its socket; a SocketDeadline (the watchdog) puts a deadline on every
// operation by closing the socket when it expires.

#include "cluster/transport.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <ctime>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <utility>
#include <variant>

#include "cluster/node_id.hpp"
#include "net/socket_deadline.hpp"

namespace meridian::cluster {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using TlsStream = ssl::stream<tcp::socket>;

namespace {

constexpr std::string_view kHelloMagic = "MRDN";
constexpr std::uint8_t kHelloVersion = 2;
constexpr const char* kComponent = "transport";
/// At most one refused handshake is logged in this time.
constexpr std::chrono::seconds kRejectLogInterval{1};
/// Frames written in one write when several are queued (a snapshot chunk
/// may come on top).
constexpr std::size_t kMaxBatchBytes = std::size_t{1024} * 1024;
/// Bytes asked for per read of an incoming connection (TLS hands out at most
/// one 16 KiB record per read anyway).
constexpr std::size_t kReadChunkBytes = std::size_t{64} * 1024;
/// A connection that stayed up this long resets the reconnect backoff.
constexpr auto kStableConnection = std::chrono::seconds(1);
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

/// What a queued frame is, for coalescing: at most one heartbeat-like frame
/// and one report wait per peer.
enum class FrameKind : std::uint8_t { message, heartbeat, report };

struct Frame {
  std::string bytes;
  FrameKind kind = FrameKind::message;
};

asio::ip::address to_asio(const IpAddress& address) {
  if (address.family == IpAddress::Family::v4) {
    return asio::ip::address_v4(asio::ip::address_v4::bytes_type{
        address.bytes[0], address.bytes[1], address.bytes[2], address.bytes[3]});
  }
  return asio::ip::address_v6(address.bytes);
}

SocketAddress from_asio(const tcp::endpoint& endpoint) {
  SocketAddress out;
  IpAddress::parse(endpoint.address().to_string(), out.address);
  out.port = endpoint.port();
  return out;
}

/// The name length announced by a hello's fixed part; 0 when the part is
/// malformed (wrong magic or version, or a length no name can have).
std::size_t hello_name_length(std::string_view header) {
  if (header.size() != kHelloHeaderBytes || header.substr(0, 4) != kHelloMagic ||
      static_cast<std::uint8_t>(header[4]) != kHelloVersion) {
    return 0;
  }
  const std::size_t length = static_cast<std::uint8_t>(header[5]);
  return length <= kMaxNodeNameBytes ? length : 0;
}

/// True when the certificate names `name` in its CN or a DNS SAN.
bool certificate_names(X509* certificate, std::string_view name) {
  if (certificate == nullptr) return false;
  return X509_check_host(certificate, name.data(), name.size(),
                         X509_CHECK_FLAG_ALWAYS_CHECK_SUBJECT | X509_CHECK_FLAG_NO_WILDCARDS,
                         nullptr) == 1;
}

/// When `certificate` was issued (its notBefore), in seconds since the Unix
/// epoch; nullopt when it has none that parses.
std::optional<std::int64_t> issued_at(X509* certificate) {
  if (certificate == nullptr) return std::nullopt;
  const ASN1_TIME* not_before = X509_get0_notBefore(certificate);
  std::tm parts{};
  if (not_before == nullptr || ASN1_TIME_to_tm(not_before, &parts) != 1) return std::nullopt;
  return static_cast<std::int64_t>(timegm(&parts));
}

/// A handshake error with OpenSSL's certificate verdict when that failed
/// (for example "hostname mismatch" for a peer holding another node's
/// certificate).
std::string handshake_error(const error_code& error, SSL* handle) {
  std::string text = error.message();
  if (error.category() == asio::error::get_ssl_category()) {
    const long verdict = SSL_get_verify_result(handle);
    if (verdict != X509_V_OK) text += std::string(": ") + X509_verify_cert_error_string(verdict);
  }
  return text;
}

std::string describe(const std::exception_ptr& exception) {
  try {
    std::rethrow_exception(exception);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace

std::string encode_hello(std::string_view name) {
  MERIDIAN_ASSERT(validate_node_name(name).ok(), "encode_hello of an invalid node name");
  std::string out(kHelloMagic);
  out.push_back(static_cast<char>(kHelloVersion));
  out.push_back(static_cast<char>(name.size()));
  out.append(name);
  return out;
}

struct Transport::Impl : std::enable_shared_from_this<Transport::Impl> {
  struct Peer {
    explicit Peer(asio::io_context& io) : wakeup(io), backoff(io) {}
    NodeId id = no_node;
    std::string name;
    SocketAddress address;
    std::deque<Frame> frames;
    std::size_t bytes = 0;                          ///< of `frames`
    std::optional<Message> snapshot;                ///< the snapshot slot: waiting or streaming
    std::uint64_t snapshot_offset = 0;              ///< where its next chunk starts
    bool snapshot_streaming = false;                ///< a chunk of it went into a write
    asio::steady_timer wakeup;                      ///< the writer waits on it for frames
    asio::steady_timer backoff;                     ///< the reconnect delay
    tcp::socket* current = nullptr;                 ///< the open connection, owned by the coroutine
    std::optional<std::int64_t> current_issued_at;  ///< its peer certificate's issue time
    bool stopped = false;
    bool running = false;

    std::string where() const { return "node " + name + " at " + address.to_string(); }
  };

  Impl(asio::io_context& io_, TransportSettings settings_, Logger& logger_,
       MessageHandler message_handler, ReportHandler report_handler, TransportEvents events_)
      : io(io_),
        settings(std::move(settings_)),
        self(node_id_of(settings.self_name)),
        logger(logger_),
        on_message(std::move(message_handler)),
        on_report(std::move(report_handler)),
        events(std::move(events_)),
        acceptor(io_),
        server_tls(std::make_shared<ssl::context>(ssl::context::tls)),
        client_tls(std::make_shared<ssl::context>(ssl::context::tls)),
        random(std::random_device{}()) {}

  asio::io_context& io;
  TransportSettings settings;
  NodeId self;
  Logger& logger;
  MessageHandler on_message;
  ReportHandler on_report;
  TransportEvents events;
  tcp::acceptor acceptor;
  // Shared with the connections made from them, so that new credentials
  // (reload_credentials) replace them without ending those connections.
  std::shared_ptr<ssl::context> server_tls;
  std::shared_ptr<ssl::context> client_tls;
  /// Names whose certificates issued at or before a time are refused
  /// (revoke()): name -> that time, seconds since the Unix epoch.
  std::map<std::string, std::int64_t, std::less<>> revoked;
  /// When the certificate of each authenticated connection was issued, so
  /// revoke() can close the connections it ends (incoming by socket; an
  /// outgoing one in its Peer).
  std::map<tcp::socket*, std::int64_t> incoming_issued_at;
  std::mt19937_64 random;
  std::map<NodeId, std::shared_ptr<Peer>> peers;
  std::set<tcp::socket*> incoming;
  /// Incoming connections still in their handshake, by source address
  /// (text, IPv4 when mapped); no zeros.
  std::map<std::string, std::size_t> handshaking;
  /// Authenticated incoming connections by peer, oldest first.
  std::map<NodeId, std::deque<tcp::socket*>> by_peer;
  TransportCounters counters;
  Clock::time_point last_reject_logged{};  // reject(): the last refusal logged
  std::uint64_t rejects_not_logged = 0;    // refusals since, counted but not logged
  SocketAddress bound;
  bool started = false;
  bool stopped = false;

  /// The co_spawn completion: logs an exception that ended a coroutine
  /// (resource exhaustion, or one thrown by a handler) instead of
  /// propagating it out of io_context::run().
  auto completion(const char* what) {
    return [self = shared_from_this(), what](const std::exception_ptr& exception) {
      if (exception)
        self->logger.error(kComponent, std::string(what) + " failed: " + describe(exception));
    };
  }

  // ---- Events ---------------------------------------------------------------

  void unreachable(NodeId id) {
    if (!stopped && events.on_unreachable) events.on_unreachable(id);
  }
  void snapshot_sent(NodeId id, bool succeeded) {
    if (!stopped && events.on_snapshot_sent) events.on_snapshot_sent(id, succeeded);
  }
  /// For member functions, which must not call back into their caller.
  void post_snapshot_sent(NodeId id, bool succeeded) {
    asio::post(io, [self = shared_from_this(), id, succeeded] {
      try {
        self->snapshot_sent(id, succeeded);
      } catch (...) {
        self->logger.error(kComponent,
                           "on_snapshot_sent failed: " + describe(std::current_exception()));
      }
    });
  }

  // ---- Setup and teardown ---------------------------------------------------

  Result<void> load_tls(ssl::context& context, bool server) {
    error_code error;
    context.set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                            ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                            ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                        error);
    if (!error) context.add_certificate_authority(asio::buffer(settings.ca_pem), error);
    if (error) return fail("cannot load the cluster CA: ", error.message());
    context.use_certificate_chain(asio::buffer(settings.cert_pem), error);
    if (error) return fail("cannot load the node certificate: ", error.message());
    context.use_private_key(asio::buffer(settings.key_pem), ssl::context::pem, error);
    if (error) return fail("cannot load the node key: ", error.message());
    if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
      return fail("the node key does not match the node certificate");
    }
    context.set_verify_mode(
        server ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert : ssl::verify_peer, error);
    if (error) return fail("cannot set TLS verification: ", error.message());
    return {};
  }

  Result<void> start() {
    const std::string where = settings.listen.to_string();
    if (started || stopped) return fail("transport on ", where, ": already started or stopped");
    if (auto valid = validate_node_name(settings.self_name); !valid) {
      return fail("transport on ", where, ": ", valid.error().message);
    }
    if (settings.max_incoming_connections == 0 || settings.max_handshakes_per_address == 0 ||
        settings.max_connections_per_peer == 0) {
      return fail("transport on ", where, ": the connection caps must be at least 1");
    }
    if (auto loaded = load_tls(*server_tls, true); !loaded)
      return fail("transport on ", where, ": ", loaded.error().message);
    if (auto loaded = load_tls(*client_tls, false); !loaded)
      return fail("transport on ", where, ": ", loaded.error().message);
    const tcp::endpoint endpoint(to_asio(settings.listen.address), settings.listen.port);
    error_code error;
    acceptor.open(endpoint.protocol(), error);
    if (!error) acceptor.set_option(tcp::acceptor::reuse_address(true), error);
    if (!error) acceptor.bind(endpoint, error);
    if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
      error_code ignored;
      acceptor.close(ignored);
      return fail("cannot listen on ", where, ": ", error.message());
    }
    bound = from_asio(acceptor.local_endpoint(error));
    started = true;
    logger.info(kComponent, "node " + settings.self_name + " listening on " + bound.to_string());
    asio::co_spawn(io, accept_loop(shared_from_this()), completion("the accept loop"));
    for (auto& [id, peer] : peers) launch(peer);
    return {};
  }

  void launch(const std::shared_ptr<Peer>& peer) {
    if (!started || stopped || peer->running) return;
    peer->running = true;
    asio::co_spawn(io, run_peer(shared_from_this(), peer), completion("a peer connection"));
  }

  /// Ends a peer: its queue and snapshot are discarded (reported when
  /// `report`), and its connection, if any, ends with a TLS shutdown.
  void discard_peer(Peer& peer, bool report) {
    peer.stopped = true;
    peer.frames.clear();
    peer.bytes = 0;
    if (peer.snapshot && report) post_snapshot_sent(peer.id, false);
    peer.snapshot.reset();
    peer.wakeup.cancel();
    peer.backoff.cancel();
    if (peer.current != nullptr) {
      error_code ignored;
      peer.current->cancel(ignored);
    }
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    error_code ignored;
    acceptor.close(ignored);
    for (auto& [id, peer] : peers) discard_peer(*peer, false);
    peers.clear();
    // Their coroutines see `stopped` and shut TLS down.
    for (tcp::socket* socket : incoming) socket->cancel(ignored);
  }

  // ---- Queues ---------------------------------------------------------------

  Peer* find_peer(NodeId id) {
    const auto it = peers.find(id);
    return stopped || it == peers.end() ? nullptr : it->second.get();
  }

  void send(Message message) {
    const bool snapshot = message.type == MessageType::snapshot && message.snapshot.has_value();
    Peer* peer = find_peer(message.to);
    if (peer == nullptr) {
      ++counters.dropped;
      if (snapshot && !stopped) post_snapshot_sent(message.to, false);
      return;
    }
    if (snapshot) {
      queue_snapshot(*peer, std::move(message));
      return;
    }
    auto frame = encode_frame(message);
    if (!frame) {
      ++counters.dropped;
      logger.warn(kComponent,
                  "cannot encode a message for " + peer->where() + ": " + frame.error().message);
      return;
    }
    const bool heartbeat =
        message.type == MessageType::heartbeat || message.type == MessageType::heartbeat_response;
    enqueue(*peer, {std::move(*frame), heartbeat ? FrameKind::heartbeat : FrameKind::message});
  }

  void send_report(const NodeReport& report) {
    Peer* peer = find_peer(report.to);
    auto frame = encode_frame(report);
    if (peer == nullptr || !frame) {
      ++counters.dropped;
      return;
    }
    enqueue(*peer, {std::move(*frame), FrameKind::report});
  }

  void send_forward(const ForwardFrame& forward) {
    Peer* peer = find_peer(forward.to);
    auto frame = encode_frame(forward);
    if (peer == nullptr || !frame) {
      ++counters.dropped;
      return;
    }
    enqueue(*peer, {std::move(*frame), FrameKind::message});
  }

  void enqueue(Peer& peer, Frame frame) {
    const auto waiting =
        frame.kind == FrameKind::message
            ? peer.frames.end()
            : std::find_if(peer.frames.begin(), peer.frames.end(),
                           [&](const Frame& queued) { return queued.kind == frame.kind; });
    if (waiting != peer.frames.end()) {
      // Not yet being written (the writer takes frames out of the queue):
      // the newer one says all the older one did.
      peer.bytes = peer.bytes - waiting->bytes.size() + frame.bytes.size();
      *waiting = std::move(frame);
      ++counters.coalesced;
    } else {
      peer.bytes += frame.bytes.size();
      peer.frames.push_back(std::move(frame));
    }
    // Drop the oldest while over either bound (the newest always stays).
    while (peer.frames.size() > 1 && (peer.frames.size() > settings.max_queue_messages ||
                                      peer.bytes > settings.max_queue_bytes)) {
      peer.bytes -= peer.frames.front().bytes.size();
      peer.frames.pop_front();
      ++counters.dropped;
    }
    peer.wakeup.cancel();
  }

  void queue_snapshot(Peer& peer, Message message) {
    auto refuse = [&](const std::string& why) {
      ++counters.dropped;
      logger.warn(kComponent, "dropped a snapshot for " + peer.where() + ": " + why);
      post_snapshot_sent(peer.id, false);
    };
    if (auto valid = check_snapshot_message(message, settings.max_snapshot_bytes); !valid) {
      refuse(valid.error().message);
      return;
    }
    // Chunks of two snapshots must not interleave: the receiver would refuse
    // both.
    if (peer.snapshot_streaming) {
      refuse("another snapshot is being sent");
      return;
    }
    if (peer.snapshot) {
      ++counters.dropped;
      post_snapshot_sent(peer.id, false);
    }
    peer.snapshot = std::move(message);
    peer.snapshot_offset = 0;
    peer.wakeup.cancel();
  }

  /// A connection to `peer` ended (not by stop or removal): a snapshot cut
  /// off mid-stream is lost (the next connection could not continue it).
  void connection_lost(Peer& peer) {
    if (peer.snapshot_streaming) {
      ++counters.dropped;
      peer.snapshot.reset();
      peer.snapshot_streaming = false;
      peer.snapshot_offset = 0;
      snapshot_sent(peer.id, false);
    }
    unreachable(peer.id);
  }

  // ---- Outgoing -------------------------------------------------------------

  std::chrono::milliseconds jittered(std::chrono::milliseconds backoff) {
    // Uniform in [backoff / 2, backoff].
    std::uniform_int_distribution<std::int64_t> pick(backoff.count() / 2, backoff.count());
    return std::chrono::milliseconds(pick(random));
  }

  static asio::awaitable<void> run_peer(std::shared_ptr<Impl> self, std::shared_ptr<Peer> peer) {
    struct Running {
      Peer& peer;
      ~Running() { peer.running = false; }
    } running{*peer};
    std::chrono::milliseconds backoff = self->settings.backoff_min;
    while (!peer->stopped && !self->stopped) {
      const auto began = Clock::now();
      bool connected = false;
      // Whatever a connection throws (a handler, resource exhaustion) ends
      // that connection only: the peer is retried like after any failure.
      try {
        connected = co_await self->connection(peer);
      } catch (...) {
        self->logger.error(kComponent, "connection to " + peer->where() +
                                           " failed: " + describe(std::current_exception()));
      }
      if (peer->stopped || self->stopped) break;
      try {
        self->connection_lost(*peer);
      } catch (...) {
        self->logger.error(kComponent,
                           "a peer event handler failed: " + describe(std::current_exception()));
      }
      if (peer->stopped || self->stopped) break;
      // Back off from scratch only after a connection that lasted: with TLS
      // 1.3 a server that refuses our certificate does so after our side of
      // the handshake succeeded, and that must not become a tight loop.
      if (connected && Clock::now() - began >= kStableConnection)
        backoff = self->settings.backoff_min;
      peer->backoff.expires_after(self->jittered(backoff));
      co_await peer->backoff.async_wait(kTuple);
      backoff = std::min(backoff * 2, self->settings.backoff_max);
    }
  }

  /// One outgoing connection's life; true when the handshake and hello
  /// succeeded.
  asio::awaitable<bool> connection(std::shared_ptr<Peer> peer) {
    const std::string where = peer->where();
    const std::shared_ptr<ssl::context> tls = client_tls;  // outlives the stream
    TlsStream stream(io, *tls);
    peer->current = &stream.next_layer();
    struct Forget {
      Peer& peer;
      ~Forget() {
        peer.current = nullptr;
        peer.current_issued_at.reset();
      }
    } forget{*peer};
    net::SocketDeadline watchdog(stream.next_layer(), net::OnExpiry::close);
    if (SSL_set1_host(stream.native_handle(), peer->name.c_str()) != 1) {
      logger.error(kComponent, "cannot set the expected name of " + where);
      co_return false;
    }
    watchdog.arm(settings.connect_timeout);
    const tcp::endpoint endpoint(to_asio(peer->address.address), peer->address.port);
    if (auto [error] = co_await stream.next_layer().async_connect(endpoint, kTuple); error) {
      logger.debug(kComponent, "cannot connect to " + where + ": " +
                                   (watchdog.expired() ? "timed out" : error.message()));
      co_return false;
    }
    if (peer->stopped || stopped) co_return false;
    // Raft messages are small and latency-bound: Nagle's algorithm would hold
    // an append back waiting for the ACK of the previous one.
    error_code ignored;
    stream.next_layer().set_option(tcp::no_delay(true), ignored);
    watchdog.arm(settings.handshake_timeout);
    if (auto [error] = co_await stream.async_handshake(ssl::stream_base::client, kTuple); error) {
      logger.warn(
          kComponent,
          "TLS handshake with " + where + " failed: " +
              (watchdog.expired() ? "timed out" : handshake_error(error, stream.native_handle())));
      co_return false;
    }
    X509* certificate = SSL_get1_peer_certificate(stream.native_handle());
    const std::optional<std::int64_t> issued = issued_at(certificate);
    X509_free(certificate);
    if (is_revoked(peer->name, issued)) {
      ++counters.revoked_certificates;
      logger.warn(kComponent, "refused " + where + ": its certificate is revoked");
      co_return false;
    }
    peer->current_issued_at = issued;
    const std::string hello = encode_hello(settings.self_name);
    if (auto [error, n] = co_await asio::async_write(stream, asio::buffer(hello), kTuple); error) {
      logger.warn(kComponent, "cannot send hello to " + where + ": " + error.message());
      co_return false;
    }
    watchdog.disarm();
    logger.info(kComponent, "connected to " + where);

    // Writer and reader run side by side; whichever ends first ends the
    // other (the group cancels it), so the connection ends as soon as the
    // peer closes it, even while nothing is queued.
    auto executor = co_await asio::this_coro::executor;
    auto [order, writer_error, reader_error] =
        co_await asio::experimental::make_parallel_group(
            asio::co_spawn(executor, write_frames(stream, peer, watchdog), asio::deferred),
            asio::co_spawn(executor, watch_for_close(stream, peer), asio::deferred))
            .async_wait(asio::experimental::wait_for_one(), asio::deferred);
    // The first to end decides; the other only saw the cancellation.
    if (const auto& first = order[0] == 0 ? writer_error : reader_error; first)
      std::rethrow_exception(first);
    if (peer->stopped || stopped) co_await close_gracefully(stream, watchdog);
    co_return true;
  }

  /// Writes queued frames and snapshot chunks until the connection fails,
  /// the peer stops, or the coroutine is cancelled.
  asio::awaitable<void> write_frames(TlsStream& stream, std::shared_ptr<Peer> peer,
                                     net::SocketDeadline& watchdog) {
    co_await asio::this_coro::throw_if_cancelled(false);
    const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
    auto over = [&] {
      return peer->stopped || stopped || cancellation.cancelled() != asio::cancellation_type::none;
    };
    std::string batch;
    while (!over()) {
      if (peer->frames.empty() && !peer->snapshot) {
        peer->wakeup.expires_at(Clock::time_point::max());
        co_await peer->wakeup.async_wait(kTuple);
        continue;
      }
      batch.clear();
      std::uint64_t count = 0;
      while (
          !peer->frames.empty() &&
          (batch.empty() || batch.size() + peer->frames.front().bytes.size() <= kMaxBatchBytes)) {
        batch += peer->frames.front().bytes;
        peer->bytes -= peer->frames.front().bytes.size();
        peer->frames.pop_front();
        ++count;
      }
      // One chunk per write, so frames queued meanwhile go between chunks.
      std::optional<std::uint64_t> chunk_end;
      if (peer->snapshot) {
        const SnapshotChunk chunk = snapshot_chunk(*peer->snapshot, peer->snapshot_offset);
        auto frame = encode_frame(chunk);
        MERIDIAN_ASSERT(frame.ok(), "a chunk of a checked snapshot does not encode");
        batch += *frame;
        chunk_end = chunk.offset + chunk.data.size();
        peer->snapshot_streaming = true;
      }
      watchdog.arm(settings.idle_timeout);
      auto [error, n] = co_await asio::async_write(stream, asio::buffer(batch), kTuple);
      watchdog.disarm();
      if (error) {
        counters.dropped += count;  // lost with the connection; Raft retransmits
        if (!peer->stopped && !stopped) {
          logger.warn(kComponent, "write to " + peer->where() + " failed: " +
                                      (watchdog.expired() ? "timed out" : error.message()));
        }
        co_return;  // a snapshot cut off is reported by connection_lost()
      }
      counters.sent += count;
      if (!chunk_end || peer->stopped || stopped) continue;
      MERIDIAN_ASSERT(peer->snapshot.has_value(), "the snapshot slot emptied while streaming");
      peer->snapshot_offset = *chunk_end;
      if (*chunk_end == peer->snapshot->snapshot->data.size()) {
        peer->snapshot.reset();
        peer->snapshot_streaming = false;
        peer->snapshot_offset = 0;
        ++counters.sent;
        snapshot_sent(peer->id, true);
      }
    }
  }

  /// Waits for the peer to close the connection. The protocol is one way:
  /// any byte from the peer is a protocol error and ends the connection too.
  asio::awaitable<void> watch_for_close(TlsStream& stream, std::shared_ptr<Peer> peer) {
    co_await asio::this_coro::throw_if_cancelled(false);
    char byte = 0;
    auto [error, n] = co_await stream.async_read_some(asio::buffer(&byte, 1), kTuple);
    if (peer->stopped || stopped || error == asio::error::operation_aborted) co_return;
    if (error) {
      logger.info(kComponent,
                  "connection to " + peer->where() + " closed by the peer: " + error.message());
    } else {
      logger.warn(kComponent, peer->where() + " sent data on an outgoing connection; closing it");
    }
  }

  /// Sends close_notify (and waits for the peer's) under shutdown_timeout.
  asio::awaitable<void> close_gracefully(TlsStream& stream, net::SocketDeadline& watchdog) {
    watchdog.arm(settings.shutdown_timeout);
    co_await stream.async_shutdown(kTuple);
    watchdog.disarm();
    error_code ignored;
    stream.next_layer().close(ignored);
  }

  // ---- Incoming -------------------------------------------------------------

  static asio::awaitable<void> accept_loop(std::shared_ptr<Impl> self) {
    asio::steady_timer pause(self->io);
    while (!self->stopped) {
      auto [error, socket] = co_await self->acceptor.async_accept(kTuple);
      if (self->stopped) break;
      if (error) {
        // For example out of descriptors: pause rather than spin.
        self->logger.warn(kComponent, "accept failed: " + error.message());
        pause.expires_after(std::chrono::milliseconds(100));
        co_await pause.async_wait(kTuple);
        continue;
      }
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);  // see connect
      if (self->incoming.size() >= self->settings.max_incoming_connections) {
        ++self->counters.refused_server_limit;
        self->logger.warn(kComponent, "too many incoming connections; closing one");
        continue;  // the socket closes as it leaves scope
      }
      error_code remote_error;
      const auto remote = socket.remote_endpoint(remote_error);
      if (remote_error) continue;  // reset before we got to it
      std::string source = from_asio(remote).address.unmapped().to_string();
      if (const auto held = self->handshaking.find(source);
          held != self->handshaking.end() &&
          held->second >= self->settings.max_handshakes_per_address) {
        ++self->counters.refused_handshake_limit;
        // Debug only: a flood of these would flood the log too.
        self->logger.debug(kComponent, "closing a connection from " + source + ": it has " +
                                           std::to_string(held->second) +
                                           " handshakes in progress already");
        continue;
      }
      // Counted here, not when the coroutine starts, so that a burst of
      // accepts cannot overshoot the cap.
      ++self->handshaking[source];
      asio::co_spawn(self->io, serve(self, std::move(socket), std::move(source)),
                     self->completion("an incoming connection"));
    }
  }

  /// The connection from `source` is no longer in its handshake.
  void handshake_over(const std::string& source) {
    const auto held = handshaking.find(source);
    MERIDIAN_ASSERT(held != handshaking.end() && held->second > 0,
                    "a handshake its source address is not counted for");
    if (--held->second == 0) handshaking.erase(held);
  }

  /// Counts `socket` as an authenticated connection of `peer`, closing the
  /// peer's oldest when it holds more than max_connections_per_peer.
  void authenticated(NodeId peer, tcp::socket* socket, const std::string& where) {
    std::deque<tcp::socket*>& held = by_peer[peer];
    held.push_back(socket);
    while (held.size() > settings.max_connections_per_peer) {
      tcp::socket* oldest = held.front();
      held.pop_front();
      ++counters.closed_peer_limit;
      logger.warn(kComponent, where + " holds more than " +
                                  std::to_string(settings.max_connections_per_peer) +
                                  " connections; closing its oldest");
      // Its coroutine sees the read fail and ends; the new one is served.
      error_code ignored;
      oldest->close(ignored);
    }
  }

  /// `socket` of `peer` closed (a no-op when it was closed as the oldest).
  void unauthenticated(NodeId peer, tcp::socket* socket) {
    const auto it = by_peer.find(peer);
    if (it == by_peer.end()) return;
    std::erase(it->second, socket);
    if (it->second.empty()) by_peer.erase(it);
  }

  /// True when a certificate naming `name`, issued at `issued`, is revoked
  /// (one without a readable issue time counts as issued at the epoch).
  bool is_revoked(std::string_view name, std::optional<std::int64_t> issued) const {
    const auto it = revoked.find(name);
    return it != revoked.end() && issued.value_or(0) <= it->second;
  }

  void revoke(const std::string& name, std::int64_t issued_until_s) {
    std::int64_t& until = revoked[name];
    until = std::max(until, issued_until_s);
    // Connections authenticated with a certificate revoked now end; the
    // peer's next handshake is checked like any other.
    const NodeId id = node_id_of(name);
    if (const auto held = by_peer.find(id); held != by_peer.end()) {
      for (tcp::socket* socket : held->second) {
        const auto issued = incoming_issued_at.find(socket);
        if (issued == incoming_issued_at.end() || issued->second > until) continue;
        ++counters.revoked_certificates;
        error_code ignored;
        socket->close(ignored);
      }
    }
    if (const auto peer = peers.find(id); peer != peers.end()) {
      Peer& outgoing = *peer->second;
      if (outgoing.current != nullptr && outgoing.current_issued_at.value_or(0) <= until) {
        ++counters.revoked_certificates;
        error_code ignored;
        outgoing.current->close(ignored);
      }
    }
    logger.warn(kComponent, "certificates of node " + name + " issued until " +
                                std::to_string(until) + " (Unix time) are revoked");
  }

  Result<void> reload_credentials(const std::string& cert_pem, const std::string& key_pem) {
    auto server = std::make_shared<ssl::context>(ssl::context::tls);
    auto client = std::make_shared<ssl::context>(ssl::context::tls);
    TransportSettings candidate = settings;
    candidate.cert_pem = cert_pem;
    candidate.key_pem = key_pem;
    std::swap(settings, candidate);  // load_tls reads the settings
    auto loaded = load_tls(*server, true);
    if (loaded) loaded = load_tls(*client, false);
    if (!loaded) {
      std::swap(settings, candidate);  // keep serving with the old ones
      return loaded.error();
    }
    server_tls = std::move(server);
    client_tls = std::move(client);
    logger.info(kComponent, "loaded new node credentials; new connections use them");
    return {};
  }

  void reject(const std::string& where, const std::string& why) {
    ++counters.rejected_handshakes;
    // Anyone who can reach the port can cause these: one line a second at
    // most (every refusal is counted), so they cannot flood the log.
    const auto now = Clock::now();
    if (now - last_reject_logged < kRejectLogInterval) {
      ++rejects_not_logged;
      return;
    }
    std::string line = "refused peer " + where + ": " + why;
    if (rejects_not_logged > 0) {
      line += " (and " + std::to_string(rejects_not_logged) + " more refusals not logged)";
    }
    logger.warn(kComponent, line);
    last_reject_logged = now;
    rejects_not_logged = 0;
  }

  /// TLS handshake and hello of an incoming connection: the peer's name,
  /// or nullopt when refused (counted).
  asio::awaitable<std::optional<std::string>> authenticate(TlsStream& stream,
                                                           net::SocketDeadline& watchdog,
                                                           const std::string& where) {
    watchdog.arm(settings.handshake_timeout);
    if (auto [error] = co_await stream.async_handshake(ssl::stream_base::server, kTuple); error) {
      if (!stopped && watchdog.expired()) ++counters.handshake_timeouts;
      if (!stopped)
        reject(where, watchdog.expired()
                          ? "TLS handshake timed out"
                          : "TLS handshake: " + handshake_error(error, stream.native_handle()));
      co_return std::nullopt;
    }
    std::string header(kHelloHeaderBytes, '\0');
    if (auto [error, n] = co_await asio::async_read(stream, asio::buffer(header), kTuple); error) {
      if (!stopped && watchdog.expired()) ++counters.handshake_timeouts;
      if (!stopped)
        reject(where,
               watchdog.expired() ? "no hello in time" : "reading hello: " + error.message());
      co_return std::nullopt;
    }
    const std::size_t length = hello_name_length(header);
    if (length == 0) {
      reject(where, "malformed hello");
      co_return std::nullopt;
    }
    std::string name(length, '\0');
    if (auto [error, n] = co_await asio::async_read(stream, asio::buffer(name), kTuple); error) {
      if (!stopped && watchdog.expired()) ++counters.handshake_timeouts;
      if (!stopped)
        reject(where,
               watchdog.expired() ? "no hello in time" : "reading hello: " + error.message());
      co_return std::nullopt;
    }
    if (auto valid = validate_node_name(name); !valid) {
      reject(where, "hello: " + valid.error().message);
      co_return std::nullopt;
    }
    X509* certificate = SSL_get1_peer_certificate(stream.native_handle());
    const bool named = certificate_names(certificate, name);
    const std::optional<std::int64_t> issued = issued_at(certificate);
    X509_free(certificate);
    if (!named) {
      reject(where, "hello claims node " + name + ", which its certificate does not name");
      co_return std::nullopt;
    }
    if (is_revoked(name, issued)) {
      ++counters.revoked_certificates;
      reject(where, "the certificate of node " + name + " is revoked");
      co_return std::nullopt;
    }
    incoming_issued_at[&stream.next_layer()] = issued.value_or(0);
    co_return name;
  }

  /// One incoming connection from `source` (its address, counted in
  /// `handshaking` by the accept loop).
  static asio::awaitable<void> serve(std::shared_ptr<Impl> self, tcp::socket socket,
                                     std::string source) {
    error_code ignored;
    const auto remote = socket.remote_endpoint(ignored);
    std::string where = remote.address().to_string() + ":" + std::to_string(remote.port());
    const std::shared_ptr<ssl::context> tls = self->server_tls;  // outlives the stream
    TlsStream stream(std::move(socket), *tls);
    tcp::socket* const raw = &stream.next_layer();
    self->incoming.insert(raw);
    // Undoes what this connection is counted in, whichever way it ends.
    struct Forget {
      Impl& impl;
      tcp::socket* raw;
      const std::string& source;
      bool handshaking = true;
      std::optional<NodeId> peer;
      ~Forget() {
        impl.incoming.erase(raw);
        impl.incoming_issued_at.erase(raw);
        if (handshaking) impl.handshake_over(source);
        if (peer) impl.unauthenticated(*peer, raw);
      }
    } forget{*self, raw, source, true, std::nullopt};
    net::SocketDeadline watchdog(stream.next_layer(), net::OnExpiry::close);

    const std::optional<std::string> name = co_await self->authenticate(stream, watchdog, where);
    forget.handshaking = false;
    self->handshake_over(source);
    if (!name) co_return;
    const NodeId peer_id = node_id_of(*name);
    where = "node " + *name + " at " + where;
    self->logger.info(kComponent, "accepted " + where);
    forget.peer = peer_id;
    self->authenticated(peer_id, raw, where);

    SnapshotAssembler assembler(self->settings.max_snapshot_bytes);
    // Bytes received and not yet delivered. Every whole frame in it is
    // delivered before the next read, so a burst of messages reaches the
    // driver together: one Raft batch, one fsync, instead of one per message.
    std::string inbox;
    std::vector<char> chunk(kReadChunkBytes);
    while (!self->stopped) {
      std::size_t consumed = 0;
      while (inbox.size() - consumed >= 4) {
        const std::string_view rest = std::string_view(inbox).substr(consumed);
        const auto length = frame_length(rest.substr(0, 4));
        if (!length) {
          self->bad_frame(where, length.error().message);
          co_return;
        }
        if (rest.size() - 4 < *length) break;
        auto decoded = decode_payload(rest.substr(4, *length));
        consumed += 4 + *length;
        if (!decoded) {
          self->bad_frame(where, decoded.error().message);
          co_return;
        }
        if (!self->deliver(std::move(*decoded), peer_id, assembler, where)) co_return;
        if (self->stopped) break;
      }
      inbox.erase(0, consumed);
      if (inbox.capacity() > 2 * kMaxBatchBytes && inbox.size() < kMaxBatchBytes)
        inbox.shrink_to_fit();
      if (self->stopped) break;

      watchdog.arm(self->settings.idle_timeout);
      auto [error, n] = co_await stream.async_read_some(asio::buffer(chunk), kTuple);
      watchdog.disarm();
      if (self->stopped) break;
      if (error) {
        // A peer that closes with close_notify gets ours back.
        if (error == asio::error::eof) co_await self->close_gracefully(stream, watchdog);
        self->logger.info(kComponent, "connection from " + where + " closed: " +
                                          (watchdog.expired() ? "idle timeout" : error.message()));
        co_return;
      }
      inbox.append(chunk.data(), n);
    }
    co_await self->close_gracefully(stream, watchdog);
  }

  void bad_frame(const std::string& where, const std::string& why) {
    ++counters.bad_frames;
    logger.warn(kComponent, "bad frame from " + where + ": " + why);
  }

  /// Hands one payload from the authenticated `peer` to its handler; false
  /// when the connection must close.
  bool deliver(Payload payload, NodeId peer, SnapshotAssembler& assembler,
               const std::string& where) {
    const NodeId from = std::visit([](const auto& p) { return p.from; }, payload);
    if (from != peer) {
      ++counters.wrong_sender;
      logger.warn(kComponent, "dropped a frame from " + where + " claiming to be from node " +
                                  std::to_string(from));
      assembler.reset();  // what came before was not the snapshot it claimed
      return true;
    }
    if (auto* chunk = std::get_if<SnapshotChunk>(&payload)) {
      auto added = assembler.add(std::move(*chunk));
      if (!added) {
        bad_frame(where, added.error().message);
        return false;
      }
      if (!*added) return true;
      payload = std::move(**added);
    }
    if (auto* report = std::get_if<NodeReport>(&payload)) {
      ++counters.received;
      if (on_report) on_report(*report);
      return true;
    }
    if (auto* forward = std::get_if<ForwardFrame>(&payload)) {
      ++counters.received;
      if (events.on_forward) events.on_forward(std::move(*forward));
      return true;
    }
    ++counters.received;
    on_message(std::get<Message>(std::move(payload)));
    return true;
  }
};

Transport::Transport(asio::io_context& io, TransportSettings settings, Logger& logger,
                     MessageHandler on_message, ReportHandler on_report, TransportEvents events)
    : impl_(std::make_shared<Impl>(io, std::move(settings), logger, std::move(on_message),
                                   std::move(on_report), std::move(events))) {}

Transport::~Transport() {
  // stop() cancels timers, which report a failure by throwing; a destructor
  // must not pass that on.
  try {
    impl_->stop();
  } catch (const std::exception& e) {
    impl_->logger.error(kComponent, std::string("stopping failed: ") + e.what());
  }
}

Result<void> Transport::start() {
  return impl_->start();
}

SocketAddress Transport::bound() const {
  return impl_->bound;
}

NodeId Transport::self() const {
  return impl_->self;
}

void Transport::add_peer(NodeId id, std::string name, SocketAddress address) {
  MERIDIAN_ASSERT(validate_node_name(name).ok(), "add_peer with an invalid node name");
  MERIDIAN_ASSERT(id == node_id_of(name), "add_peer: the id is not node_id_of(name)");
  if (impl_->stopped) return;
  auto& peer = impl_->peers[id];
  if (peer && peer->address == address) return;
  if (peer) impl_->discard_peer(*peer, true);  // re-addressed: a fresh connection
  peer = std::make_shared<Impl::Peer>(impl_->io);
  peer->id = id;
  peer->name = std::move(name);
  peer->address = address;
  impl_->launch(peer);
}

void Transport::remove_peer(NodeId id) {
  const auto it = impl_->peers.find(id);
  if (it == impl_->peers.end()) return;
  impl_->discard_peer(*it->second, true);
  impl_->peers.erase(it);
}

void Transport::revoke(const std::string& name, std::int64_t issued_until_s) {
  if (impl_->stopped) return;
  impl_->revoke(name, issued_until_s);
}

Result<void> Transport::reload_credentials(const std::string& cert_pem,
                                           const std::string& key_pem) {
  return impl_->reload_credentials(cert_pem, key_pem);
}

void Transport::send(Message message) {
  impl_->send(std::move(message));
}

void Transport::send_report(const NodeReport& report) {
  impl_->send_report(report);
}

void Transport::send_forward(const ForwardFrame& frame) {
  impl_->send_forward(frame);
}

void Transport::stop() {
  impl_->stop();
}

const TransportCounters& Transport::counters() const {
  return impl_->counters;
}

std::size_t Transport::queued(NodeId id) const {
  const auto it = impl_->peers.find(id);
  if (it == impl_->peers.end()) return 0;
  return it->second->frames.size() + (it->second->snapshot ? 1 : 0);
}

}  // namespace meridian::cluster
