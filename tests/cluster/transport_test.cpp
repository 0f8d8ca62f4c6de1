#include "cluster/transport.hpp"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "base/log.hpp"
#include "cluster/certs.hpp"
#include "cluster/node_id.hpp"
#include "cluster/wire.hpp"

using namespace meridian;
using namespace meridian::cluster;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

namespace {

const std::string kName1 = "fra-1";
const std::string kName2 = "ams-1";
const NodeId kId1 = node_id_of(kName1);
const NodeId kId2 = node_id_of(kName2);
const NodeId kId3 = node_id_of("nyc-1");
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct Pki {
  IssuedCertificate ca, node1, node2, foreign_ca, foreign_node2;
};

const Pki& pki() {
  static const Pki keys = [] {
    Pki p;
    auto ca = create_ca({"meridian test CA", {}, {}});
    REQUIRE(ca.ok());
    p.ca = *ca;
    auto n1 = issue_node_certificate(p.ca, {kName1, {kName1}, {}});
    auto n2 = issue_node_certificate(p.ca, {kName2, {kName2}, {}});
    auto fca = create_ca({"foreign CA", {}, {}});
    REQUIRE((n1.ok() && n2.ok() && fca.ok()));
    p.node1 = *n1;
    p.node2 = *n2;
    p.foreign_ca = *fca;
    auto fn2 = issue_node_certificate(p.foreign_ca, {kName2, {kName2}, {}});
    REQUIRE(fn2.ok());
    p.foreign_node2 = *fn2;
    return p;
  }();
  return keys;
}

SocketAddress loopback(std::uint16_t port) {
  return {IpAddress::v4(127, 0, 0, 1), port};
}

TransportSettings settings_for(const std::string& name, const IssuedCertificate& cert,
                               std::uint16_t port = 0) {
  TransportSettings s;
  s.self_name = name;
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
TransportSettings settings1(std::uint16_t port = 0) {
  return settings_for(kName1, pki().node1, port);
}
TransportSettings settings2(std::uint16_t port = 0) {
  return settings_for(kName2, pki().node2, port);
}

/// Silent unless MERIDIAN_TEST_LOG is set (then everything, to stderr).
Logger& quiet() {
  static Logger logger = std::getenv("MERIDIAN_TEST_LOG") != nullptr
                             ? Logger(LogLevel::debug)
                             : Logger(LogLevel::error, [](std::string_view) {});
  return logger;
}

/// Runs `io` until `done` or `limit` passes; returns done().
bool run_until(asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds limit = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.restart();
    io.run_for(5ms);
  }
  return done();
}

/// Runs `io` for `time` (to let things happen that must NOT happen, or
/// backoffs pass); asserts nothing by itself.
void run_for(asio::io_context& io, std::chrono::milliseconds time) {
  run_until(
      io, [] { return false; }, time);
}

/// A loopback port where nobody listens: bound but not listening, so
/// connections to it are refused and no one else takes it until release()
/// (for a peer that starts later, right after).
struct DeadPort {
  tcp::socket socket;
  std::uint16_t port;
  explicit DeadPort(asio::io_context& io)
      : socket(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port = socket.local_endpoint().port();
  }
  SocketAddress address() const { return loopback(port); }
  std::uint16_t release() {
    socket.close();
    return port;
  }
};

Message message(MessageType type, NodeId from, NodeId to, std::uint64_t term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

Message snapshot_message(NodeId from, NodeId to, std::size_t bytes) {
  Message m = message(MessageType::snapshot, from, to, 4);
  std::string data(bytes, 's');
  for (std::size_t i = 0; i < bytes; i += 4093) data[i] = static_cast<char>('a' + i % 26);
  m.snapshot = store::Snapshot{40, 4, {{kId1, kId2}, {kId3}}, std::move(data)};
  return m;
}

NodeReport report(NodeId from, NodeId to, std::uint64_t term) {
  return NodeReport{from, to, Role::follower, term, kId1, 10, 9, 11, 5, 1000, "127.0.0.1:8080"};
}

/// A Transport and everything its callbacks saw.
struct Node {
  std::vector<Message> messages;
  std::vector<NodeReport> reports;
  std::vector<ForwardFrame> forwards;
  std::vector<NodeId> unreachable;
  std::vector<std::pair<NodeId, bool>> snapshots;
  std::function<void(NodeId)> on_unreachable;  ///< optional extra behaviour
  Transport transport;

  Node(asio::io_context& io, TransportSettings settings)
      : transport(
            io, std::move(settings), quiet(),
            [this](Message m) { messages.push_back(std::move(m)); },
            [this](NodeReport r) { reports.push_back(r); },
            TransportEvents{[this](NodeId id) {
                              unreachable.push_back(id);
                              if (on_unreachable) on_unreachable(id);
                            },
                            [this](NodeId id, bool ok) { snapshots.emplace_back(id, ok); },
                            [this](ForwardFrame f) { forwards.push_back(std::move(f)); }}) {}
  const TransportCounters& counters() const { return transport.counters(); }
};

struct Outcome {
  bool done = false;
  bool handshake_ok = false;
  error_code read_error;  ///< how the server ended the connection
};

/// A test client: TLS (with `cert` unless null, verifying nothing), then
/// `bytes`, then reads until the server closes the connection.
asio::awaitable<void> tls_client(ssl::context& context, std::uint16_t port, std::string bytes,
                                 std::shared_ptr<Outcome> out) {
  ssl::stream<tcp::socket> stream(co_await asio::this_coro::executor, context);
  auto [connect_error] = co_await stream.next_layer().async_connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), kTuple);
  if (!connect_error) {
    auto [handshake_error] = co_await stream.async_handshake(ssl::stream_base::client, kTuple);
    out->handshake_ok = !handshake_error;
    if (!handshake_error) {
      co_await asio::async_write(stream, asio::buffer(bytes), kTuple);
      char byte = 0;
      auto [read_error, n] = co_await asio::async_read(stream, asio::buffer(&byte, 1), kTuple);
      out->read_error = read_error;
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

/// Node 1, listening, for raw test clients.
struct Server : Node {
  asio::io_context& io;
  explicit Server(asio::io_context& io_, TransportSettings settings = settings1())
      : Node(io_, std::move(settings)), io(io_) {
    REQUIRE(transport.start().ok());
  }
  std::uint16_t port() const { return transport.bound().port; }
};

/// Runs a TLS client against `server` and waits until its connection ends.
std::shared_ptr<Outcome> connect_client(Server& server, const IssuedCertificate* cert,
                                        std::string bytes) {
  auto context = client_context(cert);
  auto out = std::make_shared<Outcome>();
  asio::co_spawn(server.io, tls_client(*context, server.port(), std::move(bytes), out),
                 asio::detached);
  REQUIRE(run_until(server.io, [&] { return out->done; }));
  return out;
}

std::string frame(const Message& m) {
  return *encode_frame(m);
}
std::string frame(const NodeReport& r) {
  return *encode_frame(r);
}
std::string frame(const SnapshotChunk& c) {
  return *encode_frame(c);
}

/// A stand-in for node 2 that speaks raw TLS: accepts node 1's connections,
/// reads the hello, then does what the test says. Its receive buffer is
/// tiny, so a large write to it stalls.
struct FakePeer {
  enum class After { close, send_byte, read };
  asio::io_context& io;
  ssl::context context{ssl::context::tls_server};
  tcp::acceptor acceptor;
  After after;
  std::size_t read_bytes =
      0;  ///< After::read: bytes to read before closing (0: until the peer closes)
  int accepted = 0;
  std::vector<std::string> hellos;
  std::optional<error_code> read_error;  ///< how the connection ended, as seen here

  FakePeer(asio::io_context& io_, After after_) : io(io_), acceptor(io_), after(after_) {
    context.use_certificate_chain(asio::buffer(pki().node2.certificate_pem));
    context.use_private_key(asio::buffer(pki().node2.key_pem), ssl::context::pem);
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::receive_buffer_size(4096));
    acceptor.bind(endpoint);
    acceptor.listen();
    asio::co_spawn(io, accept(), asio::detached);
  }
  SocketAddress address() const { return loopback(acceptor.local_endpoint().port()); }

  asio::awaitable<void> accept() {
    for (;;) {
      auto [error, socket] = co_await acceptor.async_accept(kTuple);
      if (error) co_return;
      ++accepted;
      ssl::stream<tcp::socket> stream(std::move(socket), context);
      if (auto [e] = co_await stream.async_handshake(ssl::stream_base::server, kTuple); e) continue;
      std::string hello(kHelloHeaderBytes + kName1.size(), '\0');
      if (auto [e, n] = co_await asio::async_read(stream, asio::buffer(hello), kTuple); e) continue;
      hellos.push_back(hello);
      if (after == After::send_byte)
        co_await asio::async_write(stream, asio::buffer("x", 1), kTuple);
      if (after == After::close) continue;
      std::string buffer(read_bytes == 0 ? 1 : read_bytes, '\0');
      auto [e, n] = co_await asio::async_read(stream, asio::buffer(buffer), kTuple);
      read_error = e;
    }
  }
};

}  // namespace

// ---- Delivery ----------------------------------------------------------------

TEST_CASE("transport: two nodes exchange messages and reports both ways", "[cluster]") {
  asio::io_context io;
  Node n1(io, settings1()), n2(io, settings2());
  REQUIRE(n1.transport.start().ok());
  REQUIRE(n2.transport.start().ok());
  CHECK(n1.transport.bound().port != 0);
  CHECK(n1.transport.self() == kId1);
  n1.transport.add_peer(kId2, kName2, n2.transport.bound());
  n2.transport.add_peer(kId1, kName1, n1.transport.bound());

  Message append = message(MessageType::append, kId1, kId2, 3);
  append.index = 10;
  append.log_term = 2;
  append.commit = 9;
  append.entries = {{11, 3, store::EntryType::normal, "put a=1"},
                    {12, 3, store::EntryType::normal, std::string(100000, 'x')}};
  const Message snapshot = snapshot_message(kId2, kId1, 100);
  n1.transport.send(append);
  n1.transport.send(message(MessageType::heartbeat, kId1, kId2, 3));
  n1.transport.send_report(report(kId1, kId2, 3));
  n2.transport.send(snapshot);
  n2.transport.send_report(report(kId2, kId1, 3));

  REQUIRE(run_until(io, [&] {
    return n2.messages.size() == 2 && n2.reports.size() == 1 && n1.messages.size() == 1 &&
           n1.reports.size() == 1;
  }));
  CHECK(n2.messages[0] == append);
  CHECK(n2.messages[1].type == MessageType::heartbeat);
  CHECK(n2.reports[0] == report(kId1, kId2, 3));
  CHECK(n1.messages[0] == snapshot);
  CHECK(n1.reports[0] == report(kId2, kId1, 3));
  CHECK(n2.snapshots == std::vector<std::pair<NodeId, bool>>{{kId1, true}});
  CHECK(n1.counters().sent == 3);
  CHECK(n2.counters().received == 3);
  CHECK(n1.counters().received == 2);
  CHECK(n1.counters().rejected_handshakes == 0);
  CHECK(n2.counters().rejected_handshakes == 0);
  CHECK(n1.unreachable.empty());

  // Forwarded requests and answers travel both ways, in order.
  const ForwardFrame request{kId1, kId2, 7, false, "request"};
  const ForwardFrame answer{kId2, kId1, 7, true, "answer"};
  n1.transport.send_forward(request);
  REQUIRE(run_until(io, [&] { return n2.forwards.size() == 1; }));
  CHECK(n2.forwards[0] == request);
  n2.transport.send_forward(answer);
  REQUIRE(run_until(io, [&] { return n1.forwards.size() == 1; }));
  CHECK(n1.forwards[0] == answer);

  // Unknown peers are counted as drops.
  n1.transport.send(message(MessageType::heartbeat, kId1, kId3, 3));
  n1.transport.send_report(report(kId1, kId3, 3));
  n1.transport.send_forward(ForwardFrame{kId1, kId3, 8, false, "x"});
  CHECK(n1.counters().dropped == 3);
}

TEST_CASE("transport: a message sent before the peer is up arrives once it starts", "[cluster]") {
  asio::io_context io;
  DeadPort dead(io);
  Node n1(io, settings1());
  REQUIRE(n1.transport.start().ok());
  n1.transport.add_peer(kId2, kName2, dead.address());
  n1.transport.send(message(MessageType::vote_request, kId1, kId2, 5));
  // Failed attempts are reported as such.
  REQUIRE(run_until(io, [&] { return n1.unreachable.size() >= 2; }));
  CHECK(n1.unreachable[0] == kId2);
  CHECK(n1.transport.queued(kId2) == 1);

  Node n2(io, settings2(dead.release()));
  REQUIRE(n2.transport.start().ok());
  REQUIRE(run_until(io, [&] { return n2.messages.size() == 1; }));
  CHECK(n2.messages[0] == message(MessageType::vote_request, kId1, kId2, 5));
  CHECK(n1.transport.queued(kId2) == 0);
}

TEST_CASE("transport: the queue keeps the newest messages when the peer is down", "[cluster]") {
  asio::io_context io;
  auto s = settings1();
  s.max_queue_messages = 4;
  Node n1(io, s);
  REQUIRE(n1.transport.start().ok());
  DeadPort dead(io);
  n1.transport.add_peer(kId2, kName2, dead.address());
  for (std::uint64_t term = 1; term <= 10; ++term)
    n1.transport.send(message(MessageType::append, kId1, kId2, term));
  run_for(io, 50ms);
  CHECK(n1.transport.queued(kId2) == 4);
  CHECK(n1.counters().dropped == 6);

  // The newest four (terms 7..10) are delivered once the peer comes up.
  Node n2(io, settings2());
  REQUIRE(n2.transport.start().ok());
  n1.transport.add_peer(kId2, kName2,
                        n2.transport.bound());  // re-addressed: the old queue goes with it
  for (std::uint64_t term = 1; term <= 10; ++term)
    n1.transport.send(message(MessageType::append, kId1, kId2, term));
  REQUIRE(run_until(io, [&] { return n2.messages.size() == 4; }));
  for (std::size_t i = 0; i < 4; ++i) CHECK(n2.messages[i].term == 7 + i);
}

TEST_CASE("transport: the byte bound also drops the oldest", "[cluster]") {
  asio::io_context io;
  auto s = settings1();
  s.max_queue_bytes = 3000;
  Node n1(io, s);
  DeadPort dead(io);
  n1.transport.add_peer(kId2, kName2, dead.address());
  Message big = message(MessageType::append, kId1, kId2, 1);
  big.entries = {{1, 1, store::EntryType::normal, std::string(1000, 'y')}};
  for (int i = 0; i < 5; ++i) n1.transport.send(big);
  CHECK(n1.transport.queued(kId2) == 2);
  CHECK(n1.counters().dropped == 3);
}

TEST_CASE("transport: a waiting heartbeat or report is replaced by a newer one", "[cluster]") {
  asio::io_context io;
  DeadPort dead(io);
  Node n1(io, settings1());
  n1.transport.add_peer(kId2, kName2, dead.address());
  for (std::uint64_t term = 1; term <= 3; ++term)
    n1.transport.send(message(MessageType::heartbeat, kId1, kId2, term));
  n1.transport.send(message(MessageType::append, kId1, kId2, 3));
  n1.transport.send(
      message(MessageType::append, kId1, kId2, 4));  // appends carry entries: never coalesced
  Message latest = message(MessageType::heartbeat_response, kId1, kId2, 5);
  latest.context = 77;
  n1.transport.send(latest);
  for (std::uint64_t term = 1; term <= 4; ++term)
    n1.transport.send_report(report(kId1, kId2, term));
  CHECK(n1.transport.queued(kId2) == 4);  // one heartbeat, two appends, one report
  CHECK(n1.counters().coalesced == 6);
  CHECK(n1.counters().dropped == 0);

  REQUIRE(n1.transport.start().ok());
  Node n2(io, settings2(dead.release()));
  REQUIRE(n2.transport.start().ok());
  REQUIRE(run_until(io, [&] { return n2.messages.size() == 3 && n2.reports.size() == 1; }));
  // The heartbeat kept its place in the queue, with the newest content.
  CHECK(n2.messages[0] == latest);
  CHECK(n2.messages[1].term == 3);
  CHECK(n2.messages[2].term == 4);
  CHECK(n2.reports[0] == report(kId1, kId2, 4));
}

// ---- Snapshots ---------------------------------------------------------------

TEST_CASE("transport: a snapshot larger than a chunk arrives whole, with frames between its chunks",
          "[cluster]") {
  asio::io_context io;
  Node n1(io, settings1()), n2(io, settings2());
  REQUIRE(n1.transport.start().ok());
  REQUIRE(n2.transport.start().ok());
  n1.transport.add_peer(kId2, kName2, n2.transport.bound());
  const Message snapshot =
      snapshot_message(kId1, kId2, 3 * kSnapshotChunkBytes + kSnapshotChunkBytes / 2);
  n1.transport.send(snapshot);
  n1.transport.send(message(MessageType::heartbeat, kId1, kId2, 4));
  CHECK(n1.transport.queued(kId2) == 2);
  REQUIRE(run_until(io, [&] { return n2.messages.size() == 2; }));
  const auto whole = std::find_if(n2.messages.begin(), n2.messages.end(),
                                  [](const Message& m) { return m.type == MessageType::snapshot; });
  REQUIRE(whole != n2.messages.end());
  CHECK(*whole == snapshot);
  CHECK(n1.snapshots == std::vector<std::pair<NodeId, bool>>{{kId2, true}});
  CHECK(n1.counters().sent == 2);
  CHECK(n2.counters().received == 2);
  CHECK(n2.counters().bad_frames == 0);
  CHECK(n1.transport.queued(kId2) == 0);
}

TEST_CASE("transport: the snapshot size limit holds at its edge on both ends", "[cluster]") {
  asio::io_context io;
  auto s1 = settings1();
  s1.max_snapshot_bytes = 2 * kSnapshotChunkBytes;
  auto s2 = settings2();
  s2.max_snapshot_bytes = 2 * kSnapshotChunkBytes - 1;
  Node n1(io, s1), n2(io, s2);
  REQUIRE(n1.transport.start().ok());
  REQUIRE(n2.transport.start().ok());
  n1.transport.add_peer(kId2, kName2, n2.transport.bound());

  // Over the sender's limit: dropped, and reported, but not from inside send().
  n1.transport.send(snapshot_message(kId1, kId2, 2 * kSnapshotChunkBytes + 1));
  CHECK(n1.counters().dropped == 1);
  CHECK(n1.snapshots.empty());
  REQUIRE(run_until(io, [&] { return n1.snapshots.size() == 1; }));
  CHECK(n1.snapshots[0] == std::pair<NodeId, bool>{kId2, false});

  // At the sender's limit it is sent, and over the receiver's it is refused.
  n1.transport.send(snapshot_message(kId1, kId2, 2 * kSnapshotChunkBytes));
  REQUIRE(run_until(io, [&] { return n2.counters().bad_frames == 1; }));
  CHECK(n2.messages.empty());

  // At the receiver's limit it arrives (on a new connection: node 1 must
  // have seen the old one closed, or it could write into it).
  const Message fits = snapshot_message(kId1, kId2, 2 * kSnapshotChunkBytes - 1);
  REQUIRE(run_until(io, [&] { return n1.snapshots.size() == 2 && !n1.unreachable.empty(); }));
  n1.transport.send(fits);
  REQUIRE(run_until(io, [&] { return n2.messages.size() == 1; }));
  CHECK(n2.messages[0] == fits);
}

TEST_CASE("transport: a snapshot that cannot be sent is reported lost", "[cluster]") {
  asio::io_context io;
  Node n1(io, settings1());
  DeadPort dead(io);
  n1.transport.add_peer(kId2, kName2, dead.address());
  n1.transport.send(snapshot_message(kId1, kId3, 10));  // unknown peer
  n1.transport.send(snapshot_message(kId1, kId2, 10));
  n1.transport.send(snapshot_message(kId1, kId2, 20));  // replaces the waiting one
  CHECK(n1.transport.queued(kId2) == 1);
  n1.transport.remove_peer(kId2);  // discards the second
  CHECK(n1.snapshots.empty());     // never from inside a call
  REQUIRE(run_until(io, [&] { return n1.snapshots.size() == 3; }));
  CHECK(n1.snapshots ==
        std::vector<std::pair<NodeId, bool>>{{kId3, false}, {kId2, false}, {kId2, false}});
  CHECK(n1.counters().dropped == 2);
  run_for(io, 20ms);
  CHECK(n1.snapshots.size() == 3);
}

TEST_CASE("transport: a snapshot cut off with its connection is reported lost", "[cluster]") {
  asio::io_context io;
  FakePeer fake(io, FakePeer::After::read);
  fake.read_bytes = 64 * 1024;  // then it closes, with most of the snapshot unwritten
  Node n1(io, settings1());
  REQUIRE(n1.transport.start().ok());
  n1.transport.add_peer(kId2, kName2, fake.address());
  n1.transport.send(snapshot_message(kId1, kId2, 12 * kSnapshotChunkBytes));
  REQUIRE(run_until(io, [&] { return !n1.snapshots.empty(); }));
  CHECK(n1.snapshots == std::vector<std::pair<NodeId, bool>>{{kId2, false}});
  CHECK(fake.read_error == error_code());
  CHECK_FALSE(n1.unreachable.empty());
  CHECK(n1.transport.queued(kId2) == 0);  // not resumed mid-way on the next connection
}

TEST_CASE("transport: chunks out of order or inconsistent close the connection", "[cluster]") {
  Message whole = snapshot_message(kId2, kId1, 10);
  SnapshotChunk first = snapshot_chunk(whole, 0);
  first.total_bytes = 20;  // announces more than the first chunk holds
  SnapshotChunk second = first;
  second.meta.reset();
  second.offset = 10;
  SnapshotChunk gap = second;
  gap.offset = 12;
  gap.data = "12345678";
  SnapshotChunk other_term = second;
  other_term.term = 5;
  const std::string good = frame(message(MessageType::heartbeat, kId2, kId1, 1));
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"no start", frame(second)},
      {"a gap", frame(first) + frame(gap)},
      {"two starts", frame(first) + frame(first)},
      {"another term", frame(first) + frame(other_term)},
  };
  for (const auto& [what, bad] : cases) {
    INFO(what);
    asio::io_context io;
    Server server(io);
    // A good frame, the bad sequence, then another good one that must not be read.
    auto out = connect_client(server, &pki().node2, encode_hello(kName2) + good + bad + good);
    CHECK(out->handshake_ok);
    CHECK(server.counters().bad_frames == 1);
    CHECK(server.messages.size() == 1);
  }
}

