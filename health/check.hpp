#pragma once
// What a health check is: how to probe one endpoint and how to judge the
// answer. Plain data, validated by the config loader; the probers read it.

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace meridian::health {

enum class CheckType : std::uint8_t {
  tcp,    ///< connect succeeds within the timeout
  http,   ///< HTTP/1.1 request; pass on status set and optional body substring
  https,  ///< http over TLS, with SNI and (by default) certificate verification
  dns,    ///< a DNS query; pass on the expected rcode and optional answer
};

/// An inclusive range of HTTP status codes.
struct StatusRange {
  std::uint16_t first = 200;
  std::uint16_t last = 399;
  bool contains(unsigned status) const noexcept { return status >= first && status <= last; }
  friend bool operator==(const StatusRange&, const StatusRange&) = default;
};

struct HttpCheck {
  std::string method = "GET";
  std::string path = "/";
  /// Host header; empty: the endpoint address (and port when not default).
  std::string host;
  std::vector<std::pair<std::string, std::string>> headers;
  /// Pass when the status is in any range. Default 200-399.
  std::vector<StatusRange> expect{StatusRange{}};
  /// Pass only when the body (first body_limit_bytes) contains this; empty: no check.
  std::string body_contains;
  std::uint32_t body_limit_bytes = 64 * 1024;
  friend bool operator==(const HttpCheck&, const HttpCheck&) = default;
};

struct TlsCheck {
  /// SNI and the name verified against the certificate; empty: Host/none.
  std::string server_name;
  bool verify = true;
  /// PEM CA bundle; empty: the system's default trust store.
  std::string ca_file;
  friend bool operator==(const TlsCheck&, const TlsCheck&) = default;
};

struct DnsCheck {
  std::string qname = ".";        ///< presentation form
  std::uint16_t qtype = 6;        ///< default SOA
  std::uint8_t expect_rcode = 0;  ///< NOERROR by default
  /// When not empty: some answer record's RDATA, printed, must equal one of these
  /// (e.g. an address "192.0.2.1").
  std::vector<std::string> expect_answer;
  friend bool operator==(const DnsCheck&, const DnsCheck&) = default;
};

/// In a cluster: how many of the nodes that probe a target must see it up
/// for the cluster's verdict to be up (gslb/health_records.hpp decides).
enum class ObserverQuorum : std::uint8_t {
  majority,  ///< more than half of the live observers with a view
  any,       ///< at least one
  all,       ///< every one
};

/// In a cluster: which nodes probe a target, so operators can bound the
/// probe load on their origins. A single node always probes.
struct ProbeFrom {
  enum class Kind : std::uint8_t {
    all,      ///< every node
    sites,    ///< the nodes of the listed sites
    nearest,  ///< the nodes of the N sites nearest the endpoint's site (its own first)
  };
  Kind kind = Kind::all;
  std::vector<std::uint32_t> sites;  ///< Kind::sites: site indexes, in the config's order
  std::uint32_t nearest = 0;         ///< Kind::nearest: N >= 1
  friend bool operator==(const ProbeFrom&, const ProbeFrom&) = default;
};

/// One check, as configured, with every default resolved.
struct CheckSpec {
  std::string name;  ///< config name, for logs and state
  CheckType type = CheckType::tcp;
  std::uint16_t port = 80;
  std::chrono::milliseconds interval{5000};
  std::chrono::milliseconds timeout{2000};  ///< < interval
  std::uint32_t rise = 2;                   ///< consecutive passes to go up (>= 1)
  std::uint32_t fall = 3;                   ///< consecutive failures to go down (>= 1)
  HttpCheck http;
  TlsCheck tls;
  DnsCheck dns;
  ObserverQuorum quorum = ObserverQuorum::majority;
  ProbeFrom probe_from;
  friend bool operator==(const CheckSpec&, const CheckSpec&) = default;
};

}  // namespace meridian::health
