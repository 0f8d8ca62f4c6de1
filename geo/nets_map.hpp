#pragma once
// The `nets` stage of steering: client networks (CIDR, IPv4 and IPv6) mapped
// to ordered site lists, longest prefix winning. Compiled once per config
// into sorted address ranges, so that a lookup is one binary search and
// needs no allocation; the same ranges give the ECS scope (the widest prefix
// around the client that lies inside one range, so neighbouring networks with
// the same list share one scope).
//
// Immutable after build: safe from any number of threads.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/ip_address.hpp"
#include "base/result.hpp"

namespace meridian::geo {

/// An ordered list of sites: indices into the site list of the routing table.
using SiteList = std::vector<std::uint32_t>;

class NetsMap {
 public:
  /// No row covers the address.
  static constexpr std::uint32_t kNoList = UINT32_MAX;

  struct Row {
    IpNetwork network;         ///< masked (as IpNetwork::parse makes it)
    std::uint32_t list = 0;    ///< index into the lists given to build
    std::uint32_t origin = 0;  ///< the caller's tag (a line number), for errors
  };

  /// What a lookup found.
  struct Match {
    /// The list of the longest row containing the address, or kNoList.
    std::uint32_t list = kNoList;
    /// The widest prefix around the address whose lookup gives the same
    /// `list` (in bits of the address's family). With kNoList it bounds the
    /// network that no row touches.
    std::uint8_t scope_prefix_len = 0;
  };

  /// An empty map: every lookup misses with scope 0.
  NetsMap() = default;

  /// Compiles `rows` (any order) over `lists`. Errors: two rows with the
  /// same network: "duplicate network N (A and B)" where A and B are
  /// `describe(origin)` of the two rows. Asserts every list index is valid.
  /// O(n log n); a million rows take about a second.
  static Result<NetsMap> build(std::vector<SiteList> lists, std::vector<Row> rows,
                               const std::function<std::string(std::uint32_t origin)>& describe);

  /// The longest-prefix match for `address` (unmap IPv4-mapped addresses
  /// first: an IPv4 address is looked up among the IPv4 rows). No
  /// allocation.
  Match lookup(const IpAddress& address) const noexcept;

  std::span<const std::uint32_t> list(std::uint32_t index) const noexcept { return lists_[index]; }
  std::size_t list_count() const noexcept { return lists_.size(); }
  std::size_t row_count() const noexcept { return rows_; }
  /// Distinct ranges after compilation (IPv4 + IPv6), for tests and benchmarks.
  std::size_t range_count() const noexcept { return v4_.starts.size() + v6_.starts.size(); }
  bool empty() const noexcept { return rows_ == 0; }

 private:
  using Key6 = unsigned __int128;
  /// A partition of one family's address space into ranges: range i is
  /// [starts[i], starts[i+1]) (the last one runs to the end of the space),
  /// and lists[i] its list. starts[0] is 0; neighbouring ranges differ.
  template <typename Key>
  struct Ranges {
    std::vector<Key> starts;
    std::vector<std::uint32_t> lists;
  };
  template <typename Key>
  static Ranges<Key> compile(std::vector<std::pair<Key, unsigned>>& prefixes,
                             const std::vector<std::uint32_t>& lists, unsigned bits);
  template <typename Key>
  static Match find(const Ranges<Key>& ranges, Key key, unsigned bits) noexcept;

  std::vector<SiteList> lists_;
  Ranges<std::uint32_t> v4_;
  Ranges<Key6> v6_;
  std::size_t rows_ = 0;
};

/// Rows and their lists as read, before build.
struct NetRows {
  std::vector<SiteList> lists;
  std::vector<NetsMap::Row> rows;
};

/// Reads a nets file into `into` (appending): one `PREFIX SITE[,SITE...]`
/// per line (the prefix and the list separated by spaces or tabs, the sites
/// by commas), '#' comments and blank lines skipped. Each row's origin is
/// its line number. `site` maps a name to its index, or returns false.
/// Identical lists are stored once. At most `max_rows` rows in `into`, at
/// most `max_list_length` sites a list.
/// Errors: "PATH:LINE: what is wrong" (bad prefix, unknown site, a site twice
/// in one list, too many rows or sites, a line over 4096 bytes).
Result<void> read_nets_file(
    const std::string& path,
    const std::function<bool(std::string_view name, std::uint32_t& index)>& site,
    std::size_t max_rows, std::size_t max_list_length, NetRows& into);

}  // namespace meridian::geo