// ---- Who may talk ------------------------------------------------------------

TEST_CASE("transport: start errors name the address", "[cluster]") {
  asio::io_context io;
  Node n1(io, settings1());
  REQUIRE(n1.transport.start().ok());
  Node n2(io, settings2(n1.transport.bound().port));
  auto started = n2.transport.start();
  REQUIRE_FALSE(started.ok());
  CHECK(started.error().message.find(n1.transport.bound().to_string()) != std::string::npos);

  auto bad = settings1();
  bad.key_pem = "not a key";
  Node n3(io, bad);
  CHECK_FALSE(n3.transport.start().ok());

  auto unnamed = settings1();
  unnamed.self_name = "Fra_1";
  Node n4(io, unnamed);
  CHECK_THAT(n4.transport.start().error().message, Catch::Contains("may use only a-z"));
}

TEST_CASE("transport: a client with a certificate from another CA is refused", "[cluster]") {
  asio::io_context io;
  Server server(io);
  const std::string bytes =
      encode_hello(kName2) + frame(message(MessageType::heartbeat, kId2, kId1, 1));
  connect_client(server, &pki().foreign_node2, bytes);
  CHECK(server.counters().rejected_handshakes == 1);
  CHECK(server.messages.empty());
  CHECK(server.counters().received == 0);
}

