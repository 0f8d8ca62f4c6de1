#pragma once
// Steering: which endpoints of a service answer a given client. A service is
// compiled once per health state (when the routing table is built) and then
// queried on the DNS hot path from many threads: `choose` allocates nothing,
// takes no lock and makes no syscall.
//
// A choice runs a fixed chain of stages:
//   1. order the sites for the client: `nets` (the client's network, when the
//      service has a nets table), then `asn` (the client's autonomous system,
//      when the service has an asn map), then the policy (closest by biased
//      distance from the client's coordinates or its country's centroid,
//      geo-map by region, failover's fixed order, or weighted, which ignores
//      location); clients the policy cannot place get the default order;
//   2. filter by health: a site is available while at least `min_healthy`
//      of its endpoints are; when no site meets that, any site with a
//      healthy endpoint is; when nothing is healthy, the fail mode decides
//      (fail open, fail closed, or the fallback addresses);
//   3. pick: the first `sites_per_answer` available sites in that order
//      (with `tolerance`, also those nearly as close as the nearest) form a
//      pool, and `answer_count` distinct endpoints are drawn from it by
//      weight, at random or (`sticky`) by rendezvous hashing of the client
//      network, so a client keeps its endpoint while that stays healthy.
//      An endpoint is an address or a name (answered as a CNAME): the first
//      pick decides which, and a CNAME answer is that one name alone.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/ip_address.hpp"
#include "base/rng.hpp"
#include "geo/asn_map.hpp"
#include "geo/country_centroids.hpp"
#include "geo/geo_map.hpp"
#include "geo/locator.hpp"
#include "geo/nets_map.hpp"
#include "geo/scope_index.hpp"
#include "geo/site_metric.hpp"

namespace meridian::geo {

/// A place where endpoints live: a region or a datacenter.
struct Site {
  std::string name;
  double latitude_deg = 0;
  double longitude_deg = 0;
};

/// How a service orders sites for a client.
enum class Policy : std::uint8_t {
  closest,   ///< by great-circle distance from the client's location, scaled by bias
  geo_map,   ///< by the client's subdivision, country or continent (ServiceSpec::geo_map)
  failover,  ///< one fixed order for every client: the default order
  weighted,  ///< every available endpoint by weight, location ignored
};

/// What a service answers when no endpoint of the family is healthy.
enum class FailMode : std::uint8_t {
  open,      ///< every endpoint counts as healthy (flagged degraded)
  closed,    ///< nothing: NODATA
  servfail,  ///< nothing: SERVFAIL
};

/// Limits of a spec, asserted by the Steering constructor.
inline constexpr std::uint32_t kMaxAnswerCount = 8;
inline constexpr std::uint32_t kMaxSitesPerAnswer = 8;
/// Most sites one answer draws from (sites_per_answer plus those within
/// tolerance).
inline constexpr std::uint32_t kMaxPoolSites = 16;
/// bias is a percentage in [-kMaxBias, kMaxBias].
inline constexpr double kMaxBias = 99;
/// Sticky choices hash the client's network at most this wide.
inline constexpr unsigned kStickyPrefixV4 = 24;
inline constexpr unsigned kStickyPrefixV6 = 56;

/// Endpoint::cname of an address endpoint, Choice::cname of an address answer.
inline constexpr std::uint32_t kNoCname = UINT32_MAX;

/// One address of a service at one site, or one name answered as a CNAME.
/// `site` indexes the site list the service was compiled with.
struct Endpoint {
  IpAddress address;  ///< unused by a CNAME endpoint
  std::uint32_t site = 0;
  std::uint32_t weight = 100;  ///< relative share; > 0
  /// False when health checks or an operator took it out of answers.
  bool healthy = true;
  /// kNoCname for an address; otherwise the index of the endpoint's name in
  /// ServiceSpec::cname_targets. A CNAME endpoint answers both families.
  std::uint32_t cname = kNoCname;

