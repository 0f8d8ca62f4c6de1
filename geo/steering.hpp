#pragma once
// Steering: which endpoints of a service answer a given client. A service is
// compiled once (when the routing table is built) and then queried on the DNS
// hot path from many threads: `choose` allocates nothing, takes no lock and
// makes no syscall.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/ip_address.hpp"
#include "base/rng.hpp"
#include "geo/locator.hpp"

namespace meridian::geo {

/// A place where endpoints live: a region or a datacenter.
struct Site {
  std::string name;
  double latitude_deg = 0;
  double longitude_deg = 0;
};

/// How a service orders sites for a client.
enum class Policy : std::uint8_t {
  closest,  ///< by great-circle distance from the client's location
};

/// One address of a service at one site. `site` indexes the site list the
/// service was compiled with.
struct Endpoint {
  IpAddress address;
  std::uint32_t site = 0;
  std::uint32_t weight = 100;  ///< relative share within its site; > 0
  /// False when health checks or an operator took it out of answers.
  bool healthy = true;
};

/// A service as configured, already validated (sites exist, weights > 0).
struct ServiceSpec {
  Policy policy = Policy::closest;
  std::uint32_t answer_count = 1;  ///< addresses per answer, 1..8
  std::vector<Endpoint> endpoints;
};

/// The result of one choice.
struct Choice {
  /// Number of addresses written to the output span (0: the service has no
  /// address of the asked family).
  std::uint32_t count = 0;
  /// The site the addresses come from (meaningless when count == 0).
  std::uint32_t site = 0;
  /// ECS scope prefix length: how many leading bits of the client address
  /// the choice depended on. 0 when it did not depend on the client at all;
  /// never more than the client network's prefix length.
  std::uint8_t scope_prefix_len = 0;
  /// True when the client's coordinates decided; false when default_sites
  /// did or when there was nothing to decide (see Steering::choose).
  bool located = false;
  /// True when no endpoint of the family was healthy and the answer ignored
  /// health (fail open: better a possibly-down address than none).
  bool degraded = false;
};

class Steering {
 public:
  /// Compiles `spec` against `sites` (the whole site list, fixed for the
  /// routing table's life) and the `default_sites` order (indices into
  /// `sites`) used for clients with no known location. Preconditions,
  /// asserted: answer_count in 1..8, weights > 0, every site index in range.
  Steering(const std::vector<Site>& sites, std::vector<std::uint32_t> default_sites, ServiceSpec spec);

  /// Picks up to answer_count addresses of `family` for `client` (the ECS
  /// subnet or the source address as a full-length network) and writes
  /// pointers to them, owned by this Steering, into `out`. Sites are ordered
  /// by the policy; the first site with at least one address of `family`
  /// answers; within it, distinct endpoints are drawn by weight with `rng`.
  /// Only healthy endpoints count, unless none of the family is healthy:
  /// then all do, and the choice is marked degraded (fail open).
  /// `locator` may be null (no GeoIP database): default_sites decides.
  ///
  /// Details: an IPv4-mapped IPv6 client is looked up as IPv4. A client with
  /// coordinates gets the nearest site that has an address of `family`
  /// (ties: lower site index); any other client gets the first such site of
  /// default_sites, then of the remaining sites in index order. At most
  /// min(answer_count, out.size()) addresses are written, never one twice.
  /// The scope is min(client.prefix_len, the located network's prefix
  /// length) whenever the locator was asked (found or not). The locator is
  /// not asked, and the scope is 0, when the answer cannot depend on the
  /// client: no locator, or fewer than two sites with an address of
  /// `family`.
  Choice choose(const Locator* locator, const IpNetwork& client, IpAddress::Family family, Rng& rng,
                std::span<const IpAddress*> out) const noexcept;

  const ServiceSpec& spec() const noexcept { return spec_; }

 private:
  /// The endpoints of one family at one site, as indices into spec_.endpoints.
  struct SiteEndpoints {
    std::vector<std::uint32_t> endpoints;
    std::uint64_t total_weight = 0;
  };
  /// Everything `choose` needs for one address family, computed once.
  struct FamilyIndex {
    std::vector<SiteEndpoints> by_site;          ///< one per site, maybe empty
    std::vector<std::uint32_t> candidate_sites;  ///< sites with >= 1 endpoint, ascending
    /// The first candidate in default order, for unlocated clients; only
    /// meaningful when candidate_sites is not empty.
    std::uint32_t default_site = 0;
    /// No endpoint of the family is healthy: the index holds all of them.
    bool degraded = false;
  };
  /// A point on the unit sphere; the squared chord between two points
  /// orders them exactly like the great-circle distance, without trigonometry
  /// per site on the hot path.
  struct UnitVector {
    double x = 0, y = 0, z = 0;
  };

  const FamilyIndex& index_of(IpAddress::Family family) const noexcept {
    return family == IpAddress::Family::v4 ? v4_ : v6_;
  }
  FamilyIndex compile(IpAddress::Family family, bool healthy_only) const;
  std::uint32_t closest_site(const FamilyIndex& index, const Location& location) const noexcept;
  std::uint32_t draw(const SiteEndpoints& site, Rng& rng, std::span<const IpAddress*> out) const noexcept;

  ServiceSpec spec_;
  std::vector<Site> sites_;
  std::vector<std::uint32_t> default_sites_;
  std::vector<UnitVector> site_vectors_;  ///< one per site
  FamilyIndex v4_;
  FamilyIndex v6_;
};

/// Great-circle distance in kilometres between two points (degrees).
double great_circle_km(double lat1_deg, double lon1_deg, double lat2_deg, double lon2_deg) noexcept;

}  // namespace meridian::geo
