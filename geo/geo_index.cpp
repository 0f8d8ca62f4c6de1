#include "geo/geo_index.hpp"

#include "geo/mmdb_reader.hpp"
#include "geo/steering.hpp"

namespace meridian::geo {

GeoIndex::GeoIndex(std::shared_ptr<const Locator> location, std::shared_ptr<const Locator> asn)
    : location_(std::move(location)), asn_(std::move(asn)) {
  if (location_ != nullptr) trie_ = location_->build_trie();
}

Result<std::shared_ptr<const GeoIndex>> GeoIndex::open(const std::string& database,
                                                       const std::string& asn_database) {
  if (database.empty() && asn_database.empty()) return std::shared_ptr<const GeoIndex>();
  std::shared_ptr<const Locator> location, asn;
  if (!database.empty()) {
    auto reader = MmdbReader::open(database, DatabaseKind::location);
    if (!reader) return reader.error();
    location = std::move(reader).value();
  }
  if (!asn_database.empty()) {
    auto reader = MmdbReader::open(asn_database, DatabaseKind::asn);
    if (!reader) return reader.error();
    asn = std::move(reader).value();
  }
  return std::make_shared<const GeoIndex>(std::move(location), std::move(asn));
}

Located GeoIndex::locate(const IpAddress& address) const noexcept {
  // The trie mirrors the database: one walk of our own arrays instead of a
  // libmaxminddb lookup and its map searches, and it leaves the nodes that
  // the scope walk visits next in the cache.
  if (trie_ == nullptr) return location_ != nullptr ? location_->locate(address) : Located{};
  const LocationTrie::Leaf leaf = trie_->find(address);
  Located located;
  located.prefix_len = leaf.depth;
  if (LocationTrie::is_location(leaf.ref)) {
    located.found = true;
    located.location = trie_->location(leaf.ref);
  }
  return located;
}

AsnLocated GeoIndex::locate_asn(const IpAddress& address) const noexcept {
  return asn_ != nullptr ? asn_->locate_asn(address) : AsnLocated{};
}

std::shared_ptr<const ScopeIndex> GeoIndex::scope_index(
    const std::vector<Site>& sites, const std::vector<std::uint32_t>& default_sites,
    const ServiceSpec& spec) const {
  if (trie_ == nullptr) return nullptr;
  std::string key = ScopeIndex::key(sites, default_sites, spec);
  std::lock_guard lock(mutex_);
  if (const auto it = cache_.find(key); it != cache_.end()) return it->second.index;
  auto index = ScopeIndex::compile(trie_, sites, default_sites, spec);
  ++compiled_;
  if (cache_.size() < kMaxCachedIndexes)
    cache_.emplace(std::move(key), Cached{index, spec.geo_map});
  return index;
}

std::size_t GeoIndex::compiled() const {
  std::lock_guard lock(mutex_);
  return compiled_;
}

}  // namespace meridian::geo
