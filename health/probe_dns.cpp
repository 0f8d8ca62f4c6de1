// The dns probe: one UDP query, the first reply to it judged.
//
// A fresh socket per probe, connected to the server: the kernel picks a
// random ephemeral source port, drops datagrams from any other address, and
// reports an ICMP port unreachable as connection_refused (a server that is
// down fails at once instead of at the deadline). With a random 16-bit id,
// a spoofed reply has to guess 32 bits.
//
// A reply with TC set is judged as it is, never retried over TCP: its
// header (rcode) is complete, so the rcode check applies as usual; the
// answer check passes when no expected record is among those present, since
// the missing ones may be the expected ones. The server answered; that is
// what the health check asks.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>

#include "dns/wire/client.hpp"
#include "dns/wire/header.hpp"
#include "dns/wire/types.hpp"
#include "health/probe_detail.hpp"
#include "health/probe_dns_match.hpp"

namespace meridian::health::detail {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

/// Without EDNS a reply must fit 512 bytes; room for servers that ignore
/// that. A longer datagram is cut here and fails to parse (bad_response).
constexpr std::size_t kReplyBytes = 4096;
/// Answers quoted in an answer_mismatch detail.
constexpr std::size_t kQuotedAnswers = 4;

ProbeResult judge(const dns::Reply& reply, const DnsCheck& check) {
  if (reply.rcode != check.expect_rcode) {
    return failed(ProbeFailure::rcode_mismatch, "rcode " + dns::rcode_name(reply.rcode));
  }
  if (check.expect_answer.empty()) return passed("rcode " + dns::rcode_name(reply.rcode));
  for (const dns::ReplyAnswer& answer : reply.answers) {
    for (const std::string& expected : check.expect_answer) {
      if (answer_matches(answer, expected)) return passed(answer.rdata);
    }
  }
  if (reply.truncated) return passed("truncated reply (TC): answer not checked");
  if (reply.answers.empty()) return failed(ProbeFailure::answer_mismatch, "no answer records");
  std::string detail = "answers: ";
  for (std::size_t i = 0; i < reply.answers.size() && i < kQuotedAnswers; ++i) {
    if (i > 0) detail += ", ";
    detail += reply.answers[i].rdata;
  }
  if (reply.answers.size() > kQuotedAnswers) detail += ", ...";
  return failed(ProbeFailure::answer_mismatch, std::move(detail));
}

}  // namespace

asio::awaitable<ProbeResult> dns_exchange(asio::any_io_executor executor, Rng& rng,
                                          udp::endpoint endpoint, const DnsCheck& check,
                                          Progress& progress) {
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  const auto id = static_cast<std::uint16_t>(rng.next());
  const auto query = dns::encode_query(id, check.qname, check.qtype);
  if (!query)
    co_return failed(ProbeFailure::unreachable, "cannot send the query: " + query.error().message);

  udp::socket socket(executor);
  // Opened here rather than by async_connect: a socket this host cannot
  // give is no verdict on the server (local_error).
  boost::system::error_code open_error;
  socket.open(endpoint.protocol(), open_error);
  if (open_error) {
    co_return failed(ProbeFailure::local_error, "opening a socket: " + open_error.message());
  }
  if (auto [error] = co_await socket.async_connect(endpoint, use_tuple); error) {
    if (is_local_resource_error(error))
      co_return failed(ProbeFailure::local_error, "connecting: " + error.message());
    co_return failed(ProbeFailure::unreachable, "connecting: " + error.message());
  }
  progress.step = "sending the query";
  if (auto [error, n] = co_await socket.async_send(asio::buffer(*query), use_tuple); error) {
    if (error == asio::error::connection_refused)
      co_return failed(ProbeFailure::refused, "port unreachable");
    // Nothing left this host: no buffer space is no verdict either.
    if (is_local_resource_error(error))
      co_return failed(ProbeFailure::local_error, "sending the query: " + error.message());
    co_return io_failure(error, "sending the query");
  }

  progress.step = "waiting for the reply";
  std::array<std::uint8_t, kReplyBytes> reply;
  while (true) {
    auto [error, size] = co_await socket.async_receive(asio::buffer(reply), use_tuple);
    if (error == asio::error::connection_refused)
      co_return failed(ProbeFailure::refused, "port unreachable");
    if (error) co_return io_failure(error, "receiving the reply");
    const std::span<const std::uint8_t> message(reply.data(), size);
    if (size < dns::kHeaderSize) {
      co_return failed(ProbeFailure::bad_response,
                       "short reply (" + std::to_string(size) + " bytes)");
    }
    // Another query's reply, or a guess: wait on (until the deadline).
    if (dns::read_header(message).id != id) continue;
    auto parsed = dns::parse_reply(message, *query);
    if (!parsed) co_return failed(ProbeFailure::bad_response, parsed.error().message);
    co_return judge(*parsed, check);
  }
}

}  // namespace meridian::health::detail
