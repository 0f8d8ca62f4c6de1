#pragma once
// The configuration of one Meridian node, loaded from its YAML file
// (docs/configuration.md). Config is plain data: fully validated, with every
// name, address and record already parsed, so the node wiring never re-checks
// it. The loader is the only yaml-cpp user of Meridian (config/*.cpp).
//
// Single-file mode: node settings and cluster settings (sites, zones) come
// from the same file.
//
// The schema, with defaults (docs: configs/examples/single-node.yaml):
//
//   node:    { id: demo-1, site: eu-west, data_dir: DIR }  # data_dir optional
//   dns:     # optional, as are all its keys
//     listen: ["0.0.0.0:53", "[::]:53"]   # host:port, IPv6 in brackets
//     threads: auto                       # or 1..64
//     udp_payload: 1232                   # 512..4096
//     tcp_idle_timeout: 10s               # 100ms..1h
//     tcp_max_connections: 1000           # 1..100000
//     tcp_max_connections_per_client: 64  # 1..100000, per client /24 or /56
//     max_tcp_queries_per_connection: 100 # 1..65535
//     nsid: fra-1                         # optional, 1..128 bytes
//     rrl:                                # response rate limiting (UDP)
//       responses_per_second: 20          # per network, kind and name; 0: off
//       slip: 2                           # every Nth limited reply sent TC=1; 0..10
//       ipv4_prefix: 24, ipv6_prefix: 56  # the size of a "source network"
//       exempt: ["127.0.0.0/8", "::1"]    # never limited (the default)
//       table_size: 65536                 # buckets, 1024..16777216
//     cookies: { enabled: true,           # DNS cookies (RFC 7873, RFC 9018)
//                rotate_every: 24h,       # >= 1h; the secret is the cluster's
//                secret_file: FILE }      # or the operator's (anycast with others)
//   admin:   # optional: the HTTP API
//     listen: "127.0.0.1:8053"            # non-loopback needs token_file
//     token_file: FILE                    # bearer token for mutations
//     hosts: [meridian.example.net]       # names it is reached by (IPs, localhost always)
//     require_token_for_reads: false      # true: reads need the token too (needs token_file)
//     max_connections_per_client: 16      # 1..256, per client address
//   cluster: # optional: join the consensus store; needs node.data_dir and
//            # a node.id of a-z, 0-9 and '-' (it names the certificate)
//     listen: "0.0.0.0:7400"
//     peers: [ { id: fra-1, address: "198.51.100.10:7400" }, ... ]
//     join: false        # true: wait to be added (add-learner) instead of founding
//     tls: { ca: FILE, cert: FILE, key: FILE }
//     tick: 100ms, election_timeout: 1s, heartbeat_interval: 100ms,
//     snapshot_entries: 10000, max_state_mb: 64
//   store:   # optional, instead of cluster: the replicated state in etcd v3
//     backend: etcd
//     endpoints: ["127.0.0.1:2379", ...]   # IP:port of the etcd members
//     prefix: /meridian/prod/              # starts and ends with '/'
//     tls: { ca: FILE, cert: FILE, key: FILE }   # optional: mutual TLS
//     decider_lease: 3s, timeout: 3s
//   log:     { level: info }              # optional; debug|info|warn|error
//   geoip:   { database: FILE,            # optional; City or Country layout
//              asn_database: FILE }       # optional; GeoLite2-ASN layout (asn maps)
//   health:  { unknown: up }              # optional; up|down
//   sites:   { NAME: { lat: DEG, lon: DEG }, ... }   # at least one
//   checks:  # optional; may follow the zones that name them
//     NAME: { type: tcp|http|https|dns,   # required
//             port: 80,                   # http 80, https 443, dns 53; tcp: required
//             interval: 5s, timeout: 2s,  # timeout < interval; default
//                                         # min(2s, interval/2)
//             rise: 2, fall: 3,
//             # http and https only:
//             method: GET, path: /, host: H, headers: { NAME: VALUE },
//             expect: [200, "300-399"],   # default 200-399
//             body: TEXT, body_limit: 65536,
//             # https only:
//             tls: { verify: true, ca_file: FILE, server_name: H },
//             # dns only:
//             query: { name: ., type: SOA, rcode: NOERROR, answer: [TEXT] } }
//   overrides: [ { site: SITE or endpoint: ADDR, state: drain|down|up }, ... ]
//   zones:   # at least one
//     - origin: example.com.
//       ttl: 3600                  # default TTL of the zone's records
//       soa: { mname: ns1, rname: hostmaster, serial: 1, refresh: 3600,
//              retry: 600, expire: 604800, minimum: 300, ttl: <zone ttl> }
//       ns: [ns1, ns2.example.net.]  # soa and ns optional only with `file`
//       records: ["www 300 IN A 192.0.2.1", ...]   # optional
//       file: example.com.zone     # optional BIND zone file
//       services:                  # optional
//         NAME: { ttl: 30, policy: closest,  # closest|geo-map|failover|weighted
//                 answer_count: 1,        # 1..8 addresses per answer
//                 sites_per_answer: 1,    # 1..8 sites an answer draws from
//                 min_healthy: 1,         # count, or "50%" of a site's endpoints
//                 sticky: false,          # rendezvous hashing of the client /24 or /56
//                 ecs: true,              # false: ignore EDNS Client Subnet
//                 fail: open,             # open|closed|servfail when nothing is healthy
//                 fallback: [ADDR, ...],  # instead of `fail`: answered when nothing is healthy
//                 bias: { SITE: -99..99 },   # closest only: percent
//                 tolerance: 0,           # closest only: percent (0..1000) or "10%"
//                 order: [SITE, ...],     # failover only: the fixed order
//                 geo_map: { subdivisions: { US-CA: [SITE, ...] }, countries: { US: [...] },
//                            continents: { EU: [...] }, default: [...] },  # geo-map only
//                 nets: { "192.0.2.0/24": [SITE, ...] },  # not with weighted
//                 nets_file: FILE,        # "PREFIX SITE[,SITE...]" lines; not with weighted
//                 asn: { 64500: [SITE, ...] },  # after nets, before geo; not with weighted
//                 min_ttl: <ttl/2>, degraded_ttl: <min_ttl>,  # <= ttl
//                 check: CHECK or none,   # default none
//                 default_sites: [SITE, ...],   # not with failover (use order)
//                 endpoints: [ { address: ADDR or [ADDR, ...],  # or cname: NAME (answered as a
//                 CNAME)
//                                site: SITE,
//                                weight: 100,
//                                check: CHECK or none or   # default: the service's
//                                  { use: CHECK,           # default: the service's
//                                    target: ADDR,         # default: first address
//                                    <check keys replacing the base's> } }, ... ] }
//
// An endpoint's check map changes only the keys it gives; a changed `type`
// starts from that type's port and settings, and a timeout left to its
// default follows a changed interval. tls and query maps change only their
// own keys; headers and expect are replaced whole.
//
// Integers in seconds (TTLs, SOA timers) also accept durations ("1h", "7d");
// tcp_idle_timeout takes a duration ("10s", "500ms") or plain seconds.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip_address.hpp"
#include "base/log.hpp"
#include "base/result.hpp"
#include "dns/rate_limiter.hpp"
#include "dns/wire/name.hpp"
#include "dns/wire/record.hpp"
#include "geo/steering.hpp"
#include "health/check.hpp"
#include "health/tracker.hpp"

