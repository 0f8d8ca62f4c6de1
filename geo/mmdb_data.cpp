#include "geo/mmdb_data.hpp"

#include <bit>

#include "base/assert.hpp"

namespace meridian::geo::mmdb {

void Encoder::control(Type type, std::uint32_t size) {
  MERIDIAN_ASSERT(size <= kMaxFieldSize, "mmdb field too large");
  const auto type_number = static_cast<std::uint8_t>(type);
  // Sizes below 29 fit the control byte; 29/30/31 announce 1, 2 or 3 more
  // bytes holding the size minus a bias (29, 285, 65821).
  std::uint8_t size_bits = 0;
  int extra_bytes = 0;
  std::uint32_t extra = 0;
  if (size < 29) {
    size_bits = static_cast<std::uint8_t>(size);
  } else if (size < 285) {
    size_bits = 29;
    extra_bytes = 1;
    extra = size - 29;
  } else if (size < 65'821) {
    size_bits = 30;
    extra_bytes = 2;
    extra = size - 285;
  } else {
    size_bits = 31;
    extra_bytes = 3;
    extra = size - 65'821;
  }
  if (type_number <= 7) {
    out_.push_back(static_cast<std::uint8_t>(type_number << 5 | size_bits));
  } else {
    // Extended type: type bits 0, the next byte holds the type minus 7.
    out_.push_back(size_bits);
    out_.push_back(static_cast<std::uint8_t>(type_number - 7));
  }
  for (int i = extra_bytes - 1; i >= 0; --i)
    out_.push_back(static_cast<std::uint8_t>(extra >> (8 * i)));
}

void Encoder::string(std::string_view text) {
  control(Type::utf8_string, static_cast<std::uint32_t>(text.size()));
  out_.insert(out_.end(), text.begin(), text.end());
}

void Encoder::double_value(double value) {
  control(Type::double_, 8);
  const auto bits = std::bit_cast<std::uint64_t>(value);
  for (int i = 7; i >= 0; --i) out_.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
}

void Encoder::unsigned_int(Type type, std::uint64_t value) {
  // Integers use as few bytes as their value needs; zero has no payload.
  std::uint32_t length = 0;
  while (length < 8 && (value >> (8 * length)) != 0) ++length;
  control(type, length);
  for (int i = static_cast<int>(length) - 1; i >= 0; --i) {
    out_.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  }
}

}  // namespace meridian::geo::mmdb
