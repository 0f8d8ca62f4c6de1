#pragma once
// Private to the probers (not part of health/'s public headers): what the
// per-protocol probe files share. Each `*_exchange` coroutine below runs one
// whole probe (connect, handshake, request, answer) and owns its socket; it
// has no deadline of its own. Prober::probe races it against the check's one
// overall deadline (probe.cpp), which cancels whatever operation is pending,
// so the exchanges only have to turn errors into verdicts.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/system/error_code.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "base/ip_address.hpp"
#include "base/rng.hpp"
#include "health/check.hpp"
#include "health/probe.hpp"

namespace meridian::health::detail {

class TlsContexts;  // probe_tls.hpp

/// What an exchange is doing now; named in the detail of a timeout.
struct Progress {
  std::string_view step = "connecting";
};

/// A verdict without latency (Prober::probe measures it).
ProbeResult passed(std::string detail = {});
ProbeResult failed(ProbeFailure failure, std::string detail);

boost::asio::ip::address to_asio(const IpAddress& address);

/// True for an error that says this host ran out of something (descriptors,
/// buffer space, memory, ephemeral ports), not that the target failed.
bool is_local_resource_error(const boost::system::error_code& error) noexcept;

/// Opens `socket` and connects it to `endpoint`. Empty on success; else the
/// verdict: local_error when the socket cannot be opened or a local resource
/// ran out (is_local_resource_error), refused, reset (an RST right after the
/// handshake), or unreachable with the system's message.
boost::asio::awaitable<std::optional<ProbeResult>> connect(
    boost::asio::ip::tcp::socket& socket, const boost::asio::ip::tcp::endpoint& endpoint);

/// The verdict for a socket error in the middle of an exchange, `during`
/// naming the step ("sending the request"): reset for a connection that
/// broke or closed early, unreachable for anything else.
ProbeResult io_failure(const boost::system::error_code& error, std::string_view during);

/// tcp: the connection is established.
boost::asio::awaitable<ProbeResult> tcp_exchange(boost::asio::any_io_executor executor,
                                                 boost::asio::ip::tcp::endpoint endpoint);

/// http over plain TCP (probe_http.cpp).
boost::asio::awaitable<ProbeResult> http_exchange(boost::asio::any_io_executor executor,
                                                  IpAddress address, std::uint16_t port,
                                                  const CheckSpec& check, Progress& progress);

/// https: TLS with the cached context for the check's verification settings,
/// then the same HTTP exchange (probe_tls.cpp).
boost::asio::awaitable<ProbeResult> https_exchange(boost::asio::any_io_executor executor,
                                                   TlsContexts& contexts, IpAddress address,
                                                   std::uint16_t port, const CheckSpec& check,
                                                   Progress& progress);

/// dns: one UDP query from a fresh socket, the first matching reply judged
/// (probe_dns.cpp). `rng` picks the query id.
boost::asio::awaitable<ProbeResult> dns_exchange(boost::asio::any_io_executor executor, Rng& rng,
                                                 boost::asio::ip::udp::endpoint endpoint,
                                                 const DnsCheck& check, Progress& progress);

}  // namespace meridian::health::detail
