#pragma once
// The Locator backed by a MaxMind DB file (GeoIP2/GeoLite2 City, Country or
// ASN layout, or one written by `meridian geo build-db`). mmdb_reader.cpp is
// the only file of Meridian that includes libmaxminddb.

#include <cstdint>
#include <memory>
#include <string>

#include "base/result.hpp"
#include "geo/locator.hpp"

namespace meridian::geo {

/// What a database is for, judged by what its records hold.
enum class DatabaseKind {
  /// City or Country layout: records with location, country or continent
  /// (geoip.database).
  location,
  /// GeoLite2-ASN layout: records with autonomous_system_number
  /// (geoip.asn_database).
  asn,
};

/// The largest database MmdbReader::open copies into memory (2 GiB; a
/// GeoLite2-City database is under 100 MiB).
inline constexpr std::uint64_t kMaxDatabaseBytes = std::uint64_t{2} << 30;

class MmdbReader final : public Locator {
 public:
  /// Opens `path`: copies the file (at most kMaxDatabaseBytes) into
  /// private, sealed memory (a memfd) and maps that copy, never the file,
  /// so a file truncated or overwritten in place afterwards (`cp` over it)
  /// changes nothing this reader returns and cannot raise SIGBUS. The copy
  /// is opened through /proc/self/fd (libmaxminddb opens paths only): no
  /// /proc, no database. Errors name `path` and the reason (libmaxminddb's,
  /// with errno where it has one).
  static Result<std::unique_ptr<MmdbReader>> open(const std::string& path);

  /// Opens `path`, then check(expected): what a node does before it
  /// serves from a database. Errors name the path.
  static Result<std::unique_ptr<MmdbReader>> open(const std::string& path, DatabaseKind expected);
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

  /// Walks the whole search tree, decodes each data record once and checks
  /// that the records are of the `expected` kind: a database with records
  /// of the other kind only (an ASN database where a location one is
  /// expected, or the reverse), or with records of neither kind, is an
  /// error naming the path, the kind found (with the metadata's
  /// database_type) and the kind expected. A tree or record libmaxminddb
  /// cannot read (a corrupt file) is an error with its reason
  /// (MMDB_strerror). A database without records passes: it locates
  /// nothing, whatever its kind. Off the hot path: one pass over the file,
  /// memory for one entry per distinct record. Any thread.
  Result<void> check(DatabaseKind expected) const;

  /// The metadata's database_type ("GeoLite2-City", "Meridian-ASN", ...).
  std::string database_type() const;

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
