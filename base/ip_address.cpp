#include "base/ip_address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace meridian {

bool IpAddress::parse(std::string_view text, IpAddress& out) noexcept {
  char buffer[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buffer) return false;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  IpAddress result;
  if (text.find(':') == std::string_view::npos) {
    result.family = Family::v4;
    if (inet_pton(AF_INET, buffer, result.bytes.data()) != 1) return false;
  } else {
    result.family = Family::v6;
    if (inet_pton(AF_INET6, buffer, result.bytes.data()) != 1) return false;
  }
  out = result;
  return true;
}

IpAddress IpAddress::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept {
  IpAddress result;
  result.bytes[0] = a;
  result.bytes[1] = b;
  result.bytes[2] = c;
  result.bytes[3] = d;
  return result;
}

IpAddress IpAddress::unmapped() const noexcept {
  static constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (family != Family::v6 || std::memcmp(bytes.data(), kMappedPrefix, 12) != 0) return *this;
  return v4(bytes[12], bytes[13], bytes[14], bytes[15]);
}

IpAddress IpAddress::masked(unsigned prefix_len) const noexcept {
  IpAddress result = *this;
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned first_bit = i * 8;
    if (first_bit >= prefix_len) {
      result.bytes[i] = 0;
    } else if (prefix_len - first_bit < 8) {
      result.bytes[i] &= static_cast<std::uint8_t>(0xff << (8 - (prefix_len - first_bit)));
    }
  }
  return result;
}

std::string IpAddress::to_string() const {
  char buffer[INET6_ADDRSTRLEN];
  const int af = family == Family::v4 ? AF_INET : AF_INET6;
  if (inet_ntop(af, bytes.data(), buffer, sizeof buffer) == nullptr) return "?";
  return buffer;
}

bool IpNetwork::parse(std::string_view text, IpNetwork& out) noexcept {
  const auto slash = text.find('/');
  IpAddress address;
  if (!IpAddress::parse(text.substr(0, slash), address)) return false;
  unsigned prefix = address.bit_length();
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return false;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (ec != std::errc() || end != digits.data() + digits.size()) return false;
    if (prefix > address.bit_length()) return false;
  }
  if (!(address.masked(prefix) == address)) return false;
  out.address = address;
  out.prefix_len = static_cast<std::uint8_t>(prefix);
  return true;
}

bool IpNetwork::contains(const IpAddress& a) const noexcept {
  return a.family == address.family && a.masked(prefix_len) == address;
}

std::string IpNetwork::to_string() const {
  return address.to_string() + "/" + std::to_string(prefix_len);
}

}  // namespace meridian

namespace meridian {

bool SocketAddress::parse(std::string_view text, SocketAddress& out) noexcept {
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return false;
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    if (host.find(':') == std::string_view::npos) return false;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return false;  // IPv6 needs brackets
  }
  SocketAddress result;
  if (!IpAddress::parse(host, result.address)) return false;
  unsigned port = 0;
  if (port_text.empty() || port_text.size() > 5) return false;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
    return false;
  result.port = static_cast<std::uint16_t>(port);
  out = result;
  return true;
}

bool IpAddress::is_loopback() const noexcept {
  const IpAddress plain = unmapped();
  if (plain.family == Family::v4) return plain.bytes[0] == 127;
  IpAddress one{Family::v6, {}};
  one.bytes[15] = 1;
  return plain == one;
}

bool SocketAddress::is_wildcard() const noexcept {
  return address == IpAddress{address.family, {}};
}

std::string SocketAddress::to_string() const {
  if (address.family == IpAddress::Family::v6)
    return "[" + address.to_string() + "]:" + std::to_string(port);
  return address.to_string() + ":" + std::to_string(port);
}

}  // namespace meridian
