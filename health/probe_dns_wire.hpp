#pragma once
// Private to the probers: the little DNS wire format a health query needs,
// IO-free. health/ may not use dns/ (DESIGN.md section 2), and a probe needs
// only this: encode one question, parse the reply's header, question and
// answer records, print A/AAAA/name RDATA in presentation form.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace meridian::health::detail {

/// Size of a DNS message header; nothing shorter is a DNS message.
inline constexpr std::size_t kDnsHeaderBytes = 12;

/// A query: `id`, opcode QUERY, RD=0, one question (class IN), no EDNS.
/// `qname` is in presentation form ("example.com.", final dot optional,
/// "\." and "\DDD" escapes); an error for an empty label or a name too long.
Result<std::vector<std::uint8_t>> encode_dns_query(std::uint16_t id, std::string_view qname, std::uint16_t qtype);

/// The id of a message of at least two bytes.
std::uint16_t dns_message_id(std::span<const std::uint8_t> message);

struct DnsAnswer {
  std::uint16_t type = 0;
  /// RDATA in presentation form: A/AAAA the address (RFC 5952 for IPv6),
  /// NS/CNAME/PTR/DNAME the absolute name, MX "PREF NAME", TXT quoted
  /// strings, others RFC 3597 "\# LEN HEX".
  std::string rdata;
};

struct DnsReply {
  std::uint16_t id = 0;
  bool truncated = false;  ///< TC
  std::uint8_t rcode = 0;
  std::vector<DnsAnswer> answers;
};

/// Parses `reply` as the answer to `query` (as built by encode_dns_query):
/// QR set, opcode QUERY, the same question (name compared without case);
/// a reply without a question is accepted only with an rcode other than
/// NOERROR (servers often drop it from FORMERR/NOTIMP/REFUSED). Checks every
/// bound; reads the answer section only. The error says what is wrong.
/// Does not compare ids (the caller ignores replies to other queries).
Result<DnsReply> parse_dns_reply(std::span<const std::uint8_t> reply, std::span<const std::uint8_t> query);

/// "NOERROR", "REFUSED", ... or the number.
std::string rcode_name(std::uint8_t rcode);

/// Whether `answer` is the expected text: addresses are compared as
/// addresses ("2001:DB8::1" matches "2001:db8::1"), names without case and
/// with or without the final dot, anything else exactly.
bool answer_matches(const DnsAnswer& answer, std::string_view expected);

}  // namespace meridian::health::detail