  bool is_cname() const noexcept { return cname != kNoCname; }
  /// True when the endpoint can answer a query for `family`.
  bool answers(IpAddress::Family family) const noexcept {
    return is_cname() || address.family == family;
  }
};

/// A service as configured, already validated.
struct ServiceSpec {
  Policy policy = Policy::closest;
  std::uint32_t answer_count = 1;      ///< addresses per answer, 1..8
  std::uint32_t sites_per_answer = 1;  ///< sites an answer draws from, 1..8
  /// A site is available while at least this many of its endpoints of the
  /// family are healthy (>= 1; a site with fewer endpoints needs all), or
  /// with min_healthy_percent this percentage of them (1..100, rounded up).
  std::uint32_t min_healthy = 1;
  bool min_healthy_percent = false;
  /// Rendezvous hashing of the client network instead of random draws.
  bool sticky = false;
  /// Use the EDNS Client Subnet when present (see select_client).
  bool use_ecs = true;
  FailMode fail = FailMode::open;
  /// When not empty: answered (those of the asked family) when nothing is
  /// healthy, instead of the fail mode.
  std::vector<IpAddress> fallback;
  /// closest: per site (indexed like the site list; empty = all 0), a
  /// percentage in -99..99 that shrinks (> 0) a site's distances, so its
  /// area grows, or stretches them (< 0): biased = distance * (1 - bias/100).
  std::vector<double> bias_percent;
  /// closest: available sites whose biased distance is within this
  /// percentage of the nearest one's join its pool (0..1000).
  double tolerance_percent = 0;
  /// policy geo_map: the region -> sites table (required for it).
  std::shared_ptr<const GeoMap> geo_map;
  /// Optional with closest, geo_map and failover: client networks -> sites,
  /// consulted before anything else.
  std::shared_ptr<const NetsMap> nets;
  /// Optional with closest, geo_map and failover: the client's autonomous
  /// system -> sites, consulted after nets (needs Locator::locate_asn).
  std::shared_ptr<const AsnMap> asn;
  std::vector<Endpoint> endpoints;
  /// The names of the CNAME endpoints (absolute, presentation format, as the
  /// DNS layer writes them); Endpoint::cname indexes it. Distinct.
  std::vector<std::string> cname_targets;
};

/// Which stage decided a choice.
enum class Stage : std::uint8_t {
  none,           ///< the service has no address of the family
  nets,           ///< a nets row ordered the sites
  asn,            ///< the client's autonomous system's entry ordered the sites
  geo_map,        ///< a geo-map entry (or its default list) ordered the sites
  closest,        ///< the client's coordinates ordered the sites
  default_order,  ///< the default order (client not located, or one site available)
  failover,       ///< failover's fixed order
  weighted,       ///< weighted: all available endpoints
  fail_open,      ///< nothing healthy: answered anyway (degraded)
  fail_closed,    ///< nothing healthy: nothing answered (NODATA or SERVFAIL)
  fallback,       ///< nothing healthy: the fallback addresses (degraded)
};

/// "nets", "geo-map", ... as configs and `meridian explain` spell them.
const char* stage_name(Stage stage) noexcept;
const char* policy_name(Policy policy) noexcept;

/// The result of one choice.
struct Choice {
  /// Number of addresses written to the output span (0 for a CNAME answer).
  std::uint32_t count = 0;
  /// kNoCname, or for a CNAME answer (the first pick was a CNAME endpoint)
  /// the index of its name in ServiceSpec::cname_targets.
  std::uint32_t cname = kNoCname;
  /// The first (best) site of the pool (meaningless when count == 0 or for
  /// a fallback answer).
  std::uint32_t site = 0;
  /// ECS scope prefix length: how many leading bits of the client address
  /// the choice depended on. 0 when it did not depend on the client at all;
  /// never more than the client network's prefix length.
  std::uint8_t scope_prefix_len = 0;
  /// The geo stage's part of the scope: the widest prefix whose networks
  /// order the answer's sites alike (see ScopeIndex), or the client's
  /// database network without a scope index; 0 when no geo lookup was made.
  /// In bits of the address looked up (IPv4 for an IPv4-mapped client), and
  /// not capped at the client's prefix.
  std::uint8_t geo_scope_prefix_len = 0;
  /// True when the client's location (coordinates or region) decided.
  bool located = false;
  /// True for fail-open and fallback answers: health was ignored.
  bool degraded = false;
  /// Stage fail_closed with FailMode::servfail.
  bool servfail = false;
  Stage stage = Stage::none;
};

/// One candidate site in a Trace, in the order the policy ranks them.
struct TraceSite {
  std::uint32_t site = 0;
  std::optional<double> distance_km;  ///< closest with coordinates only
  double bias_percent = 0;
  std::optional<double> biased_km;
  std::uint32_t healthy = 0;  ///< endpoints of the family that are healthy
  std::uint32_t total = 0;    ///< endpoints of the family
  bool available = false;     ///< passed the health filter
  bool picked = false;        ///< in the pool the answer was drawn from
};

/// The decision behind one choice, for `meridian explain` and the admin API.
/// Filling it allocates; the hot path passes none.
struct Trace {
  bool nets_asked = false;
  NetsMap::Match nets;
  bool asn_asked = false;
  /// The ASN database's answer (its organization copied to
  /// asn_organization) and whether the service's asn map has the number.
  AsnLocated asn;
  std::string asn_organization;
  bool asn_mapped = false;
  bool locator_asked = false;
  Located located;
  /// closest: how the client was placed (its coordinates, its country's
  /// centroid, or not at all) and where.
  Placement placement = Placement::none;
  Coordinates placed;
  /// True when a scope index set Choice::geo_scope_prefix_len (else it is
  /// the database network's prefix).
  bool scope_indexed = false;
  /// geo_map: the entry that matched ("US-CA", "US", "EU"), "default", or
  /// empty.
  std::string geo_map_entry;
  /// How the health filter went: "min_healthy", "any healthy endpoint"
  /// (min_healthy met nowhere), "nothing healthy".
  std::string health;
  std::vector<TraceSite> candidates;
};

class Steering {
 public:
  /// Compiles `spec` against `sites` (the whole site list, fixed for the
  /// routing table's life) and the `default_sites` order (indices into
  /// `sites`; a preference, the remaining sites follow in index order).
  /// Preconditions, asserted: answer_count 1..8, sites_per_answer 1..8,
  /// min_healthy >= 1 (<= 100 as a percentage), weights > 0, every site
  /// index in range, bias_percent empty or one per site in -99..99,
  /// geo_map set iff policy is geo_map, no nets or asn with weighted, every
  /// cname index in range of cname_targets.
  ///
  /// `scope`, when not null, is the service's scope index, compiled from
  /// the location database of the locator that `choose` will be given, for
  /// these sites, default_sites and spec (Locator::scope_index); without it
  /// the geo stage's scope is the client's database network.
  Steering(const std::vector<Site>& sites, std::vector<std::uint32_t> default_sites,
           ServiceSpec spec, std::shared_ptr<const ScopeIndex> scope = nullptr);