namespace meridian {

/// Limits the loader enforces; each is the edge of an accepted range.
namespace config_limits {
inline constexpr std::size_t kMaxFileBytes = std::size_t{16} * 1024 * 1024;  ///< config file size
inline constexpr std::size_t kMaxErrors = 100;     ///< errors reported; the rest are counted
inline constexpr std::size_t kMaxNameLength = 63;  ///< node id, site names
inline constexpr std::size_t kMaxSites = 4096;
inline constexpr std::size_t kMaxListen = 32;  ///< dns.listen entries
inline constexpr std::uint32_t kMaxThreads = 64;
inline constexpr std::uint32_t kMinUdpPayload = 512;
inline constexpr std::uint32_t kMaxUdpPayload = 4096;
inline constexpr std::chrono::milliseconds kMinTcpIdleTimeout{100};
inline constexpr std::chrono::milliseconds kMaxTcpIdleTimeout{3'600'000};
inline constexpr std::uint32_t kMaxTcpConnections = 100'000;
inline constexpr std::uint32_t kMaxTcpQueriesPerConnection = 65'535;
/// admin.max_connections_per_client: the admin server's own total cap
/// (admin/http_server.hpp HttpServerSettings::max_connections).
inline constexpr std::uint32_t kMaxAdminConnectionsPerClient = 256;
inline constexpr std::size_t kMaxNsidBytes = 128;
inline constexpr std::uint32_t kMaxTtl = 2'147'483'647;  ///< RFC 2181 8
inline constexpr std::uint32_t kMaxServiceTtl = 86'400;
inline constexpr std::uint32_t kMaxAnswerCount = 8;
inline constexpr std::size_t kMaxEndpoints = 1024;  ///< addresses per service
inline constexpr std::uint32_t kMaxWeight = 65'535;
inline constexpr std::size_t kMaxChecks = 1024;  ///< entries of `checks:`
inline constexpr std::chrono::milliseconds kMinCheckInterval{100};
inline constexpr std::chrono::milliseconds kMaxCheckInterval{3'600'000};
inline constexpr std::chrono::milliseconds kMinCheckTimeout{10};
inline constexpr std::uint32_t kMaxRiseFall = 100;         ///< rise and fall thresholds
inline constexpr std::uint32_t kMaxBodyLimit = 1'048'576;  ///< body_limit, bytes
/// path, host, header values, the body substring and DNS answers, bytes.
inline constexpr std::size_t kMaxCheckTextBytes = 2048;
inline constexpr std::size_t kMaxHttpHeaders = 32;
inline constexpr std::size_t kMaxExpect = 32;      ///< entries of `expect`
inline constexpr std::size_t kMaxDnsAnswers = 16;  ///< entries of `query.answer`
inline constexpr std::size_t kMaxOverrides = 4096;
inline constexpr std::size_t kMaxSiteList = 32;         ///< sites in one nets/geo_map/order list
inline constexpr std::size_t kMaxGeoMapEntries = 4096;  ///< entries of one geo_map level
inline constexpr std::size_t kMaxInlineNets = 10'000;   ///< entries of a service's `nets:`
inline constexpr std::size_t kMaxNetsRows = 5'000'000;  ///< nets rows of a service (inline + file)
inline constexpr std::size_t kMaxFallback = 16;         ///< fallback addresses
inline constexpr double kMaxTolerancePercent = 1000;
inline constexpr std::uint32_t kMaxRrlRate = 1'000'000;  ///< dns.rrl.responses_per_second
inline constexpr std::uint32_t kMaxRrlSlip = 10;
inline constexpr std::size_t kMaxRrlExempt = 1024;
inline constexpr std::uint32_t kMinRrlTable = 1024;
inline constexpr std::uint32_t kMaxRrlTable = 1u << 24;
/// RFC 9018 4.3: a cookie lives an hour, so a secret must stay at least
/// that long.
inline constexpr std::chrono::milliseconds kMinCookieRotation{3'600'000};
inline constexpr std::chrono::milliseconds kMaxCookieRotation{std::chrono::hours(24 * 365)};
}  // namespace config_limits

/// Where a configured value came from, so that errors found after parsing
/// (by the zone builder) still point at it.
struct SourceLocation {
  std::string file;      ///< the config file as named to the loader, or a zone file path
  int line = 0;          ///< 1-based; 0 when unknown
  int column = 0;        ///< 1-based; 0 when unknown (zone files are line-based)
  std::string key_path;  ///< "zones[0].records[3]"; empty for zone-file lines

