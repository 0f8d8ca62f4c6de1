#pragma once
// The Locator backed by a MaxMind DB file (GeoIP2/GeoLite2 City, Country or
// ASN layout, or one written by `meridian geo build-db`). mmdb_reader.cpp is
// the only file of Meridian that includes libmaxminddb.

#include <memory>
#include <string>

#include "base/result.hpp"
#include "geo/locator.hpp"

namespace meridian::geo {

class MmdbReader final : public Locator {
 public:
  /// Opens (memory-maps) `path`. Errors name the path and libmaxminddb's
  /// reason.
  static Result<std::unique_ptr<MmdbReader>> open(const std::string& path);
  ~MmdbReader() override;

  MmdbReader(const MmdbReader&) = delete;
  MmdbReader& operator=(const MmdbReader&) = delete;

  /// Reads location.latitude/longitude, country.iso_code, continent.code
  /// and subdivisions[0].iso_code (the first, largest subdivision).
  /// IPv4 addresses are looked up in the IPv4 subtree of IPv6 databases;
  /// `prefix_len` is returned in IPv4 bits for them (0 when the database
  /// network holding them is wider than the IPv4 space). Addresses without
  /// a record get the prefix length of the empty network around them. An
  /// IPv6 address in an IPv4-only database is not found, prefix 0. An
  /// IPv4-mapped IPv6 address is looked up as IPv6 (callers unmap it).
  /// Allocation-free; safe from any number of threads.
  Located locate(const IpAddress& address) const noexcept override;

  /// Reads autonomous_system_number (found when present) and
  /// autonomous_system_organization (GeoLite2-ASN layout); prefix_len as
  /// for locate. Allocation-free; safe from any number of threads.
  AsnLocated locate_asn(const IpAddress& address) const noexcept override;

  /// Mirrors the search tree node for node (aliased subtrees stay shared),
  /// each data record read once. Null for a database too large for the
  /// trie or with an unreadable tree.
  std::shared_ptr<const LocationTrie> build_trie() const override;

 private:
  struct Impl;
  explicit MmdbReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian::geo
