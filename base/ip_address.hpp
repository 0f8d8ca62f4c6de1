#pragma once
// IP addresses and networks as plain values (no heap, no syscalls), shared by
// dns/ (client addresses, ECS), geo/ (lookups, endpoints) and config.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace meridian {

/// An IPv4 or IPv6 address. IPv4 uses bytes[0..3]; the rest stay zero, so
/// defaulted equality is exact.
struct IpAddress {
  enum class Family : std::uint8_t { v4 = 4, v6 = 6 };

  Family family = Family::v4;
  std::array<std::uint8_t, 16> bytes{};

  /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (no brackets, no zone).
  /// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) stays IPv6; call unmapped().
  static bool parse(std::string_view text, IpAddress& out) noexcept;
  static IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept;

  /// 32 or 128.
  unsigned bit_length() const noexcept { return family == Family::v4 ? 32 : 128; }
  /// 4 or 16.
  unsigned byte_length() const noexcept { return family == Family::v4 ? 4 : 16; }
  /// The IPv4 address inside an IPv4-mapped IPv6 address; otherwise *this.
  IpAddress unmapped() const noexcept;
  /// This address with every bit past `prefix_len` cleared.
  IpAddress masked(unsigned prefix_len) const noexcept;
  /// Bit `index` (0 = most significant) of the address.
  bool bit(unsigned index) const noexcept { return (bytes[index / 8] >> (7 - index % 8)) & 1; }
  /// Canonical text (RFC 5952 for IPv6).
  std::string to_string() const;
  /// True for 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8.
  bool is_loopback() const noexcept;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

/// An address prefix, e.g. 81.2.69.0/24. `address` is always masked.
struct IpNetwork {
  IpAddress address;
  std::uint8_t prefix_len = 0;

  /// Parses "ADDRESS/LEN", or a bare address as a host network (/32, /128).
  /// Host bits set beyond the prefix are an error (a likely typo).
  static bool parse(std::string_view text, IpNetwork& out) noexcept;
  bool contains(const IpAddress& a) const noexcept;
  std::string to_string() const;

  friend bool operator==(const IpNetwork&, const IpNetwork&) = default;
};

}  // namespace meridian

namespace meridian {

/// An address and port, as in a listen setting: "127.0.0.1:53", "[::]:53".
struct SocketAddress {
  IpAddress address;
  std::uint16_t port = 0;

  /// Parses "IPv4:PORT" or "[IPv6]:PORT"; the port must be 1..65535.
  static bool parse(std::string_view text, SocketAddress& out) noexcept;
  /// True for 0.0.0.0 and ::.
  bool is_wildcard() const noexcept;
  std::string to_string() const;

  friend bool operator==(const SocketAddress&, const SocketAddress&) = default;
};

}  // namespace meridian
