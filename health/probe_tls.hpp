#pragma once
// Private to the probers: TLS client contexts and the choice of server name.

#include <boost/asio/ssl/context.hpp>

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "base/result.hpp"
#include "health/check.hpp"

namespace meridian::health::detail {

/// One ssl::context per (verify, ca_file), created on first use and kept for
/// the prober's life: loading a CA bundle (the system store is hundreds of
/// certificates) per probe would cost far more than the probe. Probes hold a
/// shared_ptr, so a context outlives any probe using it. Not thread-safe (the
/// prober's thread rule).
class TlsContexts {
 public:
  /// The context for `tls`: TLS client, peer verification against tls.ca_file
  /// or the system's default paths when tls.verify, none otherwise. An error
  /// when the CA file cannot be loaded; failures are not cached, so a fixed
  /// file is picked up by the next probe.
  Result<std::shared_ptr<boost::asio::ssl::context>> get(const TlsCheck& tls);

  std::size_t size() const noexcept { return contexts_.size(); }

 private:
  std::map<std::pair<bool, std::string>, std::shared_ptr<boost::asio::ssl::context>> contexts_;
};

/// The name sent as SNI and verified against the certificate: tls.server_name,
/// else http.host when it is a DNS name (without its ":port" and final dot).
/// Empty when there is none. May be an IP literal only if tls.server_name is
/// one; the caller never sends an IP literal as SNI.
std::string tls_server_name(const CheckSpec& check);

}  // namespace meridian::health::detail
