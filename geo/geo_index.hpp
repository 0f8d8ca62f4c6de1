#pragma once
// A node's GeoIP databases, compiled for steering: a Locator that answers
// locations from one database (City or Country layout) and autonomous
// systems from another (ASN layout), that builds the location database's
// trie once, and that compiles and keeps each service ordering's scope
// index (geo/scope_index.hpp), so that the routing tables built on every
// health change share them.
//
// Thread rules: locate and locate_asn as any Locator (hot path, no
// allocation, any thread). scope_index may be called from any thread; it
// compiles under a mutex, off the hot path.

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/result.hpp"
#include "geo/location_trie.hpp"
#include "geo/locator.hpp"
#include "geo/scope_index.hpp"

namespace meridian::geo {

class GeoMap;

class GeoIndex final : public Locator {
 public:
  /// Most scope indexes kept; past it, indexes are compiled and not kept
  /// (a config has one per distinct service ordering).
  static constexpr std::size_t kMaxCachedIndexes = 4096;

  /// `location` and `asn` may each be null (not configured). Builds the
  /// trie of `location` now when it has one (a walk of the whole database).
  GeoIndex(std::shared_ptr<const Locator> location, std::shared_ptr<const Locator> asn);

  /// Opens the MaxMind DB files `database` (locations) and `asn_database`
  /// (ASNs) with MmdbReader, each unless empty, checks each is of its kind
  /// and readable (MmdbReader::check), and compiles them. Null when both
  /// are empty. Errors name the file that failed.
  static Result<std::shared_ptr<const GeoIndex>> open(const std::string& database,
                                                      const std::string& asn_database);

  /// The location database's answer, read from the trie when there is one
  /// (it holds the same networks and records); not found (prefix 0)
  /// without a database.
  Located locate(const IpAddress& address) const noexcept override;
  /// The ASN database's answer; not found (prefix 0) without one.
  AsnLocated locate_asn(const IpAddress& address) const noexcept override;
  /// The trie built at construction (null without a location database or
  /// when it cannot be enumerated).
  std::shared_ptr<const LocationTrie> build_trie() const override { return trie_; }
  /// ScopeIndex::compile over the trie, memoized by ScopeIndex::key.
  std::shared_ptr<const ScopeIndex> scope_index(const std::vector<Site>& sites,
                                                const std::vector<std::uint32_t>& default_sites,
                                                const ServiceSpec& spec) const override;

  bool has_location() const noexcept { return location_ != nullptr; }
  bool has_asn() const noexcept { return asn_ != nullptr; }
  /// Indexes compiled so far (each compile of a new key counts once).
  std::size_t compiled() const;

 private:
  struct Cached {
    std::shared_ptr<const ScopeIndex> index;
    /// The key names the geo map by address: keep it alive, so that no
    /// other map can reuse the address while the entry exists.
    std::shared_ptr<const GeoMap> geo_map;
  };
  std::shared_ptr<const Locator> location_;
  std::shared_ptr<const Locator> asn_;
  std::shared_ptr<const LocationTrie> trie_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, Cached> cache_;
  mutable std::size_t compiled_ = 0;
};

}  // namespace meridian::geo
