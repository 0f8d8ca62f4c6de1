#include "dns/wire/client.hpp"

#include <algorithm>
#include <array>

#include "base/assert.hpp"
#include "dns/wire/header.hpp"
#include "dns/wire/message.hpp"
#include "dns/wire/name.hpp"
#include "dns/wire/rdata_text.hpp"
#include "dns/wire/types.hpp"
#include "dns/wire/writer.hpp"

namespace meridian::dns {

namespace {

constexpr std::uint8_t to_lower(std::uint8_t c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<std::uint8_t>(c + 32) : c;
}

bool equal_ignoring_case(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](std::uint8_t x, std::uint8_t y) { return to_lower(x) == to_lower(y); });
}

std::uint16_t u16(std::span<const std::uint8_t> m, std::size_t at) {
  return static_cast<std::uint16_t>(m[at] << 8 | m[at + 1]);
}

}  // namespace

Result<std::vector<std::uint8_t>> encode_query(std::uint16_t id, std::string_view qname,
                                               std::uint16_t qtype) {
  const Name root;
  Name name;
  if (!Name::from_text(qname, name, &root)) return fail("bad query name \"", qname, "\"");
  std::array<std::uint8_t, kHeaderSize + Name::kMaxWireLength + 4> buffer;
  MessageWriter writer(buffer, buffer.size());
  writer.header(id, 0);  // QR=0, opcode QUERY, RD=0
  const bool written = writer.question(name, qtype, rrclass::IN);
  MERIDIAN_ASSERT(written, "a question always fits its buffer");
  return std::vector<std::uint8_t>(buffer.begin(), buffer.begin() + writer.size());
}

Result<Reply> parse_reply(std::span<const std::uint8_t> reply,
                          std::span<const std::uint8_t> query) {
  MERIDIAN_ASSERT(query.size() >= kHeaderSize, "a query starts with a header");
  if (reply.size() < kHeaderSize) {
    return fail("short reply (", std::to_string(reply.size()), " bytes)");
  }
  const Header header = read_header(reply);
  Reply parsed;
  parsed.id = header.id;
  if (!header.response()) return fail("not a reply (QR clear)");
  if (header.opcode() != 0) return fail("reply with opcode ", std::to_string(header.opcode()));
  parsed.truncated = header.truncated();
  parsed.rcode = header.rcode();

  std::size_t pos = kHeaderSize;
  // Our query holds only its question, written uncompressed: a server
  // echoes those bytes (perhaps with the name's case changed).
  const auto question = query.subspan(kHeaderSize);
  if (header.qdcount == 1) {
    if (reply.size() < pos + question.size()) return fail("question cut short");
    if (!equal_ignoring_case(reply.subspan(pos, question.size()), question)) {
      return fail("reply to another question");
    }
    pos += question.size();
  } else if (header.qdcount != 0 || parsed.rcode == 0) {
    return fail("reply with ", std::to_string(header.qdcount), " questions");
  }

  for (unsigned i = 0; i < header.ancount; ++i) {
    Name owner;
    if (!read_name(reply, pos, owner) || reply.size() - pos < 10) {
      return fail("malformed answer record");
    }
    ReplyAnswer answer;
    answer.type = u16(reply, pos);
    const std::size_t length = u16(reply, pos + 8);
    pos += 10;
    if (reply.size() - pos < length) return fail("answer record cut short");
    auto rdata = rdata_to_text(reply, answer.type, pos, length);
    if (!rdata) return rdata.error();
    answer.rdata = std::move(*rdata);
    parsed.answers.push_back(std::move(answer));
    pos += length;
  }
  return parsed;
}

}  // namespace meridian::dns
