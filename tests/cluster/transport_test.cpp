#include "cluster/transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "cluster/certs.hpp"
#include "cluster/wire.hpp"

using namespace meridian;
using namespace meridian::cluster;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

struct Pki {
  IssuedCertificate ca, node1, node2, foreign_ca, foreign_node2;
};

const Pki& pki() {
  static const Pki keys = [] {
    Pki p;
    auto ca = create_ca({"meridian test CA", {}, {}});
    REQUIRE(ca.ok());
    p.ca = *ca;
    auto n1 = issue_node_certificate(p.ca, {"1", {"1"}, {}});
    auto n2 = issue_node_certificate(p.ca, {"2", {"2"}, {}});
    auto fca = create_ca({"foreign CA", {}, {}});
    REQUIRE((n1.ok() && n2.ok() && fca.ok()));
    p.node1 = *n1;
    p.node2 = *n2;
    p.foreign_ca = *fca;
    auto fn2 = issue_node_certificate(p.foreign_ca, {"2", {"2"}, {}});
    REQUIRE(fn2.ok());
    p.foreign_node2 = *fn2;
    return p;
  }();
  return keys;
}

SocketAddress loopback(std::uint16_t port) { return {IpAddress::v4(127, 0, 0, 1), port}; }

TransportSettings settings_for(NodeId id, const IssuedCertificate& cert, std::uint16_t port = 0) {
  TransportSettings s;
  s.self = id;
  s.listen = loopback(port);
  s.ca_pem = pki().ca.certificate_pem;
  s.cert_pem = cert.certificate_pem;
  s.key_pem = cert.key_pem;
  s.connect_timeout = 500ms;
  s.handshake_timeout = 1000ms;
  s.backoff_min = 20ms;
  s.backoff_max = 100ms;
  return s;
}

/// Silent unless MERIDIAN_TEST_LOG is set (then everything, to stderr).
Logger& quiet() {
  static Logger logger = std::getenv("MERIDIAN_TEST_LOG") != nullptr ? Logger(LogLevel::debug)
                                                                     : Logger(LogLevel::error, [](std::string_view) {});
  return logger;
}

/// Runs `io` until `done` or `limit` passes; returns done().
bool run_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds limit = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.restart();
    io.run_for(5ms);
  }
  return done();
}

/// A port that was free a moment ago (for a peer that starts later).
std::uint16_t free_port(asio::io_context& io) {
  tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return probe.local_endpoint().port();
}

Message message(MessageType type, NodeId from, NodeId to, std::uint64_t term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

struct Outcome {
  bool done = false;
  bool handshake_ok = false;
};

/// A test client: TLS (with `cert` unless null, verifying nothing), then
/// `bytes`, then reads until the server closes the connection.
asio::awaitable<void> tls_client(ssl::context& context, std::uint16_t port, std::string bytes,
                                 std::shared_ptr<Outcome> out) {
  ssl::stream<tcp::socket> stream(co_await asio::this_coro::executor, context);
  auto [connect_error] = co_await stream.next_layer().async_connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::as_tuple(asio::use_awaitable));
  if (!connect_error) {
    auto [handshake_error] =
        co_await stream.async_handshake(ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    out->handshake_ok = !handshake_error;
    if (!handshake_error) {
      co_await asio::async_write(stream, asio::buffer(bytes), asio::as_tuple(asio::use_awaitable));
      char byte = 0;
      co_await asio::async_read(stream, asio::buffer(&byte, 1), asio::as_tuple(asio::use_awaitable));
    }
  }
  out->done = true;
}

std::unique_ptr<ssl::context> client_context(const IssuedCertificate* cert) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  context->set_verify_mode(ssl::verify_none);
  if (cert != nullptr) {
    context->use_certificate_chain(asio::buffer(cert->certificate_pem));
    context->use_private_key(asio::buffer(cert->key_pem), ssl::context::pem);
  }
  return context;
}

struct Server {
  asio::io_context& io;
  std::vector<Message> got;
  Transport transport;
  explicit Server(asio::io_context& io_)
      : io(io_),
        transport(io_, settings_for(1, pki().node1), quiet(), [this](Message m) { got.push_back(std::move(m)); }) {
    REQUIRE(transport.start().ok());
  }
  std::uint16_t port() const { return transport.bound().port; }
};

/// Runs a TLS client against `server` and waits until its connection ends.
std::shared_ptr<Outcome> connect_client(Server& server, const IssuedCertificate* cert, std::string bytes) {
  auto context = client_context(cert);
  auto out = std::make_shared<Outcome>();
  asio::co_spawn(server.io, tls_client(*context, server.port(), std::move(bytes), out), asio::detached);
  REQUIRE(run_until(server.io, [&] { return out->done; }));
  return out;
}

}  // namespace

