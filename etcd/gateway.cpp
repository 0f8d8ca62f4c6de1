#include "etcd/gateway.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <optional>
#include <variant>

#include "base/assert.hpp"
#include "net/asio_endpoint.hpp"

namespace meridian::etcd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kComponent = "etcd";

using PlainStream = beast::tcp_stream;
using TlsStream = ssl::stream<beast::tcp_stream>;

}  // namespace

struct Gateway::Impl : std::enable_shared_from_this<Gateway::Impl> {
  Impl(asio::io_context& io, GatewaySettings settings, Logger& logger)
      : io(io), settings(std::move(settings)), logger(logger), tls(ssl::context::tls_client) {
    for (const SocketAddress& address : this->settings.endpoints)
      health.push_back({address, true, 0});
  }

  Result<void> load_tls() {
    if (settings.ca_pem.empty()) return {};
    error_code error;
    tls.set_verify_mode(ssl::verify_peer, error);
    if (!error) tls.add_certificate_authority(asio::buffer(settings.ca_pem), error);
    if (error) return fail("etcd TLS: the CA certificate: ", error.message());
    if (!settings.cert_pem.empty()) {
      tls.use_certificate_chain(asio::buffer(settings.cert_pem), error);
      if (error) return fail("etcd TLS: the client certificate: ", error.message());
      tls.use_private_key(asio::buffer(settings.key_pem), ssl::context::pem, error);
      if (error) return fail("etcd TLS: the client key: ", error.message());
    }
    return {};
  }

  /// A connected (and, with TLS, handshaken) stream to endpoint `index`.
  asio::awaitable<Result<std::variant<PlainStream, TlsStream>>> connect(std::size_t index) {
    const SocketAddress& address = settings.endpoints[index];
    PlainStream plain(io);
    plain.expires_after(settings.request_timeout);
    if (auto [error] = co_await plain.async_connect(net::to_endpoint(address), kUseTuple); error) {
      co_return fail(address.to_string(), ": connecting: ", error.message());
    }
    if (settings.ca_pem.empty()) co_return std::variant<PlainStream, TlsStream>(std::move(plain));
    TlsStream secure(std::move(plain), tls);
    // The member's certificate must name the address we dialled.
    secure.set_verify_callback(ssl::host_name_verification(address.address.to_string()));
    if (auto [error] = co_await secure.async_handshake(ssl::stream_base::client, kUseTuple);
        error) {
      co_return fail(address.to_string(), ": TLS handshake: ", error.message());
    }
    co_return std::variant<PlainStream, TlsStream>(std::move(secure));
  }

  http::request<http::string_body> request(const std::string& path, const json::object& body,
                                           std::size_t index) const {
    http::request<http::string_body> out{http::verb::post, path, 11};
    out.set(http::field::host, settings.endpoints[index].to_string());
    out.set(http::field::content_type, "application/json");
    out.set(http::field::user_agent, "meridian");
    out.body() = json::serialize(body);
    out.prepare_payload();
    return out;
  }

