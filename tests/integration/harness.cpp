#include "harness.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace meridian::itest {

std::string meridian_binary() {
  return MERIDIAN_BINARY;
}
std::string source_dir() {
  return MERIDIAN_SOURCE_DIR;
}

CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + command);
  std::array<char, 4096> buffer;
  std::size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

void require_tool(const std::string& tool) {
  if (run("command -v " + tool).status != 0) {
    throw std::runtime_error(tool + " is not installed (scripts/install-deps.sh installs it)");
  }
}

std::uint16_t free_port() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int probe = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
    const std::uint16_t port = ntohs(address.sin_port);
    ::close(probe);
    // The same port must also be free for TCP on both families.
    bool free = true;
    for (int family : {AF_INET, AF_INET6}) {
      for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
        const int fd = ::socket(family, type, 0);
        int rc;
        if (family == AF_INET) {
          address.sin_port = htons(port);
          rc = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
        } else {
          sockaddr_in6 a6{};
          a6.sin6_family = AF_INET6;
          a6.sin6_addr = in6addr_loopback;
          a6.sin6_port = htons(port);
          rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a6), sizeof a6);
        }
        ::close(fd);
        if (rc != 0) free = false;
      }
    }
    if (free) return port;
  }
  throw std::runtime_error("no free port found");
}

TempDir::TempDir() {
  char pattern[] = "/tmp/meridian-test-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void TempDir::write(const std::string& name, const std::string& content) const {
  std::ofstream out(file(name));
  out << content;
  if (!out) throw std::runtime_error("cannot write " + file(name));
}

std::vector<std::uint8_t> udp_exchange(std::uint16_t port, const std::vector<std::uint8_t>& packet,
                                       std::chrono::milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&address),
           sizeof address);
  pollfd waiting{fd, POLLIN, 0};
  std::vector<std::uint8_t> reply;
  if (::poll(&waiting, 1, static_cast<int>(timeout.count())) == 1) {
    reply.resize(65536);
    const ssize_t n = ::recv(fd, reply.data(), reply.size(), 0);
    reply.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  }
  ::close(fd);
  return reply;
}

Server::Server(const std::string& config_path, std::uint16_t port) : port_(port) {
  log_path_ = config_path + ".log";
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // The server must not outlive a test process that is killed (a CTest
    // timeout, the OOM killer): it dies with its parent.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    std::FILE* log = std::fopen(log_path_.c_str(), "w");
    if (log != nullptr) {
      ::dup2(::fileno(log), 1);
      ::dup2(::fileno(log), 2);
    }
    const std::string binary = meridian_binary();
    ::execl(binary.c_str(), binary.c_str(), "serve", "-c", config_path.c_str(), "--seed", "7",
            static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  // A valid query for a name nobody serves: any answer proves liveness.
  const std::vector<std::uint8_t> probe = {0, 1, 0,   0,   0,   1,   0, 0, 0, 0, 0,
                                           0, 4, 'p', 'i', 'n', 'g', 0, 0, 1, 0, 1};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running())
      throw std::runtime_error("meridian exited at start; log: " + run("cat " + log_path_).output);
    if (!udp_exchange(port_, probe, std::chrono::milliseconds(100)).empty()) return;
  }
  stop(SIGKILL);
  throw std::runtime_error("meridian did not answer within 10 s; log: " +
                           run("cat " + log_path_).output);
}

Server::~Server() {
  if (pid_ > 0) stop(SIGKILL);
}

bool Server::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int Server::stop(int signal, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return -1;
}

}  // namespace meridian::itest
