#include "dns/socket_address.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace meridian::dns {

socklen_t to_sockaddr(const SocketAddress& address, sockaddr_storage& storage) noexcept {
  std::memset(&storage, 0, sizeof storage);
  if (address.address.family == IpAddress::Family::v4) {
    auto* in = reinterpret_cast<sockaddr_in*>(&storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(address.port);
    std::memcpy(&in->sin_addr, address.address.bytes.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(address.port);
  std::memcpy(&in6->sin6_addr, address.address.bytes.data(), 16);
  return sizeof(sockaddr_in6);
}

IpAddress ip_of(const sockaddr_storage& storage) noexcept {
  IpAddress result;
  if (storage.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
    result.family = IpAddress::Family::v4;
    std::memcpy(result.bytes.data(), &in->sin_addr, 4);
    return result;
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
  result.family = IpAddress::Family::v6;
  std::memcpy(result.bytes.data(), &in6->sin6_addr, 16);
  return result.unmapped();
}

}  // namespace meridian::dns