  /// Picks up to answer_count addresses of `family` for `client` (the ECS
  /// subnet or the source address as a full-length network; see
  /// select_client) and writes pointers to them, owned by this Steering,
  /// into `out` (never one twice; at most min(answer_count, out.size())).
  /// `locator` may be null (no GeoIP database). `trace`, when not null, is
  /// filled with the decision (allocating); the hot path passes null.
  ///
  /// Details: an IPv4-mapped IPv6 client is looked up as IPv4. With fewer
  /// than two available sites the order cannot matter: nothing is looked
  /// up. Otherwise nets are asked first, then the ASN (with an asn map),
  /// then the locator (closest, geo-map). closest orders by biased distance
  /// from the client's coordinates, or from its country's centroid when
  /// the record has a country but no coordinates (ties: lower site index);
  /// clients placed by neither, geo-map clients without an entry or default
  /// list, and failover walk the default order. A list (nets, asn, geo-map)
  /// is walked first, then the default order, so every region fails over
  /// to every site. The scope is the longest of the prefixes consulted (the
  /// nets range, the ASN network, the geo stage's scope, the sticky hash
  /// prefix) in bits of the client's own family, capped at
  /// client.prefix_len; 0 when nothing was.
  ///
  /// CNAME endpoints: when the first endpoint drawn is one, the answer is
  /// its name alone (count 0, Choice::cname set); otherwise CNAME endpoints
  /// are passed over and only addresses are drawn.
  ///
  /// `widest_scope` false skips the walk for the widest same-answer
  /// supernet (the scope then stops at the client's database network): the
  /// DNS path passes false when the query carried no usable ECS, since the
  /// scope is not sent then.
  Choice choose(const Locator* locator, const IpNetwork& client, IpAddress::Family family, Rng& rng,
                std::span<const IpAddress*> out, Trace* trace = nullptr,
                bool widest_scope = true) const noexcept;

  const ServiceSpec& spec() const noexcept { return spec_; }
  const std::vector<Site>& sites() const noexcept { return sites_; }
  const ScopeIndex* scope_index() const noexcept { return scope_.get(); }

