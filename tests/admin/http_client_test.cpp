#include "admin/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "http_test_support.hpp"

using namespace meridian;
using namespace meridian::admin;
using namespace meridian::admin::test;

namespace {

/// A listening socket that never accepts: the kernel completes connections
/// into its backlog, and nobody ever answers.
class Mute {
 public:
  Mute() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~Mute() { ::close(fd_); }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace

TEST_CASE("http_client: a server that never answers times out, naming the server", "[admin]") {
  Mute mute;
  const SocketAddress server{IpAddress::v4(127, 0, 0, 1), mute.port()};
  const auto began = std::chrono::steady_clock::now();
  const auto reply = http_request(server, http::verb::get, "/api/v1/status", {}, {}, 200ms);
  const auto took = std::chrono::steady_clock::now() - began;
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().message.find(server.to_string()) != std::string::npos);
  CHECK(reply.error().message.find("no reply within 200 ms") != std::string::npos);
  CHECK(took >= 190ms);
  CHECK(took < 2000ms);
}

TEST_CASE("http_client: a refused connection names the server", "[admin]") {
  std::uint16_t port = 0;
  {
    Mute closed_soon;
    port = closed_soon.port();
  }
  const SocketAddress server{IpAddress::v4(127, 0, 0, 1), port};
  const auto reply = http_request(server, http::verb::get, "/api/v1/status");
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().message.find("admin API at 127.0.0.1:" + std::to_string(port)) !=
        std::string::npos);
  CHECK(reply.error().message.find("connecting") != std::string::npos);
}

TEST_CASE("http_client: sends method, body, content type and token", "[admin]") {
  HttpServerSettings settings = test_settings();
  settings.token = "tok";
  ServerThread server(settings, [](HttpServer& s) {
    s.route(
        http::verb::put, "/api/v1/thing", Access::mutate,
        [](HttpRequest request, Responder respond) {
          respond(HttpResponse{201, "text/plain", request.content_type + "|" + request.body, {}});
        });
  });
  const auto reply =
      http_request(server.address(), http::verb::put, "/api/v1/thing", "[1,2]", "tok");
  REQUIRE(reply.ok());
  CHECK(reply->status == 201);
  CHECK(reply->content_type == "text/plain");
  CHECK(reply->body == "application/json|[1,2]");
}
