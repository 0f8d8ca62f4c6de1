#include "geo/steering.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include "base/assert.hpp"

namespace meridian::geo {
namespace {

constexpr std::uint32_t kMaxAnswerCount = 8;
constexpr double kRadiansPerDegree = std::numbers::pi / 180;

}  // namespace

Steering::Steering(const std::vector<Site>& sites, std::vector<std::uint32_t> default_sites, ServiceSpec spec)
    : spec_(std::move(spec)), sites_(sites), default_sites_(std::move(default_sites)) {
  MERIDIAN_ASSERT(spec_.answer_count >= 1 && spec_.answer_count <= kMaxAnswerCount, "answer_count out of 1..8");
  for (const auto& endpoint : spec_.endpoints) {
    MERIDIAN_ASSERT(endpoint.site < sites_.size(), "endpoint of an unknown site");
    MERIDIAN_ASSERT(endpoint.weight > 0, "endpoint weight 0");
  }
  for (const auto site : default_sites_) MERIDIAN_ASSERT(site < sites_.size(), "default site out of range");
  for (const auto& site : sites_) {
    const double lat = site.latitude_deg * kRadiansPerDegree, lon = site.longitude_deg * kRadiansPerDegree;
    site_vectors_.push_back({std::cos(lat) * std::cos(lon), std::cos(lat) * std::sin(lon), std::sin(lat)});
  }
  for (const auto family : {IpAddress::Family::v4, IpAddress::Family::v6}) {
    FamilyIndex index = compile(family, true);
    // Fail open: with nothing healthy, answering a maybe-down endpoint beats
    // answering nothing; the choice says so, so it is counted.
    if (index.candidate_sites.empty()) {
      index = compile(family, false);
      index.degraded = !index.candidate_sites.empty();
    }
    (family == IpAddress::Family::v4 ? v4_ : v6_) = std::move(index);
  }
}

Steering::FamilyIndex Steering::compile(IpAddress::Family family, bool healthy_only) const {
  FamilyIndex index;
  index.by_site.resize(sites_.size());
  for (std::uint32_t i = 0; i < spec_.endpoints.size(); ++i) {
    const Endpoint& endpoint = spec_.endpoints[i];
    if (endpoint.address.family != family || (healthy_only && !endpoint.healthy)) continue;
    auto& site = index.by_site[endpoint.site];
    site.endpoints.push_back(i);
    site.total_weight += endpoint.weight;
  }
  for (std::uint32_t site = 0; site < sites_.size(); ++site) {
    if (!index.by_site[site].endpoints.empty()) index.candidate_sites.push_back(site);
  }
  if (index.candidate_sites.empty()) return index;
  // Unlocated clients always land on the same site, so it is chosen here:
  // the first of default_sites with an address, else the lowest candidate.
  index.default_site = index.candidate_sites.front();
  for (const auto site : default_sites_) {
    if (!index.by_site[site].endpoints.empty()) {
      index.default_site = site;
      break;
    }
  }
  return index;
}

std::uint32_t Steering::closest_site(const FamilyIndex& index, const Location& location) const noexcept {
  const double lat = location.latitude_deg * kRadiansPerDegree, lon = location.longitude_deg * kRadiansPerDegree;
  const UnitVector client{std::cos(lat) * std::cos(lon), std::cos(lat) * std::sin(lon), std::sin(lat)};
  // A linear scan beats sorting: only the minimum matters. Squared chords
  // keep precision for nearby sites (1 - cos(d) would cancel); strict `<`
  // keeps the lower index on ties.
  std::uint32_t best = 0;
  double best_chord2 = INFINITY;
  for (const auto site : index.candidate_sites) {
    const UnitVector& s = site_vectors_[site];
    const double dx = s.x - client.x, dy = s.y - client.y, dz = s.z - client.z;
    const double chord2 = dx * dx + dy * dy + dz * dz;
    if (chord2 < best_chord2) {
      best = site;
      best_chord2 = chord2;
    }
  }
  return best;
}

std::uint32_t Steering::draw(const SiteEndpoints& site, Rng& rng, std::span<const IpAddress*> out) const noexcept {
  const auto want = static_cast<std::uint32_t>(
      std::min<std::size_t>({spec_.answer_count, out.size(), site.endpoints.size()}));
  const auto weight_at = [&](std::uint32_t i) { return spec_.endpoints[site.endpoints[i]].weight; };
  // Weighted sampling without replacement: each draw is proportional to the
  // weights of the endpoints not drawn yet.
  std::array<std::uint32_t, kMaxAnswerCount> drawn{};
  std::uint64_t remaining = site.total_weight;
  for (std::uint32_t n = 0; n < want; ++n) {
    std::uint64_t ticket = rng.below(remaining);
    std::uint32_t pick = 0;
    for (std::uint32_t i = 0; i < site.endpoints.size(); ++i) {
      if (std::find(drawn.begin(), drawn.begin() + n, i) != drawn.begin() + n) continue;
      pick = i;
      if (ticket < weight_at(i)) break;
      ticket -= weight_at(i);
    }
    drawn[n] = pick;
    remaining -= weight_at(pick);
    out[n] = &spec_.endpoints[site.endpoints[pick]].address;
  }
  return want;
}

Choice Steering::choose(const Locator* locator, const IpNetwork& client, IpAddress::Family family, Rng& rng,
                        std::span<const IpAddress*> out) const noexcept {
  Choice choice;
  const FamilyIndex& index = index_of(family);
  if (index.candidate_sites.empty()) return choice;
  choice.degraded = index.degraded;
  choice.site = index.default_site;
  // With one candidate the answer is the same for every client: scope 0 lets
  // resolvers cache it once, and the lookup is saved.
  if (locator != nullptr && index.candidate_sites.size() > 1) {
    const IpAddress address = client.address.unmapped();
    const Located located = locator->locate(address);
    // The located prefix counts bits of the unmapped (IPv4) address; the
    // scope counts bits of the client's own family.
    const unsigned mapped_bits = address.family == client.address.family ? 0 : 96;
    choice.scope_prefix_len =
        static_cast<std::uint8_t>(std::min<unsigned>(client.prefix_len, located.prefix_len + mapped_bits));
    if (located.found && located.location.has_coordinates) {
      choice.located = true;
      choice.site = closest_site(index, located.location);
    }
  }
  choice.count = draw(index.by_site[choice.site], rng, out);
  return choice;
}

}  // namespace meridian::geo
