#pragma once
// Byte-level helpers behind Meridian's binary encodings (the store's log
// values, meta records, commands and snapshots; the peer wire format).
// Integers are fixed-width big-endian, so that encoded log indices sort
// numerically under RocksDB's bytewise comparator; byte strings are a u32
// length followed by the bytes.
//
// ByteReader never reads past its input: every read checks the remaining
// length first and, on a short input, marks the reader failed and returns a
// zero value. A decoder reads all of its fields and then checks ok() and
// at_end() once, which keeps decoders short and total.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace meridian {

/// Appends fixed-width big-endian fields to a string it owns.
class ByteWriter {
 public:
  ByteWriter() = default;
  /// Reserves room for `bytes` (a hint for large encodings).
  explicit ByteWriter(std::size_t bytes) { out_.reserve(bytes); }

  void u8(std::uint8_t value) { out_.push_back(static_cast<char>(value)); }
  void u32(std::uint32_t value) { put_be(value, 4); }
  void u64(std::uint64_t value) { put_be(value, 8); }
  /// The bytes themselves, no length (for a trailing field).
  void raw(std::string_view bytes) { out_.append(bytes); }
  /// A u32 length, then the bytes. Precondition: bytes.size() < 4 GiB (the
  /// callers' own limits are far lower).
  void bytes(std::string_view bytes) {
    u32(static_cast<std::uint32_t>(bytes.size()));
    raw(bytes);
  }
  /// A presence byte (0 or 1), then bytes(*value) when present.
  void optional_bytes(const std::optional<std::string>& value) {
    u8(value ? 1 : 0);
    if (value) bytes(*value);
  }

  std::string take() && { return std::move(out_); }
  const std::string& view() const { return out_; }

 private:
  void put_be(std::uint64_t value, int width) {
    for (int shift = (width - 1) * 8; shift >= 0; shift -= 8) {
      out_.push_back(static_cast<char>((value >> shift) & 0xff));
    }
  }

  std::string out_;
};

/// Reads what ByteWriter wrote, from a view it does not own.
class ByteReader {
 public:
  explicit ByteReader(std::string_view input) : input_(input) {}

  std::uint8_t u8() { return static_cast<std::uint8_t>(get_be(1)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(get_be(4)); }
  std::uint64_t u64() { return get_be(8); }

  /// A length-prefixed byte string of at most `max_bytes`; a longer length
  /// fails the reader without allocating (the length may be garbage).
  std::string bytes(std::size_t max_bytes) {
    const std::uint32_t length = u32();
    if (!ok_ || length > max_bytes || length > input_.size()) {
      ok_ = false;
      return {};
    }
    std::string out(input_.substr(0, length));
    input_.remove_prefix(length);
    return out;
  }

  /// A presence byte, then bytes(max_bytes) when it is 1; any other presence
  /// byte fails the reader.
  std::optional<std::string> optional_bytes(std::size_t max_bytes) {
    const std::uint8_t present = u8();
    if (present > 1) ok_ = false;
    if (!ok_ || present == 0) return std::nullopt;
    return bytes(max_bytes);
  }

  /// Everything left (for a trailing field).
  std::string_view rest() {
    std::string_view out = input_;
    input_ = {};
    return out;
  }

  /// Marks the input bad (a decoder's own check failed).
  void fail() { ok_ = false; }
  /// False once any read ran short or fail() was called.
  bool ok() const { return ok_; }
  bool at_end() const { return input_.empty(); }
  std::size_t remaining() const { return input_.size(); }

 private:
  std::uint64_t get_be(std::size_t width) {
    if (!ok_ || input_.size() < width) {
      ok_ = false;
      return 0;
    }
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < width; ++i)
      value = (value << 8) | static_cast<std::uint8_t>(input_[i]);
    input_.remove_prefix(width);
    return value;
  }

  std::string_view input_;
  bool ok_ = true;
};

}  // namespace meridian
