#pragma once
// Private to the probers: the HTTP/1.1 request and response judgement shared
// by the http probe (plain TCP) and the https probe (over TLS).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/ip_address.hpp"
#include "health/check.hpp"
#include "health/probe.hpp"
#include "health/probe_detail.hpp"

namespace meridian::health::detail {

/// Cap on the response's status line and header fields together; a larger
/// header section is a bad_response.
inline constexpr std::size_t kHeaderLimitBytes = std::size_t{16} * 1024;

/// The Host header: http.host as configured, else the address literal (IPv6
/// in brackets) followed by ":port" when the port is not the scheme's
/// default (80 for http, 443 for https).
std::string host_header(const HttpCheck& http, const IpAddress& address, std::uint16_t port,
                        bool tls);

/// Sends the request over a connected (and, for TLS, handshaken) stream and
/// judges the response: pass on a status in http.expect and, when
/// http.body_contains is set, that text within the first body_limit_bytes of
/// the body. Redirects are not followed. Reads at most the header cap plus
/// body_limit_bytes (plus one read buffer), then stops: a longer or endless
/// body is not an error in itself. Updates `progress` for timeout details.
boost::asio::awaitable<ProbeResult> http_request(boost::asio::ip::tcp::socket& stream,
                                                 const std::string& host, const HttpCheck& http,
                                                 Progress& progress);
boost::asio::awaitable<ProbeResult> http_request(
    boost::asio::ssl::stream<boost::asio::ip::tcp::socket>& stream, const std::string& host,
    const HttpCheck& http, Progress& progress);

}  // namespace meridian::health::detail