TEST_CASE("transport: two nodes exchange messages both ways", "[cluster]") {
  asio::io_context io;
  std::vector<Message> at1, at2;
  Transport t1(io, settings_for(1, pki().node1), quiet(), [&](Message m) { at1.push_back(std::move(m)); });
  Transport t2(io, settings_for(2, pki().node2), quiet(), [&](Message m) { at2.push_back(std::move(m)); });
  REQUIRE(t1.start().ok());
  REQUIRE(t2.start().ok());
  CHECK(t1.bound().port != 0);
  t1.add_peer(2, t2.bound());
  t2.add_peer(1, t1.bound());

  Message append = message(MessageType::append, 1, 2, 3);
  append.index = 10;
  append.log_term = 2;
  append.commit = 9;
  append.entries = {{11, 3, store::EntryType::normal, "put a=1"},
                    {12, 3, store::EntryType::normal, std::string(100000, 'x')}};
  Message snapshot = message(MessageType::snapshot, 2, 1, 4);
  snapshot.snapshot = store::Snapshot{40, 4, {{1, 2}, {}}, "state"};
  t1.send(append);
  t1.send(message(MessageType::heartbeat, 1, 2, 3));
  t2.send(snapshot);

  REQUIRE(run_until(io, [&] { return at2.size() == 2 && at1.size() == 1; }));
  CHECK(at2[0] == append);
  CHECK(at2[1].type == MessageType::heartbeat);
  CHECK(at1[0] == snapshot);
  CHECK(t1.counters().sent == 2);
  CHECK(t2.counters().received == 2);
  CHECK(t1.counters().received == 1);
  CHECK(t1.counters().rejected_handshakes == 0);
  CHECK(t2.counters().rejected_handshakes == 0);

  // Unknown peers are counted as drops.
  t1.send(message(MessageType::heartbeat, 1, 9, 3));
  CHECK(t1.counters().dropped == 1);
}

TEST_CASE("transport: a message sent before the peer is up arrives once it starts", "[cluster]") {
  asio::io_context io;
  const std::uint16_t port = free_port(io);
  std::vector<Message> at2;
  Transport t1(io, settings_for(1, pki().node1), quiet(), [](Message) {});
  REQUIRE(t1.start().ok());
  t1.add_peer(2, loopback(port));
  t1.send(message(MessageType::vote_request, 1, 2, 5));
  run_until(
      io, [] { return false; }, 150ms);  // a few failed connects and backoffs
  CHECK(at2.empty());
  CHECK(t1.queued(2) == 1);

  Transport t2(io, settings_for(2, pki().node2, port), quiet(), [&](Message m) { at2.push_back(std::move(m)); });
  REQUIRE(t2.start().ok());
  REQUIRE(run_until(io, [&] { return at2.size() == 1; }));
  CHECK(at2[0] == message(MessageType::vote_request, 1, 2, 5));
  CHECK(t1.queued(2) == 0);
}

TEST_CASE("transport: the queue keeps the newest messages when the peer is down", "[cluster]") {
  asio::io_context io;
  auto s = settings_for(1, pki().node1);
  s.max_queue_messages = 4;
  Transport t1(io, s, quiet(), [](Message) {});
  REQUIRE(t1.start().ok());
  t1.add_peer(2, loopback(free_port(io)));
  for (std::uint64_t term = 1; term <= 10; ++term) t1.send(message(MessageType::heartbeat, 1, 2, term));
  run_until(
      io, [] { return false; }, 50ms);
  CHECK(t1.queued(2) == 4);
  CHECK(t1.counters().dropped == 6);

  // The newest four (terms 7..10) are delivered once the peer comes up.
  std::vector<Message> at2;
  auto s2 = settings_for(2, pki().node2);
  Transport t2(io, s2, quiet(), [&](Message m) { at2.push_back(std::move(m)); });
  REQUIRE(t2.start().ok());
  t1.add_peer(2, t2.bound());  // re-addressed: the old queue goes with the old connection
  for (std::uint64_t term = 1; term <= 10; ++term) t1.send(message(MessageType::heartbeat, 1, 2, term));
  REQUIRE(run_until(io, [&] { return at2.size() == 4; }));
  for (std::size_t i = 0; i < 4; ++i) CHECK(at2[i].term == 7 + i);
}