  template <class Stream>
  asio::awaitable<Result<json::object>> exchange(Stream& stream,
                                                 const http::request<http::string_body>& request,
                                                 const SocketAddress& address) {
    beast::get_lowest_layer(stream).expires_after(settings.request_timeout);
    if (auto [error, n] = co_await http::async_write(stream, request, kUseTuple); error) {
      co_return fail(address.to_string(), ": sending: ", error.message());
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(settings.max_answer_bytes);
    if (auto [error, n] = co_await http::async_read(stream, buffer, parser, kUseTuple); error) {
      co_return fail(address.to_string(), ": reading the answer: ", error.message());
    }
    const auto& response = parser.get();
    error_code parse_error;
    json::value parsed = json::parse(response.body(), parse_error);
    if (parse_error || !parsed.is_object()) {
      co_return fail(address.to_string(), ": the answer (HTTP ",
                     std::to_string(response.result_int()), ") is not a JSON object");
    }
    // A 5xx with a JSON body is the member's own trouble (no leader, ...):
    // the next member may do better.
    if (response.result_int() >= 500) {
      co_return fail(address.to_string(), ": HTTP ", std::to_string(response.result_int()), ": ",
                     json::serialize(parsed).substr(0, 200));
    }
    co_return std::move(parsed.as_object());
  }

  void mark(std::size_t index, bool ok) {
    health[index].reachable = ok;
    if (!ok) ++health[index].failures;
    if (ok) current = index;
  }

  asio::awaitable<void> run_call(std::string path, json::object body, Answer done) {
    Error last{"no etcd endpoint is configured"};
    const std::size_t count = settings.endpoints.size();
    for (std::size_t attempt = 0; attempt < count; ++attempt) {
      const std::size_t index = (current + attempt) % count;
      const SocketAddress& address = settings.endpoints[index];
      auto connected = co_await connect(index);
      if (!connected) {
        last = connected.error();
        mark(index, false);
        continue;
      }
      const auto req = request(path, body, index);
      Result<json::object> answer = co_await std::visit(
          [&](auto& stream) { return exchange(stream, req, address); }, *connected);
      if (!answer) {
        last = answer.error();
        mark(index, false);
        continue;
      }
      mark(index, true);
      done(std::move(answer));
      co_return;
    }
    done(last);
  }

  /// One POST to endpoint `index` only (no failover), marking its health.
  asio::awaitable<void> run_call_at(std::size_t index, std::string path, json::object body,
                                    Answer done) {
    const SocketAddress address = settings.endpoints[index];
    auto connected = co_await connect(index);
    if (!connected) {
      mark_health(index, false);
      co_return done(connected.error());
    }
    const auto req = request(path, body, index);
    Result<json::object> answer = co_await std::visit(
        [&](auto& stream) { return exchange(stream, req, address); }, *connected);
    mark_health(index, answer.ok());
    done(std::move(answer));
  }

  /// Like mark(), without making a healthy endpoint the one calls go to first.
  void mark_health(std::size_t index, bool ok) {
    health[index].reachable = ok;
    if (!ok) ++health[index].failures;
  }

  asio::io_context& io;
  GatewaySettings settings;
  Logger& logger;
  ssl::context tls;
  std::vector<EndpointHealth> health;
  std::size_t current = 0;
};

namespace {

/// One watch stream: its coroutine owns the connection; stop() closes it.
class WatchStream final : public Gateway::Stream, public std::enable_shared_from_this<WatchStream> {
 public:
  WatchStream(std::shared_ptr<Gateway::Impl> gateway, std::string path, json::object body,
              Gateway::Line line, Gateway::Ended ended)
      : gateway_(std::move(gateway)),
        path_(std::move(path)),
        body_(std::move(body)),
        line_(std::move(line)),
        ended_(std::move(ended)) {}

  void start() { asio::co_spawn(gateway_->io, run(shared_from_this()), asio::detached); }

  void stop() override {
    stopped_ = true;
    if (close_) close_();
  }

  std::optional<SocketAddress> endpoint() const override { return connected_to_; }

 private:
  static asio::awaitable<void> run(std::shared_ptr<WatchStream> self) {
    const Error why = co_await self->attempt();
    self->close_ = nullptr;
    if (auto ended = std::move(self->ended_)) ended(why);
  }

  asio::awaitable<Error> attempt() {
    Error last{"no etcd endpoint is configured"};
    const std::size_t count = gateway_->settings.endpoints.size();
    for (std::size_t attempt = 0; attempt < count && !stopped_; ++attempt) {
      const std::size_t index = (gateway_->current + attempt) % count;
      auto connected = co_await gateway_->connect(index);
      if (!connected) {
        last = connected.error();
        gateway_->mark(index, false);
        continue;
      }
      const auto req = gateway_->request(path_, body_, index);
      connected_to_ = gateway_->settings.endpoints[index];
      co_return co_await std::visit([&](auto& stream) { return read_stream(stream, req, index); },
                                    *connected);
    }
    co_return stopped_ ? Error{"stopped"} : last;
  }

