#pragma once
// Helpers for the prober tests: run one probe to completion, and scripted
// servers on 127.0.0.1 (plain POSIX sockets in a std::thread, independent
// of the Asio code under test). Every blocking call is bounded, so a broken
// prober fails a test instead of hanging it.

#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "health/probe.hpp"

namespace meridian::health::test {

inline IpAddress localhost() {
  return IpAddress::v4(127, 0, 0, 1);
}

/// Runs one probe on a fresh io_context until the context has no work left
/// (so a probe that leaves an operation pending would hang here, not pass).
inline ProbeResult run_probe(const CheckSpec& check, std::uint16_t port,
                             IpAddress address = localhost()) {
  boost::asio::io_context io;
  Prober prober(io.get_executor());
  std::optional<ProbeResult> result;
  bool threw = false;
  boost::asio::co_spawn(io, prober.probe(address, port, check),
                        [&](std::exception_ptr error, ProbeResult r) {
                          threw = error != nullptr;
                          result = std::move(r);
                        });
  io.run();
  REQUIRE_FALSE(threw);
  REQUIRE(result.has_value());
  return *result;
}

/// While alive, this process cannot open one more descriptor (EMFILE): the
/// soft RLIMIT_NOFILE is lowered to the lowest free descriptor number, so
/// every new socket, file or pipe fails. Restored on destruction.
class NoFreeDescriptors {
 public:
  NoFreeDescriptors() {
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    const int lowest_free = ::dup(0);
    REQUIRE(lowest_free >= 0);
    ::close(lowest_free);
    rlimit lowered = saved_;
    lowered.rlim_cur = static_cast<rlim_t>(lowest_free);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);
  }
  ~NoFreeDescriptors() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  NoFreeDescriptors(const NoFreeDescriptors&) = delete;
  NoFreeDescriptors& operator=(const NoFreeDescriptors&) = delete;

 private:
  rlimit saved_{};
};

/// run_probe with no descriptor to spare while the probe runs. The
/// io_context, its reactor (made at its first socket, as in a running node
/// whose listeners made it) and the prober exist before: the probe's own
/// socket (or CA file) is what fails.
inline ProbeResult run_probe_without_descriptors(const CheckSpec& check, std::uint16_t port,
                                                 IpAddress address = localhost()) {
  boost::asio::io_context io;
  { boost::asio::ip::udp::socket reactor_warm_up(io, boost::asio::ip::udp::v4()); }
  Prober prober(io.get_executor());
  std::optional<ProbeResult> result;
  bool threw = false;
  boost::asio::co_spawn(io, prober.probe(address, port, check),
                        [&](std::exception_ptr error, ProbeResult r) {
                          threw = error != nullptr;
                          result = std::move(r);
                        });
  {
    NoFreeDescriptors starved;
    io.run();
  }
  REQUIRE_FALSE(threw);
  REQUIRE(result.has_value());
  return *result;
}

inline std::chrono::milliseconds latency_ms(const ProbeResult& result) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(result.latency);
}

/// Bounds every blocking read and write on `fd`.
inline void set_io_timeout(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/// Sends everything; false once the peer is gone (no SIGPIPE).
inline bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

/// Reads an HTTP request's head (up to the blank line), or what came first.
inline std::string read_request(int fd) {
  std::string request;
  char buffer[1024];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 64 * 1024) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    request.append(buffer, static_cast<std::size_t>(n));
  }
  return request;
}

/// Waits until the peer closes (or the io timeout passes).
inline void wait_for_close(int fd) {
  char buffer[1024];
  while (::recv(fd, buffer, sizeof buffer, 0) > 0) {}
}

/// Closes with an RST instead of a FIN.
inline void reset_connection(int& fd) {
  linger option{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof option);
  ::close(fd);
  fd = -1;
}

inline std::string http_response(int status, std::string_view body,
                                 std::string_view extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) +
         " Whatever\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra_headers) + "\r\n" + std::string(body);
}

/// Binds a socket of `type` on 127.0.0.1 with an OS-chosen port.
inline int bind_localhost(int type, std::uint16_t& port) {
  const int fd = ::socket(AF_INET, type, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  port = ntohs(address.sin_port);
  return fd;
}

/// Waits (in slices, watching `stop`) until `fd` is readable.
inline bool wait_readable(int fd, const std::atomic<bool>& stop, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!stop && std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) > 0) return true;
  }
  return false;
}

/// A TCP server on 127.0.0.1 that runs `handler` on each of up to
/// `max_connections` accepted connections, one after the other, on its own
/// thread. The handler may close the socket itself and set it to -1.
class ScriptedTcpServer {
 public:
  using Handler = std::function<void(int& fd)>;

  explicit ScriptedTcpServer(Handler handler, int max_connections = 1)
      : handler_(std::move(handler)) {
    listener_ = bind_localhost(SOCK_STREAM, port_);
    REQUIRE(::listen(listener_, 16) == 0);
    thread_ = std::thread([this, max_connections] {
      for (int i = 0; i < max_connections; ++i) {
        if (!wait_readable(listener_, stop_, std::chrono::seconds(10))) return;
        int fd = ::accept(listener_, nullptr, nullptr);
        if (fd < 0) return;
        ++accepted_;
        set_io_timeout(fd, std::chrono::seconds(5));
        handler_(fd);
        if (fd >= 0) ::close(fd);
      }
    });
  }
  ~ScriptedTcpServer() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  ScriptedTcpServer(const ScriptedTcpServer&) = delete;
  ScriptedTcpServer& operator=(const ScriptedTcpServer&) = delete;

  std::uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  Handler handler_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

/// A UDP server on 127.0.0.1: for each datagram received (up to
/// `max_datagrams`), `handler` gets the bytes and a function that sends a
/// reply to their source.
class ScriptedUdpServer {
 public:
  using Reply = std::function<void(const std::vector<std::uint8_t>&)>;
  using Handler =
      std::function<void(const std::vector<std::uint8_t>& datagram, const Reply& reply)>;

  explicit ScriptedUdpServer(Handler handler, int max_datagrams = 1)
      : handler_(std::move(handler)) {
    fd_ = bind_localhost(SOCK_DGRAM, port_);
    thread_ = std::thread([this, max_datagrams] {
      for (int i = 0; i < max_datagrams; ++i) {
        if (!wait_readable(fd_, stop_, std::chrono::seconds(10))) return;
        std::vector<std::uint8_t> datagram(65536);
        sockaddr_in from{};
        socklen_t length = sizeof from;
        const ssize_t n = ::recvfrom(fd_, datagram.data(), datagram.size(), 0,
                                     reinterpret_cast<sockaddr*>(&from), &length);
        if (n < 0) return;
        datagram.resize(static_cast<std::size_t>(n));
        handler_(datagram, [&](const std::vector<std::uint8_t>& bytes) {
          ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&from), length);
        });
      }
    });
  }
  ~ScriptedUdpServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  ScriptedUdpServer(const ScriptedUdpServer&) = delete;
  ScriptedUdpServer& operator=(const ScriptedUdpServer&) = delete;

  std::uint16_t port() const { return port_; }

 private:
  Handler handler_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace meridian::health::test
