#include "admin/host_check.hpp"

#include <algorithm>
#include <cctype>

#include "base/ip_address.hpp"

namespace meridian::admin {
namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

/// `host` without its :port (and an IPv6 address without its brackets).
std::string_view without_port(std::string_view host) {
  if (host.starts_with('[')) {
    const std::size_t close = host.find(']');
    return close == std::string_view::npos ? std::string_view() : host.substr(1, close - 1);
  }
  const std::size_t colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

}  // namespace

bool host_allowed(std::string_view host, const std::vector<std::string>& names) {
  if (host.empty()) return true;
  const std::string_view name = without_port(host);
  if (name.empty()) return false;
  IpAddress address;
  if (IpAddress::parse(name, address)) return true;
  std::string_view bare = name;
  if (bare.ends_with('.')) bare.remove_suffix(1);  // an absolute name is the same name
  if (equal_ignoring_case(bare, "localhost")) return true;
  return std::any_of(names.begin(), names.end(), [&](const std::string& allowed) {
    return equal_ignoring_case(bare, allowed);
  });
}

}  // namespace meridian::admin
