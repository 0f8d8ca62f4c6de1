#pragma once
// Test helper for the DNS wire format and the answerer: builds query packets
// byte by byte, so tests can make malformed ones too.

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "dns/wire/name.hpp"
#include "dns/wire/types.hpp"

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
  QueryBuilder& header(std::uint16_t id, std::uint16_t flags, std::uint16_t qd, std::uint16_t an,
                       std::uint16_t ns, std::uint16_t ar) {
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
  QueryBuilder& opt(std::uint16_t payload = 1232, std::uint8_t version = 0,
                    std::vector<std::uint8_t> options = {}, bool dnssec_ok = false) {
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
    std::vector<std::uint8_t> option = {0,
                                        8,
                                        0,
                                        static_cast<std::uint8_t>(4 + address.size()),
                                        static_cast<std::uint8_t>(family >> 8),
                                        static_cast<std::uint8_t>(family),
                                        source,
                                        0};
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

}  // namespace meridian::dns::test
