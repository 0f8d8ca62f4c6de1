#include "geo/steering.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "base/assert.hpp"

namespace meridian::geo {
namespace {

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

// A CNAME endpoint's identity for sticky hashing: its name, so the choice
// is the same on every node whatever the endpoint's position in the list.
std::uint64_t hash_name(const std::string& name) noexcept {
  std::uint64_t h = 0x6E616D65;  // distinct from any address family
  for (const char c : name) {
    const auto lower = static_cast<std::uint8_t>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    h = mix(h ^ lower);
  }
  return mix(h);
}

}  // namespace

SiteMetric::SiteMetric(const std::vector<Site>& sites, const std::vector<double>& bias_percent,
                       bool tolerance) {
  for (const Site& site : sites)
    sites_.push_back(UnitVector::of({site.latitude_deg, site.longitude_deg}));
  bias_factor_.assign(sites.size(), 1.0);
  for (std::size_t i = 0; i < bias_percent.size() && i < sites.size(); ++i) {
    bias_factor_[i] = 1 - bias_percent[i] / 100;
    true_distance_ = true_distance_ || bias_percent[i] != 0;
  }
  true_distance_ = true_distance_ || tolerance;
}

const char* stage_name(Stage stage) noexcept {
  switch (stage) {
    case Stage::none: return "none";
    case Stage::nets: return "nets";
    case Stage::asn: return "asn";
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

Steering::Steering(const std::vector<Site>& sites, std::vector<std::uint32_t> default_sites,
                   ServiceSpec spec, std::shared_ptr<const ScopeIndex> scope)
    : spec_(std::move(spec)),
      sites_(sites),
      default_sites_(std::move(default_sites)),
      scope_(std::move(scope)) {
  MERIDIAN_ASSERT(spec_.answer_count >= 1 && spec_.answer_count <= kMaxAnswerCount,
                  "answer_count out of 1..8");
  MERIDIAN_ASSERT(spec_.sites_per_answer >= 1 && spec_.sites_per_answer <= kMaxSitesPerAnswer,
                  "sites_per_answer out of 1..8");
  MERIDIAN_ASSERT(
      spec_.min_healthy >= 1 && (!spec_.min_healthy_percent || spec_.min_healthy <= 100),
      "min_healthy out of range");
  MERIDIAN_ASSERT(spec_.bias_percent.empty() || spec_.bias_percent.size() == sites_.size(),
                  "bias per site");
  MERIDIAN_ASSERT((spec_.geo_map != nullptr) == (spec_.policy == Policy::geo_map),
                  "geo_map iff policy geo-map");
  MERIDIAN_ASSERT(spec_.nets == nullptr || spec_.policy != Policy::weighted, "nets with weighted");
  MERIDIAN_ASSERT(spec_.asn == nullptr || spec_.policy != Policy::weighted, "asn with weighted");
  MERIDIAN_ASSERT(spec_.tolerance_percent >= 0 && spec_.tolerance_percent <= 1000,
                  "tolerance out of range");
  for (const auto& endpoint : spec_.endpoints) {
    MERIDIAN_ASSERT(endpoint.site < sites_.size(), "endpoint of an unknown site");
    MERIDIAN_ASSERT(endpoint.weight > 0, "endpoint weight 0");
    MERIDIAN_ASSERT(!endpoint.is_cname() || endpoint.cname < spec_.cname_targets.size(),
                    "cname out of range");
    address_hash_.push_back(endpoint.is_cname() ? hash_name(spec_.cname_targets[endpoint.cname])
                                                : hash_address(endpoint.address));
  }
  for (const auto site : default_sites_)
    MERIDIAN_ASSERT(site < sites_.size(), "default site out of range");
  for (const double bias : spec_.bias_percent) {
    MERIDIAN_ASSERT(bias >= -kMaxBias && bias <= kMaxBias, "bias out of -99..99");
  }
  metric_ = SiteMetric(sites_, spec_.bias_percent, spec_.tolerance_percent > 0);
  if (scope_ != nullptr) {
    // Where each site stands in the default order, and how many ranked
    // sites stand before it: order_depth counts positions from these.
    std::vector<std::uint32_t> order;
    std::vector<bool> listed(sites_.size(), false);
    for (const auto site : default_sites_) {
      if (!listed[site]) order.push_back(site);
      listed[site] = true;
    }
    for (std::uint32_t site = 0; site < sites_.size(); ++site) {
      if (!listed[site]) order.push_back(site);
    }
    default_position_.assign(sites_.size(), 0);
    ranked_before_.assign(sites_.size(), 0);
    std::uint32_t ranked = 0;
    for (std::uint32_t position = 0; position < order.size(); ++position) {
      default_position_[order[position]] = position;
      ranked_before_[order[position]] = ranked;
      ranked += scope_->ranked(order[position]);
    }
    for (std::uint32_t site = 0; site < sites_.size(); ++site) {
      if (scope_->ranked(site)) ranked_sites_.push_back(site);
    }
  }
  v4_ = compile(IpAddress::Family::v4);
  v6_ = compile(IpAddress::Family::v6);
}

Steering::FamilyIndex Steering::compile(IpAddress::Family family) const {
  FamilyIndex index;
  index.by_site.resize(sites_.size());
  for (const Endpoint& endpoint : spec_.endpoints) {
    if (!endpoint.answers(family)) continue;
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
    if (!endpoint.answers(family) || !site.available || (!index.degraded && !endpoint.healthy))
      continue;
    for (SiteEndpoints* into : {&site, &index.everything}) {
      into->endpoints.push_back(i);
      into->total_weight += endpoint.weight;
      if (endpoint.is_cname()) {
        into->cname_weight += endpoint.weight;
        ++into->cname_count;
      }
    }
  }
  for (std::uint32_t site = 0; site < sites_.size(); ++site) {
    if (index.by_site[site].available) index.candidate_sites.push_back(site);
  }
  return index;
}

void Steering::closest_pool(const FamilyIndex& index, const UnitVector& client,
                            Pool& pool) const noexcept {
  // The k nearest in one scan (k <= 8): insertion into a short sorted array.
  // Strict comparisons keep the lower index first on ties.
  const std::uint32_t want = spec_.sites_per_answer;
  std::array<double, kMaxPoolSites> metrics{};
  for (const auto site : index.candidate_sites) {
    const double m = metric_(client, site);
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
    if (metric_(client, site) <= limit && !pool.contains(site)) pool.sites[pool.count++] = site;
  }
}

void Steering::list_pool(const FamilyIndex& index, std::span<const std::uint32_t> list,
                         Pool& pool) const noexcept {
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

void Steering::draw(const FamilyIndex& index, const Pool& pool, bool everything, Rng& rng,
                    std::span<const IpAddress*> out, Choice& choice) const noexcept {
  // Weighted sampling without replacement over the pool: each draw is
  // proportional to the weights of the endpoints not drawn yet. The first
  // draw decides between a name and addresses (a CNAME is alone at its
  // name): after an address, names are out of the running.
  const auto sites = [&](auto&& visit) {
    if (everything) return visit(index.everything);
    for (std::uint32_t i = 0; i < pool.count; ++i) {
      if (visit(index.by_site[pool.sites[i]])) return true;
    }
    return false;
  };
  std::uint64_t remaining = 0, cname_weight = 0;
  std::uint64_t endpoints = 0, cnames = 0;
  sites([&](const SiteEndpoints& site) {
    remaining += site.total_weight;
    cname_weight += site.cname_weight;
    endpoints += site.endpoints.size();
    cnames += site.cname_count;
    return false;
  });
  auto want = static_cast<std::uint32_t>(
      std::min<std::uint64_t>({spec_.answer_count, out.size(), endpoints}));
  bool addresses_only = false;
  std::array<std::uint32_t, kMaxAnswerCount> drawn{};
  for (std::uint32_t n = 0; n < want; ++n) {
    std::uint64_t ticket = rng.below(remaining);
    std::uint32_t pick = UINT32_MAX;
    sites([&](const SiteEndpoints& site) {
      for (const auto e : site.endpoints) {
        if (addresses_only && spec_.endpoints[e].is_cname()) continue;
        if (std::find(drawn.begin(), drawn.begin() + n, e) != drawn.begin() + n) continue;
        pick = e;
        if (ticket < spec_.endpoints[e].weight) return true;
        ticket -= spec_.endpoints[e].weight;
      }
      return false;
    });
    MERIDIAN_ASSERT(pick != UINT32_MAX, "weighted draw found no endpoint");
    const Endpoint& endpoint = spec_.endpoints[pick];
    if (endpoint.is_cname()) {
      MERIDIAN_ASSERT(n == 0, "a name drawn after an address");
      choice.cname = endpoint.cname;
      return;
    }
    if (n == 0 && cnames > 0) {
      addresses_only = true;
      remaining -= cname_weight;
      want = static_cast<std::uint32_t>(std::min<std::uint64_t>(want, endpoints - cnames));
    }
    drawn[n] = pick;
    remaining -= endpoint.weight;
    out[n] = &endpoint.address;
    choice.count = n + 1;
  }
}

void Steering::draw_sticky(const FamilyIndex& index, const Pool& pool, bool everything,
                           std::uint64_t client_hash, std::span<const IpAddress*> out,
                           Choice& choice) const noexcept {
  // Weighted rendezvous hashing: every endpoint gets a score from (client,
  // endpoint) alone, so endpoints coming and going elsewhere never move a
  // client whose own endpoint stays; -ln(u)/weight keeps the shares by weight.
  // The best score decides between a name and addresses, as in draw.
  const auto want =
      static_cast<std::uint32_t>(std::min<std::size_t>(spec_.answer_count, out.size()));
  if (want == 0) return;
  std::array<double, kMaxAnswerCount> best{};
  std::array<std::uint32_t, kMaxAnswerCount> chosen{};
  std::uint32_t count = 0;
  double best_score = 0;
  std::uint32_t best_endpoint = UINT32_MAX;
  const auto consider = [&](const SiteEndpoints& site) {
    for (const auto e : site.endpoints) {
      const std::uint64_t h = mix(client_hash ^ address_hash_[e]);
      const double u = (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;
      const double score = -std::log(u) / spec_.endpoints[e].weight;
      if (best_endpoint == UINT32_MAX || score < best_score) {
        best_score = score;
        best_endpoint = e;
      }
      if (spec_.endpoints[e].is_cname()) continue;
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
  if (best_endpoint != UINT32_MAX && spec_.endpoints[best_endpoint].is_cname()) {
    choice.cname = spec_.endpoints[best_endpoint].cname;
    return;
  }
  for (std::uint32_t n = 0; n < count; ++n) out[n] = &spec_.endpoints[chosen[n]].address;
  choice.count = count;
}

unsigned Steering::order_depth(const FamilyIndex& index, const Pool& pool, bool by_distance,
                               const UnitVector& client,
                               std::span<const std::uint32_t> list) const noexcept {
  // Every ranked site available: the pool is the order's first sites.
  if (index.candidate_sites.size() == ranked_sites_.size()) return pool.count;
  // Otherwise the position of the pool's last site among the ranked ones,
  // unavailable ones included (they stand between the pool's sites).
  const std::uint32_t last = pool.sites[pool.count - 1];
  std::uint32_t before = 0;
  if (by_distance) {
    const double m = metric_(client, last);
    for (const auto site : ranked_sites_) {
      const double chord2 = metric_.chord2(client, site);
      if (metric_.beyond(chord2, site, m)) continue;  // surely after: no trigonometry
      const double other = metric_.of_chord2(chord2, site);
      before += other < m || (other == m && site < last);
    }
    return before + 1;
  }
  // A list (distinct sites), then the default order less the list's sites.
  for (const auto site : list) {
    if (site == last) return before + 1;
    before += scope_->ranked(site);
  }
  before += ranked_before_[last];
  for (const auto site : list) {
    before -= scope_->ranked(site) && default_position_[site] < default_position_[last];
  }
  return before + 1;
}

Choice Steering::fail(const FamilyIndex&, IpAddress::Family family,
                      std::span<const IpAddress*> out) const noexcept {
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

Choice Steering::choose(const Locator* locator, const IpNetwork& client, IpAddress::Family family,
                        Rng& rng, std::span<const IpAddress*> out, Trace* trace,
                        bool widest_scope) const noexcept {
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
  const unsigned own_prefix_len =
      client.prefix_len > mapped_bits ? client.prefix_len - mapped_bits : 0;
  unsigned scope = 0;
  bool asked = false;
  // With one available site the answer is the same for every client: no
  // lookup, and scope 0 lets resolvers cache it once.
  const bool order_matters = index.candidate_sites.size() > 1;
  Pool pool;
  bool everything = false;
  UnitVector point;
  bool by_distance = false;
  bool geo_asked = false;
  unsigned geo_prefix_len = 0;
  std::span<const std::uint32_t> list;
  const auto decided = [&] { return choice.stage == Stage::nets || choice.stage == Stage::asn; };
  choice.stage = spec_.policy == Policy::failover ? Stage::failover : Stage::default_order;
  if (spec_.policy == Policy::weighted) {
    choice.stage = Stage::weighted;
    everything = true;
  } else if (order_matters) {
    if (spec_.nets != nullptr) {
      const NetsMap::Match match = spec_.nets->lookup(address);
      asked = true;
      scope = match.scope_prefix_len;
      if (trace != nullptr) {
        trace->nets_asked = true;
        trace->nets = match;
      }
      if (match.list != NetsMap::kNoList) {
        list = spec_.nets->list(match.list);
        choice.stage = Stage::nets;
      }
    }
    if (!decided() && spec_.asn != nullptr && locator != nullptr) {
      // Mapped or not, the answer depends on the ASN network the client is
      // in (a neighbour may belong to a mapped one).
      const AsnLocated asn = locator->locate_asn(address);
      asked = true;
      scope = std::max<unsigned>(scope, asn.prefix_len);
      const auto sites =
          asn.found ? spec_.asn->lookup(asn.number) : std::span<const std::uint32_t>();
      if (trace != nullptr) {
        trace->asn_asked = true;
        trace->asn = asn;
        trace->asn_organization = std::string(asn.organization);
        trace->asn.organization = {};
        trace->asn_mapped = !sites.empty();
      }
      if (!sites.empty()) {
        list = sites;
        choice.stage = Stage::asn;
      }
    }
    if (!decided() && locator != nullptr && spec_.policy != Policy::failover) {
      const Located located = locator->locate(address);
      asked = true;
      geo_asked = true;
      geo_prefix_len = located.prefix_len;
      if (trace != nullptr) {
        trace->locator_asked = true;
        trace->located = located;
      }
      Coordinates placed;
      const Placement placement = located.found && spec_.policy == Policy::closest
                                      ? place(located.location, placed)
                                      : Placement::none;
      if (placement != Placement::none) {
        choice.stage = Stage::closest;
        choice.located = true;
        point = UnitVector::of(placed);
        by_distance = true;
        if (trace != nullptr) {
          trace->placement = placement;
          trace->placed = placed;
        }
      } else if (located.found && spec_.policy == Policy::geo_map) {
        const GeoMap::Match match = spec_.geo_map->lookup(located.location);
        if (!match.sites.empty()) {
          choice.stage = Stage::geo_map;
          choice.located = match.level.has_value();
          list = match.sites;
          if (trace != nullptr)
            trace->geo_map_entry = match.level ? std::string(match.code) : "default";
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
      closest_pool(index, point, pool);
    } else {
      list_pool(index, list, pool);
    }
    choice.site = pool.sites[0];
  } else {
    choice.site = index.candidate_sites.front();
  }
  if (geo_asked) {
    // Neighbouring networks whose orders start with the sites this answer
    // reached share it: the widest such supernet. The index walks the same
    // database, so at most the client's own network; it replaces that.
    if (scope_ != nullptr && widest_scope) {
      geo_prefix_len = scope_->scope(address, order_depth(index, pool, by_distance, point, list));
      if (trace != nullptr) trace->scope_indexed = true;
    }
    scope = std::max(scope, geo_prefix_len);
    choice.geo_scope_prefix_len = static_cast<std::uint8_t>(geo_prefix_len);
  }
  if (spec_.sticky) {
    const unsigned sticky_len =
        std::min(own_prefix_len,
                 address.family == IpAddress::Family::v4 ? kStickyPrefixV4 : kStickyPrefixV6);
    asked = true;
    scope = std::max(scope, sticky_len);
    draw_sticky(index, pool, everything, hash_address(address.masked(sticky_len)) ^ sticky_len, out,
                choice);
  } else {
    draw(index, pool, everything, rng, out, choice);
  }
  if (asked)
    choice.scope_prefix_len =
        static_cast<std::uint8_t>(std::min<unsigned>(client.prefix_len, scope + mapped_bits));
  if (index.degraded) choice.stage = Stage::fail_open;
  if (trace != nullptr) fill_trace(index, choice, list, by_distance, pool, everything, *trace);
  return choice;
}

}  // namespace meridian::geo
