#pragma once
// Authoritative zone data, built once by ZoneBuilder and then immutable, so
// any number of DNS workers read it without locks.
//
// Lookup follows RFC 1034 4.3.2 and RFC 4592: walk down from the apex; a
// name with NS below the apex is a zone cut (referral); a name that exists
// (possibly as an empty non-terminal) is an exact match; otherwise the
// wildcard "*.<closest encloser>" answers if present, else NXDOMAIN.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.hpp"
#include "dns/wire/name.hpp"
#include "dns/wire/record.hpp"

namespace meridian::dns {

/// Everything the zone holds at one owner name.
struct ZoneNode {
  Name owner;
  std::vector<RRset> rrsets;  ///< sorted by type, one per type
  /// Index of the service answered at this name (RoutingTable::service), or
  /// -1. A service answers A and AAAA dynamically.
  std::int32_t service = -1;
  /// NS records at a name below the apex: a zone cut.
  bool delegation = false;

  const RRset* find(std::uint16_t type) const noexcept;
  /// True for an empty non-terminal (exists only because names below exist).
  bool empty() const noexcept { return rrsets.empty() && service < 0; }
};

/// The outcome of a lookup.
struct ZoneMatch {
  enum class Kind : std::uint8_t {
    exact,       ///< `node` is the name itself (may be an empty non-terminal)
    wildcard,    ///< `node` is the wildcard that covers the name
    delegation,  ///< `node` is the zone cut at or above the name
    nxdomain,    ///< the name does not exist
  };
  Kind kind = Kind::nxdomain;
  const ZoneNode* node = nullptr;
};

class Zone {
 public:
  const Name& origin() const noexcept { return origin_; }
  const ZoneNode& apex() const noexcept { return *apex_; }
  /// The SOA RRset at the apex (always present in a built zone).
  const RRset& soa() const noexcept { return *soa_; }
  /// TTL of negative answers: min(SOA TTL, SOA MINIMUM) (RFC 2308 5).
  std::uint32_t negative_ttl() const noexcept { return negative_ttl_; }

  /// Looks `qname` up. Precondition: qname is at or below origin().
  /// No heap allocation.
  ZoneMatch lookup(const Name& qname) const noexcept;
  /// The node at exactly `name`, or nullptr. No heap allocation.
  const ZoneNode* find_node(const Name& name) const noexcept;

  std::size_t node_count() const noexcept { return nodes_.size(); }

  Zone(Zone&&) noexcept;
  Zone& operator=(Zone&&) noexcept;
  Zone(const Zone&) = delete;
  Zone& operator=(const Zone&) = delete;

 private:
  friend class ZoneBuilder;
  Zone() = default;

  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept {
      return std::hash<std::string_view>{}(key);
    }
  };
  Name origin_;
  std::unordered_map<std::string, ZoneNode, KeyHash, std::equal_to<>>
      nodes_;  // key: lowercase wire
  const ZoneNode* apex_ = nullptr;
  const RRset* soa_ = nullptr;
  std::uint32_t negative_ttl_ = 0;
};

/// Collects records for one zone and checks them. Error messages are short
/// and say what is wrong with the record ("CNAME beside other data at
/// www.example.com."); the caller adds where the record came from.
class ZoneBuilder {
 public:
  explicit ZoneBuilder(const Name& origin);

  /// Adds a record. Errors: owner outside the zone; class other than IN; a
  /// CNAME beside any other data (or a second CNAME); SOA other than at the
  /// apex, or a second SOA; an RDATA identical to one already present is
  /// accepted and ignored.
  Result<void> add(const Record& record);

  /// Declares `owner` a service name. Errors: outside the zone; at the apex;
  /// already a service; a CNAME, A or AAAA record at the same name.
  Result<void> add_service(const Name& owner, std::uint32_t service_index);

  /// Finishes the zone. Errors: no SOA or no NS at the apex; data or services
  /// below a zone cut (other than glue A/AAAA at or below the cut); a service
  /// at a zone cut.
  Result<Zone> build() &&;

 private:
  ZoneNode& node_for(const Name& owner);
  Zone zone_;
};

}  // namespace meridian::dns
