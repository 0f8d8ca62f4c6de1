// libFuzzer target for zone files (dns/presentation.cpp read_zone_file, the
// ldns adapter, and dns/zone.cpp's ZoneBuilder and lookup), built with clang
// by run_fuzz.sh. A zone file is read at every config load and every
// `check-config`; whatever an operator (or a tool that writes zone files)
// puts in one must end in records or in an error naming the line, never in
// a crash.
//
// The input is the file's text; it is written to a file in the fuzzer's own
// folder and read as zones[].file is, with origin example.com. and a
// default TTL of 3600. What must hold for every input:
//   - read_zone_file returns records or an error "PATH:LINE: reason";
//   - every record has class IN, RDATA of at most 65535 bytes, and a line
//     number within the file;
//   - every record prints (to_text), and when that text is plain (no
//     escapes, '@' or quotes: ldns's printer and reader disagree on those)
//     and parse_record reads it back, it is the same record;
//   - the records that ZoneBuilder takes build a zone or an error with a
//     reason, and in a built zone every record's owner is found (exact, or
//     below a zone cut), the apex has its SOA, and the negative TTL is at
//     most the SOA's TTL.
// A broken property aborts, which libFuzzer reports with the input.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "dns/presentation.hpp"
#include "dns/zone.hpp"

#ifndef MERIDIAN_FUZZ_DIR
#error "build with -DMERIDIAN_FUZZ_DIR=\"...\" (run_fuzz.sh does)"
#endif

using namespace meridian;
using namespace meridian::dns;

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "zone_fuzz: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
  std::abort();
}

void check(bool condition, const char* what, const std::string& detail = "") {
  if (!condition) fail(what, detail);
}

Name name(const char* text) {
  Name parsed;
  if (!Name::from_text(text, parsed)) fail("setup: bad name");
  return parsed;
}

/// One file per process: libFuzzer runs inputs one after another.
const std::string& zone_path() {
  static const std::string path =
      MERIDIAN_FUZZ_DIR "/zone_fuzz." + std::to_string(static_cast<long>(::getpid())) + ".zone";
  return path;
}

void write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) fail("setup: cannot write the zone file", path);
  if (size > 0 && std::fwrite(data, 1, size, file) != size) fail("setup: short write", path);
  if (std::fclose(file) != 0) fail("setup: cannot close the zone file", path);
}

bool same_record(const Record& a, const Record& b) {
  return a.owner.lowercase_key() == b.owner.lowercase_key() && a.type == b.type &&
         a.rclass == b.rclass && a.ttl == b.ttl && a.rdata == b.rdata;
}

/// "PATH:LINE: reason" with LINE a number.
bool located(std::string_view message, const std::string& path) {
  if (!message.starts_with(path + ":")) return false;
  message.remove_prefix(path.size() + 1);
  const std::size_t digits = message.find_first_not_of("0123456789");
  return digits != 0 && digits != std::string_view::npos &&
         message.substr(digits).starts_with(": ");
}

/// Text ldns prints and reads alike: no escapes, no '@', no quotes.
bool plain_text(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '*' ||
           c == '.' || c == ' ' || c == '\t' || c == ':';
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Name origin = name("example.com.");
  const std::string& path = zone_path();
  write_file(path, data, size);
  const auto lines = static_cast<int>(std::count(data, data + size, '\n')) + 1;

  auto records = read_zone_file(path, origin, 3600);
  if (!records) {
    check(located(records.error().message, path),
          "an error without PATH:LINE:", records.error().message);
    return 0;
  }

  ZoneBuilder builder(origin);
  std::vector<const Record*> added;
  for (const ZoneFileRecord& entry : *records) {
    const Record& record = entry.record;
    check(record.rclass == 1, "a record of a class other than IN");
    check(record.rdata.size() <= 65535, "RDATA longer than 65535 bytes");
    check(entry.line >= 1 && entry.line <= lines, "a record's line is outside the file",
          std::to_string(entry.line));

    const std::string text = to_text(record);
    auto again = parse_record(text, origin, 3600);
    // ldns's printer does not always write what its reader takes back (a
    // name whose \DDD escapes pass its 255-character token, an empty CAA
    // value printed without quotes, a known type's RDATA given in the
    // generic \# form, a name starting with '@' or holding escaped spaces,
    // which it prints bare): the text is for logs. For a record whose text
    // is plain (letters, digits, '-', '_', '*', '.', spaces between fields)
    // what it reads back must be the record itself.
    check(!again.ok() || !plain_text(text) || same_record(record, *again),
          "a record's own text reads back differently", text);

    if (const auto result = builder.add(record); result.ok()) {
      added.push_back(&record);
    } else {
      check(!result.error().message.empty(), "a refused record has no reason");
    }
  }

  auto zone = std::move(builder).build();
  if (!zone) {
    check(!zone.error().message.empty(), "a refused zone has no reason");
    return 0;
  }
  check(zone->apex().find(6) != nullptr, "a built zone has no SOA at its apex");
  check(zone->negative_ttl() <= zone->soa().ttl, "the negative TTL exceeds the SOA's TTL");
  for (const Record* record : added) {
    check(record->owner.is_subdomain_of(origin), "an owner outside the zone was added");
    const ZoneMatch match = zone->lookup(record->owner);
    check(match.node != nullptr, "a match without a node");
    check(match.kind == ZoneMatch::Kind::exact || match.kind == ZoneMatch::Kind::delegation,
          "an owner of the zone is not found", record->owner.to_text());
    if (match.kind == ZoneMatch::Kind::exact) {
      check(match.node == zone->find_node(record->owner), "lookup and find_node disagree",
            record->owner.to_text());
      check(match.node->find(record->type) != nullptr, "an added record's RRset is missing",
            to_text(*record));
    }
  }
  return 0;
}
