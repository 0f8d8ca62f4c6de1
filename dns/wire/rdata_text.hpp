#pragma once
// RDATA of a received record in presentation form (RFC 1035 5.1, RFC 3597
// for types it does not know), as the DNS health check prints an answer and
// compares it with the expected one. Reads untrusted bytes: every read is
// bounds-checked, and a name's compression pointers are followed as
// read_name (message.hpp) allows them.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/result.hpp"

namespace meridian::dns {

/// The RDATA of a record of `type` at [offset, offset + length) of
/// `message` (the whole message: names inside RDATA may point anywhere
/// before them). Precondition: offset + length <= message.size().
///
/// - A: dotted quad; AAAA: RFC 5952 text ("2001:db8::5"). Exactly 4 or 16
///   bytes, else an error.
/// - NS, CNAME, PTR, DNAME: the absolute name, which must fill the RDATA.
/// - MX: "PREFERENCE NAME".
/// - TXT: each character-string quoted, separated by spaces.
/// - anything else: "\# LENGTH HEX" (RFC 3597), lower-case hex.
///
/// Labels and character-strings print bytes outside 0x21..0x7e as \DDD
/// (a space inside quotes as itself), and escape '\' and '"' (in labels
/// also '.') with a backslash; no other character is escaped (Name::to_text
/// also escapes the zone-file specials "()@;$"). Errors: "malformed TXT
/// record", "malformed RDATA of type N".
Result<std::string> rdata_to_text(std::span<const std::uint8_t> message, std::uint16_t type,
                                  std::size_t offset, std::size_t length);

}  // namespace meridian::dns
