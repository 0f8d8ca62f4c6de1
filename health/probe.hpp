#pragma once
// Probing: one attempt to reach one endpoint with one check, and its result.
// A Prober is the IO shell (Asio coroutines, real sockets); the scheduler
// and the rise/fall state machine are IO-free and only see ProbeResults.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/ip_address.hpp"
#include "health/check.hpp"

namespace meridian::health {

/// Why a probe failed; `none` when it passed.
enum class ProbeFailure : std::uint8_t {
  none,
  refused,          ///< connection refused (RST)
  timeout,          ///< no complete answer within the check's timeout
  reset,            ///< the connection broke mid-exchange
  unreachable,      ///< network/host unreachable, or another socket error
  tls_error,        ///< handshake or certificate verification failed
  bad_response,     ///< unparsable HTTP/DNS answer, or too large
  status_mismatch,  ///< HTTP status outside the expected set
  body_mismatch,    ///< expected substring not in the body
  rcode_mismatch,   ///< DNS rcode other than expected
  answer_mismatch,  ///< DNS answer without an expected record
  /// The probe could not run here: no descriptor (EMFILE, ENFILE), no
  /// buffer space or memory, no ephemeral port, or another local resource
  /// error before anything was sent. Says nothing about the target, so it is
  /// no verdict: HealthTracker::record ignores it (counts_as_verdict()).
  local_error,
};

/// Short stable name: the enumerator's name ("refused", "status_mismatch", ...).
const char* to_string(ProbeFailure failure) noexcept;

struct ProbeResult {
  bool ok = false;
  ProbeFailure failure = ProbeFailure::none;
  /// Human detail: "status 503", "certificate verify failed", ...
  std::string detail;
  /// Time from start to verdict.
  std::chrono::microseconds latency{0};

  /// False for a probe that could not run here (local_error): neither a
  /// pass nor a failure of the target.
  bool counts_as_verdict() const noexcept { return failure != ProbeFailure::local_error; }
};

/// Runs probes. Owns what probes share (TLS contexts per CA file and
/// verification mode, loaded once). Not thread-safe: use it from the one
/// thread that runs its executor.
class Prober {
 public:
  explicit Prober(boost::asio::any_io_executor executor);
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  /// Runs one probe of `check` against `address`:`port`. Completes within
  /// check.timeout (plus scheduling slack) in every case, reads a bounded
  /// number of bytes, and never throws. `check` must stay alive until the
  /// probe completes. One overall deadline covers every step (connect, TLS
  /// handshake, request, answer); when it passes: `timeout`, with the step
  /// in the detail ("no answer within 2000 ms (TLS handshake)").
  /// Whatever the type: `local_error` when this host could not give the
  /// probe a socket, a port, buffer space or memory (opening or connecting
  /// the socket, loading a CA file for want of a descriptor, sending a DNS
  /// query for want of buffers), or the exchange ran out of resources and
  /// threw: the target was never asked, so there is no verdict.
  ///
  /// - tcp: pass when the connection is established; `refused` on an RST,
  ///   `unreachable` (with the system's message) on other errors.
  /// - http/https: one HTTP/1.1 request (check.http.method and path; Host
  ///   from check.http.host, else the address literal, "[v6]", plus ":port"
  ///   when not the scheme's default; User-Agent meridian-health/0.1;
  ///   Connection: close; then check.http.headers, which replace defaults of
  ///   the same name). Pass on a status in check.http.expect and, when
  ///   body_contains is set, that text within the first body_limit_bytes of
  ///   the body; redirects are not followed. Reads at most 16 KiB of headers
  ///   and body_limit_bytes of body, then stops (not a failure in itself).
  ///   `status_mismatch` ("status 503"), `body_mismatch`, `bad_response`
  ///   (not HTTP, malformed, headers over 16 KiB), `reset` (closed or reset
  ///   before the response was complete).
  /// - https: SNI is check.tls.server_name, else check.http.host when it is
  ///   a DNS name, never an IP literal. With check.tls.verify (the default)
  ///   the chain is verified against check.tls.ca_file or the system's
  ///   default paths, and the certificate must match the server name, or the
  ///   endpoint address (IP SAN) when no name is known. `tls_error` with
  ///   OpenSSL's reason ("certificate verify failed: hostname mismatch").
  /// - dns: one UDP query (random id, fresh socket and source port, RD=0,
  ///   no EDNS) for check.dns.qname/qtype; replies with another id are
  ///   ignored; a reply to another question, or short or malformed, is a
  ///   `bad_response`; an ICMP port unreachable is `refused`. Pass when the
  ///   rcode is check.dns.expect_rcode (else `rcode_mismatch`, "rcode
  ///   REFUSED") and, when check.dns.expect_answer is set, some answer
  ///   record's RDATA (presentation form; addresses compared as addresses)
  ///   equals one of them (else `answer_mismatch`). A truncated (TC) reply
  ///   is judged as it is, not retried over TCP; its answer check passes
  ///   when no expected record is among those present.
  boost::asio::awaitable<ProbeResult> probe(IpAddress address, std::uint16_t port,
                                            const CheckSpec& check);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian::health
