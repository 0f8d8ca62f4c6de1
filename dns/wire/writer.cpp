#include "dns/wire/writer.hpp"

#include <algorithm>
#include <cstring>

#include "base/assert.hpp"
#include "dns/wire/header.hpp"
#include "dns/wire/types.hpp"

namespace meridian::dns {
namespace {

constexpr std::uint8_t to_lower(std::uint8_t c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<std::uint8_t>(c + 32) : c;
}

}  // namespace

MessageWriter::MessageWriter(std::span<std::uint8_t> buffer, std::size_t limit) noexcept
    : buffer_(buffer.data()), limit_(std::min(limit, buffer.size())) {
  MERIDIAN_ASSERT(limit_ >= kHeaderSize, "response buffer smaller than a header");
}

void MessageWriter::header(std::uint16_t id, std::uint16_t flags) noexcept {
  std::memset(buffer_, 0, kHeaderSize);
  buffer_[0] = static_cast<std::uint8_t>(id >> 8);
  buffer_[1] = static_cast<std::uint8_t>(id);
  size_ = kHeaderSize;
  set_flags(flags);
}

void MessageWriter::set_flags(std::uint16_t flags) noexcept {
  buffer_[2] = static_cast<std::uint8_t>(flags >> 8);
  buffer_[3] = static_cast<std::uint8_t>(flags);
}

std::uint16_t MessageWriter::flags() const noexcept {
  return static_cast<std::uint16_t>((buffer_[2] << 8) | buffer_[3]);
}

bool MessageWriter::put(const void* data, std::size_t length) noexcept {
  if (size_ + length + reserved_ > limit_) return false;
  std::memcpy(buffer_ + size_, data, length);
  size_ += length;
  return true;
}

bool MessageWriter::put16(std::uint16_t value) noexcept {
  const std::uint8_t bytes[2] = {static_cast<std::uint8_t>(value >> 8),
                                 static_cast<std::uint8_t>(value)};
  return put(bytes, 2);
}

bool MessageWriter::put32(std::uint32_t value) noexcept {
  const std::uint8_t bytes[4] = {
      static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
      static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
  return put(bytes, 4);
}

void MessageWriter::bump(Section section) noexcept {
  const int index = static_cast<int>(section);
  ++counts_[index];
  buffer_[6 + 2 * index] = static_cast<std::uint8_t>(counts_[index] >> 8);
  buffer_[7 + 2 * index] = static_cast<std::uint8_t>(counts_[index]);
}

// Returns the message offset of a name equal (case-insensitively) to the
// uncompressed `wire`, or 0 when none. Candidates are the first `entries`
// label starts: those of names written completely (see name()); the
// message may hold pointers, which are our own and valid.
std::size_t MessageWriter::find_suffix(const std::uint8_t* wire, std::size_t length,
                                       std::size_t entries) const noexcept {
  for (std::size_t e = 0; e < entries; ++e) {
    std::size_t at = compression_[e];
    std::size_t i = 0;
    bool equal = true;
    while (equal) {
      std::uint8_t label = buffer_[at];
      while ((label & 0xC0) == 0xC0) {
        at = static_cast<std::size_t>((label & 0x3F) << 8) | buffer_[at + 1];
        label = buffer_[at];
      }
      if (i >= length || wire[i] != label) {
        equal = false;
        break;
      }
      if (label == 0) break;
      for (std::size_t k = 1; k <= label; ++k) {
        if (to_lower(buffer_[at + k]) != to_lower(wire[i + k])) {
          equal = false;
          break;
        }
      }
      at += 1 + label;
      i += 1 + label;
    }
    if (equal && i + 1 == length) return compression_[e];
  }
  return 0;
}

bool MessageWriter::name(const Name& name, bool compress) noexcept {
  const auto wire = name.wire();
  // The label starts of this name are candidates only for later names: one
  // of them is followed by bytes not yet written (stale ones from an
  // earlier message in a reused buffer), which could seem to complete a
  // match and make "www.www.example." point into itself.
  const std::size_t complete_names = compression_entries_;
  std::size_t i = 0;
  while (wire[i] != 0) {
    if (compress) {
      if (const std::size_t target =
              find_suffix(wire.data() + i, wire.size() - i, complete_names)) {
        return put16(static_cast<std::uint16_t>(0xC000 | target));
      }
    }
    if (compress && size_ < 0x4000 && compression_entries_ < kMaxCompressionEntries) {
      // Only names in places every decoder understands become pointer
      // targets. Recorded before the write; rollback() discards it.
      compression_[compression_entries_++] = static_cast<std::uint16_t>(size_);
    }
    if (!put(wire.data() + i, 1 + wire[i])) return false;
    i += 1 + wire[i];
  }
  return put(wire.data() + i, 1);
}

bool MessageWriter::question(const Name& qname, std::uint16_t qtype,
                             std::uint16_t qclass) noexcept {
  const Mark before = mark();
  if (!name(qname, true) || !put16(qtype) || !put16(qclass)) {
    rollback(before);
    return false;
  }
  buffer_[5] = 1;
  return true;
}

bool MessageWriter::record(Section section, const Name& owner, std::uint16_t type,
                           std::uint32_t ttl, const Rdata& rdata) noexcept {
  const Mark before = mark();
  const bool compress_rdata = rdata_names_compressible(type);
  bool ok = name(owner, true) && put16(type) && put16(rrclass::IN) && put32(ttl);
  const std::size_t length_at = size_;
  ok = ok && put16(0);
  std::size_t from = 0;
  for (const RdataName& embedded : rdata.names) {
    if (!ok) break;
    ok = put(rdata.bytes.data() + from, embedded.offset - from);
    Name target;
    ok =
        ok &&
        Name::from_wire(std::span(rdata.bytes.data() + embedded.offset, embedded.length), target) &&
        name(target, compress_rdata);
    from = embedded.offset + embedded.length;
  }
  ok = ok && put(rdata.bytes.data() + from, rdata.bytes.size() - from);
  if (!ok) {
    rollback(before);
    return false;
  }
  const std::size_t rdlength = size_ - length_at - 2;
  buffer_[length_at] = static_cast<std::uint8_t>(rdlength >> 8);
  buffer_[length_at + 1] = static_cast<std::uint8_t>(rdlength);
  bump(section);
  return true;
}

bool MessageWriter::rrset(Section section, const Name& owner, const RRset& rrset) noexcept {
  const Mark before = mark();
  for (const Rdata& rdata : rrset.rdatas) {
    if (!record(section, owner, rrset.type, rrset.ttl, rdata)) {
      rollback(before);
      return false;
    }
  }
  return true;
}

bool MessageWriter::address(Section section, const Name& owner, std::uint32_t ttl,
                            const IpAddress& address) noexcept {
  const Mark before = mark();
  const bool v4 = address.family == IpAddress::Family::v4;
  const std::uint16_t length = v4 ? 4 : 16;
  if (!name(owner, true) || !put16(v4 ? rrtype::A : rrtype::AAAA) || !put16(rrclass::IN) ||
      !put32(ttl) || !put16(length) || !put(address.bytes.data(), length)) {
    rollback(before);
    return false;
  }
  bump(section);
  return true;
}

void MessageWriter::reserve(std::size_t bytes) noexcept {
  reserved_ = bytes;
}

bool MessageWriter::opt(std::uint16_t udp_payload, std::uint8_t extended_rcode, bool dnssec_ok,
                        std::span<const std::uint8_t> options) noexcept {
  reserved_ = 0;
  const Mark before = mark();
  const std::uint8_t root = 0;
  const bool ok = put(&root, 1) && put16(rrtype::OPT) && put16(udp_payload) &&
                  put32((std::uint32_t{extended_rcode} << 24) | (dnssec_ok ? 0x8000u : 0u)) &&
                  put16(static_cast<std::uint16_t>(options.size())) &&
                  put(options.data(), options.size());
  if (!ok) {
    rollback(before);
    return false;
  }
  bump(Section::additional);
  return true;
}

MessageWriter::Mark MessageWriter::mark() const noexcept {
  return Mark{size_, {counts_[0], counts_[1], counts_[2]}, compression_entries_};
}

void MessageWriter::rollback(const Mark& mark) noexcept {
  size_ = mark.size;
  compression_entries_ = mark.compression_entries;
  for (int i = 0; i < 3; ++i) {
    counts_[i] = mark.counts[i];
    buffer_[6 + 2 * i] = static_cast<std::uint8_t>(counts_[i] >> 8);
    buffer_[7 + 2 * i] = static_cast<std::uint8_t>(counts_[i]);
  }
}

}  // namespace meridian::dns