  template <class Stream>
  asio::awaitable<Error> read_stream(Stream& stream,
                                     const http::request<http::string_body>& request,
                                     std::size_t index) {
    const SocketAddress address = gateway_->settings.endpoints[index];
    close_ = [&stream] {
      error_code ignored;
      beast::get_lowest_layer(stream).socket().close(ignored);
    };
    if (stopped_) co_return Error{"stopped"};
    beast::get_lowest_layer(stream).expires_after(gateway_->settings.request_timeout);
    if (auto [error, n] = co_await http::async_write(stream, request, kUseTuple); error) {
      gateway_->mark(index, false);
      co_return Error{address.to_string() + ": sending the watch: " + error.message()};
    }
    gateway_->mark(index, true);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    std::string pending;
    bool too_long = false;
    // Each chunk of the body: split into lines, each a message.
    auto on_chunk = [&](std::uint64_t, std::string_view data, error_code& error) -> std::size_t {
      pending.append(data);
      std::size_t start = 0;
      for (std::size_t end; (end = pending.find('\n', start)) != std::string::npos;
           start = end + 1) {
        if (end > start && !stopped_) line_(std::string_view(pending).substr(start, end - start));
      }
      pending.erase(0, start);
      if (pending.size() > gateway_->settings.max_line_bytes) {
        too_long = true;
        error = http::error::body_limit;
      }
      return data.size();
    };
    parser.on_chunk_body(on_chunk);
    if (auto [error, n] = co_await http::async_read_header(stream, buffer, parser, kUseTuple);
        error) {
      co_return Error{address.to_string() + ": the watch's answer: " + error.message()};
    }
    // A watch is quiet while nothing changes: no deadline on its body.
    beast::get_lowest_layer(stream).expires_never();
    auto [error, n] = co_await http::async_read(stream, buffer, parser, kUseTuple);
    if (!pending.empty() && !stopped_ && !too_long) line_(pending);
    if (stopped_) co_return Error{"stopped"};
    if (too_long) co_return Error{address.to_string() + ": a watch message over the size limit"};
    if (error) co_return Error{address.to_string() + ": the watch ended: " + error.message()};
    if (!parser.get().body().empty()) {  // not chunked: a single (error) answer
      line_(parser.get().body());
    }
    co_return Error{address.to_string() + ": the watch ended"};
  }

  std::shared_ptr<Gateway::Impl> gateway_;
  std::string path_;
  json::object body_;
  Gateway::Line line_;
  Gateway::Ended ended_;
  std::function<void()> close_;
  std::optional<SocketAddress> connected_to_;
  bool stopped_ = false;
};

}  // namespace

Result<std::shared_ptr<Gateway>> Gateway::create(asio::io_context& io, GatewaySettings settings,
                                                 Logger& logger) {
  if (settings.endpoints.empty()) return fail("no etcd endpoint is configured");
  auto impl = std::make_shared<Impl>(io, std::move(settings), logger);
  if (auto loaded = impl->load_tls(); !loaded) return loaded.error();
  return std::make_shared<Gateway>(std::move(impl));
}

Gateway::Gateway(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

void Gateway::call(std::string path, json::object body, Answer done) {
  asio::co_spawn(impl_->io, impl_->run_call(std::move(path), std::move(body), std::move(done)),
                 [impl = impl_](const std::exception_ptr& error) {
                   if (!error) return;
                   try {
                     std::rethrow_exception(error);
                   } catch (const std::exception& e) {
                     impl->logger.error(kComponent, std::string("a call failed: ") + e.what());
                   }
                 });
}

void Gateway::call_at(std::size_t endpoint, std::string path, json::object body, Answer done) {
  MERIDIAN_ASSERT(endpoint < impl_->settings.endpoints.size(), "no such etcd endpoint");
  asio::co_spawn(impl_->io,
                 impl_->run_call_at(endpoint, std::move(path), std::move(body), std::move(done)),
                 [impl = impl_](const std::exception_ptr& error) {
                   if (!error) return;
                   try {
                     std::rethrow_exception(error);
                   } catch (const std::exception& e) {
                     impl->logger.error(kComponent, std::string("a call failed: ") + e.what());
                   }
                 });
}

std::shared_ptr<Gateway::Stream> Gateway::watch(std::string path, json::object body, Line line,
                                                Ended ended) {
  auto stream = std::make_shared<WatchStream>(impl_, std::move(path), std::move(body),
                                              std::move(line), std::move(ended));
  stream->start();
  return stream;
}

std::vector<EndpointHealth> Gateway::health() const {
  return impl_->health;
}

SocketAddress Gateway::current() const {
  return impl_->settings.endpoints[impl_->current];
}

}  // namespace meridian::etcd