TEST_CASE("transport: a client without a certificate is refused", "[cluster]") {
  asio::io_context io;
  Server server(io);
  const std::string bytes =
      encode_hello(kName2) + frame(message(MessageType::heartbeat, kId2, kId1, 1));
  connect_client(server, nullptr, bytes);
  CHECK(server.counters().rejected_handshakes == 1);
  CHECK(server.messages.empty());
}

TEST_CASE("transport: a hello that is malformed or not the certificate's name is refused",
          "[cluster]") {
  const std::string after = frame(message(MessageType::heartbeat, kId2, kId1, 1));
  std::string old_hello = "MRDN\x01" + std::string(8, '\0');
  old_hello.back() = 2;
  auto hello = [](std::string name, int length) {
    return std::string("MRDN\x02", 5) + static_cast<char>(length) + name;
  };
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"another node's name", encode_hello("nyc-1")},
      {"version 1 (numeric ids)", old_hello},
      {"not a node name", hello("AMS_1", 5)},
      {"an empty name", hello("", 0)},
      {"a name over 63 bytes", hello(std::string(64, 'a'), 64)},
      {"wrong magic", "MRDX" + encode_hello(kName2).substr(4)},
  };
  for (const auto& [what, bytes] : cases) {
    INFO(what);
    asio::io_context io;
    Server server(io);
    auto out = connect_client(server, &pki().node2, bytes + after);
    CHECK(out->handshake_ok);
    CHECK(server.counters().rejected_handshakes == 1);
    CHECK(server.messages.empty());
  }
}

