#pragma once
// MessageWriter renders a response into a caller-owned buffer: header,
// question, records with name compression (RFC 1035 4.1.4), and the OPT
// record. Every write is all-or-nothing against a size limit, so a response
// that would exceed the client's payload size can be cut back to a valid
// message. No heap allocation.

#include <cstdint>
#include <span>

#include "base/ip_address.hpp"
#include "dns/wire/name.hpp"
#include "dns/wire/record.hpp"

namespace meridian::dns {

enum class Section : std::uint8_t { answer = 0, authority = 1, additional = 2 };

class MessageWriter {
 public:
  /// Writes into `buffer`; the message will never exceed `limit` bytes
  /// (clamped to the buffer size) minus what reserve() set aside.
  MessageWriter(std::span<std::uint8_t> buffer, std::size_t limit) noexcept;

  /// Writes the 12-byte header with zero counts. Must be called first.
  void header(std::uint16_t id, std::uint16_t flags) noexcept;
  void set_flags(std::uint16_t flags) noexcept;
  std::uint16_t flags() const noexcept;
  /// Writes the question. False if it does not fit.
  bool question(const Name& qname, std::uint16_t qtype, std::uint16_t qclass) noexcept;

  /// Writes one record of `rrset`'s type with owner `owner`. Names inside
  /// RDATA are compressed only for the types RFC 3597 allows.
  bool record(Section section, const Name& owner, std::uint16_t type, std::uint32_t ttl,
              const Rdata& rdata) noexcept;
  /// Writes all records of `rrset` or none of them.
  bool rrset(Section section, const Name& owner, const RRset& rrset) noexcept;
  /// Writes an A or AAAA record for `address`.
  bool address(Section section, const Name& owner, std::uint32_t ttl,
               const IpAddress& address) noexcept;

  /// Keeps `bytes` free at the end for a record written last (the OPT).
  void reserve(std::size_t bytes) noexcept;
  /// Releases the reservation and writes the OPT record with the given
  /// option payload (already encoded options). Counts it in ARCOUNT.
  bool opt(std::uint16_t udp_payload, std::uint8_t extended_rcode, bool dnssec_ok,
           std::span<const std::uint8_t> options) noexcept;

  /// A point to roll back to, and the rollback (also forgets compression
  /// targets written after the mark).
  struct Mark {
    std::size_t size;
    std::uint16_t counts[3];
    std::size_t compression_entries;
  };
  Mark mark() const noexcept;
  void rollback(const Mark& mark) noexcept;

  std::size_t size() const noexcept { return size_; }
  std::uint16_t count(Section section) const noexcept { return counts_[static_cast<int>(section)]; }

 private:
  bool name(const Name& name, bool compress) noexcept;
  bool put(const void* data, std::size_t length) noexcept;
  bool put16(std::uint16_t value) noexcept;
  bool put32(std::uint32_t value) noexcept;
  std::size_t find_suffix(const std::uint8_t* wire, std::size_t length,
                          std::size_t entries) const noexcept;
  void bump(Section section) noexcept;

  static constexpr std::size_t kMaxCompressionEntries = 64;
  std::uint8_t* buffer_;
  std::size_t limit_;
  std::size_t reserved_ = 0;
  std::size_t size_ = 0;
  std::uint16_t counts_[3] = {0, 0, 0};
  // Offsets of uncompressed labels already in the message: candidates for
  // compression pointers (only offsets < 0x4000 can be pointed at).
  std::uint16_t compression_[kMaxCompressionEntries];
  std::size_t compression_entries_ = 0;
};

}  // namespace meridian::dns
