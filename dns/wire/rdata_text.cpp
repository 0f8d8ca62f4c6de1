#include "dns/wire/rdata_text.hpp"

#include <algorithm>
#include <cstdio>

#include "base/ip_address.hpp"
#include "dns/wire/message.hpp"
#include "dns/wire/name.hpp"
#include "dns/wire/types.hpp"

namespace meridian::dns {

namespace {

/// Appends one byte of a label or character-string in presentation form.
void append_escaped(std::string& out, std::uint8_t byte, bool in_quotes) {
  const bool special =
      in_quotes ? (byte == '"' || byte == '\\') : (byte == '.' || byte == '\\' || byte == '"');
  if (byte < 0x21 || byte > 0x7e) {
    if (in_quotes && byte == ' ') {
      out.push_back(' ');
      return;
    }
    char buffer[5];
    std::snprintf(buffer, sizeof buffer, "\\%03u", static_cast<unsigned>(byte));
    out += buffer;
  } else {
    if (special) out.push_back('\\');
    out.push_back(static_cast<char>(byte));
  }
}

/// Reads the name at `at` of `message` and appends its text to `out`; false
/// when it is malformed or does not end exactly at `end` (the RDATA's end).
bool append_name(std::span<const std::uint8_t> message, std::size_t at, std::size_t end,
                 std::string& out) {
  Name name;
  if (!read_name(message, at, name) || at != end) return false;
  if (name.is_root()) {
    out.push_back('.');
    return true;
  }
  const auto wire = name.wire();
  for (std::size_t label = 0; wire[label] != 0; label += 1 + wire[label]) {
    for (std::uint8_t byte : wire.subspan(label + 1, wire[label])) append_escaped(out, byte, false);
    out.push_back('.');
  }
  return true;
}

}  // namespace

Result<std::string> rdata_to_text(std::span<const std::uint8_t> message, std::uint16_t type,
                                  std::size_t offset, std::size_t length) {
  MERIDIAN_ASSERT(offset <= message.size() && length <= message.size() - offset,
                  "RDATA outside its message");
  const auto rdata = message.subspan(offset, length);
  const std::size_t end = offset + length;
  std::string out;
  switch (type) {
    case rrtype::A:
      if (length != 4) break;
      return IpAddress::v4(rdata[0], rdata[1], rdata[2], rdata[3]).to_string();
    case rrtype::AAAA: {
      if (length != 16) break;
      IpAddress address;
      address.family = IpAddress::Family::v6;
      std::copy(rdata.begin(), rdata.end(), address.bytes.begin());
      return address.to_string();
    }
    case rrtype::NS:
    case rrtype::CNAME:
    case rrtype::PTR:
    case rrtype::DNAME:
      if (!append_name(message, offset, end, out)) break;
      return out;
    case rrtype::MX:
      if (length < 3) break;
      out = std::to_string((rdata[0] << 8) | rdata[1]) + " ";
      if (!append_name(message, offset + 2, end, out)) break;
      return out;
    case rrtype::TXT: {
      std::size_t pos = 0;
      while (pos < length) {
        const std::size_t size = rdata[pos];
        if (pos + 1 + size > length) return fail("malformed TXT record");
        if (!out.empty()) out.push_back(' ');
        out.push_back('"');
        for (std::uint8_t byte : rdata.subspan(pos + 1, size)) append_escaped(out, byte, true);
        out.push_back('"');
        pos += 1 + size;
      }
      return out;
    }
    default: {
      out = "\\# " + std::to_string(length);
      if (length > 0) out.push_back(' ');
      for (std::uint8_t byte : rdata) {
        char buffer[3];
        std::snprintf(buffer, sizeof buffer, "%02x", static_cast<unsigned>(byte));
        out += buffer;
      }
      return out;
    }
  }
  return fail("malformed RDATA of type ", std::to_string(type));
}

}  // namespace meridian::dns