  /// "demo.yaml:42:17: zones[0].records[3]" or "demo.test.zone:12" (the
  /// prefix of an error message, without the final ": ").
  std::string to_string() const;
};

struct NodeSettings {
  std::string id;          ///< 1..63 of [A-Za-z0-9._-]
  std::uint32_t site = 0;  ///< index into Config::sites
  /// Absolute, or relative to the working directory when the loader had no
  /// base directory. Empty when not configured.
  std::string data_dir;
};

/// DNS cookies (`dns.cookies`, RFC 7873 and RFC 9018).
struct CookieSettings {
  bool enabled = true;
  /// How often the secret is replaced (the previous one stays accepted).
  std::chrono::milliseconds rotate_every{std::chrono::hours(24)};
  /// A secret the operator sets (resolved path; empty: the cluster's or the
  /// node's own, rotated): for an anycast set shared with other servers
  /// (RFC 9018), which must all hold the same secret. One line of 32 hex
  /// digits, the current secret; a second line, the previous one.
  std::string secret_file;
};

struct DnsSettings {
  /// 1..kMaxListen distinct addresses.
  std::vector<SocketAddress> listen{SocketAddress{IpAddress::v4(0, 0, 0, 0), 53},
                                    SocketAddress{IpAddress{IpAddress::Family::v6, {}}, 53}};
  std::uint32_t threads = 0;  ///< UDP workers 1..64; 0: one per CPU core ("auto")
  /// The EDNS payload size we advertise and the largest UDP response we send.
  std::uint16_t udp_payload = 1232;
  std::chrono::milliseconds tcp_idle_timeout{10'000};
  std::uint32_t tcp_max_connections = 1000;
  std::uint32_t max_tcp_queries_per_connection = 100;
  /// Concurrent TCP connections of one client network (an IPv4 /24, an
  /// IPv6 /56: dns/tcp_connection_table.hpp); more are closed at once.
  std::uint32_t tcp_max_connections_per_client = 64;
  /// Returned in the NSID option when a query asks for it (RFC 5001); empty:
  /// NSID is not answered.
  std::string nsid;
  /// Response rate limiting for UDP (`dns.rrl`); responses_per_second 0: off.
  dns::RateLimitSettings rrl;
  CookieSettings cookies;
};

struct GeoipSettings {
  /// The MaxMind DB path, resolved like data_dir; empty when not configured
  /// (every client is unlocated). The loader does not open it:
  /// `check-config` and `serve` open and check it (gslb::open_geoip).
  std::string database;
  /// The ASN database (GeoLite2-ASN layout) for services' asn maps, resolved
  /// the same way; empty when not configured (asn maps match nothing).
  std::string asn_database;
};

/// The zone's SOA, from `soa:`. Times in seconds.
struct SoaSettings {
  dns::Name mname;
  dns::Name rname;
  std::uint32_t serial = 1;
  std::uint32_t refresh_s = 3600;
  std::uint32_t retry_s = 600;
  std::uint32_t expire_s = 604800;
  std::uint32_t minimum_s = 300;
  std::uint32_t ttl_s = 3600;  ///< defaults to the zone's ttl
  SourceLocation source;
};

/// One apex NS target from `ns:`.
struct NameServer {
  dns::Name name;
  SourceLocation source;
};

/// A static record from `records:` or from the zone file.
struct RecordConfig {
  dns::Record record;
  SourceLocation source;
};

/// One configured endpoint of a service (a server, with one or more
/// addresses) and how its health is checked.
struct EndpointConfig {
  std::uint32_t site = 0;
  /// The resolved check: the service's `check`, the endpoint's own named
  /// check, or either with the endpoint's field overrides applied. Empty:
  /// not checked (`check: none`, or no check anywhere), always up unless
  /// overridden.
  std::optional<health::CheckSpec> check;
  /// Where probes go: the endpoint's `check.target` address if set, else its
  /// first address. Lets a service answer public addresses while probes use
  /// a management or loopback address. A cname endpoint has no address: its
  /// check needs a target (without a check this stays 0.0.0.0, unprobed).
  IpAddress probe_address;
  SourceLocation source;
};

/// One service name answered by steering.
struct ServiceConfig {
  dns::Name name;  ///< absolute, inside the zone
  std::uint32_t ttl_s = 30;
  /// Site order for clients with no location: every site exactly once, the
  /// configured default_sites first, then the others in `sites:` order (so a
  /// partial list is a preference, never an exclusion).
  std::vector<std::uint32_t> default_sites;
  /// The steering settings (policy, picking, fail mode, the compiled
  /// geo_map, nets and asn map) and endpoints: one geo::Endpoint per
  /// configured address or cname (an endpoint with several addresses gives
  /// each its weight; spec.cname_targets holds the names, absolute).
  /// Every setting absent from the file keeps its default, which answers
  /// as `closest` always has.
  geo::ServiceSpec spec;
  /// The nets file that was read (resolved path), or empty.
  std::string nets_file;
  /// For each spec.endpoints[i], the index of the configured endpoint it
  /// came from (into `endpoints`): the addresses of one endpoint share one
  /// health verdict.
  std::vector<std::uint32_t> endpoint_of_address;
  /// The configured endpoints, in file order.
  std::vector<EndpointConfig> endpoints;
  /// While an answer could change soon (health in transition), its TTL is
  /// cut to the time until the earliest possible change, but never below
  /// this. Default ttl/2 (at least 1 when ttl > 0).
  std::uint32_t min_ttl_s = 15;
  /// TTL of fail-open answers (nothing healthy). Default min_ttl.
  std::uint32_t degraded_ttl_s = 15;
  SourceLocation source;
};

struct ZoneConfig {
  dns::Name origin;
  std::uint32_t default_ttl_s = 3600;
  /// Absent only when the zone file provides the SOA.
  std::optional<SoaSettings> soa;
  std::vector<NameServer> ns;
  /// The inline records in file order, then the zone file's records.
  std::vector<RecordConfig> records;
  /// The zone file that was read (resolved path), or empty.
  std::string file;
  std::vector<ServiceConfig> services;
  SourceLocation source;
};

/// `health:` settings of the node.
struct HealthSettings {
  /// What an endpoint not probed yet counts as in answers (`unknown: up`).
  health::UnknownPolicy unknown = health::UnknownPolicy::up;
  /// In a cluster: after this long without a leader, a node answers from its
  /// own probes for what it probes (the last replicated verdict for the rest).
  std::chrono::milliseconds local_fallback_after{30000};
  /// In a cluster: an observer counts while its lease renewals arrive within
  /// this time (renewed every second).
  std::chrono::milliseconds observer_lease{5000};
};

/// One entry of `overrides:` — an operator decision in the config.
struct OverrideConfig {
  enum class Scope : std::uint8_t { site, endpoint };
  Scope scope = Scope::site;
  std::uint32_t site = 0;  ///< when scope == site
  IpAddress address;       ///< when scope == endpoint: every endpoint with this address
  health::Override value = health::Override::force_down;
  SourceLocation source;
};

/// One entry of `cluster.peers`.
struct ClusterPeer {
  std::string id;  ///< the node's name (cluster/node_id.hpp rules)
  SocketAddress address;
  SourceLocation source;
};

/// `cluster:`: this node's member of the consensus store (docs/architecture.md).
struct ClusterSettings {
  SocketAddress listen;
  /// Every member's peer address; this node's own entry may be listed too.
  std::vector<ClusterPeer> peers;
  /// false: the founding voters are this node and every peer (used only on
  /// the first start with an empty data_dir). true: the node joins an
  /// existing cluster and waits to be added (`meridian cluster add-learner`).
  bool join = false;
  std::string ca_file;    ///< the cluster CA certificate (PEM)
  std::string cert_file;  ///< this node's certificate, naming node.id
  std::string key_file;   ///< its private key
  std::chrono::milliseconds tick{100};
  std::chrono::milliseconds election_timeout{1000};   ///< a multiple of tick, > heartbeat_interval
  std::chrono::milliseconds heartbeat_interval{100};  ///< a multiple of tick
  std::uint64_t snapshot_entries = 10'000;            ///< compact the log after this many entries
  /// The replicated state's budget (keys and values), MiB: writes that would
  /// pass it are refused. Well under the snapshot cap (256 MiB).
  std::uint64_t max_state_mb = 64;
  SourceLocation source;
};

/// `store:`: the replicated state on an etcd v3 cluster the operator runs,
/// instead of the built-in Raft store of `cluster:` (docs/operating-a-cluster.md).
struct EtcdStoreConfig {
  /// The etcd members' client addresses (IP literals), tried in this order.
  std::vector<SocketAddress> endpoints;
  /// Every key of this Meridian cluster under it: "/" ... "/", so that one
  /// etcd cluster can hold several Meridian clusters side by side.
  std::string prefix;
  /// Mutual TLS to etcd (all three, or none: plain HTTP).
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  /// The decider's etcd lease: a decider that stops renewing it is replaced
  /// after at most this long.
  std::chrono::milliseconds decider_lease{3000};
  /// One etcd request's deadline; an endpoint that misses it is left for the next.
  std::chrono::milliseconds timeout{3000};
  SourceLocation source;
};

/// `admin:`: the HTTP API, metrics and dashboard (docs/admin-api.md).
struct AdminSettings {
  SocketAddress listen{IpAddress::v4(127, 0, 0, 1), 8053};
  /// File holding the bearer token for mutations (read at start); empty:
  /// mutations are refused, and listen must be a loopback address.
  std::string token_file;
  /// Names the API may be reached by besides IP addresses and localhost
  /// (a Host header naming anything else is refused: DNS rebinding).
  std::vector<std::string> hosts;
  /// Every read route but the dashboard's page and assets needs the token
  /// too (the JSON API, /metrics). Only with a token_file.
  bool require_token_for_reads = false;
  /// Concurrent connections of one client address; more are closed at once.
  std::uint32_t max_connections_per_client = 16;
  SourceLocation source;
};

struct Config {
  NodeSettings node;
  DnsSettings dns;
  LogLevel log_level = LogLevel::info;
  GeoipSettings geoip;
  HealthSettings health;
  std::vector<geo::Site> sites;  ///< in file order; indices are used everywhere
  /// Named checks from `checks:`, in file order (already validated).
  std::vector<health::CheckSpec> checks;
  std::vector<OverrideConfig> overrides;
  std::vector<ZoneConfig> zones;
  std::optional<ClusterSettings> cluster;
  std::optional<EtcdStoreConfig> etcd_store;  ///< `store: {backend: etcd}`; never with `cluster:`
  std::optional<AdminSettings> admin;