TEST_CASE("transport: a valid client is heard; frames from another node are dropped", "[cluster]") {
  asio::io_context io;
  Server server(io);
  Message snapshot = snapshot_message(kId3, kId1, 10);
  const std::string bytes =
      encode_hello(kName2) + frame(message(MessageType::heartbeat, kId3, kId1, 1)) +
      frame(report(kId3, kId1, 1)) + frame(snapshot_chunk(snapshot, 0)) +
      frame(message(MessageType::heartbeat, kId2, kId1, 1)) + frame(report(kId2, kId1, 1));
  auto context = client_context(&pki().node2);
  auto out = std::make_shared<Outcome>();
  asio::co_spawn(io, tls_client(*context, server.port(), bytes, out), asio::detached);
  REQUIRE(run_until(io, [&] { return server.messages.size() == 1 && server.reports.size() == 1; }));
  CHECK(server.messages[0].from == kId2);
  CHECK(server.reports[0].from == kId2);
  CHECK(server.counters().wrong_sender == 3);
  CHECK(server.counters().rejected_handshakes == 0);
  server.transport.stop();
  REQUIRE(run_until(io, [&] { return out->done; }));
}

/// A plain TCP connection from `source` that sends nothing and waits for
/// the server to close it.
struct Silent {
  bool closed = false;
  std::chrono::steady_clock::time_point closed_at;
};