TEST_CASE("transport: the byte bound also drops the oldest", "[cluster]") {
  asio::io_context io;
  auto s = settings_for(1, pki().node1);
  s.max_queue_bytes = 3000;
  Transport t1(io, s, quiet(), [](Message) {});
  t1.add_peer(2, loopback(free_port(io)));
  Message big = message(MessageType::append, 1, 2, 1);
  big.entries = {{1, 1, store::EntryType::normal, std::string(1000, 'y')}};
  for (int i = 0; i < 5; ++i) t1.send(big);
  CHECK(t1.queued(2) == 2);
  CHECK(t1.counters().dropped == 3);
}

TEST_CASE("transport: start errors name the address", "[cluster]") {
  asio::io_context io;
  Transport t1(io, settings_for(1, pki().node1), quiet(), [](Message) {});
  REQUIRE(t1.start().ok());
  Transport t2(io, settings_for(2, pki().node2, t1.bound().port), quiet(), [](Message) {});
  auto started = t2.start();
  REQUIRE_FALSE(started.ok());
  CHECK(started.error().message.find(t1.bound().to_string()) != std::string::npos);

  auto bad = settings_for(3, pki().node1);
  bad.key_pem = "not a key";
  Transport t3(io, bad, quiet(), [](Message) {});
  CHECK_FALSE(t3.start().ok());
}

TEST_CASE("transport: a client with a certificate from another CA is refused", "[cluster]") {
  asio::io_context io;
  Server server(io);
  const std::string bytes = encode_hello(2) + *encode_frame(message(MessageType::heartbeat, 2, 1, 1));
  connect_client(server, &pki().foreign_node2, bytes);
  CHECK(server.transport.counters().rejected_handshakes == 1);
  CHECK(server.got.empty());
  CHECK(server.transport.counters().received == 0);
}

TEST_CASE("transport: a client without a certificate is refused", "[cluster]") {
  asio::io_context io;
  Server server(io);
  const std::string bytes = encode_hello(2) + *encode_frame(message(MessageType::heartbeat, 2, 1, 1));
  connect_client(server, nullptr, bytes);
  CHECK(server.transport.counters().rejected_handshakes == 1);
  CHECK(server.got.empty());
}

TEST_CASE("transport: a client whose hello does not match its certificate is refused", "[cluster]") {
  asio::io_context io;
  Server server(io);
  const std::string bytes = encode_hello(3) + *encode_frame(message(MessageType::heartbeat, 3, 1, 1));
  auto out = connect_client(server, &pki().node2, bytes);
  CHECK(out->handshake_ok);
  CHECK(server.transport.counters().rejected_handshakes == 1);
  CHECK(server.got.empty());
}

TEST_CASE("transport: a valid client is heard; messages from another node id are dropped", "[cluster]") {
  asio::io_context io;
  Server server(io);
  const std::string bytes = encode_hello(2) + *encode_frame(message(MessageType::heartbeat, 3, 1, 1)) +
                            *encode_frame(message(MessageType::heartbeat, 2, 1, 1));
  auto context = client_context(&pki().node2);
  auto out = std::make_shared<Outcome>();
  asio::co_spawn(io, tls_client(*context, server.port(), bytes, out), asio::detached);
  REQUIRE(run_until(io, [&] { return server.got.size() == 1; }));
  CHECK(server.got[0].from == 2);
  CHECK(server.transport.counters().wrong_sender == 1);
  CHECK(server.transport.counters().rejected_handshakes == 0);
  server.transport.stop();
  REQUIRE(run_until(io, [&] { return out->done; }));
}

TEST_CASE("transport: raw TCP garbage is dropped without a crash", "[cluster]") {
  asio::io_context io;
  Server server(io);
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        tcp::socket socket(co_await asio::this_coro::executor);
        co_await socket.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()),
                                      asio::as_tuple(asio::use_awaitable));
        const std::string garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n" + std::string(5000, '\xff');
        co_await asio::async_write(socket, asio::buffer(garbage), asio::as_tuple(asio::use_awaitable));
        char buffer[256];
        for (;;) {
          auto [error, n] = co_await socket.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
          if (error) break;
        }
        done = true;
      },
      asio::detached);
  REQUIRE(run_until(io, [&] { return done; }));
  CHECK(server.transport.counters().rejected_handshakes == 1);
  CHECK(server.got.empty());
}

