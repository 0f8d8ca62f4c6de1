#include "admin/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <exception>

#include "net/asio_endpoint.hpp"

namespace meridian::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kUserAgent = "meridian-cli";

/// The Host header: the address literal, IPv6 in brackets.
std::string host_of(const SocketAddress& server) {
  return server.to_string();
}

struct Call {
  SocketAddress server;
  http::request<http::string_body> request;
  std::chrono::milliseconds timeout;
};

asio::awaitable<void> send_and_receive(const Call& call, std::optional<Result<HttpReply>>& out) {
  const std::string where = "admin API at " + call.server.to_string();
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  // One deadline for the whole exchange: tcp_stream keeps it until changed.
  stream.expires_after(call.timeout);
  const auto explain = [&](const char* step, const error_code& error) {
    if (error == beast::error::timeout) {
      return fail(where, ": no reply within ", std::to_string(call.timeout.count()), " ms (", step,
                  ")");
    }
    return fail(where, ": ", step, ": ", error.message());
  };

  if (auto [error] = co_await stream.async_connect(net::to_endpoint(call.server), kUseTuple);
      error) {
    out = explain("connecting", error);
    co_return;
  }
  if (auto [error, n] = co_await http::async_write(stream, call.request, kUseTuple); error) {
    out = explain("sending the request", error);
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxReplyBytes);
  if (call.request.method() == http::verb::head) parser.skip(true);
  if (auto [error, n] = co_await http::async_read(stream, buffer, parser, kUseTuple); error) {
    if (error == http::error::body_limit) {
      out = fail(where, ": the reply exceeds ", std::to_string(kMaxReplyBytes), " bytes");
    } else {
      out = explain("reading the reply", error);
    }
    co_return;
  }
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  auto& response = parser.get();
  HttpReply reply;
  reply.status = response.result_int();
  reply.content_type = std::string(response[http::field::content_type]);
  reply.body = std::move(response.body());
  out = std::move(reply);
}

}  // namespace

Result<HttpReply> http_request(const SocketAddress& server, http::verb method,
                               const std::string& target, std::string body,
                               std::optional<std::string> token,
                               std::chrono::milliseconds timeout) {
  Call call{server, {}, timeout};
  call.request.method(method);
  call.request.target(target);
  call.request.version(11);
  call.request.set(http::field::host, host_of(server));
  call.request.set(http::field::user_agent, kUserAgent);
  call.request.keep_alive(false);
  if (token) call.request.set(http::field::authorization, "Bearer " + *token);
  if (!body.empty()) call.request.set(http::field::content_type, "application/json");
  call.request.body() = std::move(body);
  call.request.prepare_payload();

  asio::io_context io;
  std::optional<Result<HttpReply>> out;
  asio::co_spawn(io, send_and_receive(call, out), [&](const std::exception_ptr& exception) {
    if (!exception) return;
    try {
      std::rethrow_exception(exception);
    } catch (const std::exception& e) {
      out = fail("admin API at ", server.to_string(), ": ", e.what());
    } catch (...) {
      out = fail("admin API at ", server.to_string(), ": the exchange failed");
    }
  });
  io.run();
  MERIDIAN_ASSERT(out.has_value(), "the exchange ended without an outcome");
  return std::move(*out);
}

}  // namespace meridian::admin