asio::awaitable<void> silent_client(std::uint16_t port, const char* source,
                                    std::shared_ptr<Silent> out) {
  tcp::socket socket(co_await asio::this_coro::executor);
  socket.open(tcp::v4());
  socket.bind(tcp::endpoint(asio::ip::make_address(source), 0));
  co_await socket.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), kTuple);
  char buffer[64];
  for (;;) {
    auto [error, n] = co_await socket.async_read_some(asio::buffer(buffer), kTuple);
    if (error) break;
  }
  out->closed = true;
  out->closed_at = std::chrono::steady_clock::now();
}

TEST_CASE("transport: handshakes in progress are capped per source address and time out",
          "[cluster]") {
  asio::io_context io;
  TransportSettings settings = settings1();
  settings.max_handshakes_per_address = 2;
  settings.handshake_timeout = 600ms;
  Server server(io, settings);
  std::vector<std::shared_ptr<Silent>> same;
  const auto began = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) {
    same.push_back(std::make_shared<Silent>());
    asio::co_spawn(io, silent_client(server.port(), "127.0.0.1", same.back()), asio::detached);
    run_for(io, 50ms);
  }
  auto other = std::make_shared<Silent>();
  asio::co_spawn(io, silent_client(server.port(), "127.0.0.2", other), asio::detached);
  run_for(io, 100ms);
  // The third of the same address is closed at once; the others wait for
  // their handshake's deadline.
  CHECK_FALSE(same[0]->closed);
  CHECK_FALSE(same[1]->closed);
  CHECK(same[2]->closed);
  CHECK_FALSE(other->closed);
  CHECK(server.counters().refused_handshake_limit == 1);

  REQUIRE(run_until(io, [&] { return same[0]->closed && same[1]->closed && other->closed; }));
  CHECK(same[0]->closed_at - began >= 500ms);
  CHECK(server.counters().handshake_timeouts == 3);
  CHECK(server.counters().rejected_handshakes == 3);
  CHECK(server.counters().refused_handshake_limit == 1);

  // Their slots are free again.
  auto later = std::make_shared<Silent>();
  asio::co_spawn(io, silent_client(server.port(), "127.0.0.1", later), asio::detached);
  run_for(io, 100ms);
  CHECK_FALSE(later->closed);
  server.transport.stop();
  REQUIRE(run_until(io, [&] { return later->closed; }));
}

