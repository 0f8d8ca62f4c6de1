#include "geo/location_trie.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <set>

#include "base/assert.hpp"

namespace meridian::geo {
namespace {

std::size_t family_slot(IpAddress::Family family) noexcept {
  return family == IpAddress::Family::v4 ? 0 : 1;
}

}  // namespace

std::size_t LocationTrie::Builder::LocationHash::operator()(
    const Location& location) const noexcept {
  std::uint64_t h = std::bit_cast<std::uint64_t>(location.latitude_deg) * 0x9E3779B97F4A7C15ULL;
  h ^= std::bit_cast<std::uint64_t>(location.longitude_deg) + 0x7F4A7C159E3779B9ULL + (h << 6) +
       (h >> 2);
  std::uint64_t codes = 0;
  std::memcpy(&codes, location.country.data(), 2);
  codes = codes << 16 | static_cast<std::uint8_t>(location.continent[0]) << 8 |
          static_cast<std::uint8_t>(location.continent[1]);
  for (int i = 0; i < 3; ++i)
    codes = codes << 8 | static_cast<std::uint8_t>(location.subdivision[i]);
  h ^= codes * 0xBF58476D1CE4E5B9ULL + location.has_coordinates;
  return static_cast<std::size_t>(h ^ (h >> 29));
}

bool LocationTrie::Builder::LocationEqual::operator()(const Location& a,
                                                      const Location& b) const noexcept {
  return std::bit_cast<std::uint64_t>(a.latitude_deg) ==
             std::bit_cast<std::uint64_t>(b.latitude_deg) &&
         std::bit_cast<std::uint64_t>(a.longitude_deg) ==
             std::bit_cast<std::uint64_t>(b.longitude_deg) &&
         a.has_coordinates == b.has_coordinates && a.country == b.country &&
         a.continent == b.continent && a.subdivision == b.subdivision;
}

LocationTrie::Builder::Builder(std::uint32_t node_count) {
  MERIDIAN_ASSERT(node_count <= kMaxNodes, "trie too large");
  nodes_.assign(node_count, {kEmpty, kEmpty});
}

void LocationTrie::Builder::set(std::uint32_t node, unsigned side, Ref child) {
  MERIDIAN_ASSERT(node < nodes_.size() && side < 2, "trie node out of range");
  MERIDIAN_ASSERT(!is_node(child) || child < nodes_.size(), "trie child out of range");
  nodes_[node][side] = child;
}

LocationTrie::Ref LocationTrie::Builder::location(const Location& location) {
  const auto [it, inserted] =
      index_.emplace(location, static_cast<std::uint32_t>(locations_.size()));
  if (inserted) {
    MERIDIAN_ASSERT(locations_.size() < kMaxLocations, "too many distinct locations");
    locations_.push_back(location);
  }
  return kLeafBit | it->second;
}

void LocationTrie::Builder::root(IpAddress::Family family, Ref ref) {
  MERIDIAN_ASSERT(!is_node(ref) || ref < nodes_.size(), "trie root out of range");
  roots_[family_slot(family)] = ref;
}

LocationTrie LocationTrie::Builder::finish() && {
  LocationTrie trie;
  trie.nodes_ = std::move(nodes_);
  trie.locations_ = std::move(locations_);
  trie.roots_[0] = roots_[0];
  trie.roots_[1] = roots_[1];
  index_.clear();
  return trie;
}

LocationTrie LocationTrie::from_networks(
    const std::vector<std::pair<IpNetwork, Location>>& networks) {
  // Less specific networks first, so each more specific one is carved out
  // of them afterwards (as the MMDB writer does).
  std::vector<std::size_t> order(networks.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return networks[a].first.prefix_len < networks[b].first.prefix_len;
  });
  Builder builder(0);
  std::set<std::pair<std::uint8_t, std::array<std::uint8_t, 17>>> seen;
  for (const std::size_t i : order) {
    const IpNetwork& network = networks[i].first;
    std::array<std::uint8_t, 17> key{};
    const IpAddress masked = network.address.masked(network.prefix_len);
    std::copy(masked.bytes.begin(), masked.bytes.end(), key.begin());
    key[16] = static_cast<std::uint8_t>(masked.family);
    if (!seen.emplace(network.prefix_len, key).second) continue;  // a duplicate: the first one wins
    const Ref leaf = builder.location(networks[i].second);
    Ref& root = builder.roots_[family_slot(network.address.family)];
    if (network.prefix_len == 0) {
      root = leaf;
      continue;
    }
    // Splits a non-node ref into a node whose children both keep it.
    const auto split = [&](Ref ref) {
      builder.nodes_.push_back({ref, ref});
      return static_cast<Ref>(builder.nodes_.size() - 1);
    };
    if (!is_node(root)) root = split(root);
    Ref node = root;
    for (unsigned bit = 0; bit + 1 < network.prefix_len; ++bit) {
      const unsigned side = network.address.bit(bit);
      if (!is_node(builder.nodes_[node][side])) {
        const Ref child = split(builder.nodes_[node][side]);
        builder.nodes_[node][side] = child;
      }
      node = builder.nodes_[node][side];
    }
    builder.nodes_[node][network.address.bit(network.prefix_len - 1u)] = leaf;
  }
  return std::move(builder).finish();
}

LocationTrie::Leaf LocationTrie::find(const IpAddress& address) const noexcept {
  Leaf leaf;
  Ref ref = root(address.family);
  const unsigned bits = address.bit_length();
  unsigned depth = 0;
  while (is_node(ref) && depth < bits) ref = nodes_[ref][address.bit(depth++)];
  // A node past the last bit only comes from a corrupt database: nothing.
  leaf.ref = is_node(ref) ? kEmpty : ref;
  leaf.depth = static_cast<std::uint8_t>(depth);
  return leaf;
}

std::size_t LocationTrie::memory_bytes() const noexcept {
  return nodes_.capacity() * sizeof(nodes_[0]) + locations_.capacity() * sizeof(Location);
}

}  // namespace meridian::geo