 private:
  /// The usable endpoints of one family at one site, as indices into
  /// spec_.endpoints.
  struct SiteEndpoints {
    std::vector<std::uint32_t> endpoints;
    std::uint64_t total_weight = 0;
    std::uint64_t cname_weight = 0;  ///< of the CNAME endpoints among them
    std::uint32_t cname_count = 0;
    std::uint32_t healthy = 0;  ///< of the family, for traces
    std::uint32_t total = 0;
    bool available = false;
  };
  /// Everything `choose` needs for one address family, computed once.
  struct FamilyIndex {
    std::vector<SiteEndpoints> by_site;          ///< one per site
    std::vector<std::uint32_t> candidate_sites;  ///< available sites, ascending
    SiteEndpoints everything;                    ///< all usable endpoints (weighted)
    std::uint32_t total_endpoints = 0;           ///< of the family, healthy or not
    bool relaxed = false;   ///< min_healthy met nowhere: any healthy endpoint did
    bool degraded = false;  ///< nothing healthy, fail open: all endpoints count
    bool failed = false;    ///< nothing healthy and no fail open: stage fail_*
  };
  /// The sites an answer is drawn from.
  struct Pool {
    std::uint32_t sites[kMaxPoolSites] = {};
    std::uint32_t count = 0;
    bool contains(std::uint32_t site) const noexcept;
  };

  const FamilyIndex& index_of(IpAddress::Family family) const noexcept {
    return family == IpAddress::Family::v4 ? v4_ : v6_;
  }
  FamilyIndex compile(IpAddress::Family family) const;
  void closest_pool(const FamilyIndex& index, const UnitVector& client, Pool& pool) const noexcept;
  void list_pool(const FamilyIndex& index, std::span<const std::uint32_t> list,
                 Pool& pool) const noexcept;
  /// How deep into the service's site order (the ranked sites, see
  /// ScopeIndex) the pool reached: the position of its last site, from 1.
  /// Needs scope_.
  unsigned order_depth(const FamilyIndex& index, const Pool& pool, bool by_distance,
                       const UnitVector& client,
                       std::span<const std::uint32_t> list) const noexcept;
  /// Draw into `out` and set choice.count, or choice.cname.
  void draw(const FamilyIndex& index, const Pool& pool, bool everything, Rng& rng,
            std::span<const IpAddress*> out, Choice& choice) const noexcept;
  void draw_sticky(const FamilyIndex& index, const Pool& pool, bool everything,
                   std::uint64_t client_hash, std::span<const IpAddress*> out,
                   Choice& choice) const noexcept;
  Choice fail(const FamilyIndex& index, IpAddress::Family family,
              std::span<const IpAddress*> out) const noexcept;
  /// Fills `trace` after a choice (geo/steering_trace.cpp); `list` is the
  /// list that was walked, `by_distance` whether trace.placed ordered the
  /// sites.
  void fill_trace(const FamilyIndex& index, const Choice& choice,
                  std::span<const std::uint32_t> list, bool by_distance, const Pool& pool,
                  bool everything, Trace& trace) const;

  ServiceSpec spec_;
  std::vector<Site> sites_;
  std::vector<std::uint32_t> default_sites_;
  SiteMetric metric_;
  std::vector<std::uint64_t> address_hash_;  ///< one per endpoint, for sticky choices
  std::shared_ptr<const ScopeIndex> scope_;
  /// With scope_: the ranked sites, ascending; each site's position in the
  /// default order (default_sites_, then the others by index); and how many
  /// ranked sites precede it there.
  std::vector<std::uint32_t> ranked_sites_;
  std::vector<std::uint32_t> default_position_;
  std::vector<std::uint32_t> ranked_before_;
  FamilyIndex v4_;
  FamilyIndex v6_;
};

/// The network a service locates a query by: the ECS subnet when the query
/// has one, the service honours ECS (use_ecs) and its address is public;
/// otherwise the source address as a host network. `from_ecs` says which: an
/// answer located by the source address must carry ECS scope 0.
struct ClientNetwork {
  IpNetwork network;
  bool from_ecs = false;
};
ClientNetwork select_client(const ServiceSpec& spec, const IpNetwork* ecs,
                            const IpAddress& source) noexcept;

/// True for addresses that locate nothing: private (RFC 1918, ULA),
/// loopback, link-local, CGNAT shared space, unspecified, multicast and
/// reserved ranges (IPv4-mapped ones by their IPv4 address).
bool is_special_purpose(const IpAddress& address) noexcept;

/// Great-circle distance in kilometres between two points (degrees).
double great_circle_km(double lat1_deg, double lon1_deg, double lat2_deg, double lon2_deg) noexcept;

}  // namespace meridian::geo
