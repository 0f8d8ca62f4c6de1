#pragma once
// Conversions between Meridian's SocketAddress and the BSD socket structs,
// for the DNS servers (shell code only).

#include <netinet/in.h>
#include <sys/socket.h>

#include "base/ip_address.hpp"

namespace meridian::dns {

/// Fills `storage` for `address` and returns its length.
socklen_t to_sockaddr(const SocketAddress& address, sockaddr_storage& storage) noexcept;
/// The IP address in `storage` (IPv4-mapped IPv6 addresses unmapped).
IpAddress ip_of(const sockaddr_storage& storage) noexcept;

}  // namespace meridian::dns