TEST_CASE("transport: a peer over its connection cap loses its oldest connection", "[cluster]") {
  asio::io_context io;
  TransportSettings settings = settings1();
  settings.max_connections_per_peer = 2;
  Server server(io, settings);
  auto context = client_context(&pki().node2);
  std::vector<std::shared_ptr<Outcome>> clients;
  for (std::size_t i = 1; i <= 3; ++i) {
    const std::string bytes =
        encode_hello(kName2) + frame(message(MessageType::heartbeat, kId2, kId1, i));
    clients.push_back(std::make_shared<Outcome>());
    asio::co_spawn(io, tls_client(*context, server.port(), bytes, clients.back()), asio::detached);
    // Authenticated (its heartbeat arrived) before the next one starts.
    REQUIRE(run_until(io, [&] { return server.messages.size() == i; }));
  }
  REQUIRE(run_until(io, [&] { return clients[0]->done; }));
  run_for(io, 100ms);
  CHECK_FALSE(clients[1]->done);
  CHECK_FALSE(clients[2]->done);
  CHECK(server.counters().closed_peer_limit == 1);
  CHECK(server.counters().rejected_handshakes == 0);

  server.transport.stop();
  REQUIRE(run_until(io, [&] { return clients[1]->done && clients[2]->done; }));
}

TEST_CASE("transport: zero connection caps are refused at start", "[cluster]") {
  asio::io_context io;
  for (int which = 0; which < 3; ++which) {
    TransportSettings settings = settings1();
    if (which == 0) settings.max_incoming_connections = 0;
    if (which == 1) settings.max_handshakes_per_address = 0;
    if (which == 2) settings.max_connections_per_peer = 0;
    Node node(io, settings);
    CHECK_THAT(node.transport.start().error().message,
               Catch::Contains("the connection caps must be at least 1"));
  }
}

TEST_CASE("transport: raw TCP garbage is dropped without a crash", "[cluster]") {
  asio::io_context io;
  Server server(io);
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        tcp::socket socket(co_await asio::this_coro::executor);
        co_await socket.async_connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()), kTuple);
        const std::string garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n" + std::string(5000, '\xff');
        co_await asio::async_write(socket, asio::buffer(garbage), kTuple);
        char buffer[256];
        for (;;) {
          auto [error, n] = co_await socket.async_read_some(asio::buffer(buffer), kTuple);
          if (error) break;
        }
        done = true;
      },
      asio::detached);
  REQUIRE(run_until(io, [&] { return done; }));
  CHECK(server.counters().rejected_handshakes == 1);
  CHECK(server.messages.empty());
}

TEST_CASE("transport: bad frames from an authenticated peer close the connection", "[cluster]") {
  const std::string good = frame(message(MessageType::heartbeat, kId2, kId1, 1));
  std::string wrong_version = good;
  wrong_version[4] = 99;
  std::string garbage_payload = "\x01" + std::string(20, '\xee');
  REQUIRE_FALSE(decode_payload(garbage_payload).ok());
  std::string garbage_frame(4, '\0');
  garbage_frame[3] = static_cast<char>(garbage_payload.size());
  garbage_frame += garbage_payload;
  const std::string oversized = std::string("\xff\xff\xff\xff", 4) + std::string(100, 'z');

  for (const std::string* bad :
       std::vector<const std::string*>{&wrong_version, &garbage_frame, &oversized}) {
    asio::io_context io;
    Server server(io);
    // A good frame, the bad one, then another good one that must not be read.
    auto out = connect_client(server, &pki().node2, encode_hello(kName2) + good + *bad + good);
    CHECK(out->handshake_ok);
    CHECK(server.counters().bad_frames == 1);
    CHECK(server.counters().received == 1);
    CHECK(server.messages.size() == 1);
  }
}

