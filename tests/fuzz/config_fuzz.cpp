// libFuzzer target for the YAML config loader (config/: yaml-cpp through
// config/yaml_reader.cpp, every section reader, the zone files and nets
// files a config names, and the zone builder the loader validates with),
// built with clang by run_fuzz.sh. `meridian check-config`, `serve` and a
// committed config version (POST /api/v1/config: text from an API client)
// all reach parse_config: whatever the text, the answer must be a Config or
// a list of errors, never a crash or a hang.
//
// The input is the config's text, parsed as "fuzz.yaml" with relative paths
// resolved against configs/examples/ of the source tree, so that
// zones/example.com.zone and steering/nets.txt are there to be named. The
// loader reads the files a config names; an input that could name a file
// under /dev, /proc or /sys (the words themselves, or a YAML escape that
// could spell them) is skipped, since reading a terminal, a pipe or a
// kernel file could block or never end.
//
// What must hold for every input:
//   - parse_config returns a Config or a non-empty error;
//   - every error line says where: "fuzz.yaml:LINE:COLUMN: ..." (the
//     loader's promise, config/config.hpp), or, for an error about a file
//     the config names, starts with that file's path; at most
//     config_limits::kMaxErrors lines, then "... and N more errors";
//   - a loaded config builds its zones (build_zones), as the loader
//     promises: "a loaded Config always builds".
// A broken property aborts, which libFuzzer reports with the input.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config/zone_build.hpp"

#ifndef MERIDIAN_SOURCE_DIR
#error "build with -DMERIDIAN_SOURCE_DIR=\"...\" (run_fuzz.sh does)"
#endif

using namespace meridian;

namespace {

constexpr std::string_view kName = "fuzz.yaml";
constexpr std::string_view kBaseDir = MERIDIAN_SOURCE_DIR "/configs/examples";

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "config_fuzz: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

void check(bool condition, const char* what, std::string_view detail = "") {
  if (!condition) fail(what, detail);
}

/// True when the text might name a file whose reading could block or never
/// end: /dev/tty, /proc/self/fd/0, /sys/... YAML escapes (\x2f, \u0064,
/// \/) and a line continuation in double quotes could spell them too.
bool could_name_a_special_file(std::string_view text) {
  for (const std::string_view word : {"dev", "proc", "sys"}) {
    if (text.find(word) != std::string_view::npos) return true;
  }
  for (std::size_t i = text.find('\\'); i != std::string_view::npos && i + 1 < text.size();
       i = text.find('\\', i + 1)) {
    const char next = text[i + 1];
    if (next == 'x' || next == 'u' || next == 'U' || next == '/' || next == '\n' || next == '\r')
      return true;
  }
  return false;
}

/// "NUMBER:" at the start of `text`, consumed.
bool take_number(std::string_view& text) {
  const std::size_t digits = text.find_first_not_of("0123456789");
  if (digits == 0 || digits == std::string_view::npos || text[digits] != ':') return false;
  text.remove_prefix(digits + 1);
  return true;
}

/// One error line says where it is: in the config, with line and column;
/// or in a file the config names (an absolute path, since the base is).
bool located(std::string_view line) {
  if (line.starts_with(kName) && line.size() > kName.size() && line[kName.size()] == ':') {
    line.remove_prefix(kName.size() + 1);
    return take_number(line) && take_number(line) && line.starts_with(' ');
  }
  return line.starts_with('/');
}

void check_errors(std::string_view message) {
  check(!message.empty(), "a refused config has no error");
  std::size_t lines = 0;
  while (!message.empty()) {
    const std::size_t end = std::min(message.find('\n'), message.size());
    const std::string_view line = message.substr(0, end);
    message.remove_prefix(std::min(end + 1, message.size()));
    if (message.empty() && line.starts_with("... and ") && line.ends_with(" more errors")) {
      check(lines == config_limits::kMaxErrors, "errors were cut before the limit", line);
      break;
    }
    check(located(line), "an error does not say where it is", line);
    ++lines;
  }
  check(lines <= config_limits::kMaxErrors, "more error lines than the limit");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size > config_limits::kMaxFileBytes || could_name_a_special_file(text)) return -1;

  auto config = parse_config(text, std::string(kName), std::string(kBaseDir));
  if (!config) {
    check_errors(config.error().message);
    return 0;
  }
  auto zones = build_zones(*config);
  check(zones.ok(), "a loaded config does not build", zones.ok() ? "" : zones.error().message);
  check((*zones)->size() == config->zones.size(), "a zone was lost in the build");
  return 0;
}
