#pragma once
// The fixed header that starts every DNS message (RFC 1035 4.1.1): its size,
// the bits of its flags word, and reading it. Queries (message.hpp), replies
// (client.hpp) and the renderer (writer.hpp) share these.

#include <cstdint>
#include <span>

#include "base/assert.hpp"

namespace meridian::dns {

/// Bytes of the header; nothing shorter is a DNS message.
inline constexpr std::size_t kHeaderSize = 12;

/// Bits of the header's flags word (its second 16 bits). OPCODE is bits
/// 11-14 and RCODE bits 0-3 (Header::opcode(), Header::rcode()).
namespace flag {
inline constexpr std::uint16_t QR = 0x8000;  ///< a response
inline constexpr std::uint16_t AA = 0x0400;  ///< authoritative answer
inline constexpr std::uint16_t TC = 0x0200;  ///< truncated
inline constexpr std::uint16_t RD = 0x0100;  ///< recursion desired
inline constexpr std::uint16_t CD = 0x0010;  ///< checking disabled (RFC 4035)
}  // namespace flag

/// The header's six 16-bit words, as read.
struct Header {
  std::uint16_t id = 0;
  std::uint16_t flags = 0;
  std::uint16_t qdcount = 0;
  std::uint16_t ancount = 0;
  std::uint16_t nscount = 0;
  std::uint16_t arcount = 0;

  bool response() const noexcept { return (flags & flag::QR) != 0; }
  bool truncated() const noexcept { return (flags & flag::TC) != 0; }
  std::uint8_t opcode() const noexcept { return static_cast<std::uint8_t>((flags >> 11) & 0x0F); }
  /// The header's four RCODE bits (EDNS extends them in the OPT record).
  std::uint8_t rcode() const noexcept { return static_cast<std::uint8_t>(flags & 0x0F); }
};

/// Reads the header at the start of `message`. Precondition:
/// message.size() >= kHeaderSize (a caller drops anything shorter first).
/// No allocation; inline, for the hot path.
inline Header read_header(std::span<const std::uint8_t> message) noexcept {
  MERIDIAN_ASSERT(message.size() >= kHeaderSize, "a header needs 12 bytes");
  const auto u16 = [&](std::size_t at) {
    return static_cast<std::uint16_t>((message[at] << 8) | message[at + 1]);
  };
  return Header{u16(0), u16(2), u16(4), u16(6), u16(8), u16(10)};
}

}  // namespace meridian::dns
