// The peer transport: see transport.hpp. One coroutine per connection owns
// its socket; a Watchdog puts a deadline on every operation by closing the
// socket when it expires.

#include "cluster/transport.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <exception>
#include <map>
#include <random>
#include <set>
#include <utility>

#include "cluster/wire.hpp"

namespace meridian::cluster {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kHelloMagic = "MRDN";
constexpr std::uint8_t kHelloVersion = 1;
constexpr const char* kComponent = "transport";
/// Frames written in one write when several are queued.
constexpr std::size_t kMaxBatchBytes = 1024 * 1024;
/// A connection that stayed up this long resets the reconnect backoff.
constexpr auto kStableConnection = std::chrono::seconds(1);

asio::ip::address to_asio(const IpAddress& address) {
  if (address.family == IpAddress::Family::v4) {
    return asio::ip::address_v4(
        asio::ip::address_v4::bytes_type{address.bytes[0], address.bytes[1], address.bytes[2], address.bytes[3]});
  }
  return asio::ip::address_v6(address.bytes);
}

SocketAddress from_asio(const tcp::endpoint& endpoint) {
  SocketAddress out;
  IpAddress::parse(endpoint.address().to_string(), out.address);
  out.port = endpoint.port();
  return out;
}

bool decode_hello(std::string_view bytes, NodeId& id) {
  if (bytes.size() != kHelloBytes || bytes.substr(0, 4) != kHelloMagic ||
      static_cast<std::uint8_t>(bytes[4]) != kHelloVersion) {
    return false;
  }
  id = 0;
  for (std::size_t i = 5; i < kHelloBytes; ++i) id = (id << 8) | static_cast<std::uint8_t>(bytes[i]);
  return id != no_node;
}

/// True when the certificate names `id` in its CN or a DNS SAN.
bool certificate_names(X509* certificate, NodeId id) {
  if (certificate == nullptr) return false;
  const std::string name = std::to_string(id);
  return X509_check_host(certificate, name.data(), name.size(),
                         X509_CHECK_FLAG_ALWAYS_CHECK_SUBJECT | X509_CHECK_FLAG_NO_WILDCARDS, nullptr) == 1;
}

/// Closes a socket when a deadline passes. arm() sets (replaces) the
/// deadline of the next operation; disarm() clears it.
class Watchdog {
 public:
  Watchdog(const asio::any_io_executor& executor, tcp::socket& socket)
      : state_(std::make_shared<State>(executor, &socket)) {}
  ~Watchdog() {
    state_->socket = nullptr;
    state_->timer.cancel();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void arm(std::chrono::milliseconds timeout) {
    const std::uint64_t generation = ++state_->generation;
    state_->timer.expires_after(timeout);
    state_->timer.async_wait([state = state_, generation](const error_code& error) {
      if (error || state->socket == nullptr || state->generation != generation) return;
      state->expired = true;
      error_code ignored;
      state->socket->close(ignored);
    });
  }
  void disarm() {
    ++state_->generation;
    state_->timer.cancel();
  }
  bool expired() const { return state_->expired; }

 private:
  struct State {
    State(const asio::any_io_executor& executor, tcp::socket* s) : timer(executor), socket(s) {}
    asio::steady_timer timer;
    tcp::socket* socket;
    std::uint64_t generation = 0;
    bool expired = false;
  };
  std::shared_ptr<State> state_;
};

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

}  // namespace

std::string encode_hello(NodeId id) {
  std::string out(kHelloMagic);
  out.push_back(static_cast<char>(kHelloVersion));
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((id >> shift) & 0xff));
  return out;
}

struct Transport::Impl : std::enable_shared_from_this<Transport::Impl> {
  struct Peer {
    explicit Peer(asio::io_context& io) : wakeup(io), backoff(io) {}
    NodeId id = no_node;
    SocketAddress address;
    std::deque<std::string> frames;
    std::size_t bytes = 0;
    asio::steady_timer wakeup;       ///< the writer waits on it for frames
    asio::steady_timer backoff;      ///< the reconnect delay
    tcp::socket* current = nullptr;  ///< the open connection, owned by the coroutine
    bool stopped = false;
    bool running = false;
  };

  Impl(asio::io_context& io_, TransportSettings settings_, Logger& logger_, MessageHandler handler)
      : io(io_),
        settings(std::move(settings_)),
        logger(logger_),
        on_message(std::move(handler)),
        acceptor(io_),
        server_tls(ssl::context::tls),
        client_tls(ssl::context::tls),
        random(std::random_device{}()) {}

