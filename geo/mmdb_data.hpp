#pragma once
// Private to geo/: encodes values in the MaxMind DB data-section format
// (spec v2.0, "Output Data Section"), for the writer's data records and its
// metadata. Appends big-endian fields to a byte buffer; maps and arrays are
// written as a header (the entry count) followed by their entries, which the
// caller appends next.

#include <cstdint>
#include <string_view>
#include <vector>

namespace meridian::geo::mmdb {

/// Type numbers of the format (1..7 fit the control byte; 8.. are extended).
enum class Type : std::uint8_t {
  utf8_string = 2,
  double_ = 3,
  uint16 = 5,
  uint32 = 6,
  map = 7,
  uint64 = 9,
  array = 11,
};

/// The largest payload size (or map/array entry count) a field can declare.
inline constexpr std::uint32_t kMaxFieldSize = 16'843'036;

/// Appends fields to `out`. Sizes beyond kMaxFieldSize are a bug (asserted):
/// callers bound their inputs first.
class Encoder {
 public:
  explicit Encoder(std::vector<std::uint8_t>& out) noexcept : out_(out) {}

  void string(std::string_view text);
  void double_value(double value);
  void uint16(std::uint16_t value) { unsigned_int(Type::uint16, value); }
  void uint32(std::uint32_t value) { unsigned_int(Type::uint32, value); }
  void uint64(std::uint64_t value) { unsigned_int(Type::uint64, value); }
  /// A map of `pairs` entries: append each key (string) then its value.
  void map_header(std::uint32_t pairs) { control(Type::map, pairs); }
  /// An array of `count` values: append them next.
  void array_header(std::uint32_t count) { control(Type::array, count); }

 private:
  void control(Type type, std::uint32_t size);
  void unsigned_int(Type type, std::uint64_t value);
  std::vector<std::uint8_t>& out_;
};

}  // namespace meridian::geo::mmdb
