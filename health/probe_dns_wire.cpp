// The DNS wire format of a health query (RFC 1035 section 4, RFC 3597 for
// unknown types). Every read is bounds-checked: a reply is untrusted input.

#include "health/probe_dns_wire.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "base/ip_address.hpp"

namespace meridian::health::detail {

namespace {

constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeNs = 2;
constexpr std::uint16_t kTypeCname = 5;
constexpr std::uint16_t kTypePtr = 12;
constexpr std::uint16_t kTypeMx = 15;
constexpr std::uint16_t kTypeTxt = 16;
constexpr std::uint16_t kTypeAaaa = 28;
constexpr std::uint16_t kTypeDname = 39;
constexpr std::uint16_t kClassIn = 1;
constexpr std::size_t kMaxNameBytes = 255;
constexpr std::size_t kMaxLabelBytes = 63;
/// More compression pointers than a legal name can need means a loop.
constexpr int kMaxPointers = 64;

using Bytes = std::span<const std::uint8_t>;

std::uint16_t u16(Bytes m, std::size_t at) { return static_cast<std::uint16_t>(m[at] << 8 | m[at + 1]); }

void put_u16(std::vector<std::uint8_t>& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value & 0xff));
}

/// Appends one byte of a label or character-string in presentation form.
void append_escaped(std::string& out, std::uint8_t byte, bool in_quotes) {
  const bool special = in_quotes ? (byte == '"' || byte == '\\') : (byte == '.' || byte == '\\' || byte == '"');
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

/// Reads a (possibly compressed) name at `pos`, moving `pos` past it, and
/// appends its presentation form to `out` when given.
bool read_name(Bytes m, std::size_t& pos, std::string* out) {
  std::size_t at = pos;
  std::size_t length = 1;
  int pointers = 0;
  bool jumped = false;
  const std::size_t start = out != nullptr ? out->size() : 0;
  while (true) {
    if (at >= m.size()) return false;
    const std::uint8_t label = m[at];
    if ((label & 0xc0) == 0xc0) {
      if (at + 1 >= m.size() || ++pointers > kMaxPointers) return false;
      const std::size_t target = static_cast<std::size_t>(label & 0x3f) << 8 | m[at + 1];
      if (target >= at) return false;  // only backwards, as compressors write them
      if (!jumped) pos = at + 2;
      jumped = true;
      at = target;
      continue;
    }
    if ((label & 0xc0) != 0) return false;  // obsolete extended label types
    if (label == 0) {
      if (!jumped) pos = at + 1;
      if (out != nullptr && out->size() == start) out->push_back('.');
      return true;
    }
    if (at + 1 + label > m.size()) return false;
    length += label + 1u;
    if (length > kMaxNameBytes) return false;
    if (out != nullptr) {
      for (std::uint8_t byte : m.subspan(at + 1, label)) append_escaped(*out, byte, false);
      out->push_back('.');
    }
    at += 1 + label;
  }
}

/// The value of a "\DDD" escape whose digits start `text`, or -1.
int decimal_escape(std::string_view text) {
  if (text.size() < 3) return -1;
  int value = 0;
  for (char c : text.substr(0, 3)) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value <= 255 ? value : -1;
}

Result<void> append_name(std::vector<std::uint8_t>& out, std::string_view name) {
  if (name.empty()) return fail("empty query name");
  if (name == ".") {
    out.push_back(0);
    return {};
  }
  std::string label;
  std::size_t length = 1;
  auto flush = [&] {
    if (label.empty() || label.size() > kMaxLabelBytes) return false;
    length += label.size() + 1;
    out.push_back(static_cast<std::uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    label.clear();
    return length <= kMaxNameBytes;
  };
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '.') {
      if (!flush()) return fail("bad query name \"", name, "\": empty or long label, or name too long");
    } else if (c != '\\') {
      label.push_back(c);
    } else if (i + 1 < name.size() && !std::isdigit(static_cast<unsigned char>(name[i + 1]))) {
      label.push_back(name[++i]);
    } else if (const int byte = decimal_escape(name.substr(i + 1)); byte >= 0) {
      label.push_back(static_cast<char>(byte));
      i += 3;
    } else {
      return fail("bad escape in query name \"", name, "\"");
    }
  }
  if (!label.empty() && !flush()) return fail("bad query name \"", name, "\": long label or name too long");
  out.push_back(0);
  return {};
}

