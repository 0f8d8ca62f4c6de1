#pragma once
// Parsing a DNS query (RFC 1035 4, RFC 6891 EDNS0, RFC 7871 Client Subnet,
// RFC 7873 cookies),
// and reading a possibly compressed name (replies, client.hpp, use it too).
// The parser reads only inside the given buffer, follows compression
// pointers only backwards, allocates nothing, and tells the caller how to
// react to anything malformed: drop it or answer FORMERR.

#include <array>
#include <cstdint>
#include <span>

#include "base/ip_address.hpp"
#include "dns/wire/header.hpp"
#include "dns/wire/name.hpp"

namespace meridian::dns {

inline constexpr std::uint16_t kMinUdpPayload = 512;

/// The EDNS Client Subnet option of a query.
struct ClientSubnet {
  bool present = false;
  std::uint16_t family = 0;  ///< 1 = IPv4, 2 = IPv6 (IANA address family)
  std::uint8_t source_prefix_len = 0;
  IpAddress address;  ///< masked to source_prefix_len
};

/// The COOKIE option of a query, as parsed (RFC 7873 4: an 8-byte client
/// cookie, then an optional 8..32-byte server cookie).
struct QueryCookie {
  bool present = false;
  std::array<std::uint8_t, 8> client{};
  std::uint8_t server_length = 0;  ///< 0, or 8..32
  std::array<std::uint8_t, 32> server{};
};

/// The OPT pseudo-record of a query.
struct Edns {
  bool present = false;
  std::uint8_t version = 0;
  std::uint16_t udp_payload = kMinUdpPayload;  ///< the client's, raised to 512
  bool dnssec_ok = false;
  bool nsid_requested = false;
  ClientSubnet client_subnet;
  QueryCookie cookie;
};

/// What the parser learned. Fields past `id`/`opcode`/`flags` are valid only
/// as far as parsing got (see ParseOutcome).
struct Query {
  std::uint16_t id = 0;
  std::uint8_t opcode = 0;
  std::uint16_t flags = 0;    ///< the raw second 16 bits of the header
  bool has_question = false;  ///< qname/qtype/qclass were read
  Name qname;                 ///< case preserved, as sent
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
  std::size_t question_end = 0;  ///< offset just past the question
  Edns edns;

  bool recursion_desired() const noexcept { return (flags & 0x0100) != 0; }
  bool checking_disabled() const noexcept { return (flags & 0x0010) != 0; }
};

enum class ParseOutcome : std::uint8_t {
  ok,       ///< a well-formed query
  drop,     ///< no reply: shorter than a header, or a response (QR=1)
  formerr,  ///< reply FORMERR (with the question if has_question)
  notimp,   ///< an opcode other than QUERY: reply NOTIMP
};

/// Parses `packet` as a query into `query`.
ParseOutcome parse_query(std::span<const std::uint8_t> packet, Query& query) noexcept;

/// Reads a possibly compressed name at `offset`, advancing `offset` past it.
/// Pointers must point strictly before every position already read for this
/// name (so no loops and no forward references). False when malformed.
bool read_name(std::span<const std::uint8_t> packet, std::size_t& offset, Name& name) noexcept;

}  // namespace meridian::dns