  asio::io_context& io;
  TransportSettings settings;
  Logger& logger;
  MessageHandler on_message;
  tcp::acceptor acceptor;
  ssl::context server_tls;
  ssl::context client_tls;
  std::mt19937_64 random;
  std::map<NodeId, std::shared_ptr<Peer>> peers;
  std::set<tcp::socket*> incoming;
  TransportCounters counters;
  SocketAddress bound;
  bool started = false;
  bool stopped = false;

  /// The co_spawn completion: logs an exception that ended a coroutine
  /// (resource exhaustion, or one thrown by on_message) instead of
  /// propagating it out of io_context::run().
  auto completion(const char* what) {
    return [self = shared_from_this(), what](const std::exception_ptr& exception) {
      if (!exception) return;
      try {
        std::rethrow_exception(exception);
      } catch (const std::exception& e) {
        self->logger.error(kComponent, std::string(what) + " failed: " + e.what());
      } catch (...) {
        self->logger.error(kComponent, std::string(what) + " failed");
      }
    };
  }

  Result<void> load_tls(ssl::context& context, bool server) {
    error_code error;
    context.set_options(ssl::context::default_workarounds | ssl::context::no_compression | ssl::context::no_sslv2 |
                            ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
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
    context.set_verify_mode(server ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert : ssl::verify_peer, error);
    if (error) return fail("cannot set TLS verification: ", error.message());
    return {};
  }

  Result<void> start() {
    const std::string where = settings.listen.to_string();
    if (started || stopped) return fail("transport on ", where, ": already started or stopped");
    if (settings.self == no_node) return fail("transport on ", where, ": node id 0 is not a node id");
    if (auto loaded = load_tls(server_tls, true); !loaded)
      return fail("transport on ", where, ": ", loaded.error().message);
    if (auto loaded = load_tls(client_tls, false); !loaded)
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
    logger.info(kComponent, "node " + std::to_string(settings.self) + " listening on " + bound.to_string());
    asio::co_spawn(io, accept_loop(shared_from_this()), completion("the accept loop"));
    for (auto& [id, peer] : peers) launch(peer);
    return {};
  }

  void launch(const std::shared_ptr<Peer>& peer) {
    if (!started || stopped || peer->running) return;
    peer->running = true;
    asio::co_spawn(io, run_peer(shared_from_this(), peer), completion("a peer connection"));
  }

  static void close_peer(Peer& peer) {
    peer.stopped = true;
    peer.frames.clear();
    peer.bytes = 0;
    peer.wakeup.cancel();
    peer.backoff.cancel();
    if (peer.current != nullptr) {
      error_code ignored;
      peer.current->close(ignored);
    }
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    error_code ignored;
    acceptor.close(ignored);
    for (auto& [id, peer] : peers) close_peer(*peer);
    peers.clear();
    for (tcp::socket* socket : incoming) socket->close(ignored);
  }

  void send(Message message) {
    const auto it = peers.find(message.to);
    if (stopped || it == peers.end()) {
      ++counters.dropped;
      return;
    }
    auto frame = encode_frame(message);
    if (!frame) {
      ++counters.dropped;
      logger.warn(kComponent,
                  "cannot encode a message for node " + std::to_string(message.to) + ": " + frame.error().message);
      return;
    }
    Peer& peer = *it->second;
    peer.bytes += frame->size();
    peer.frames.push_back(std::move(*frame));
    // Drop the oldest while over either bound (the newest always stays).
    while (peer.frames.size() > 1 &&
           (peer.frames.size() > settings.max_queue_messages || peer.bytes > settings.max_queue_bytes)) {
      peer.bytes -= peer.frames.front().size();
      peer.frames.pop_front();
      ++counters.dropped;
    }
    peer.wakeup.cancel();
  }

  std::chrono::milliseconds jittered(std::chrono::milliseconds backoff) {
    // Uniform in [backoff / 2, backoff].
    std::uniform_int_distribution<std::int64_t> pick(backoff.count() / 2, backoff.count());
    return std::chrono::milliseconds(pick(random));
  }

  static asio::awaitable<void> run_peer(std::shared_ptr<Impl> self, std::shared_ptr<Peer> peer) {
    std::chrono::milliseconds backoff = self->settings.backoff_min;
    while (!peer->stopped && !self->stopped) {
      const auto began = Clock::now();
      const bool connected = co_await self->connection(peer);
      if (peer->stopped || self->stopped) break;
      // Back off from scratch only after a connection that lasted: with TLS
      // 1.3 a server that refuses our certificate does so after our side of
      // the handshake succeeded, and that must not become a tight loop.
      if (connected && Clock::now() - began >= kStableConnection) backoff = self->settings.backoff_min;
      peer->backoff.expires_after(self->jittered(backoff));
      co_await peer->backoff.async_wait(asio::as_tuple(asio::use_awaitable));
      backoff = std::min(backoff * 2, self->settings.backoff_max);
    }
    peer->running = false;
  }

  /// One outgoing connection's life; true when the handshake and hello
  /// succeeded.
  asio::awaitable<bool> connection(std::shared_ptr<Peer> peer) {
    const std::string name = std::to_string(peer->id);
    const std::string where = "node " + name + " at " + peer->address.to_string();
    ssl::stream<tcp::socket> stream(io, client_tls);
    peer->current = &stream.next_layer();
    struct Forget {
      Peer& peer;
      ~Forget() { peer.current = nullptr; }
    } forget{*peer};
    Watchdog watchdog(io.get_executor(), stream.next_layer());
    if (SSL_set1_host(stream.native_handle(), name.c_str()) != 1) {
      logger.error(kComponent, "cannot set the expected name of " + where);
      co_return false;
    }
    watchdog.arm(settings.connect_timeout);
    const tcp::endpoint endpoint(to_asio(peer->address.address), peer->address.port);
    if (auto [error] = co_await stream.next_layer().async_connect(endpoint, asio::as_tuple(asio::use_awaitable));
        error) {
      logger.debug(kComponent,
                   "cannot connect to " + where + ": " + (watchdog.expired() ? "timed out" : error.message()));
      co_return false;
    }
    if (peer->stopped || stopped) co_return false;
    watchdog.arm(settings.handshake_timeout);
    if (auto [error] = co_await stream.async_handshake(ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
        error) {
      logger.warn(kComponent, "TLS handshake with " + where + " failed: " +
                                  (watchdog.expired() ? "timed out" : handshake_error(error, stream.native_handle())));
      co_return false;
    }
    const std::string hello = encode_hello(settings.self);
    if (auto [error, n] = co_await asio::async_write(stream, asio::buffer(hello), asio::as_tuple(asio::use_awaitable));
        error) {
      logger.warn(kComponent, "cannot send hello to " + where + ": " + error.message());
      co_return false;
    }
    watchdog.disarm();
    logger.info(kComponent, "connected to " + where);
    std::string batch;
    while (!peer->stopped && !stopped) {
      if (peer->frames.empty()) {
        peer->wakeup.expires_at(Clock::time_point::max());
        co_await peer->wakeup.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      batch.clear();
      std::uint64_t count = 0;
      while (!peer->frames.empty() && (batch.empty() || batch.size() + peer->frames.front().size() <= kMaxBatchBytes)) {
        batch += peer->frames.front();
        peer->bytes -= peer->frames.front().size();
        peer->frames.pop_front();
        ++count;
      }
      watchdog.arm(settings.idle_timeout);
      auto [error, n] = co_await asio::async_write(stream, asio::buffer(batch), asio::as_tuple(asio::use_awaitable));
      watchdog.disarm();
      if (error) {
        counters.dropped += count;  // lost with the connection; Raft retransmits
        if (!peer->stopped && !stopped) {
          logger.warn(kComponent,
                      "write to " + where + " failed: " + (watchdog.expired() ? "timed out" : error.message()));
        }
        co_return true;
      }
      counters.sent += count;
    }
    co_return true;
  }

  static asio::awaitable<void> accept_loop(std::shared_ptr<Impl> self) {
    asio::steady_timer pause(self->io);
    while (!self->stopped) {
      auto [error, socket] = co_await self->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (self->stopped) break;
      if (error) {
        // For example out of descriptors: pause rather than spin.
        self->logger.warn(kComponent, "accept failed: " + error.message());
        pause.expires_after(std::chrono::milliseconds(100));
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (self->incoming.size() >= self->settings.max_incoming_connections) {
        ++self->counters.rejected_handshakes;
        self->logger.warn(kComponent, "too many incoming connections; closing one");
        continue;  // the socket closes as it leaves scope
      }
      asio::co_spawn(self->io, serve(self, std::move(socket)), self->completion("an incoming connection"));
    }
  }

  void reject(const std::string& where, const std::string& why) {
    ++counters.rejected_handshakes;
    logger.warn(kComponent, "refused peer " + where + ": " + why);
  }

  static asio::awaitable<void> serve(std::shared_ptr<Impl> self, tcp::socket socket) {
    error_code ignored;
    const auto remote = socket.remote_endpoint(ignored);
    std::string where = remote.address().to_string() + ":" + std::to_string(remote.port());
    ssl::stream<tcp::socket> stream(std::move(socket), self->server_tls);
    tcp::socket* const raw = &stream.next_layer();
    self->incoming.insert(raw);
    struct Forget {
      Impl& impl;
      tcp::socket* raw;
      ~Forget() { impl.incoming.erase(raw); }
    } forget{*self, raw};
    Watchdog watchdog(self->io.get_executor(), stream.next_layer());

    watchdog.arm(self->settings.handshake_timeout);
    if (auto [error] = co_await stream.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
        error) {
      if (!self->stopped)
        self->reject(where, watchdog.expired() ? "TLS handshake timed out"
                                               : "TLS handshake: " + handshake_error(error, stream.native_handle()));
      co_return;
    }
    std::string hello(kHelloBytes, '\0');
    if (auto [error, n] = co_await asio::async_read(stream, asio::buffer(hello), asio::as_tuple(asio::use_awaitable));
        error) {
      if (!self->stopped)
        self->reject(where, watchdog.expired() ? "no hello in time" : "reading hello: " + error.message());
      co_return;
    }
    NodeId peer_id = no_node;
    if (!decode_hello(hello, peer_id)) {
      self->reject(where, "malformed hello");
      co_return;
    }
    X509* certificate = SSL_get1_peer_certificate(stream.native_handle());
    const bool named = certificate_names(certificate, peer_id);
    X509_free(certificate);
    if (!named) {
      self->reject(where, "hello claims node " + std::to_string(peer_id) + ", which its certificate does not name");
      co_return;
    }
    where = "node " + std::to_string(peer_id) + " at " + where;
    self->logger.info(kComponent, "accepted " + where);

    std::string header(4, '\0');
    std::string payload;
    while (!self->stopped) {
      watchdog.arm(self->settings.idle_timeout);
      if (auto [error, n] =
              co_await asio::async_read(stream, asio::buffer(header), asio::as_tuple(asio::use_awaitable));
          error) {
        if (!self->stopped) {
          self->logger.info(kComponent, "connection from " + where +
                                            " closed: " + (watchdog.expired() ? "idle timeout" : error.message()));
        }
        co_return;
      }
      const auto length = frame_length(header);
      if (!length) {
        ++self->counters.bad_frames;
        self->logger.warn(kComponent, "bad frame from " + where + ": " + length.error().message);
        co_return;
      }
      payload.resize(*length);
      if (auto [error, n] =
              co_await asio::async_read(stream, asio::buffer(payload), asio::as_tuple(asio::use_awaitable));
          error) {
        if (!self->stopped) {
          self->logger.info(kComponent, "connection from " + where + " closed mid-frame: " +
                                            (watchdog.expired() ? "idle timeout" : error.message()));
        }
        co_return;
      }
      watchdog.disarm();
      auto message = decode_payload(payload);
      if (!message) {
        ++self->counters.bad_frames;
        self->logger.warn(kComponent, "bad frame from " + where + ": " + message.error().message);
        co_return;
      }
      if (message->from != peer_id) {
        ++self->counters.wrong_sender;
        self->logger.warn(kComponent, "dropped a message from " + where + " claiming to be from node " +
                                          std::to_string(message->from));
        continue;
      }
      if (payload.capacity() > 64 * 1024) std::string().swap(payload);  // do not pin a large snapshot's buffer
      if (self->stopped) co_return;
      ++self->counters.received;
      self->on_message(std::move(*message));
    }
  }
};

Transport::Transport(asio::io_context& io, TransportSettings settings, Logger& logger, MessageHandler on_message)
    : impl_(std::make_shared<Impl>(io, std::move(settings), logger, std::move(on_message))) {}

Transport::~Transport() { impl_->stop(); }

Result<void> Transport::start() { return impl_->start(); }

SocketAddress Transport::bound() const { return impl_->bound; }

void Transport::add_peer(NodeId id, SocketAddress address) {
  if (impl_->stopped) return;
  auto& peer = impl_->peers[id];
  if (peer && peer->address == address) return;
  if (peer) Impl::close_peer(*peer);  // re-addressed: a fresh connection
  peer = std::make_shared<Impl::Peer>(impl_->io);
  peer->id = id;
  peer->address = address;
  impl_->launch(peer);
}

void Transport::remove_peer(NodeId id) {
  const auto it = impl_->peers.find(id);
  if (it == impl_->peers.end()) return;
  Impl::close_peer(*it->second);
  impl_->peers.erase(it);
}

void Transport::send(Message message) { impl_->send(std::move(message)); }

void Transport::stop() { impl_->stop(); }

const TransportCounters& Transport::counters() const { return impl_->counters; }

std::size_t Transport::queued(NodeId id) const {
  const auto it = impl_->peers.find(id);
  return it == impl_->peers.end() ? 0 : it->second->frames.size();
}

}  // namespace meridian::cluster
