#pragma once
// Domain names in wire form (RFC 1035 3.1): a fixed 255-byte buffer, so a
// name costs no heap allocation and can be parsed and copied on the hot path.
// Case is preserved; comparisons are ASCII case-insensitive (RFC 4343).

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace meridian::dns {

class Name {
 public:
  static constexpr std::size_t kMaxWireLength = 255;
  static constexpr std::size_t kMaxLabelLength = 63;

  /// The root name ".".
  Name() noexcept { wire_[0] = 0; }

  /// Parses presentation text ("www.Example.com." or relative "www" with
  /// `origin`; "@" is the origin). Supports \DDD and \c escapes. Returns false
  /// for empty labels, labels over 63 bytes, names over 255 bytes, or a
  /// relative name with no origin.
  static bool from_text(std::string_view text, Name& out, const Name* origin = nullptr) noexcept;

  /// Reads an uncompressed wire name that must fill `wire` exactly.
  static bool from_wire(std::span<const std::uint8_t> wire, Name& out) noexcept;

  /// Wire form including the final zero byte.
  std::span<const std::uint8_t> wire() const noexcept { return {wire_.data(), size_}; }
  std::size_t wire_length() const noexcept { return size_; }
  unsigned label_count() const noexcept { return labels_; }
  bool is_root() const noexcept { return labels_ == 0; }
  /// True when the first label is "*".
  bool is_wildcard() const noexcept { return labels_ > 0 && wire_[0] == 1 && wire_[1] == '*'; }

  /// Presentation form with the trailing dot, escaping as RFC 4343 asks.
  std::string to_text() const;

  /// The name with its first label removed. Precondition: !is_root().
  Name parent() const noexcept;
  /// The last `count` labels of this name. Precondition: count <= label_count().
  Name suffix(unsigned count) const noexcept;
  /// "label.this"; false if the result would be too long.
  bool prepend(std::string_view label, Name& out) const noexcept;

  /// Case-insensitive equality.
  bool equals(const Name& other) const noexcept;
  /// True when this name equals `ancestor` or lies below it.
  bool is_subdomain_of(const Name& ancestor) const noexcept;

  /// Writes the lower-cased wire form to `out` (at least wire_length()
  /// bytes) and returns it as a key for hash maps.
  std::string_view lowercase_key(std::span<char> out) const noexcept;
  std::string lowercase_key() const;

  /// Builds a name from raw parts during parsing; used by the wire parser.
  /// `wire` must be a valid uncompressed name of `labels` labels.
  static Name from_trusted_wire(const std::uint8_t* wire, std::size_t size,
                                unsigned labels) noexcept;

 private:
  std::array<std::uint8_t, kMaxWireLength> wire_;
  std::uint8_t size_ = 1;
  std::uint8_t labels_ = 0;
};

}  // namespace meridian::dns
