// dns/tcp_server: the connection caps over real sockets on loopback. The
// server runs on the test's own thread (io.run_for between steps), the
// clients are plain blocking sockets from chosen loopback addresses.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <cerrno>
#include <chrono>
#include <memory>
#include <vector>

#include "dns/answerer.hpp"
#include "dns/tcp_server.hpp"

using namespace meridian;
using namespace meridian::dns;
using namespace std::chrono_literals;

namespace {

/// A client connection from `source` (a loopback address) to the server.
class Client {
 public:
  Client(const char* source, std::uint16_t port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    REQUIRE(inet_pton(AF_INET, source, &local.sin_addr) == 1);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) == 0);
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(port);
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&server), sizeof(server)) == 0);
  }
  ~Client() { close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// True once the server closed the connection (a read sees its end).
  bool closed_by_server() const {
    char byte = 0;
    const ssize_t n = recv(fd_, &byte, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

 private:
  int fd_;
};

struct Rig {
  explicit Rig(TcpSettings settings) : server(io, answerer, slot, settings, logger) {
    REQUIRE(server.listen({SocketAddress{IpAddress::v4(127, 0, 0, 1), 0}}).ok());
    server.start(1);
    port = server.bound().front().port;
  }
  /// A new client, accepted (or refused) by the server before this returns.
  std::unique_ptr<Client> connect_from(const char* source) {
    auto client = std::make_unique<Client>(source, port);
    io.run_for(50ms);
    return client;
  }

  boost::asio::io_context io;
  Logger logger{LogLevel::error};
  Answerer answerer{AnswererSettings{}};
  RoutingTableSlot slot;
  TcpServer server;
  std::uint16_t port = 0;
};

TcpSettings limits(std::uint32_t total, std::uint32_t per_client) {
  TcpSettings settings;
  settings.max_connections = total;
  settings.max_connections_per_client = per_client;
  return settings;
}

}  // namespace

TEST_CASE("tcp server: a connection over its network's cap is closed at once", "[dns]") {
  Rig rig(limits(100, 3));
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 3; ++i) held.push_back(rig.connect_from("127.0.0.1"));
  // Another address of the same /24: over the cap.
  auto over = rig.connect_from("127.0.0.2");
  CHECK(over->closed_by_server());
  for (const auto& client : held) CHECK_FALSE(client->closed_by_server());
  // Another /24 is not affected.
  auto other = rig.connect_from("127.0.1.1");
  CHECK_FALSE(other->closed_by_server());
  CHECK(rig.server.open_connections() == 4);
  CHECK(rig.server.client_networks() == 2);
  CHECK(rig.server.limit_counters().refused_client_limit == 1);
  CHECK(rig.server.limit_counters().evicted == 0);

  // A slot freed by its client is free again for the network.
  held.pop_back();
  rig.io.run_for(50ms);
  auto again = rig.connect_from("127.0.0.3");
  CHECK_FALSE(again->closed_by_server());
  rig.server.stop();
  rig.io.run_for(50ms);
}

TEST_CASE("tcp server: at the total cap the oldest idle of the largest holder is closed", "[dns]") {
  Rig rig(limits(3, 3));
  auto first = rig.connect_from("127.0.0.1");
  auto second = rig.connect_from("127.0.0.1");
  auto lone = rig.connect_from("127.0.2.1");
  auto newcomer = rig.connect_from("127.0.3.1");
  CHECK(first->closed_by_server());
  CHECK_FALSE(second->closed_by_server());
  CHECK_FALSE(lone->closed_by_server());
  CHECK_FALSE(newcomer->closed_by_server());
  CHECK(rig.server.open_connections() == 3);
  CHECK(rig.server.limit_counters().evicted == 1);
  CHECK(rig.server.limit_counters().refused_server_limit == 0);
  rig.server.stop();
  rig.io.run_for(50ms);
}

TEST_CASE("tcp server: idle connections still close at the idle timeout", "[dns]") {
  TcpSettings settings = limits(10, 10);
  settings.idle_timeout = 100ms;
  Rig rig(settings);
  auto client = rig.connect_from("127.0.0.1");
  CHECK_FALSE(client->closed_by_server());
  rig.io.run_for(300ms);
  CHECK(client->closed_by_server());
  CHECK(rig.server.open_connections() == 0);
  CHECK(rig.server.client_networks() == 0);
  rig.server.stop();
  rig.io.run_for(50ms);
}
