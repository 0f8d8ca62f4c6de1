// Prober: dispatch by check type, the one overall deadline, and the tcp probe.
//
// Deadline: every probe is one coroutine (the "exchange", which owns its
// socket), spawned with its cancellation slot bound to a signal that one
// SocketDeadline (net/socket_deadline.hpp) emits terminal cancellation on
// when it expires. The exchange's pending operation (connect, TLS handshake,
// write, read, receive) then completes at once with operation_aborted, and
// the exchange ends; probe() waits for that end in every case, so nothing
// the exchange references can dangle. Whichever finishes first decides: the
// exchange's verdict, or (the deadline expired) a timeout. So the exchanges
// carry no timers of their own, and the deadline covers every step.

#include "health/probe.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <random>

#include "health/probe_detail.hpp"
#include "health/probe_tls.hpp"
#include "net/socket_deadline.hpp"

namespace meridian::health {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

const char* to_string(ProbeFailure failure) noexcept {
  switch (failure) {
    case ProbeFailure::none: return "none";
    case ProbeFailure::refused: return "refused";
    case ProbeFailure::timeout: return "timeout";
    case ProbeFailure::reset: return "reset";
    case ProbeFailure::unreachable: return "unreachable";
    case ProbeFailure::tls_error: return "tls_error";
    case ProbeFailure::bad_response: return "bad_response";
    case ProbeFailure::status_mismatch: return "status_mismatch";
    case ProbeFailure::body_mismatch: return "body_mismatch";
    case ProbeFailure::rcode_mismatch: return "rcode_mismatch";
    case ProbeFailure::answer_mismatch: return "answer_mismatch";
    case ProbeFailure::local_error: return "local_error";
  }
  return "unknown";
}

namespace detail {

ProbeResult passed(std::string detail) {
  ProbeResult result;
  result.ok = true;
  result.detail = std::move(detail);
  return result;
}

ProbeResult failed(ProbeFailure failure, std::string detail) {
  ProbeResult result;
  result.failure = failure;
  result.detail = std::move(detail);
  return result;
}

asio::ip::address to_asio(const IpAddress& address) {
  if (address.family == IpAddress::Family::v4) {
    return asio::ip::address_v4(asio::ip::address_v4::bytes_type{
        address.bytes[0], address.bytes[1], address.bytes[2], address.bytes[3]});
  }
  return asio::ip::address_v6(address.bytes);
}

bool is_local_resource_error(const boost::system::error_code& error) noexcept {
  namespace errc = boost::system::errc;
  // EADDRNOTAVAIL from connect(): every ephemeral port is taken.
  return error == asio::error::no_descriptors || error == errc::too_many_files_open_in_system ||
         error == asio::error::no_buffer_space || error == asio::error::no_memory ||
         error == errc::address_not_available;
}

asio::awaitable<std::optional<ProbeResult>> connect(tcp::socket& socket,
                                                    const tcp::endpoint& endpoint) {
  // Opened here rather than by async_connect, so that a socket this host
  // cannot give is told apart from a target that cannot be reached.
  boost::system::error_code open_error;
  socket.open(endpoint.protocol(), open_error);
  if (open_error)
    co_return failed(ProbeFailure::local_error, "opening a socket: " + open_error.message());
  auto [error] = co_await socket.async_connect(endpoint, asio::as_tuple(asio::use_awaitable));
  if (!error) co_return std::nullopt;
  if (is_local_resource_error(error))
    co_return failed(ProbeFailure::local_error, "connecting: " + error.message());
  if (error == asio::error::connection_refused)
    co_return failed(ProbeFailure::refused, "connection refused");
  // Established, then reset before the completion ran (an accept-and-RST).
  if (error == asio::error::connection_reset) {
    co_return failed(ProbeFailure::reset, "connection reset while connecting");
  }
  co_return failed(ProbeFailure::unreachable, "connecting: " + error.message());
}

ProbeResult io_failure(const boost::system::error_code& error, std::string_view during) {
  std::string step(during);
  if (error == asio::error::eof || error == asio::ssl::error::stream_truncated) {
    return failed(ProbeFailure::reset, "connection closed while " + step);
  }
  if (error == asio::error::connection_reset || error == asio::error::broken_pipe ||
      error == asio::error::connection_aborted) {
    return failed(ProbeFailure::reset, "connection reset while " + step);
  }
  return failed(ProbeFailure::unreachable, step + ": " + error.message());
}

asio::awaitable<ProbeResult> tcp_exchange(asio::any_io_executor executor, tcp::endpoint endpoint) {
  tcp::socket socket(executor);
  if (auto failure = co_await connect(socket, endpoint)) co_return std::move(*failure);
  co_return passed("connected");
}

}  // namespace detail

/// What all probes share. The DNS query ids come from an Rng seeded from the
/// OS (the prober is a shell: it may use real randomness).
struct Prober::Impl {
  explicit Impl(asio::any_io_executor executor_in)
      : executor(std::move(executor_in)),
        rng((std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}()) {}

