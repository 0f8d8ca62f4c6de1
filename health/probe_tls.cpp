// The https probe: TLS (SNI, certificate and name verification), then the
// HTTP exchange of probe_http.cpp over the TLS stream.

#include "health/probe_tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "health/probe_detail.hpp"
#include "health/probe_http.hpp"

namespace meridian::health::detail {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;

Result<std::shared_ptr<ssl::context>> TlsContexts::get(const TlsCheck& tls) {
  // Without verification the CA file is irrelevant: one shared context.
  std::pair<bool, std::string> key(tls.verify, tls.verify ? tls.ca_file : std::string());
  if (auto it = contexts_.find(key); it != contexts_.end()) return it->second;

  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code error;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression, error);
  context->set_verify_mode(tls.verify ? ssl::verify_peer : ssl::verify_none, error);
  if (tls.verify) {
    if (tls.ca_file.empty()) {
      context->set_default_verify_paths(error);
    } else {
      context->load_verify_file(tls.ca_file, error);
    }
  }
  if (error) {
    return fail("cannot load CA ",
                tls.ca_file.empty() ? std::string("default paths") : "file " + tls.ca_file, ": ",
                error.message());
  }
  contexts_.emplace(std::move(key), context);
  return context;
}

std::string tls_server_name(const CheckSpec& check) {
  if (!check.tls.server_name.empty()) return check.tls.server_name;
  std::string_view host = check.http.host;
  if (host.empty() || host.front() == '[') return {};
  if (const auto colon = host.find(':'); colon != std::string_view::npos) {
    if (host.find(':', colon + 1) != std::string_view::npos) return {};  // a bare IPv6 literal
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.')
    host.remove_suffix(1);  // SNI has no final dot (RFC 6066)
  IpAddress literal;
  if (host.empty() || IpAddress::parse(host, literal)) return {};
  return std::string(host);
}

namespace {

ProbeResult handshake_failure(const boost::system::error_code& error, SSL* handle, bool verify) {
  if (error.category() == asio::error::get_ssl_category()) {
    const char* reason = ERR_reason_error_string(static_cast<unsigned long>(error.value()));
    std::string detail = reason != nullptr ? reason : error.message();
    const long verify_result = SSL_get_verify_result(handle);
    if (verify && verify_result != X509_V_OK) {
      detail += std::string(": ") + X509_verify_cert_error_string(verify_result);
    }
    return failed(ProbeFailure::tls_error, std::move(detail));
  }
  if (error == asio::error::eof || error == ssl::error::stream_truncated) {
    return failed(ProbeFailure::tls_error, "connection closed during the TLS handshake");
  }
  return io_failure(error, "performing the TLS handshake");
}

/// Sets SNI and the identity OpenSSL checks while verifying the chain (so a
/// mismatch is reported as "hostname mismatch" / "IP address mismatch"):
/// the server name when known, else the address itself (an IP SAN).
bool set_identity(SSL* handle, const std::string& name, const IpAddress& address, bool verify) {
  IpAddress name_address;
  const bool name_is_address = !name.empty() && IpAddress::parse(name, name_address);
  if (!name.empty() && !name_is_address && SSL_set_tlsext_host_name(handle, name.c_str()) != 1)
    return false;
  if (!verify) return true;
  if (!name.empty() && !name_is_address) return SSL_set1_host(handle, name.c_str()) == 1;
  const std::string ip = name_is_address ? name : address.unmapped().to_string();
  return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), ip.c_str()) == 1;
}

}  // namespace

asio::awaitable<ProbeResult> https_exchange(asio::any_io_executor executor, TlsContexts& contexts,
                                            IpAddress address, std::uint16_t port,
                                            const CheckSpec& check, Progress& progress) {
  errno = 0;
  auto context = contexts.get(check.tls);
  if (!context) {
    // The CA file could not be opened for want of a descriptor: this host's
    // shortage, not the server's fault (failures are not cached: the next
    // probe loads it again).
    const int cause = errno;
    if (cause == EMFILE || cause == ENFILE) {
      co_return failed(ProbeFailure::local_error, context.error().message);
    }
    co_return failed(ProbeFailure::tls_error, context.error().message);
  }
  const std::shared_ptr<ssl::context> keep = *context;
  ssl::stream<tcp::socket> stream(std::move(executor), *keep);

  const std::string name = tls_server_name(check);
  if (!set_identity(stream.native_handle(), name, address, check.tls.verify)) {
    co_return failed(ProbeFailure::tls_error, "cannot use server name \"" + name + "\"");
  }
  if (auto failure = co_await connect(stream.next_layer(), tcp::endpoint(to_asio(address), port))) {
    co_return std::move(*failure);
  }
  progress.step = "TLS handshake";
  if (auto [error] = co_await stream.async_handshake(ssl::stream_base::client,
                                                     asio::as_tuple(asio::use_awaitable));
      error) {
    co_return handshake_failure(error, stream.native_handle(), check.tls.verify);
  }
  const std::string host = host_header(check.http, address, port, true);
  co_return co_await http_request(stream, host, check.http, progress);
}

}  // namespace meridian::health::detail
