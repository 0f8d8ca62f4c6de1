#pragma once
// Test helpers for dns/: a builder for query packets (so tests can make
// malformed ones too), a zone/table builder from presentation text, and a
// decoder of responses through ldns — an independent DNS implementation.

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
#include "dns/name.hpp"
#include "dns/presentation.hpp"
#include "dns/routing_table.hpp"
#include "dns/types.hpp"
#include "dns/zone.hpp"

namespace meridian::dns::test {

/// Builds query packets byte by byte.
class QueryBuilder {
 public:
  explicit QueryBuilder(std::string qname = "www.example.com.", std::uint16_t qtype = rrtype::A) {
    header(0x1234, 0x0100, 1, 0, 0, 0);
    name(qname);
    u16(qtype);
    u16(rrclass::IN);
  }
  QueryBuilder& header(std::uint16_t id, std::uint16_t flags, std::uint16_t qd, std::uint16_t an, std::uint16_t ns,
                       std::uint16_t ar) {
    bytes.resize(std::max<std::size_t>(bytes.size(), 12));
    put16at(0, id);
    put16at(2, flags);
    put16at(4, qd);
    put16at(6, an);
    put16at(8, ns);
    put16at(10, ar);
    return *this;
  }
  QueryBuilder& name(const std::string& text) {
    Name n;
    REQUIRE_NAME(Name::from_text(text, n));
    bytes.insert(bytes.end(), n.wire().begin(), n.wire().end());
    return *this;
  }
  QueryBuilder& u8(std::uint8_t v) {
    bytes.push_back(v);
    return *this;
  }
  QueryBuilder& u16(std::uint16_t v) {
    bytes.push_back(static_cast<std::uint8_t>(v >> 8));
    bytes.push_back(static_cast<std::uint8_t>(v));
    return *this;
  }
  QueryBuilder& u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    return u16(static_cast<std::uint16_t>(v));
  }
  /// Appends an OPT record with the given options payload and bumps ARCOUNT.
  QueryBuilder& opt(std::uint16_t payload = 1232, std::uint8_t version = 0, std::vector<std::uint8_t> options = {},
                    bool dnssec_ok = false) {
    u8(0);
    u16(rrtype::OPT);
    u16(payload);
    u8(0);
    u8(version);
    u16(dnssec_ok ? 0x8000 : 0);
    u16(static_cast<std::uint16_t>(options.size()));
    bytes.insert(bytes.end(), options.begin(), options.end());
    put16at(10, static_cast<std::uint16_t>(((bytes[10] << 8) | bytes[11]) + 1));
    return *this;
  }
  /// An OPT with an ECS option for `prefix` bits of `address` (bytes).
  QueryBuilder& ecs(std::uint16_t family, std::uint8_t source, std::vector<std::uint8_t> address,
                    std::uint16_t payload = 1232) {
    std::vector<std::uint8_t> option = {0, 8, 0, static_cast<std::uint8_t>(4 + address.size()),
                                        static_cast<std::uint8_t>(family >> 8), static_cast<std::uint8_t>(family),
                                        source, 0};
    option.insert(option.end(), address.begin(), address.end());
    return opt(payload, 0, option);
  }
  std::vector<std::uint8_t> bytes;

 private:
  static void REQUIRE_NAME(bool ok) {
    if (!ok) throw std::runtime_error("bad test name");
  }
  void put16at(std::size_t at, std::uint16_t v) {
    bytes[at] = static_cast<std::uint8_t>(v >> 8);
    bytes[at + 1] = static_cast<std::uint8_t>(v);
  }
};

/// A response as ldns sees it.
struct Decoded {
  std::shared_ptr<ldns_pkt> packet;
  bool ok() const { return packet != nullptr; }
  ldns_pkt_rcode rcode() const { return ldns_pkt_get_rcode(packet.get()); }
  bool aa() const { return ldns_pkt_aa(packet.get()); }
  bool tc() const { return ldns_pkt_tc(packet.get()); }
  std::size_t count(ldns_pkt_section section) const { return ldns_pkt_section_count(packet.get(), section); }
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
