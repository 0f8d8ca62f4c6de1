#include "dns/wire/name.hpp"

#include <cstring>

#include "base/assert.hpp"

namespace meridian::dns {
namespace {

constexpr std::uint8_t to_lower(std::uint8_t c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<std::uint8_t>(c + 32) : c;
}

// Case-insensitive comparison of two wire names of equal length.
bool wire_equal_ci(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

}  // namespace

bool Name::from_text(std::string_view text, Name& out, const Name* origin) noexcept {
  if (text == "@") {
    if (origin == nullptr) return false;
    out = *origin;
    return true;
  }
  if (text == ".") {
    out = Name();
    return true;
  }
  if (text.empty()) return false;

  Name result;
  std::size_t pos = 0;       // write position in result.wire_
  std::size_t label_at = 0;  // position of the current label's length byte
  std::size_t label_len = 0;
  unsigned labels = 0;
  bool absolute = false;
  // Reserve one byte for the terminating root label.
  constexpr std::size_t kLimit = kMaxWireLength - 1;

  auto start_label = [&]() -> bool {
    if (pos >= kLimit) return false;
    label_at = pos++;
    label_len = 0;
    return true;
  };
  auto put = [&](std::uint8_t c) -> bool {
    if (label_len >= kMaxLabelLength || pos >= kLimit) return false;
    result.wire_[pos++] = c;
    ++label_len;
    return true;
  };
  if (!start_label()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.') {
      if (label_len == 0) return false;  // empty label
      result.wire_[label_at] = static_cast<std::uint8_t>(label_len);
      ++labels;
      if (i + 1 == text.size()) {
        absolute = true;
        break;
      }
      if (!start_label()) return false;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= text.size()) return false;
      const char next = text[i + 1];
      if (next >= '0' && next <= '9') {
        if (i + 3 >= text.size()) return false;
        unsigned value = 0;
        for (std::size_t k = 1; k <= 3; ++k) {
          const char d = text[i + k];
          if (d < '0' || d > '9') return false;
          value = value * 10 + static_cast<unsigned>(d - '0');
        }
        if (value > 255) return false;
        if (!put(static_cast<std::uint8_t>(value))) return false;
        i += 3;
      } else {
        if (!put(static_cast<std::uint8_t>(next))) return false;
        i += 1;
      }
      continue;
    }
    if (!put(static_cast<std::uint8_t>(c))) return false;
  }
  if (!absolute) {
    if (label_len == 0) return false;
    result.wire_[label_at] = static_cast<std::uint8_t>(label_len);
    ++labels;
    if (origin == nullptr) return false;
    if (pos + origin->size_ > kMaxWireLength) return false;
    std::memcpy(&result.wire_[pos], origin->wire_.data(), origin->size_);
    pos += origin->size_;
    labels += origin->labels_;
  } else {
    result.wire_[pos++] = 0;
  }
  result.size_ = static_cast<std::uint8_t>(pos);
  result.labels_ = static_cast<std::uint8_t>(labels);
  out = result;
  return true;
}

bool Name::from_wire(std::span<const std::uint8_t> wire, Name& out) noexcept {
  if (wire.empty() || wire.size() > kMaxWireLength) return false;
  std::size_t pos = 0;
  unsigned labels = 0;
  while (true) {
    if (pos >= wire.size()) return false;
    const std::uint8_t len = wire[pos];
    if (len == 0) break;
    if (len > kMaxLabelLength) return false;
    pos += 1 + len;
    ++labels;
  }
  if (pos + 1 != wire.size()) return false;
  out = from_trusted_wire(wire.data(), wire.size(), labels);
  return true;
}

Name Name::from_trusted_wire(const std::uint8_t* wire, std::size_t size, unsigned labels) noexcept {
  MERIDIAN_ASSERT(size >= 1 && size <= kMaxWireLength, "wire name length");
  Name name;
  std::memcpy(name.wire_.data(), wire, size);
  name.size_ = static_cast<std::uint8_t>(size);
  name.labels_ = static_cast<std::uint8_t>(labels);
  return name;
}

std::string Name::to_text() const {
  if (is_root()) return ".";
  std::string text;
  std::size_t pos = 0;
  while (wire_[pos] != 0) {
    const std::uint8_t len = wire_[pos];
    for (std::size_t i = pos + 1; i <= pos + len; ++i) {
      const std::uint8_t c = wire_[i];
      if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' || c == '@' ||
          c == '$') {
        text.push_back('\\');
        text.push_back(static_cast<char>(c));
      } else if (c <= 0x20 || c >= 0x7f) {
        char escaped[5];
        escaped[0] = '\\';
        escaped[1] = static_cast<char>('0' + c / 100);
        escaped[2] = static_cast<char>('0' + c / 10 % 10);
        escaped[3] = static_cast<char>('0' + c % 10);
        escaped[4] = 0;
        text.append(escaped);
      } else {
        text.push_back(static_cast<char>(c));
      }
    }
    text.push_back('.');
    pos += 1 + len;
  }
  return text;
}

Name Name::parent() const noexcept {
  MERIDIAN_ASSERT(!is_root(), "parent of the root");
  const std::size_t skip = 1 + wire_[0];
  return from_trusted_wire(wire_.data() + skip, size_ - skip, labels_ - 1u);
}

Name Name::suffix(unsigned count) const noexcept {
  MERIDIAN_ASSERT(count <= labels_, "suffix longer than the name");
  std::size_t pos = 0;
  for (unsigned drop = labels_ - count; drop > 0; --drop) pos += 1 + wire_[pos];
  return from_trusted_wire(wire_.data() + pos, size_ - pos, count);
}

bool Name::prepend(std::string_view label, Name& out) const noexcept {
  if (label.empty() || label.size() > kMaxLabelLength) return false;
  if (size_ + 1 + label.size() > kMaxWireLength) return false;
  Name result;
  result.wire_[0] = static_cast<std::uint8_t>(label.size());
  std::memcpy(&result.wire_[1], label.data(), label.size());
  std::memcpy(&result.wire_[1 + label.size()], wire_.data(), size_);
  result.size_ = static_cast<std::uint8_t>(size_ + 1 + label.size());
  result.labels_ = static_cast<std::uint8_t>(labels_ + 1);
  out = result;
  return true;
}

bool Name::equals(const Name& other) const noexcept {
  return size_ == other.size_ && labels_ == other.labels_ &&
         wire_equal_ci(wire_.data(), other.wire_.data(), size_);
}

bool Name::is_subdomain_of(const Name& ancestor) const noexcept {
  if (ancestor.labels_ > labels_ || ancestor.size_ > size_) return false;
  // Walk label by label so a match can only start on a label boundary.
  std::size_t pos = 0;
  for (unsigned drop = labels_ - ancestor.labels_; drop > 0; --drop) pos += 1 + wire_[pos];
  return size_ - pos == ancestor.size_ &&
         wire_equal_ci(wire_.data() + pos, ancestor.wire_.data(), ancestor.size_);
}

std::string_view Name::lowercase_key(std::span<char> out) const noexcept {
  MERIDIAN_ASSERT(out.size() >= size_, "key buffer too small");
  for (std::size_t i = 0; i < size_; ++i) out[i] = static_cast<char>(to_lower(wire_[i]));
  return {out.data(), size_};
}

std::string Name::lowercase_key() const {
  std::string key(size_, '\0');
  lowercase_key(std::span<char>(key.data(), key.size()));
  return key;
}

}  // namespace meridian::dns
