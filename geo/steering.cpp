#include "geo/steering.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include "base/assert.hpp"

namespace meridian::geo {
namespace {

constexpr double kRadiansPerDegree = std::numbers::pi / 180;
constexpr double kEarthRadiusKm = 6371.0088;

std::uint64_t mix(std::uint64_t x) noexcept {
  // splitmix64's finalizer: every input bit affects every output bit.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A hash of an address that is the same on every node and every run (the
// sticky choice must not depend on which server answers).
std::uint64_t hash_address(const IpAddress& address) noexcept {
  std::uint64_t h = static_cast<std::uint64_t>(address.family);
  for (unsigned i = 0; i < address.byte_length(); ++i) h = mix(h ^ address.bytes[i]) + i;
  return mix(h);
}

// The angle between two unit vectors from their squared chord.
double angle_of(double chord2) noexcept { return 2 * std::asin(std::min(1.0, std::sqrt(chord2) / 2)); }

}  // namespace

const char* stage_name(Stage stage) noexcept {
  switch (stage) {
    case Stage::none: return "none";
    case Stage::nets: return "nets";
    case Stage::geo_map: return "geo-map";
    case Stage::closest: return "closest";
    case Stage::default_order: return "default order";
    case Stage::failover: return "failover";
    case Stage::weighted: return "weighted";
    case Stage::fail_open: return "fail open";
    case Stage::fail_closed: return "fail closed";
    case Stage::fallback: return "fallback";
  }
  return "?";
}

const char* policy_name(Policy policy) noexcept {
  switch (policy) {
    case Policy::closest: return "closest";
    case Policy::geo_map: return "geo-map";
    case Policy::failover: return "failover";
    case Policy::weighted: return "weighted";
  }
  return "?";
}

bool Steering::Pool::contains(std::uint32_t site) const noexcept {
  return std::find(sites, sites + count, site) != sites + count;
}

Steering::Steering(const std::vector<Site>& sites, std::vector<std::uint32_t> default_sites, ServiceSpec spec)
    : spec_(std::move(spec)), sites_(sites), default_sites_(std::move(default_sites)) {
  MERIDIAN_ASSERT(spec_.answer_count >= 1 && spec_.answer_count <= kMaxAnswerCount, "answer_count out of 1..8");
  MERIDIAN_ASSERT(spec_.sites_per_answer >= 1 && spec_.sites_per_answer <= kMaxSitesPerAnswer,
                  "sites_per_answer out of 1..8");
  MERIDIAN_ASSERT(spec_.min_healthy >= 1 && (!spec_.min_healthy_percent || spec_.min_healthy <= 100),
                  "min_healthy out of range");
  MERIDIAN_ASSERT(spec_.bias_percent.empty() || spec_.bias_percent.size() == sites_.size(), "bias per site");
  MERIDIAN_ASSERT((spec_.geo_map != nullptr) == (spec_.policy == Policy::geo_map), "geo_map iff policy geo-map");
  MERIDIAN_ASSERT(spec_.nets == nullptr || spec_.policy != Policy::weighted, "nets with weighted");
  MERIDIAN_ASSERT(spec_.tolerance_percent >= 0 && spec_.tolerance_percent <= 1000, "tolerance out of range");
  for (const auto& endpoint : spec_.endpoints) {
    MERIDIAN_ASSERT(endpoint.site < sites_.size(), "endpoint of an unknown site");
    MERIDIAN_ASSERT(endpoint.weight > 0, "endpoint weight 0");
    address_hash_.push_back(hash_address(endpoint.address));
  }
  for (const auto site : default_sites_) MERIDIAN_ASSERT(site < sites_.size(), "default site out of range");
  for (const auto& site : sites_) {
    const double lat = site.latitude_deg * kRadiansPerDegree, lon = site.longitude_deg * kRadiansPerDegree;
    site_vectors_.push_back({std::cos(lat) * std::cos(lon), std::cos(lat) * std::sin(lon), std::sin(lat)});
  }
  bias_factor_.assign(sites_.size(), 1.0);
  for (std::size_t i = 0; i < spec_.bias_percent.size(); ++i) {
    const double bias = spec_.bias_percent[i];
    MERIDIAN_ASSERT(bias >= -kMaxBias && bias <= kMaxBias, "bias out of -99..99");
    bias_factor_[i] = 1 - bias / 100;
    true_distance_ = true_distance_ || bias != 0;
  }
  true_distance_ = true_distance_ || spec_.tolerance_percent > 0;
  v4_ = compile(IpAddress::Family::v4);
  v6_ = compile(IpAddress::Family::v6);
}

Steering::FamilyIndex Steering::compile(IpAddress::Family family) const {
  FamilyIndex index;
  index.by_site.resize(sites_.size());
  for (const Endpoint& endpoint : spec_.endpoints) {
    if (endpoint.address.family != family) continue;
    SiteEndpoints& site = index.by_site[endpoint.site];
    ++site.total;
    site.healthy += endpoint.healthy;
    ++index.total_endpoints;
  }
  if (index.total_endpoints == 0) return index;
  const auto threshold = [&](const SiteEndpoints& site) -> std::uint32_t {
    if (spec_.min_healthy_percent) {
      return std::max<std::uint32_t>(1, (site.total * spec_.min_healthy + 99) / 100);
    }
    return std::min(spec_.min_healthy, site.total);
  };
  bool any = false;
  for (SiteEndpoints& site : index.by_site) {
    site.available = site.total > 0 && site.healthy >= threshold(site);
    any = any || site.available;
  }
  // Spillover is best effort: with min_healthy met nowhere, any site with a
  // healthy endpoint beats failing.
  if (!any) {
    for (SiteEndpoints& site : index.by_site) {
      site.available = site.healthy > 0;
      any = any || site.available;
    }
    index.relaxed = any;
  }
  // Nothing healthy: fail open (a possibly-down address beats none) unless
  // the service chose otherwise.
  if (!any) {
    if (spec_.fail != FailMode::open || !spec_.fallback.empty()) {
      index.failed = true;
      return index;
    }
    index.degraded = true;
    for (SiteEndpoints& site : index.by_site) site.available = site.total > 0;
  }
  for (std::uint32_t i = 0; i < spec_.endpoints.size(); ++i) {
    const Endpoint& endpoint = spec_.endpoints[i];
    SiteEndpoints& site = index.by_site[endpoint.site];
    if (endpoint.address.family != family || !site.available || (!index.degraded && !endpoint.healthy)) continue;
    site.endpoints.push_back(i);
    site.total_weight += endpoint.weight;
    index.everything.endpoints.push_back(i);
    index.everything.total_weight += endpoint.weight;
  }
  for (std::uint32_t site = 0; site < sites_.size(); ++site) {
    if (index.by_site[site].available) index.candidate_sites.push_back(site);
  }
  return index;
}

double Steering::metric(const UnitVector& client, std::uint32_t site) const noexcept {
  const UnitVector& s = site_vectors_[site];
  const double dx = s.x - client.x, dy = s.y - client.y, dz = s.z - client.z;
  const double chord2 = dx * dx + dy * dy + dz * dz;
  // Squared chords order sites like distances and keep precision for nearby
  // ones; bias and tolerance scale the distance itself.
  return true_distance_ ? angle_of(chord2) * bias_factor_[site] : chord2;
}

void Steering::closest_pool(const FamilyIndex& index, const Location& location, Pool& pool) const noexcept {
  const double lat = location.latitude_deg * kRadiansPerDegree, lon = location.longitude_deg * kRadiansPerDegree;
  const UnitVector client{std::cos(lat) * std::cos(lon), std::cos(lat) * std::sin(lon), std::sin(lat)};
  // The k nearest in one scan (k <= 8): insertion into a short sorted array.
  // Strict comparisons keep the lower index first on ties.
  const std::uint32_t want = spec_.sites_per_answer;
  std::array<double, kMaxPoolSites> metrics{};
  for (const auto site : index.candidate_sites) {
    const double m = metric(client, site);
    if (pool.count == want && !(m < metrics[pool.count - 1])) continue;
    std::uint32_t at = pool.count < want ? pool.count++ : pool.count - 1;
    while (at > 0 && m < metrics[at - 1]) {
      metrics[at] = metrics[at - 1];
      pool.sites[at] = pool.sites[at - 1];
      --at;
    }
    metrics[at] = m;
    pool.sites[at] = site;
  }
  if (spec_.tolerance_percent <= 0 || pool.count == 0) return;
  // Sites nearly as close as the nearest share its load.
  const double limit = metrics[0] * (1 + spec_.tolerance_percent / 100);
  for (const auto site : index.candidate_sites) {
    if (pool.count == kMaxPoolSites) break;
    if (metric(client, site) <= limit && !pool.contains(site)) pool.sites[pool.count++] = site;
  }
}

void Steering::list_pool(const FamilyIndex& index, std::span<const std::uint32_t> list, Pool& pool) const noexcept {
  // The list, then the default order, then every site: a list is a
  // preference, and every region still fails over to every site.
  const std::uint32_t want = spec_.sites_per_answer;
  const auto take = [&](std::span<const std::uint32_t> sites) {
    for (const auto site : sites) {
      if (pool.count == want) return;
      if (index.by_site[site].available && !pool.contains(site)) pool.sites[pool.count++] = site;
    }
  };
  take(list);
  take(default_sites_);
  take(index.candidate_sites);
}

std::uint32_t Steering::draw(const FamilyIndex& index, const Pool& pool, bool everything, Rng& rng,
                             std::span<const IpAddress*> out) const noexcept {
  // Weighted sampling without replacement over the pool: each draw is
  // proportional to the weights of the endpoints not drawn yet.
  const auto sites = [&](auto&& visit) {
    if (everything) return visit(index.everything);
    for (std::uint32_t i = 0; i < pool.count; ++i) {
      if (visit(index.by_site[pool.sites[i]])) return true;
    }
    return false;
  };
  std::uint64_t remaining = 0;
  std::uint64_t endpoints = 0;
  sites([&](const SiteEndpoints& site) {
    remaining += site.total_weight;
    endpoints += site.endpoints.size();
    return false;
  });
  const auto want = static_cast<std::uint32_t>(std::min<std::uint64_t>({spec_.answer_count, out.size(), endpoints}));
  std::array<std::uint32_t, kMaxAnswerCount> drawn{};
  for (std::uint32_t n = 0; n < want; ++n) {
    std::uint64_t ticket = rng.below(remaining);
    std::uint32_t pick = UINT32_MAX;
    sites([&](const SiteEndpoints& site) {
      for (const auto e : site.endpoints) {
        if (std::find(drawn.begin(), drawn.begin() + n, e) != drawn.begin() + n) continue;
        pick = e;
        if (ticket < spec_.endpoints[e].weight) return true;
        ticket -= spec_.endpoints[e].weight;
      }
      return false;
    });
    MERIDIAN_ASSERT(pick != UINT32_MAX, "weighted draw found no endpoint");
    drawn[n] = pick;
    remaining -= spec_.endpoints[pick].weight;
    out[n] = &spec_.endpoints[pick].address;
  }
  return want;
}

std::uint32_t Steering::draw_sticky(const FamilyIndex& index, const Pool& pool, bool everything,
                                    std::uint64_t client_hash, std::span<const IpAddress*> out) const noexcept {
  // Weighted rendezvous hashing: every endpoint gets a score from (client,
  // endpoint) alone, so endpoints coming and going elsewhere never move a
  // client whose own endpoint stays; -ln(u)/weight keeps the shares by weight.
  const auto want = static_cast<std::uint32_t>(std::min<std::size_t>(spec_.answer_count, out.size()));
  std::array<double, kMaxAnswerCount> best{};
  std::array<std::uint32_t, kMaxAnswerCount> chosen{};
  std::uint32_t count = 0;
  const auto consider = [&](const SiteEndpoints& site) {
    for (const auto e : site.endpoints) {
      const std::uint64_t h = mix(client_hash ^ address_hash_[e]);
      const double u = (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;
      const double score = -std::log(u) / spec_.endpoints[e].weight;
      if (count == want && !(score < best[count - 1])) continue;
      std::uint32_t at = count < want ? count++ : count - 1;
      while (at > 0 && score < best[at - 1]) {
        best[at] = best[at - 1];
        chosen[at] = chosen[at - 1];
        --at;
      }
      best[at] = score;
      chosen[at] = e;
    }
  };
  if (everything) {
    consider(index.everything);
  } else {
    for (std::uint32_t i = 0; i < pool.count; ++i) consider(index.by_site[pool.sites[i]]);
  }
  for (std::uint32_t n = 0; n < count; ++n) out[n] = &spec_.endpoints[chosen[n]].address;
  return count;
}

Choice Steering::fail(const FamilyIndex&, IpAddress::Family family, std::span<const IpAddress*> out) const noexcept {
  Choice choice;
  if (!spec_.fallback.empty()) {
    choice.stage = Stage::fallback;
    choice.degraded = true;
    const auto want = std::min<std::size_t>(spec_.answer_count, out.size());
    for (const IpAddress& address : spec_.fallback) {
      if (choice.count == want) break;
      if (address.family == family) out[choice.count++] = &address;
    }
    return choice;
  }
  choice.stage = Stage::fail_closed;
  choice.servfail = spec_.fail == FailMode::servfail;
  return choice;
}

Choice Steering::choose(const Locator* locator, const IpNetwork& client, IpAddress::Family family, Rng& rng,
                        std::span<const IpAddress*> out, Trace* trace) const noexcept {
  const FamilyIndex& index = index_of(family);
  if (index.total_endpoints == 0) return Choice{};
  if (index.failed) {
    const Choice choice = fail(index, family, out);
    if (trace != nullptr) fill_trace(index, choice, {}, false, Pool{}, false, *trace);
    return choice;
  }
  Choice choice;
  choice.degraded = index.degraded;
  const IpAddress address = client.address.unmapped();
  // Prefixes found count bits of the unmapped (IPv4) address; the scope
  // counts bits of the client's own family.
  const unsigned mapped_bits = address.family == client.address.family ? 0 : 96;
  const unsigned own_prefix_len = client.prefix_len > mapped_bits ? client.prefix_len - mapped_bits : 0;
  unsigned scope = 0;
  bool asked = false;
  // With one available site the answer is the same for every client: no
  // lookup, and scope 0 lets resolvers cache it once.
  const bool order_matters = index.candidate_sites.size() > 1;
  Pool pool;
  bool everything = false;
  Location location;
  bool by_distance = false;
  std::span<const std::uint32_t> list;
  choice.stage = spec_.policy == Policy::failover ? Stage::failover : Stage::default_order;
  if (spec_.policy == Policy::weighted) {
    choice.stage = Stage::weighted;
    everything = true;
  } else if (order_matters) {
    if (spec_.nets != nullptr) {
      const NetTable::Match match = spec_.nets->lookup(address);
      asked = true;
      scope = match.scope_prefix_len;
      if (trace != nullptr) {
        trace->nets_asked = true;
        trace->nets = match;
      }
      if (match.list != NetTable::kNoList) {
        list = spec_.nets->list(match.list);
        choice.stage = Stage::nets;
      }
    }
    if (choice.stage != Stage::nets && locator != nullptr && spec_.policy != Policy::failover) {
      const Located located = locator->locate(address);
      asked = true;
      scope = std::max<unsigned>(scope, located.prefix_len);
      if (trace != nullptr) {
        trace->locator_asked = true;
        trace->located = located;
      }
      if (located.found && spec_.policy == Policy::closest && located.location.has_coordinates) {
        choice.stage = Stage::closest;
        choice.located = true;
        location = located.location;
        by_distance = true;
      } else if (located.found && spec_.policy == Policy::geo_map) {
        const GeoMap::Match match = spec_.geo_map->lookup(located.location);
        if (!match.sites.empty()) {
          choice.stage = Stage::geo_map;
          choice.located = match.level.has_value();
          list = match.sites;
          if (trace != nullptr) trace->geo_map_entry = match.level ? std::string(match.code) : "default";
        }
      }
    }
    // geo-map's default list also serves clients with no location at all.
    if (choice.stage == Stage::default_order && spec_.policy == Policy::geo_map &&
        !spec_.geo_map->default_sites().empty()) {
      choice.stage = Stage::geo_map;
      list = spec_.geo_map->default_sites();
      if (trace != nullptr) trace->geo_map_entry = "default";
    }
  }
  if (!everything) {
    if (by_distance) {
      closest_pool(index, location, pool);
    } else {
      list_pool(index, list, pool);
    }
    choice.site = pool.sites[0];
  } else {
    choice.site = index.candidate_sites.front();
  }
  if (spec_.sticky) {
    const unsigned sticky_len =
        std::min(own_prefix_len, address.family == IpAddress::Family::v4 ? kStickyPrefixV4 : kStickyPrefixV6);
    asked = true;
    scope = std::max(scope, sticky_len);
    choice.count = draw_sticky(index, pool, everything, hash_address(address.masked(sticky_len)) ^ sticky_len, out);
  } else {
    choice.count = draw(index, pool, everything, rng, out);
  }
  if (asked) choice.scope_prefix_len = static_cast<std::uint8_t>(std::min<unsigned>(client.prefix_len, scope + mapped_bits));
  if (index.degraded) choice.stage = Stage::fail_open;
  if (trace != nullptr) fill_trace(index, choice, list, by_distance, pool, everything, *trace);
  return choice;
}

}  // namespace meridian::geo
