#include "dns/wire/message.hpp"

#include <algorithm>
#include <cstring>

#include "dns/wire/types.hpp"

namespace meridian::dns {
namespace {

std::uint16_t read_u16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

// ECS (RFC 7871 6): the address holds exactly ceil(source/8) octets, and
// bits past the source prefix must be zero.
bool parse_client_subnet(const std::uint8_t* data, std::size_t length, ClientSubnet& out) noexcept {
  if (length < 4) return false;
  const std::uint16_t family = read_u16(data);
  const std::uint8_t source = data[2];
  const std::size_t address_length = length - 4;
  IpAddress address;
  if (family == 1) {
    address.family = IpAddress::Family::v4;
    if (source > 32) return false;
  } else if (family == 2) {
    address.family = IpAddress::Family::v6;
    if (source > 128) return false;
  } else {
    return false;
  }
  if (address_length != (source + 7u) / 8u) return false;
  std::memcpy(address.bytes.data(), data + 4, address_length);
  if (!(address.masked(source) == address)) return false;
  out.present = true;
  out.family = family;
  out.source_prefix_len = source;
  out.address = address;
  return true;
}

ParseOutcome parse_opt(std::span<const std::uint8_t> packet, std::size_t rr_start,
                       std::size_t rdata_at, std::uint16_t rdlength, Edns& edns) noexcept {
  // The owner of OPT must be the root (RFC 6891 6.1.2).
  if (packet[rr_start] != 0) return ParseOutcome::formerr;
  const std::uint8_t* fixed = packet.data() + rdata_at - 8;  // CLASS, TTL
  edns.present = true;
  edns.udp_payload = std::max<std::uint16_t>(read_u16(fixed), kMinUdpPayload);
  edns.version = fixed[3];
  edns.dnssec_ok = (fixed[4] & 0x80) != 0;
  std::size_t at = rdata_at;
  const std::size_t end = rdata_at + rdlength;
  while (at < end) {
    if (end - at < 4) return ParseOutcome::formerr;
    const std::uint16_t code = read_u16(packet.data() + at);
    const std::uint16_t length = read_u16(packet.data() + at + 2);
    at += 4;
    if (end - at < length) return ParseOutcome::formerr;
    if (code == edns_option::CLIENT_SUBNET) {
      if (edns.client_subnet.present) return ParseOutcome::formerr;
      if (!parse_client_subnet(packet.data() + at, length, edns.client_subnet))
        return ParseOutcome::formerr;
    } else if (code == edns_option::COOKIE) {
      // RFC 7873 5.2.2: a client cookie alone (8 bytes) or with a server
      // cookie of 8 to 32 bytes; any other length, or a second COOKIE, is
      // malformed.
      if (edns.cookie.present || length < 8 || (length > 8 && length < 16) || length > 40)
        return ParseOutcome::formerr;
      edns.cookie.present = true;
      std::memcpy(edns.cookie.client.data(), packet.data() + at, 8);
      edns.cookie.server_length = static_cast<std::uint8_t>(length - 8);
      std::memcpy(edns.cookie.server.data(), packet.data() + at + 8, length - 8);
    } else if (code == edns_option::NSID) {
      if (length != 0) return ParseOutcome::formerr;
      edns.nsid_requested = true;
    }
    at += length;
  }
  return ParseOutcome::ok;
}

}  // namespace

bool read_name(std::span<const std::uint8_t> packet, std::size_t& offset, Name& name) noexcept {
  std::uint8_t wire[Name::kMaxWireLength];
  std::size_t size = 0;
  unsigned labels = 0;
  std::size_t pos = offset;
  std::size_t lowest_seen = offset;  // pointers must go strictly below this
  bool jumped = false;
  while (true) {
    if (pos >= packet.size()) return false;
    const std::uint8_t length = packet[pos];
    if ((length & 0xC0) == 0xC0) {
      if (pos + 1 >= packet.size()) return false;
      const std::size_t target = static_cast<std::size_t>((length & 0x3F) << 8) | packet[pos + 1];
      if (target >= lowest_seen) return false;  // forward pointer or loop
      if (!jumped) offset = pos + 2;
      jumped = true;
      lowest_seen = target;
      pos = target;
      continue;
    }
    if ((length & 0xC0) != 0) return false;  // extended label types (RFC 6891 5)
    if (length == 0) {
      if (size + 1 > Name::kMaxWireLength) return false;
      wire[size++] = 0;
      if (!jumped) offset = pos + 1;
      name = Name::from_trusted_wire(wire, size, labels);
      return true;
    }
    if (pos + 1 + length > packet.size()) return false;
    if (size + 1 + length + 1 > Name::kMaxWireLength) return false;
    std::memcpy(wire + size, packet.data() + pos, 1 + length);
    size += 1 + length;
    ++labels;
    pos += 1 + length;
  }
}

ParseOutcome parse_query(std::span<const std::uint8_t> packet, Query& query) noexcept {
  query = Query{};
  if (packet.size() < kHeaderSize) return ParseOutcome::drop;
  const Header header = read_header(packet);
  query.id = header.id;
  query.flags = header.flags;
  query.opcode = header.opcode();
  if (header.response()) return ParseOutcome::drop;  // never answer a response

  const std::uint16_t qdcount = header.qdcount;
  const std::uint16_t ancount = header.ancount;
  const std::uint16_t nscount = header.nscount;
  const std::uint16_t arcount = header.arcount;

  std::size_t at = kHeaderSize;
  if (qdcount == 1) {
    if (!read_name(packet, at, query.qname) || packet.size() - at < 4) return ParseOutcome::formerr;
    query.qtype = read_u16(packet.data() + at);
    query.qclass = read_u16(packet.data() + at + 2);
    at += 4;
    query.has_question = true;
    query.question_end = at;
  }
  if (query.opcode != static_cast<std::uint8_t>(Opcode::query)) return ParseOutcome::notimp;
  if (qdcount != 1 || ancount != 0 || nscount != 0) return ParseOutcome::formerr;

  for (std::uint16_t i = 0; i < arcount; ++i) {
    const std::size_t rr_start = at;
    Name owner;
    if (!read_name(packet, at, owner) || packet.size() - at < 10) return ParseOutcome::formerr;
    const std::uint16_t type = read_u16(packet.data() + at);
    const std::uint16_t rdlength = read_u16(packet.data() + at + 8);
    at += 10;
    if (packet.size() - at < rdlength) return ParseOutcome::formerr;
    if (type == rrtype::OPT) {
      if (query.edns.present) return ParseOutcome::formerr;  // RFC 6891 6.1.1: at most one
      const ParseOutcome outcome = parse_opt(packet, rr_start, at, rdlength, query.edns);
      if (outcome != ParseOutcome::ok) return outcome;
    }
    // Other additional records (TSIG, ...) are not supported and ignored.
    at += rdlength;
  }
  if (at != packet.size()) return ParseOutcome::formerr;  // trailing garbage
  return ParseOutcome::ok;
}

}  // namespace meridian::dns