  asio::any_io_executor executor;
  detail::TlsContexts tls;
  Rng rng;
};

Prober::Prober(asio::any_io_executor executor)
    : impl_(std::make_unique<Impl>(std::move(executor))) {}

Prober::~Prober() = default;

namespace {

asio::awaitable<ProbeResult> exchange(const asio::any_io_executor& executor,
                                      detail::TlsContexts& tls, Rng& rng, IpAddress address,
                                      std::uint16_t port, const CheckSpec& check,
                                      detail::Progress& progress) {
  const asio::ip::address target = detail::to_asio(address);
  switch (check.type) {
    case CheckType::tcp: break;
    case CheckType::http: return detail::http_exchange(executor, address, port, check, progress);
    case CheckType::https:
      return detail::https_exchange(executor, tls, address, port, check, progress);
    case CheckType::dns:
      return detail::dns_exchange(executor, rng, udp::endpoint(target, port), check.dns, progress);
  }
  return detail::tcp_exchange(executor, tcp::endpoint(target, port));
}

/// Turns an exception from an exchange (only resource exhaustion: the
/// exchanges report errors as values) into a local_error, so that the probe
/// ends now rather than at the deadline, and counts as no verdict: this
/// host's shortage says nothing about the target.
asio::awaitable<ProbeResult> guarded(asio::awaitable<ProbeResult> exchange) {
  try {
    co_return co_await std::move(exchange);
  } catch (const std::exception& error) {
    co_return detail::failed(ProbeFailure::local_error,
                             std::string("probe error: ") + error.what());
  }
}

}  // namespace

asio::awaitable<ProbeResult> Prober::probe(IpAddress address, std::uint16_t port,
                                           const CheckSpec& check) {
  const auto start = std::chrono::steady_clock::now();
  ProbeResult result;
  detail::Progress progress;
  try {
    asio::cancellation_signal cancel_exchange;
    net::SocketDeadline deadline(impl_->executor, cancel_exchange);
    deadline.arm(check.timeout);
    auto [exception, verdict] = co_await asio::co_spawn(
        impl_->executor,
        guarded(exchange(impl_->executor, impl_->tls, impl_->rng, address, port, check, progress)),
        asio::bind_cancellation_slot(cancel_exchange.slot(), asio::as_tuple(asio::use_awaitable)));
    deadline.disarm();
    if (deadline.expired()) {
      // The deadline ran out first and cancelled the exchange: its verdict
      // (or exception) does not count.
      result = detail::failed(ProbeFailure::timeout,
                              "no answer within " + std::to_string(check.timeout.count()) +
                                  " ms (" + std::string(progress.step) + ")");
    } else {
      if (exception) std::rethrow_exception(exception);
      result = std::move(verdict);
    }
  } catch (const std::exception& error) {
    // Resource exhaustion while setting up the race: it must not escape
    // into the scheduler, and it is no verdict on the target.
    result = detail::failed(ProbeFailure::local_error, std::string("probe error: ") + error.what());
  } catch (...) {
    result = detail::failed(ProbeFailure::local_error, "probe error");
  }
  result.latency = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  co_return result;
}

}  // namespace meridian::health