TEST_CASE("transport: an idle incoming connection is closed", "[cluster]") {
  asio::io_context io;
  auto s = settings1();
  s.idle_timeout = 100ms;
  Node n1(io, s);
  REQUIRE(n1.transport.start().ok());
  auto context = client_context(&pki().node2);
  auto out = std::make_shared<Outcome>();
  asio::co_spawn(io, tls_client(*context, n1.transport.bound().port, encode_hello(kName2), out),
                 asio::detached);
  REQUIRE(run_until(
      io, [&] { return out->done; }, 3000ms));
  CHECK(out->handshake_ok);
  CHECK(n1.counters().rejected_handshakes == 0);
}

TEST_CASE("transport: a peer whose certificate names another node gets nothing", "[cluster]") {
  asio::io_context io;
  Node n1(io, settings1());
  // Listens where node 2 should be, but holds node 1's certificate.
  Node impostor(io, settings_for(kName2, pki().node1));
  REQUIRE(n1.transport.start().ok());
  REQUIRE(impostor.transport.start().ok());
  n1.transport.add_peer(kId2, kName2, impostor.transport.bound());
  n1.transport.send(message(MessageType::heartbeat, kId1, kId2, 1));
  REQUIRE(run_until(io, [&] { return n1.unreachable.size() >= 2; }));
  CHECK(impostor.messages.empty());
  CHECK(n1.counters().sent == 0);
  CHECK(n1.transport.queued(kId2) == 1);
}

// ---- Connection life ---------------------------------------------------------

TEST_CASE("transport: a removed peer gets nothing more and is not reported", "[cluster]") {
  asio::io_context io;
  Node n1(io, settings1()), n2(io, settings2());
  REQUIRE(n1.transport.start().ok());
  REQUIRE(n2.transport.start().ok());
  n1.transport.add_peer(kId2, kName2, n2.transport.bound());
  n1.transport.send(message(MessageType::heartbeat, kId1, kId2, 1));
  REQUIRE(run_until(io, [&] { return n2.messages.size() == 1; }));
  n1.transport.remove_peer(kId2);
  n1.transport.send(message(MessageType::heartbeat, kId1, kId2, 2));
  CHECK(n1.counters().dropped == 1);
  CHECK(n1.transport.queued(kId2) == 0);
  run_for(io, 50ms);
  CHECK(n2.messages.size() == 1);
  CHECK(n1.unreachable.empty());
}

TEST_CASE("transport: reconnects after the peer restarts", "[cluster]") {
  asio::io_context io;
  Node n1(io, settings1());
  REQUIRE(n1.transport.start().ok());
  auto n2 = std::make_unique<Node>(io, settings2());
  REQUIRE(n2->transport.start().ok());
  const SocketAddress address = n2->transport.bound();
  n1.transport.add_peer(kId2, kName2, address);
  n1.transport.send(message(MessageType::heartbeat, kId1, kId2, 1));
  REQUIRE(run_until(io, [&] { return n2->messages.size() == 1; }));

  // The peer goes away with its coroutines still pending; nothing crashes,
  // and node 1 notices without writing anything.
  n2.reset();
  REQUIRE(run_until(io, [&] { return !n1.unreachable.empty(); }));
  n2 = std::make_unique<Node>(io, settings2(address.port));
  REQUIRE(n2->transport.start().ok());
  n1.transport.send(message(MessageType::heartbeat, kId1, kId2, 2));
  REQUIRE(run_until(io, [&] { return n2->messages.size() == 1; }));
  CHECK(n2->messages[0].term == 2);
}

TEST_CASE("transport: an outgoing connection ends when the peer closes it or sends anything",
          "[cluster]") {
  for (const auto after : {FakePeer::After::close, FakePeer::After::send_byte}) {
    asio::io_context io;
    FakePeer fake(io, after);
    fake.read_bytes = 0;
    Node n1(io, settings1());
    REQUIRE(n1.transport.start().ok());
    n1.transport.add_peer(kId2, kName2, fake.address());
    // Nothing is queued, so only the reader can notice; then it reconnects.
    REQUIRE(run_until(io, [&] { return fake.accepted >= 2; }));
    CHECK(n1.unreachable.size() >= 1);
    CHECK(fake.hellos[0] == encode_hello(kName1));
    if (after == FakePeer::After::send_byte) CHECK(fake.read_error.has_value());
  }
}

