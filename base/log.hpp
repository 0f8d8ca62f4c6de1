#pragma once
// Logging: one Logger per process, created by main and passed by reference
// to the shells that log (servers, probers). Lines go to a sink (stderr by
// default) as "LEVEL component: message". Thread-safe; never used on the DNS
// hot path per query.

#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace meridian {

enum class LogLevel {
  debug,  ///< detail for developers
  info,   ///< normal operation: started, listening, reloaded
  warn,   ///< something an operator should look at; service continues
  error,  ///< an operation failed; the node may be degraded
};

/// Parses "debug", "info", "warn" or "error". Returns false on anything else.
bool parse_log_level(std::string_view text, LogLevel& level);

class Logger {
 public:
  using Sink = std::function<void(std::string_view line)>;

  /// Logs lines at `threshold` and above to stderr.
  explicit Logger(LogLevel threshold = LogLevel::info);
  /// Logs lines at `threshold` and above to `sink` (tests capture lines).
  Logger(LogLevel threshold, Sink sink);

  void log(LogLevel level, std::string_view component, std::string_view message);
  void debug(std::string_view component, std::string_view message) {
    log(LogLevel::debug, component, message);
  }
  void info(std::string_view component, std::string_view message) {
    log(LogLevel::info, component, message);
  }
  void warn(std::string_view component, std::string_view message) {
    log(LogLevel::warn, component, message);
  }
  void error(std::string_view component, std::string_view message) {
    log(LogLevel::error, component, message);
  }

  bool enabled(LogLevel level) const noexcept { return level >= threshold_; }

 private:
  LogLevel threshold_;
  Sink sink_;
  std::mutex mutex_;  // serialises sink calls so lines never interleave
};

}  // namespace meridian