TEST_CASE("transport: bad frames from an authenticated peer close the connection", "[cluster]") {
  const std::string good = *encode_frame(message(MessageType::heartbeat, 2, 1, 1));
  std::string wrong_version = good;
  wrong_version[4] = 99;
  std::string garbage_payload = "\x01" + std::string(20, '\xee');
  REQUIRE_FALSE(decode_payload(garbage_payload).ok());
  std::string garbage_frame(4, '\0');
  garbage_frame[3] = static_cast<char>(garbage_payload.size());
  garbage_frame += garbage_payload;
  const std::string oversized = std::string("\xff\xff\xff\xff", 4) + std::string(100, 'z');

  for (const std::string* bad : std::vector<const std::string*>{&wrong_version, &garbage_frame, &oversized}) {
    asio::io_context io;
    Server server(io);
    // A good frame, the bad one, then another good one that must not be read.
    auto out = connect_client(server, &pki().node2, encode_hello(2) + good + *bad + good);
    CHECK(out->handshake_ok);
    CHECK(server.transport.counters().bad_frames == 1);
    CHECK(server.transport.counters().received == 1);
    CHECK(server.got.size() == 1);
  }
}

TEST_CASE("transport: an idle incoming connection is closed", "[cluster]") {
  asio::io_context io;
  std::vector<Message> got;
  auto s = settings_for(1, pki().node1);
  s.idle_timeout = 100ms;
  Transport t1(io, s, quiet(), [&](Message m) { got.push_back(std::move(m)); });
  REQUIRE(t1.start().ok());
  auto context = client_context(&pki().node2);
  auto out = std::make_shared<Outcome>();
  asio::co_spawn(io, tls_client(*context, t1.bound().port, encode_hello(2), out), asio::detached);
  REQUIRE(run_until(
      io, [&] { return out->done; }, 3000ms));
  CHECK(out->handshake_ok);
  CHECK(t1.counters().rejected_handshakes == 0);
}

TEST_CASE("transport: a peer whose certificate names another node gets nothing", "[cluster]") {
  asio::io_context io;
  std::vector<Message> at_impostor;
  Transport t1(io, settings_for(1, pki().node1), quiet(), [](Message) {});
  // Listens where node 2 should be, but holds node 1's certificate.
  Transport impostor(io, settings_for(2, pki().node1), quiet(),
                     [&](Message m) { at_impostor.push_back(std::move(m)); });
  REQUIRE(t1.start().ok());
  REQUIRE(impostor.start().ok());
  t1.add_peer(2, impostor.bound());
  t1.send(message(MessageType::heartbeat, 1, 2, 1));
  run_until(
      io, [] { return false; }, 300ms);
  CHECK(at_impostor.empty());
  CHECK(t1.counters().sent == 0);
  CHECK(t1.queued(2) == 1);
}

TEST_CASE("transport: a removed peer gets nothing more", "[cluster]") {
  asio::io_context io;
  std::vector<Message> at2;
  Transport t1(io, settings_for(1, pki().node1), quiet(), [](Message) {});
  Transport t2(io, settings_for(2, pki().node2), quiet(), [&](Message m) { at2.push_back(std::move(m)); });
  REQUIRE(t1.start().ok());
  REQUIRE(t2.start().ok());
  t1.add_peer(2, t2.bound());
  t1.send(message(MessageType::heartbeat, 1, 2, 1));
  REQUIRE(run_until(io, [&] { return at2.size() == 1; }));
  t1.remove_peer(2);
  t1.send(message(MessageType::heartbeat, 1, 2, 2));
  CHECK(t1.counters().dropped == 1);
  CHECK(t1.queued(2) == 0);
  run_until(
      io, [] { return false; }, 50ms);
  CHECK(at2.size() == 1);
}

TEST_CASE("transport: reconnects after the peer restarts", "[cluster]") {
  asio::io_context io;
  std::vector<Message> at2;
  Transport t1(io, settings_for(1, pki().node1), quiet(), [](Message) {});
  REQUIRE(t1.start().ok());
  auto t2 = std::make_unique<Transport>(io, settings_for(2, pki().node2), quiet(),
                                        [&](Message m) { at2.push_back(std::move(m)); });
  REQUIRE(t2->start().ok());
  const SocketAddress address = t2->bound();
  t1.add_peer(2, address);
  t1.send(message(MessageType::heartbeat, 1, 2, 1));
  REQUIRE(run_until(io, [&] { return at2.size() == 1; }));

  // The peer goes away with its coroutines still pending; nothing crashes.
  t2.reset();
  run_until(
      io, [] { return false; }, 50ms);
  t2 = std::make_unique<Transport>(io, settings_for(2, pki().node2, address.port), quiet(),
                                   [&](Message m) { at2.push_back(std::move(m)); });
  REQUIRE(t2->start().ok());
  // A frame written into the dead connection may be lost: resend like Raft.
  REQUIRE(run_until(io, [&] {
    if (at2.size() < 2 && t1.queued(2) == 0) t1.send(message(MessageType::heartbeat, 1, 2, 2));
    return at2.size() >= 2;
  }));
  CHECK(at2.back().term == 2);
}
