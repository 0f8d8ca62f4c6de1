#pragma once
// DNS numbers: types, classes, opcodes and response codes used by Meridian,
// and the names of response codes.

#include <cstdint>
#include <string>

namespace meridian::dns {

namespace rrtype {
inline constexpr std::uint16_t A = 1;
inline constexpr std::uint16_t NS = 2;
inline constexpr std::uint16_t CNAME = 5;
inline constexpr std::uint16_t SOA = 6;
inline constexpr std::uint16_t PTR = 12;
inline constexpr std::uint16_t MX = 15;
inline constexpr std::uint16_t TXT = 16;
inline constexpr std::uint16_t AAAA = 28;
inline constexpr std::uint16_t SRV = 33;
inline constexpr std::uint16_t DNAME = 39;
inline constexpr std::uint16_t OPT = 41;
inline constexpr std::uint16_t DS = 43;
inline constexpr std::uint16_t RRSIG = 46;
inline constexpr std::uint16_t NSEC = 47;
inline constexpr std::uint16_t IXFR = 251;
inline constexpr std::uint16_t AXFR = 252;
inline constexpr std::uint16_t MAILB = 253;
inline constexpr std::uint16_t MAILA = 254;
inline constexpr std::uint16_t ANY = 255;
inline constexpr std::uint16_t CAA = 257;
}  // namespace rrtype

namespace rrclass {
inline constexpr std::uint16_t IN = 1;
inline constexpr std::uint16_t CH = 3;
inline constexpr std::uint16_t ANY = 255;
}  // namespace rrclass

enum class Opcode : std::uint8_t { query = 0, iquery = 1, status = 2, notify = 4, update = 5 };

/// Response codes; values above 15 need the EDNS extended RCODE bits.
enum class Rcode : std::uint16_t {
  noerror = 0,
  formerr = 1,
  servfail = 2,
  nxdomain = 3,
  notimp = 4,
  refused = 5,
  badvers = 16,
};

/// The mnemonic of a response code ("NOERROR", "REFUSED", ... up to
/// "NOTZONE", 10), or its number in decimal for any other value.
std::string rcode_name(std::uint16_t rcode);

namespace edns_option {
inline constexpr std::uint16_t NSID = 3;
inline constexpr std::uint16_t CLIENT_SUBNET = 8;
inline constexpr std::uint16_t COOKIE = 10;
inline constexpr std::uint16_t EXTENDED_ERROR = 15;  ///< RFC 8914
}  // namespace edns_option

/// Extended DNS Error INFO-CODEs (RFC 8914 4) that Meridian gives.
namespace ede {
inline constexpr std::uint16_t OTHER = 0;
inline constexpr std::uint16_t PROHIBITED = 18;
inline constexpr std::uint16_t NOT_AUTHORITATIVE = 20;
inline constexpr std::uint16_t NOT_SUPPORTED = 21;
}  // namespace ede

/// True for the types whose RDATA names may be compressed (RFC 3597 4).
constexpr bool rdata_names_compressible(std::uint16_t type) noexcept {
  return type == rrtype::NS || type == rrtype::CNAME || type == rrtype::SOA ||
         type == rrtype::PTR || type == rrtype::MX;
}

}  // namespace meridian::dns
