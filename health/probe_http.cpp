// The http probe and the HTTP/1.1 exchange it shares with https.

#include "health/probe_http.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <array>
#include <string_view>

namespace meridian::health::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// The body is read in pieces this large. A probe holds at most the header
/// cap (the read buffer), one piece and body_limit_bytes of body.
constexpr std::size_t kPieceBytes = 4096;
constexpr std::string_view kUserAgent = "meridian-health/0.1";
constexpr std::string_view kVersionPrefix = "HTTP/";

bool is_http_error(const boost::system::error_code& error) {
  return error.category() == make_error_code(http::error::end_of_stream).category();
}

/// The server closed the stream (TLS: without close_notify, which many do).
bool is_closed(const boost::system::error_code& error) {
  return error == asio::error::eof || error == asio::ssl::error::stream_truncated ||
         error == http::error::end_of_stream || error == http::error::partial_message;
}

/// A short, printable view of the first bytes received, for details.
std::string printable_prefix(std::string_view bytes) {
  std::string out;
  for (char c : bytes.substr(0, 24)) out.push_back(c >= 0x20 && c < 0x7f ? c : '.');
  return out;
}

ProbeResult read_failure(const boost::system::error_code& error, bool mid_response) {
  if (error == http::error::header_limit || error == http::error::buffer_overflow) {
    return failed(ProbeFailure::bad_response,
                  "response headers exceed " + std::to_string(kHeaderLimitBytes) + " bytes");
  }
  if (is_closed(error)) {
    return failed(ProbeFailure::reset, mid_response ? "connection closed mid-response"
                                                    : "connection closed before the response");
  }
  if (is_http_error(error))
    return failed(ProbeFailure::bad_response, "malformed response: " + error.message());
  return io_failure(error, "reading the response");
}

bool status_expected(const HttpCheck& http, unsigned status) {
  return std::any_of(http.expect.begin(), http.expect.end(),
                     [status](const StatusRange& range) { return range.contains(status); });
}

/// Finds `needle` in a growing body without rescanning: `searched` is the
/// length already scanned with no match.
class BodySearch {
 public:
  explicit BodySearch(std::string_view needle) : needle_(needle) {}

  bool found(std::string_view body) {
    const std::size_t overlap = needle_.size() - 1;
    const std::size_t from = searched_ > overlap ? searched_ - overlap : 0;
    searched_ = body.size();
    return body.find(needle_, from) != std::string_view::npos;
  }

 private:
  std::string_view needle_;
  std::size_t searched_ = 0;
};

template <class Stream>
asio::awaitable<ProbeResult> exchange(Stream& stream, const std::string& host,
                                      const HttpCheck& http, Progress& progress) {
  http::request<http::empty_body> request;
  request.method_string(http.method);
  request.target(http.path.empty() ? std::string_view("/") : std::string_view(http.path));
  request.version(11);
  request.set(http::field::host, host);
  request.set(http::field::user_agent, kUserAgent);
  request.set(http::field::connection, "close");
  // Configured headers come last and replace defaults of the same name.
  for (const auto& [name, value] : http.headers) request.set(name, value);
  request.prepare_payload();

  progress.step = "sending the request";
  if (auto [error, n] = co_await http::async_write(stream, request, use_tuple); error) {
    co_return io_failure(error, "sending the request");
  }

  // The header section is framed here, before Beast parses it: that makes
  // the cap exact (Beast's header_limit applies to the start line and the
  // fields separately), and a server speaking another protocol (an SSH
  // banner, a binary greeting) is judged on its first bytes instead of
  // stalling until the deadline.
  progress.step = "waiting for the response";
  beast::flat_buffer buffer(kHeaderLimitBytes);
  std::size_t scanned = 0;
  while (true) {
    const std::size_t room = kHeaderLimitBytes - buffer.size();
    auto [error, n] =
        co_await stream.async_read_some(buffer.prepare(std::min(room, kPieceBytes)), use_tuple);
    buffer.commit(n);
    const std::string_view got(static_cast<const char*>(buffer.data().data()), buffer.size());
    if (!kVersionPrefix.starts_with(got.substr(0, kVersionPrefix.size()))) {
      co_return failed(ProbeFailure::bad_response,
                       "not an HTTP response: \"" + printable_prefix(got) + "\"");
    }
    if (got.find("\r\n\r\n", scanned > 3 ? scanned - 3 : 0) != std::string_view::npos) break;
    scanned = got.size();
    if (error) co_return read_failure(error, !got.empty());
    if (got.size() >= kHeaderLimitBytes) co_return read_failure(http::error::header_limit, true);
    if (!got.empty()) progress.step = "reading the response headers";
  }

  http::response_parser<http::buffer_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(kHeaderLimitBytes));
  parser.body_limit(boost::none);  // bounded below, by reading no further
  if (request.method() == http::verb::head) parser.skip(true);
  // Parses what is buffered: the whole header section is there.
  if (auto [error, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
      error) {
    co_return read_failure(error, true);
  }

  const unsigned status = parser.get().result_int();
  const std::string status_text = "status " + std::to_string(status);
  if (!status_expected(http, status)) co_return failed(ProbeFailure::status_mismatch, status_text);
  if (http.body_contains.empty()) co_return passed(status_text);

  progress.step = "reading the response body";
  const std::size_t limit = http.body_limit_bytes;
  BodySearch search(http.body_contains);
  std::string body;
  std::array<char, kPieceBytes> piece;
  while (true) {
    if (search.found(body)) co_return passed(status_text);
    if (parser.is_done() || body.size() >= limit) {
      co_return failed(ProbeFailure::body_mismatch,
                       "\"" + http.body_contains + "\" not in the first " +
                           std::to_string(body.size()) + " bytes of the body");
    }
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    auto [error, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
    const std::size_t got = piece.size() - parser.get().body().size;
    body.append(piece.data(), std::min(got, limit - body.size()));
    if (error == http::error::need_buffer) continue;
    if (error == asio::ssl::error::stream_truncated && parser.need_eof()) {
      // A body that ends at the close, over TLS without close_notify.
      boost::system::error_code eof_error;
      parser.put_eof(eof_error);
      if (!eof_error) continue;
      error = eof_error;
    }
    if (error) {
      if (search.found(body)) co_return passed(status_text);
      co_return read_failure(error, true);
    }
  }
}

}  // namespace

std::string host_header(const HttpCheck& http, const IpAddress& address, std::uint16_t port,
                        bool tls) {
  if (!http.host.empty()) return http.host;
  std::string host = address.family == IpAddress::Family::v6 ? "[" + address.to_string() + "]"
                                                             : address.to_string();
  if (port != (tls ? 443 : 80)) host += ":" + std::to_string(port);
  return host;
}

asio::awaitable<ProbeResult> http_request(tcp::socket& stream, const std::string& host,
                                          const HttpCheck& http, Progress& progress) {
  return exchange(stream, host, http, progress);
}

asio::awaitable<ProbeResult> http_request(asio::ssl::stream<tcp::socket>& stream,
                                          const std::string& host, const HttpCheck& http,
                                          Progress& progress) {
  return exchange(stream, host, http, progress);
}

asio::awaitable<ProbeResult> http_exchange(asio::any_io_executor executor, IpAddress address,
                                           std::uint16_t port, const CheckSpec& check,
                                           Progress& progress) {
  tcp::socket socket(executor);
  if (auto failure = co_await connect(socket, tcp::endpoint(to_asio(address), port)))
    co_return std::move(*failure);
  const std::string host = host_header(check.http, address, port, false);
  co_return co_await http_request(socket, host, check.http, progress);
}

}  // namespace meridian::health::detail