/// RDATA of `type` at [at, at + length) of `m`, in presentation form.
Result<std::string> print_rdata(Bytes m, std::uint16_t type, std::size_t at, std::size_t length) {
  const Bytes rdata = m.subspan(at, length);
  auto name_at = [&](std::size_t pos, std::string& out) { return read_name(m, pos, &out) && pos == at + length; };
  std::string out;
  switch (type) {
    case kTypeA:
      if (length != 4) break;
      return IpAddress::v4(rdata[0], rdata[1], rdata[2], rdata[3]).to_string();
    case kTypeAaaa: {
      if (length != 16) break;
      IpAddress address;
      address.family = IpAddress::Family::v6;
      std::copy(rdata.begin(), rdata.end(), address.bytes.begin());
      return address.to_string();
    }
    case kTypeNs:
    case kTypeCname:
    case kTypePtr:
    case kTypeDname:
      if (!name_at(at, out)) break;
      return out;
    case kTypeMx:
      if (length < 3) break;
      out = std::to_string(u16(m, at)) + " ";
      if (!name_at(at + 2, out)) break;
      return out;
    case kTypeTxt: {
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

bool same_text_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

std::string_view without_final_dot(std::string_view name) {
  if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);
  return name;
}

}  // namespace

Result<std::vector<std::uint8_t>> encode_dns_query(std::uint16_t id, std::string_view qname, std::uint16_t qtype) {
  std::vector<std::uint8_t> out;
  put_u16(out, id);
  put_u16(out, 0);  // QR=0, opcode QUERY, RD=0: a health check asks the server itself
  put_u16(out, 1);  // QDCOUNT
  put_u16(out, 0);
  put_u16(out, 0);
  put_u16(out, 0);
  if (auto appended = append_name(out, qname); !appended) return appended.error();
  put_u16(out, qtype);
  put_u16(out, kClassIn);
  return out;
}

std::uint16_t dns_message_id(std::span<const std::uint8_t> message) { return u16(message, 0); }

Result<DnsReply> parse_dns_reply(std::span<const std::uint8_t> reply, std::span<const std::uint8_t> query) {
  if (reply.size() < kDnsHeaderBytes) return fail("short reply (", std::to_string(reply.size()), " bytes)");
  DnsReply parsed;
  parsed.id = u16(reply, 0);
  if ((reply[2] & 0x80) == 0) return fail("not a reply (QR clear)");
  if (const unsigned opcode = (reply[2] >> 3) & 0x0f; opcode != 0) {
    return fail("reply with opcode ", std::to_string(opcode));
  }
  parsed.truncated = (reply[2] & 0x02) != 0;
  parsed.rcode = reply[3] & 0x0f;
  const std::uint16_t questions = u16(reply, 4);
  const std::uint16_t answers = u16(reply, 6);

  std::size_t pos = kDnsHeaderBytes;
  const Bytes question = query.subspan(kDnsHeaderBytes);  // a query holds only its question
  if (questions == 1) {
    if (reply.size() < pos + question.size()) return fail("question cut short");
    const auto echoed = reply.subspan(pos, question.size());
    const std::string_view a(reinterpret_cast<const char*>(echoed.data()), echoed.size());
    const std::string_view b(reinterpret_cast<const char*>(question.data()), question.size());
    if (!same_text_ignoring_case(a, b)) return fail("reply to another question");
    pos += question.size();
  } else if (questions != 0 || parsed.rcode == 0) {
    return fail("reply with ", std::to_string(questions), " questions");
  }

  for (unsigned i = 0; i < answers; ++i) {
    if (!read_name(reply, pos, nullptr) || pos + 10 > reply.size()) return fail("malformed answer record");
    DnsAnswer answer;
    answer.type = u16(reply, pos);
    const std::size_t length = u16(reply, pos + 8);
    pos += 10;
    if (pos + length > reply.size()) return fail("answer record cut short");
    auto rdata = print_rdata(reply, answer.type, pos, length);
    if (!rdata) return rdata.error();
    answer.rdata = std::move(*rdata);
    parsed.answers.push_back(std::move(answer));
    pos += length;
  }
  return parsed;
}

std::string rcode_name(std::uint8_t rcode) {
  static constexpr const char* kNames[] = {"NOERROR", "FORMERR",  "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                                           "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE"};
  if (rcode < std::size(kNames)) return kNames[rcode];
  return std::to_string(rcode);
}

bool answer_matches(const DnsAnswer& answer, std::string_view expected) {
  switch (answer.type) {
    case kTypeA:
    case kTypeAaaa: {
      IpAddress got, want;
      return IpAddress::parse(answer.rdata, got) && IpAddress::parse(expected, want) && got == want;
    }
    case kTypeNs:
    case kTypeCname:
    case kTypePtr:
    case kTypeDname:
    case kTypeMx:
      return same_text_ignoring_case(without_final_dot(answer.rdata), without_final_dot(expected));
    default:
      return answer.rdata == expected;
  }
}

}  // namespace meridian::health::detail