TEST_CASE("transport: stop ends connections with a TLS close_notify, both ways", "[cluster]") {
  asio::io_context io;
  // Incoming: a client that has been heard.
  Server server(io);
  auto context = client_context(&pki().node2);
  auto client = std::make_shared<Outcome>();
  asio::co_spawn(
      io,
      tls_client(*context, server.port(),
                 encode_hello(kName2) + frame(message(MessageType::heartbeat, kId2, kId1, 1)),
                 client),
      asio::detached);
  REQUIRE(run_until(io, [&] { return server.messages.size() == 1; }));
  // Outgoing: a peer that got our hello.
  FakePeer fake(io, FakePeer::After::read);
  server.transport.add_peer(kId2, kName2, fake.address());
  REQUIRE(run_until(io, [&] { return fake.hellos.size() == 1; }));

  server.transport.stop();  // returns at once: the shutdowns run in the io_context
  CHECK_FALSE(client->done);
  REQUIRE(run_until(io, [&] { return client->done && fake.read_error.has_value(); }));
  CHECK(client->read_error == asio::error::eof);  // not ssl::error::stream_truncated
  CHECK(*fake.read_error == asio::error::eof);
  CHECK(server.unreachable.empty());
}

TEST_CASE("transport: a throwing event handler does not end the peer's connection loop",
          "[cluster]") {
  asio::io_context io;
  DeadPort dead(io);
  Node n1(io, settings1());
  n1.on_unreachable = [](NodeId) { throw std::runtime_error("driver bug"); };
  REQUIRE(n1.transport.start().ok());
  n1.transport.add_peer(kId2, kName2, dead.address());
  n1.transport.send(message(MessageType::append, kId1, kId2, 1));
  REQUIRE(run_until(
      io, [&] { return n1.unreachable.size() >= 3; }));  // threw each time, still retrying

  Node n2(io, settings2(dead.release()));
  REQUIRE(n2.transport.start().ok());
  REQUIRE(run_until(io, [&] { return n2.messages.size() == 1; }));
}

// ---- Revocation and renewal ------------------------------------------------------

namespace {

/// When `pem` was issued (its notBefore), seconds since the Unix epoch.
std::int64_t issued_at(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  REQUIRE(certificate != nullptr);
  std::tm parts{};
  REQUIRE(ASN1_TIME_to_tm(X509_get0_notBefore(certificate), &parts) == 1);
  X509_free(certificate);
  return static_cast<std::int64_t>(timegm(&parts));
}

}  // namespace

TEST_CASE("transport: a revoked certificate is refused both ways and its connections closed",
          "[cluster]") {
  asio::io_context io;
  Node n1(io, settings1()), n2(io, settings2());
  REQUIRE(n1.transport.start().ok());
  REQUIRE(n2.transport.start().ok());
  n1.transport.add_peer(kId2, kName2, n2.transport.bound());
  n2.transport.add_peer(kId1, kName1, n1.transport.bound());
  n2.transport.send(message(MessageType::heartbeat, kId2, kId1, 3));
  REQUIRE(run_until(io, [&] { return n1.messages.size() == 1; }));

  // Revoked until a second before node2's certificate was issued: not it.
  const std::int64_t issued = issued_at(pki().node2.certificate_pem);
  n1.transport.revoke(kName2, issued - 1);
  n2.transport.send(message(MessageType::heartbeat, kId2, kId1, 4));
  REQUIRE(run_until(io, [&] { return n1.messages.size() == 2; }));
  CHECK(n1.counters().revoked_certificates == 0);

  // Until the moment it was issued: its connection to n1 closes, its new
  // handshakes are refused, and n1 no longer dials it either.
  n1.transport.revoke(kName2, issued);
  REQUIRE(run_until(io, [&] { return n1.counters().revoked_certificates >= 2; }));
  const std::size_t heard = n1.messages.size();
  n2.transport.send(message(MessageType::heartbeat, kId2, kId1, 5));
  n1.transport.send(message(MessageType::heartbeat, kId1, kId2, 5));
  run_for(io, 500ms);
  CHECK(n1.messages.size() == heard);
  CHECK(n2.messages.size() == 0);
  // An earlier time does not lift it (the later of two revocations holds).
  n1.transport.revoke(kName2, issued - 100);
  run_for(io, 300ms);
  CHECK(n1.messages.size() == heard);
}

TEST_CASE("transport: new credentials serve new connections; a bad pair keeps the old",
          "[cluster]") {
  asio::io_context io;
  Node n1(io, settings1()), n2(io, settings2());
  REQUIRE(n1.transport.start().ok());
  REQUIRE(n2.transport.start().ok());
  n2.transport.add_peer(kId1, kName1, n1.transport.bound());
  n2.transport.send(message(MessageType::heartbeat, kId2, kId1, 3));
  REQUIRE(run_until(io, [&] { return n1.messages.size() == 1; }));

  CHECK_FALSE(n1.transport.reload_credentials("not a certificate", pki().node1.key_pem).ok());
  // A key that is not the certificate's.
  auto mismatch = n1.transport.reload_credentials(pki().node1.certificate_pem, pki().node2.key_pem);
  REQUIRE_FALSE(mismatch.ok());
  CHECK_THAT(mismatch.error().message, Catch::Contains("node key"));

  auto renewed = issue_node_certificate(pki().ca, {kName1, {kName1}, {}});
  REQUIRE(renewed.ok());
  REQUIRE(n1.transport.reload_credentials(renewed->certificate_pem, renewed->key_pem).ok());
  // The open connection goes on; a new one (after n2 re-dials) works too.
  n2.transport.send(message(MessageType::heartbeat, kId2, kId1, 4));
  REQUIRE(run_until(io, [&] { return n1.messages.size() == 2; }));
  n2.transport.remove_peer(kId1);
  n2.transport.add_peer(kId1, kName1, n1.transport.bound());
  n2.transport.send(message(MessageType::heartbeat, kId2, kId1, 5));
  REQUIRE(run_until(io, [&] { return n1.messages.size() == 3; }));
  CHECK(n1.counters().rejected_handshakes == 0);
}
