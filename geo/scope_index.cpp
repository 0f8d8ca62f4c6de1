#include "geo/scope_index.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <map>
#include <span>
#include <unordered_map>

#include "geo/country_centroids.hpp"
#include "geo/site_metric.hpp"
#include "geo/steering.hpp"

namespace meridian::geo {
namespace {

template <typename T>
void append(std::string& key, const T& value) {
  key.append(reinterpret_cast<const char*>(&value), sizeof value);
}

// The orders of the service, top `depth` sites each, stored flat.
class Orders {
 public:
  explicit Orders(unsigned depth) : depth_(depth) {}
  std::uint32_t add(std::span<const std::uint16_t> order) {
    flat_.insert(flat_.end(), order.begin(), order.end());
    return static_cast<std::uint32_t>(flat_.size() / depth_ - 1);
  }
  // How many leading sites two orders share.
  unsigned common(std::uint32_t a, std::uint32_t b) const noexcept {
    if (a == b) return depth_;
    const std::uint16_t* x = flat_.data() + std::size_t{a} * depth_;
    const std::uint16_t* y = flat_.data() + std::size_t{b} * depth_;
    unsigned n = 0;
    while (n < depth_ && x[n] == y[n]) ++n;
    return n;
  }

 private:
  unsigned depth_;
  std::vector<std::uint16_t> flat_;
};

}  // namespace

std::string ScopeIndex::key(const std::vector<Site>& sites,
                            const std::vector<std::uint32_t>& default_sites,
                            const ServiceSpec& spec) {
  std::string key;
  append(key, spec.policy);
  append(key, spec.tolerance_percent > 0);
  // Sharing the map object, not equal contents: maps are compiled once per
  // config and shared by every table built from it. Its address, as a number.
  append(key, reinterpret_cast<std::uintptr_t>(spec.geo_map.get()));
  append(key, sites.size());
  for (const Site& site : sites) {
    append(key, site.latitude_deg);
    append(key, site.longitude_deg);
  }
  append(key, spec.bias_percent.size());
  for (const double bias : spec.bias_percent) append(key, bias);
  append(key, default_sites.size());
  for (const auto site : default_sites) append(key, site);
  std::vector<bool> ranked(sites.size(), false);
  for (const Endpoint& endpoint : spec.endpoints) {
    if (endpoint.site < ranked.size()) ranked[endpoint.site] = true;
  }
  for (std::size_t i = 0; i < ranked.size(); i += 8) {
    std::uint8_t byte = 0;
    for (std::size_t b = 0; b < 8 && i + b < ranked.size(); ++b)
      byte |= static_cast<std::uint8_t>(ranked[i + b] << b);
    append(key, byte);
  }
  return key;
}

std::shared_ptr<const ScopeIndex> ScopeIndex::compile(
    std::shared_ptr<const LocationTrie> trie, const std::vector<Site>& sites,
    const std::vector<std::uint32_t>& default_sites, const ServiceSpec& spec) {
  if (trie == nullptr || spec.policy == Policy::failover || spec.policy == Policy::weighted)
    return nullptr;
  if (spec.policy == Policy::closest && spec.tolerance_percent > 0) return nullptr;
  if (spec.policy == Policy::geo_map && spec.geo_map == nullptr) return nullptr;
  if (sites.size() > UINT16_MAX) return nullptr;  // orders store sites in 16 bits
  std::shared_ptr<ScopeIndex> index(new ScopeIndex());
  index->ranked_.assign(sites.size(), 0);
  for (const Endpoint& endpoint : spec.endpoints) {
    if (endpoint.site < sites.size()) index->ranked_[endpoint.site] = 1;
  }
  for (const auto ranked : index->ranked_) index->ranked_count_ += ranked;
  if (index->ranked_count_ < 2) return nullptr;
  const unsigned depth = std::min<unsigned>(kMaxDepth, index->ranked_count_);
  Orders orders(depth);
  std::array<std::uint16_t, kMaxDepth> order{};

  // A list walked as Steering walks it: the list, the default order, then
  // every site in index order; ranked sites only, each once.
  std::vector<std::uint8_t> taken(sites.size(), 0);
  const auto list_order = [&](std::span<const std::uint32_t> list) {
    std::fill(taken.begin(), taken.end(), 0);
    unsigned n = 0;
    const auto take = [&](std::uint32_t site) {
      if (n < depth && site < sites.size() && index->ranked_[site] && !taken[site]) {
        taken[site] = 1;
        order[n++] = static_cast<std::uint16_t>(site);
      }
    };
    for (const auto site : list) take(site);
    for (const auto site : default_sites) take(site);
    for (std::uint32_t site = 0; site < sites.size() && n < depth; ++site) take(site);
    return orders.add(std::span(order.data(), depth));
  };

  const std::vector<Location>& locations = trie->locations();
  std::vector<std::uint32_t> class_of(locations.size());
  std::uint32_t unlocated = 0;
  if (spec.policy == Policy::closest) {
    unlocated = list_order({});
    const SiteMetric metric(sites, spec.bias_percent, false);
    std::vector<std::uint32_t> ranked_sites;
    for (std::uint32_t site = 0; site < sites.size(); ++site) {
      if (index->ranked_[site]) ranked_sites.push_back(site);
    }
    // Ranked sites by the z of their unit vector (the sine of their
    // latitude): a sweep outwards from the client's z meets the sites in an
    // order where the z difference bounds every later site's metric from
    // below, so it stops long before the far side of the world.
    struct ByZ {
      double z;
      std::uint32_t site;
    };
    std::vector<ByZ> by_z;
    double min_factor = 1;
    for (const auto site : ranked_sites) {
      by_z.push_back({metric.site(site).z, site});
      min_factor = std::min(min_factor, metric.bias_factor(site));
    }
    std::sort(by_z.begin(), by_z.end(), [](const ByZ& a, const ByZ& b) { return a.z < b.z; });
    // Distinct places (coordinates, or a country's centroid) share an order.
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint32_t> by_exact_place;
    std::array<double, kMaxDepth> metrics{};
    for (std::size_t l = 0; l < locations.size(); ++l) {
      Coordinates point;
      if (place(locations[l], point) == Placement::none) {
        class_of[l] = unlocated;
        continue;
      }
      const auto key = std::make_pair(std::bit_cast<std::uint64_t>(point.latitude_deg),
                                      std::bit_cast<std::uint64_t>(point.longitude_deg));
      const auto [it, inserted] = by_exact_place.emplace(key, 0);
      if (!inserted) {
        class_of[l] = it->second;
        continue;
      }
      // The `depth` nearest ranked sites by (metric, site index), exactly
      // as Steering::closest_pool ranks them (it meets sites by index and
      // keeps the first of equals).
      const UnitVector client = UnitVector::of(point);
      const auto before = [&](double m, std::uint32_t site, unsigned at) {
        return m < metrics[at] || (m == metrics[at] && site < order[at]);
      };
      unsigned n = 0;
      std::size_t up = static_cast<std::size_t>(
          std::lower_bound(by_z.begin(), by_z.end(), client.z,
                           [](const ByZ& s, double z) { return s.z < z; }) -
          by_z.begin());
      std::size_t down = up;  // by_z[down - 1] is the next one below
      while (up < by_z.size() || down > 0) {
        const bool take_up =
            down == 0 || (up < by_z.size() && by_z[up].z - client.z <= client.z - by_z[down - 1].z);
        const ByZ& next = take_up ? by_z[up++] : by_z[--down];
        if (n == depth &&
            metric.beyond_dz(std::fabs(next.z - client.z), min_factor, metrics[n - 1]))
          break;
        const std::uint32_t site = next.site;
        const double chord2 = metric.chord2(client, site);
        // Rule far sites out before any trigonometry.
        if (n == depth && metric.beyond(chord2, site, metrics[n - 1])) continue;
        const double m = metric.of_chord2(chord2, site);
        if (n == depth && !before(m, site, n - 1)) continue;
        unsigned at = n < depth ? n++ : n - 1;
        while (at > 0 && before(m, site, at - 1)) {
          metrics[at] = metrics[at - 1];
          order[at] = order[at - 1];
          --at;
        }
        metrics[at] = m;
        order[at] = static_cast<std::uint16_t>(site);
      }
      it->second = orders.add(std::span(order.data(), depth));
      class_of[l] = it->second;
    }
  } else {
    // geo-map: the matched list (an entry's or the default list), or the
    // default order when neither applies.
    std::unordered_map<const std::uint32_t*, std::uint32_t> by_list;
    const auto class_of_list = [&](std::span<const std::uint32_t> list) {
      const auto [it, inserted] = by_list.emplace(list.empty() ? nullptr : list.data(), 0);
      if (inserted) it->second = list_order(list);
      return it->second;
    };
    unlocated = class_of_list(spec.geo_map->default_sites());
    for (std::size_t l = 0; l < locations.size(); ++l) {
      class_of[l] = class_of_list(spec.geo_map->lookup(locations[l]).sites);
    }
  }

  // Bottom-up over the trie (a DAG: shared subtrees count once): a node's
  // orders share what both children's do and what their representatives
  // (the first order below each) have in common. Databases number nodes
  // depth-first from the root, so children mostly follow their parents: a
  // pass from the last node to the first finds both children done but at
  // aliases (a child numbered before its parent), deferred to later passes.
  const std::uint32_t node_count = trie->node_count();
  // kNotDone marks nodes still to do; a common prefix is at most kMaxDepth.
  constexpr std::uint8_t kNotDone = 0xFF;
  static_assert(kMaxDepth < kNotDone);
  std::vector<std::uint8_t>& lcp = index->lcp_;
  lcp.assign(node_count, kNotDone);
  std::vector<std::uint32_t> representative(node_count, 0);
  const auto info = [&](LocationTrie::Ref ref, std::uint32_t& cls, unsigned& common) {
    if (LocationTrie::is_node(ref)) {
      cls = representative[ref];
      common = lcp[ref];
    } else {
      cls = LocationTrie::is_location(ref) ? class_of[LocationTrie::location_of(ref)] : unlocated;
      common = depth;
    }
  };
  // Computes `node` when both children are done; false otherwise.
  const auto settle = [&](std::uint32_t node) {
    const auto& children = trie->children(node);
    for (const auto child : children) {
      if (LocationTrie::is_node(child) && lcp[child] == kNotDone) return false;
    }
    std::uint32_t left_class = 0, right_class = 0;
    unsigned left_lcp = 0, right_lcp = 0;
    info(children[0], left_class, left_lcp);
    info(children[1], right_class, right_lcp);
    representative[node] = left_class;
    lcp[node] = static_cast<std::uint8_t>(
        std::min({left_lcp, right_lcp, orders.common(left_class, right_class)}));
    return true;
  };
  std::vector<std::uint32_t> deferred;
  for (std::uint32_t node = node_count; node-- > 0;) {
    if (!settle(node)) deferred.push_back(node);
  }
  while (!deferred.empty()) {
    const std::size_t before_pass = deferred.size();
    std::erase_if(deferred, [&](std::uint32_t node) { return settle(node); });
    if (deferred.size() == before_pass) return nullptr;  // a cycle: not a search tree
  }
  index->trie_ = std::move(trie);
  return index;
}

unsigned ScopeIndex::scope(const IpAddress& address, unsigned depth) const noexcept {
  LocationTrie::Ref ref = trie_->root(address.family);
  const unsigned bits = address.bit_length();
  unsigned prefix_len = 0;
  while (LocationTrie::is_node(ref) && prefix_len < bits) {
    if (lcp_[ref] >= depth) return prefix_len;
    ref = trie_->children(ref)[address.bit(prefix_len++)];
  }
  return prefix_len;
}

}  // namespace meridian::geo
