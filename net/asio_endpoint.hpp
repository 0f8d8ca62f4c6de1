#pragma once
// Meridian's socket addresses as Asio endpoints, for the shells that dial
// out (the admin API's client, the etcd gateway).

#include <boost/asio/ip/tcp.hpp>

#include "base/ip_address.hpp"

namespace meridian::net {

/// `address` as the TCP endpoint Asio connects to.
inline boost::asio::ip::tcp::endpoint to_endpoint(const SocketAddress& address) {
  const IpAddress& ip = address.address;
  if (ip.family == IpAddress::Family::v4) {
    return {boost::asio::ip::address_v4(boost::asio::ip::address_v4::bytes_type{
                ip.bytes[0], ip.bytes[1], ip.bytes[2], ip.bytes[3]}),
            address.port};
  }
  return {boost::asio::ip::address_v6(ip.bytes), address.port};
}

}  // namespace meridian::net
