#pragma once
// Test helpers for dns/: a builder for query packets (so tests can make
// malformed ones too; wire/query_builder.hpp), a zone/table builder from
// presentation text, and a decoder of responses through ldns — an
// independent DNS implementation.

// Before ldns: its common.h defines `bool` and `false` as macros when it was
// built for C, which breaks libstdc++ headers included after it (<optional>
// via the routing table).
#include <optional>

#include <ldns/ldns.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dns/answerer.hpp"
#include "dns/presentation.hpp"
#include "dns/routing_table.hpp"
#include "dns/wire/name.hpp"
#include "dns/wire/types.hpp"
#include "dns/zone.hpp"
#include "wire/query_builder.hpp"

namespace meridian::dns::test {

/// A response as ldns sees it.
struct Decoded {
  std::shared_ptr<ldns_pkt> packet;
  bool ok() const { return packet != nullptr; }
  ldns_pkt_rcode rcode() const { return ldns_pkt_get_rcode(packet.get()); }
  bool aa() const { return ldns_pkt_aa(packet.get()); }
  bool tc() const { return ldns_pkt_tc(packet.get()); }
  std::size_t count(ldns_pkt_section section) const {
    return ldns_pkt_section_count(packet.get(), section);
  }
  /// The section's records in presentation form, one per entry.
  std::vector<std::string> section(ldns_pkt_section section) const {
    std::vector<std::string> out;
    ldns_rr_list* list = ldns_pkt_get_section_clone(packet.get(), section);
    for (std::size_t i = 0; list != nullptr && i < ldns_rr_list_rr_count(list); ++i) {
      char* text = ldns_rr2str(ldns_rr_list_rr(list, i));
      std::string line = text;
      free(text);
      while (!line.empty() && line.back() == '\n') line.pop_back();
      // tabs to single spaces for readable expectations
      std::string compact;
      for (char c : line) compact.push_back(c == '\t' ? ' ' : c);
      out.push_back(compact);
    }
    ldns_rr_list_deep_free(list);
    return out;
  }
  std::vector<std::string> answer() const { return section(LDNS_SECTION_ANSWER); }
  std::vector<std::string> authority() const { return section(LDNS_SECTION_AUTHORITY); }
  std::vector<std::string> additional() const { return section(LDNS_SECTION_ADDITIONAL); }
  std::string qname() const {
    ldns_rr_list* q = ldns_pkt_question(packet.get());
    char* text = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(q, 0)));
    std::string s = text;
    free(text);
    return s;
  }
  bool has_opt() const { return ldns_pkt_edns(packet.get()); }
  /// The Extended DNS Error option (RFC 8914) of the OPT: "CODE TEXT", or
  /// "" when there is none.
  std::string extended_error() const {
    const ldns_rdf* data = ldns_pkt_edns_data(packet.get());
    if (data == nullptr) return "";
    const std::uint8_t* bytes = ldns_rdf_data(data);
    const std::size_t size = ldns_rdf_size(data);
    for (std::size_t at = 0; at + 4 <= size;) {
      const unsigned code = (bytes[at] << 8) | bytes[at + 1];
      const std::size_t length = (bytes[at + 2] << 8) | bytes[at + 3];
      if (at + 4 + length > size) break;
      if (code == 15 && length >= 2) {
        const unsigned info = (bytes[at + 4] << 8) | bytes[at + 5];
        return std::to_string(info) + " " +
               std::string(reinterpret_cast<const char*>(bytes + at + 6), length - 2);
      }
      at += 4 + length;
    }
    return "";
  }
};

inline Decoded decode(const std::uint8_t* data, std::size_t size) {
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, data, size) != LDNS_STATUS_OK) return {};
  return Decoded{std::shared_ptr<ldns_pkt>(raw, ldns_pkt_free)};
}

/// Heap allocations of this test binary so far, counted by the replacement
/// operator new in answerer_test.cpp (not under AddressSanitizer).
inline std::atomic<long> allocations{0};

/// Builds a zone from record lines (origin-relative names allowed).
inline Zone make_zone(const std::string& origin_text, const std::vector<std::string>& lines) {
  Name origin;
  if (!Name::from_text(origin_text, origin)) throw std::runtime_error("bad origin");
  ZoneBuilder builder(origin);
  for (const auto& line : lines) {
    auto record = parse_record(line, origin, 3600);
    if (!record) throw std::runtime_error("bad record '" + line + "': " + record.error().message);
    auto added = builder.add(*record);
    if (!added) throw std::runtime_error(added.error().message);
  }
  auto zone = std::move(builder).build();
  if (!zone) throw std::runtime_error(zone.error().message);
  return std::move(zone).value();
}

}  // namespace meridian::dns::test
