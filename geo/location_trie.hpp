#pragma once
// A location database's networks as a binary trie: the shape of its search
// tree (for a MaxMind DB, node for node, aliases included, so the trie is a
// DAG where the database shares subtrees) with the distinct locations at its
// leaves. Scope indexes (geo/scope_index.hpp) annotate its nodes per
// service; a lookup walks it from the root along the address's bits.
//
// Immutable after build: safe from any number of threads.

#include <array>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/ip_address.hpp"
#include "geo/locator.hpp"

namespace meridian::geo {

class LocationTrie {
 public:
  /// A child (or root): a node index (high bit clear), a leaf
  /// (kLeafBit | location index), or kEmpty (no record: not found).
  using Ref = std::uint32_t;
  static constexpr Ref kLeafBit = 0x8000'0000;
  static constexpr Ref kEmpty = 0xFFFF'FFFF;
  /// Most nodes and locations a trie holds (the Ref encoding's limit).
  static constexpr std::uint32_t kMaxNodes = kLeafBit - 1;
  static constexpr std::uint32_t kMaxLocations = kLeafBit - 1;

  static constexpr bool is_node(Ref ref) noexcept { return (ref & kLeafBit) == 0; }
  static constexpr bool is_location(Ref ref) noexcept { return ref != kEmpty && !is_node(ref); }
  static constexpr std::uint32_t location_of(Ref ref) noexcept { return ref & ~kLeafBit; }

  /// Builds a trie node by node (MmdbReader mirrors its search tree with it).
  class Builder {
   public:
    /// Nodes 0..node_count-1, every child kEmpty, roots kEmpty.
    explicit Builder(std::uint32_t node_count);
    /// Sets child `side` (0 or 1) of `node`. Asserts both are in range.
    void set(std::uint32_t node, unsigned side, Ref child);
    /// The leaf of `location`; equal locations share one.
    Ref location(const Location& location);
    /// The root of `family`'s address space (IPv4: the node that 32 more
    /// bits lead to its leaves). kEmpty: the family is not in the database.
    void root(IpAddress::Family family, Ref ref);
    LocationTrie finish() &&;

   private:
    friend class LocationTrie;
    // Bit-exact, so that 0.0 and -0.0 stay apart as their hashes do.
    struct LocationHash {
      std::size_t operator()(const Location& location) const noexcept;
    };
    struct LocationEqual {
      bool operator()(const Location& a, const Location& b) const noexcept;
    };
    std::vector<std::array<Ref, 2>> nodes_;
    std::vector<Location> locations_;
    std::unordered_map<Location, std::uint32_t, LocationHash, LocationEqual> index_;
    Ref roots_[2] = {kEmpty, kEmpty};
  };

  /// An empty trie: every family missing.
  LocationTrie() = default;

  /// A trie of `networks` (IPv4 and IPv6, any order): the longest network
  /// holding an address gives its location, as a GeoIP lookup would.
  /// Duplicate networks: the first one wins. For tests and small tables.
  static LocationTrie from_networks(const std::vector<std::pair<IpNetwork, Location>>& networks);

  /// Where an address's walk ended.
  struct Leaf {
    Ref ref = kEmpty;        ///< a location leaf or kEmpty
    std::uint8_t depth = 0;  ///< its prefix length, in bits of the address's family
  };
  /// Walks `address` (an IPv4-mapped address walks the IPv6 trie) down to
  /// its leaf. No allocation.
  Leaf find(const IpAddress& address) const noexcept;

  Ref root(IpAddress::Family family) const noexcept {
    return roots_[family == IpAddress::Family::v4 ? 0 : 1];
  }
  const std::array<Ref, 2>& children(std::uint32_t node) const noexcept { return nodes_[node]; }
  std::uint32_t node_count() const noexcept { return static_cast<std::uint32_t>(nodes_.size()); }
  const std::vector<Location>& locations() const noexcept { return locations_; }
  const Location& location(Ref leaf) const noexcept { return locations_[location_of(leaf)]; }
  /// Bytes held, for logs and benchmarks.
  std::size_t memory_bytes() const noexcept;

 private:
  std::vector<std::array<Ref, 2>> nodes_;
  std::vector<Location> locations_;
  Ref roots_[2] = {kEmpty, kEmpty};
};

}  // namespace meridian::geo
