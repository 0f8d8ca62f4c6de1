#pragma once
// The widest correct ECS scope of a service's geo stage. Adjacent networks
// of the location database whose site order for the service begins alike
// answer alike, so a resolver may cache one answer for their supernet.
//
// The site order depends on the service (policy, bias, geo map, default
// order, which sites have endpoints) and the answer on health, which
// changes far more often than the config. So the index is compiled once
// per database and service ordering, independent of health: for every
// node of the database's trie (geo/location_trie.hpp) it stores how many
// leading sites of the order all networks below the node share (their
// common prefix, at most kMaxDepth). A query knows how deep into its order
// the answer reached (the position of the last site of its pool: 1 while
// the nearest sites are healthy, more while they are down) and walks from
// the root to the first node whose networks share at least that many
// sites: its depth is the scope. Siblings whose orders differ within that
// depth never merge; nothing merges past the client's own database network
// when the answer reached deeper than kMaxDepth.
//
// Immutable after compile: safe from any number of threads; `scope`
// allocates nothing.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/ip_address.hpp"
#include "geo/location_trie.hpp"

namespace meridian::geo {

struct ServiceSpec;
struct Site;

class ScopeIndex {
 public:
  /// Leading sites of an order that scopes distinguish.
  static constexpr unsigned kMaxDepth = 16;

  /// Compiles the index of `spec` (ordered against `sites` and the
  /// `default_sites` order, as Steering is) over `trie`. Null when the
  /// service's answers do not follow a per-network site order: policies
  /// failover and weighted, closest with a tolerance (the pool depends on
  /// distances, not on the order alone), fewer than two sites with
  /// endpoints, more than 65535 sites, or a trie that is not a DAG (a
  /// corrupt database). The orders rank the sites with at least one
  /// endpoint (any family). Time: one top-kMaxDepth order per distinct
  /// place (closest: coordinates or country centroid; a sweep over the
  /// sites by latitude) and about one pass over the trie's nodes; memory:
  /// one byte per trie node.
  static std::shared_ptr<const ScopeIndex> compile(std::shared_ptr<const LocationTrie> trie,
                                                   const std::vector<Site>& sites,
                                                   const std::vector<std::uint32_t>& default_sites,
                                                   const ServiceSpec& spec);

  /// Everything compile reads besides the trie, as bytes: services with the
  /// same key share one index (Locator::scope_index memoizes by it).
  static std::string key(const std::vector<Site>& sites,
                         const std::vector<std::uint32_t>& default_sites, const ServiceSpec& spec);

  /// The widest prefix around `address` (in its family's bits; IPv4-mapped
  /// addresses must be unmapped first) over which every network's order
  /// starts with the same `depth` sites (depth >= 1). When none is wider,
  /// the prefix of the address's own database network. No allocation.
  unsigned scope(const IpAddress& address, unsigned depth) const noexcept;

  /// Whether `site` is ranked by the orders (has an endpoint), and how many are.
  bool ranked(std::uint32_t site) const noexcept { return site < ranked_.size() && ranked_[site]; }
  std::uint32_t ranked_count() const noexcept { return ranked_count_; }
  const LocationTrie& trie() const noexcept { return *trie_; }
  std::size_t memory_bytes() const noexcept { return lcp_.capacity() + ranked_.capacity(); }

 private:
  ScopeIndex() = default;

  std::shared_ptr<const LocationTrie> trie_;
  /// Per trie node: the common prefix length of the orders below it.
  std::vector<std::uint8_t> lcp_;
  std::vector<std::uint8_t> ranked_;  ///< per site: 1 when it has an endpoint
  std::uint32_t ranked_count_ = 0;
};

}  // namespace meridian::geo
