#pragma once
// The client's side of one DNS exchange, as the DNS health check makes it:
// the query it sends, and the reply to it read back (header, question and
// answer records, RDATA as text). IO-free; the prober owns the socket.
// A reply is untrusted input: every read is bounds-checked and anything
// malformed is an error value that says what is wrong.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace meridian::dns {

/// A query: `id`, opcode QUERY, RD clear (a health check asks the server
/// itself), one question of class IN, no EDNS. `qname` is presentation text
/// as Name::from_text reads it, relative to the root, so the final dot is
/// optional ("example.com" is "example.com."; "\." and "\DDD" escapes).
/// Error: an empty label, a label over 63 bytes, a name over 255 bytes, or a
/// bad escape ("bad query name \"...\"").
Result<std::vector<std::uint8_t>> encode_query(std::uint16_t id, std::string_view qname,
                                               std::uint16_t qtype);

/// One record of a reply's answer section.
struct ReplyAnswer {
  std::uint16_t type = 0;
  /// RDATA in presentation form (rdata_text.hpp): A/AAAA the address,
  /// NS/CNAME/PTR/DNAME the absolute name, MX "PREF NAME", TXT quoted
  /// strings, others RFC 3597 "\# LEN HEX".
  std::string rdata;
};

/// What a reply says, as far as a health check reads it.
struct Reply {
  std::uint16_t id = 0;
  bool truncated = false;  ///< TC
  std::uint8_t rcode = 0;  ///< the header's four bits
  std::vector<ReplyAnswer> answers;
};

/// Parses `reply` as the answer to `query` (as encode_query built it): QR
/// set, opcode QUERY, the same question (compared byte for byte, ASCII
/// letters without case); a reply without a question is accepted only with
/// an rcode other than NOERROR (servers often drop it from FORMERR, NOTIMP,
/// REFUSED). Reads the answer section only, and stops there. Does not
/// compare ids (the caller ignores replies to other queries). Errors, in
/// the order checked: "short reply (N bytes)", "not a reply (QR clear)",
/// "reply with opcode N", "question cut short", "reply to another
/// question", "reply with N questions", "malformed answer record", "answer
/// record cut short", and rdata_to_text's.
Result<Reply> parse_reply(std::span<const std::uint8_t> reply, std::span<const std::uint8_t> query);

}  // namespace meridian::dns
