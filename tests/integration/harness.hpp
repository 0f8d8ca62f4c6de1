#pragma once
// Integration test harness: starts the real `meridian` binary on free
// loopback ports, runs real clients (dig, kdig) and raw sockets against it,
// and stops it. Every helper fails the test loudly when a tool is missing.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace meridian::itest {

/// Output and exit status of a shell command.
struct CommandResult {
  int status = -1;
  std::string output;  ///< stdout and stderr together
};

/// Runs `command` through /bin/sh and captures its output.
CommandResult run(const std::string& command);

/// Throws when `tool` is not on PATH (tests must not skip silently).
void require_tool(const std::string& tool);

/// A port free on 127.0.0.1 and ::1 for both UDP and TCP right now.
std::uint16_t free_port();

/// A fresh temporary directory, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

/// A running `meridian serve` process.
class Server {
 public:
  /// Starts `meridian serve -c config` and waits until it answers on `port`
  /// (UDP, 127.0.0.1). Throws if it exits or does not answer within 10 s.
  Server(const std::string& config_path, std::uint16_t port);
  ~Server();
  /// Sends `signal` and waits for the exit status (-1 on timeout).
  int stop(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool running();
  std::uint16_t port() const { return port_; }
  const std::string& log_path() const { return log_path_; }

 private:
  int pid_ = -1;
  std::uint16_t port_;
  std::string log_path_;
};

/// Sends `packet` over UDP to 127.0.0.1:port and returns the reply, or an
/// empty vector after `timeout`.
std::vector<std::uint8_t> udp_exchange(
    std::uint16_t port, const std::vector<std::uint8_t>& packet,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

/// Path of the meridian binary and of the source tree (compile definitions).
std::string meridian_binary();
std::string source_dir();

}  // namespace meridian::itest
