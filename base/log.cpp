#include "base/log.hpp"

#include <cstdio>

namespace meridian {
namespace {

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "DEBUG";
    case LogLevel::info: return "INFO";
    case LogLevel::warn: return "WARN";
    case LogLevel::error: return "ERROR";
  }
  return "?";
}

}  // namespace

bool parse_log_level(std::string_view text, LogLevel& level) {
  if (text == "debug")
    level = LogLevel::debug;
  else if (text == "info")
    level = LogLevel::info;
  else if (text == "warn")
    level = LogLevel::warn;
  else if (text == "error")
    level = LogLevel::error;
  else
    return false;
  return true;
}

Logger::Logger(LogLevel threshold)
    : Logger(threshold, [](std::string_view line) {
        std::fwrite(line.data(), 1, line.size(), stderr);
        std::fflush(stderr);
      }) {}

Logger::Logger(LogLevel threshold, Sink sink) : threshold_(threshold), sink_(std::move(sink)) {}

void Logger::log(LogLevel level, std::string_view component, std::string_view message) {
  if (!enabled(level)) return;
  std::string line;
  line.reserve(component.size() + message.size() + 16);
  line.append(level_name(level))
      .append(" ")
      .append(component)
      .append(": ")
      .append(message)
      .append("\n");
  std::lock_guard lock(mutex_);
  sink_(line);
}

}  // namespace meridian