  /// True when the node keeps health, overrides, the event log and config
  /// versions in a replicated store (the built-in one or etcd): "in a
  /// cluster" everywhere the docs say so.
  bool replicated() const { return cluster.has_value() || etcd_store.has_value(); }
};

/// Reads and validates the config file at `path` (at most kMaxFileBytes).
/// Validation covers the schema and value ranges, cross-references (sites),
/// and every zone as build_routing_table builds it, so a loaded Config always
/// builds. Relative paths inside (geoip.database, zones[].file,
/// node.data_dir) are resolved against the directory of `path`. Zone files
/// are read now; the GeoIP databases are not opened (gslb::open_geoip).
///
/// Errors: one line per problem, at most kMaxErrors, each
/// "FILE:LINE:COLUMN: KEY.PATH: expected WHAT, found WHAT" (YAML syntax
/// errors and zone file errors name their own position).
Result<Config> load_config(const std::string& path);

/// load_config on text already read. `file_name_for_errors` starts every
/// error line; `base_dir` resolves relative paths (empty: leave them
/// relative to the working directory).
Result<Config> parse_config(std::string_view yaml_text, const std::string& file_name_for_errors,
                            const std::string& base_dir);

/// Reads a config file's text (at most kMaxFileBytes), as load_config does.
Result<std::string> read_config_file(const std::string& path);

// --- Cluster-wide config versions (docs/configuration.md) ----------------------
//
// In a cluster the top-level sections split in two. The node-local ones say
// who this node is, where it listens, who its peers are and which files of
// its own disk it uses; each node reads them from its own file. The shared
// ones describe the service and are the same on every node: a committed
// config version (gslb/config_versions.hpp) holds them as YAML text, and a
// node's effective config is its file's node-local sections plus the
// committed shared sections. Relative paths inside the shared sections
// (zones[].file, nets_file, CA files of checks) resolve on each node against
// its own config file's directory; the files they name are not carried in
// the version.

/// Sections local to one node: its identity, listeners, peers, log level,
/// and its GeoIP database path (docs/configuration.md: a file of the node).
inline constexpr std::string_view kNodeSections[] = {"node",  "dns",     "log",  "geoip",
                                                     "admin", "cluster", "store"};
/// Sections that describe the service, shared by every node of a cluster.
inline constexpr std::string_view kSharedSections[] = {"sites", "health", "checks", "zones",
                                                       "overrides"};

/// A config text and the name its errors start with.
struct ConfigText {
  std::string_view text;
  std::string name;
};

/// A node's effective config: the node-local sections of `node_file` and
/// the shared sections of `shared`, validated together exactly as
/// parse_config validates one file. Each text's other sections are ignored
/// (but must be known keys); `node_file` needs `node:`, `shared` needs
/// `sites:` and `zones:`. Errors name the text they are in ("FILE:LINE:COL:
/// ..."), `node_file`'s first. Relative paths of both resolve against
/// `base_dir`.
Result<Config> parse_config_parts(const ConfigText& node_file, const ConfigText& shared,
                                  const std::string& base_dir);

/// What a config text's shared sections are, independent of formatting:
/// comments, quoting, flow or block style, indentation and the node-local
/// sections do not count; the order of keys and list items does (sites and
/// lists are ordered). A 64-bit FNV-1a of a canonical encoding of the
/// shared sections' YAML values, as 16 lowercase hex digits: a fingerprint
/// for "is this the same config", not a cryptographic hash. Paths are
/// compared as written, not the files they name. Errors: YAML syntax, a
/// document that is not a map, nesting deeper than 64 or a canonical form
/// beyond 64 MiB (alias bombs).
Result<std::string> shared_fingerprint(std::string_view yaml_text);

/// The node-local sections present in a config text, in kNodeSections
/// order (those that a committed version ignores). Empty on a syntax error
/// or a non-map document.
std::vector<std::string> node_sections_in(std::string_view yaml_text);

}  // namespace meridian
