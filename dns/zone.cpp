#include "dns/zone.hpp"

#include <algorithm>

#include "base/assert.hpp"
#include "dns/presentation.hpp"
#include "dns/wire/types.hpp"

namespace meridian::dns {
namespace {

bool is_address(std::uint16_t type) noexcept {
  return type == rrtype::A || type == rrtype::AAAA;
}

std::uint32_t read_u32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

}  // namespace

// ---------------------------------------------------------------- ZoneNode

const RRset* ZoneNode::find(std::uint16_t type) const noexcept {
  for (const RRset& rrset : rrsets) {
    if (rrset.type == type) return &rrset;
  }
  return nullptr;
}

// -------------------------------------------------------------------- Zone

// Node-based maps keep element addresses across a move, so apex_ and soa_
// stay valid.
Zone::Zone(Zone&&) noexcept = default;
Zone& Zone::operator=(Zone&&) noexcept = default;

const ZoneNode* Zone::find_node(const Name& name) const noexcept {
  char buffer[Name::kMaxWireLength];
  const auto it = nodes_.find(name.lowercase_key(buffer));
  return it == nodes_.end() ? nullptr : &it->second;
}

ZoneMatch Zone::lookup(const Name& qname) const noexcept {
  MERIDIAN_ASSERT(qname.is_subdomain_of(origin_), "lookup outside the zone");
  const unsigned origin_labels = origin_.label_count();
  const ZoneNode* closest = apex_;
  // Walk down one label at a time from the apex, so a zone cut above the
  // name is found before anything below it (RFC 1034 4.3.2 step 3b).
  for (unsigned labels = origin_labels + 1; labels <= qname.label_count(); ++labels) {
    const ZoneNode* node = find_node(qname.suffix(labels));
    if (node == nullptr) {
      Name wildcard;
      if (closest->owner.prepend("*", wildcard)) {
        if (const ZoneNode* source = find_node(wildcard))
          return {ZoneMatch::Kind::wildcard, source};
      }
      return {ZoneMatch::Kind::nxdomain, closest};
    }
    if (node->delegation) return {ZoneMatch::Kind::delegation, node};
    closest = node;
  }
  return {ZoneMatch::Kind::exact, closest};
}

// ------------------------------------------------------------- ZoneBuilder

ZoneBuilder::ZoneBuilder(const Name& origin) {
  zone_.origin_ = origin;
  node_for(origin);
}

ZoneNode& ZoneBuilder::node_for(const Name& owner) {
  auto [it, inserted] = zone_.nodes_.try_emplace(owner.lowercase_key());
  if (inserted) it->second.owner = owner;
  return it->second;
}

Result<void> ZoneBuilder::add(const Record& record) {
  const std::string owner_text = record.owner.to_text();
  if (record.rclass != rrclass::IN) return fail("class of ", owner_text, " is not IN");
  if (!record.owner.is_subdomain_of(zone_.origin_)) {
    return fail(owner_text, " is outside the zone ", zone_.origin_.to_text());
  }
  const bool at_apex = record.owner.equals(zone_.origin_);
  if (record.type == rrtype::SOA && !at_apex)
    return fail("SOA at ", owner_text, " is not at the zone apex");
  if (record.type == rrtype::CNAME && at_apex) return fail("CNAME at the zone apex ", owner_text);

  ZoneNode& node = node_for(record.owner);
  const RRset* cname = node.find(rrtype::CNAME);
  // The DNSSEC records of the owner may live beside a CNAME (RFC 4035 2.5).
  const auto beside_cname_allowed = [](std::uint16_t type) {
    return type == rrtype::RRSIG || type == rrtype::NSEC;
  };
  if (record.type == rrtype::CNAME) {
    if (cname != nullptr && !(cname->rdatas.front().bytes == record.rdata)) {
      return fail("more than one CNAME at ", owner_text);
    }
    const bool other_data =
        std::any_of(node.rrsets.begin(), node.rrsets.end(), [&](const RRset& rrset) {
          return rrset.type != rrtype::CNAME && !beside_cname_allowed(rrset.type);
        });
    if (cname == nullptr && (other_data || node.service >= 0)) {
      return fail("CNAME beside other data at ", owner_text);
    }
  } else if (cname != nullptr && !beside_cname_allowed(record.type)) {
    return fail("CNAME beside other data at ", owner_text, " (", type_to_text(record.type), ")");
  }
  if (node.service >= 0 && is_address(record.type)) {
    return fail(type_to_text(record.type), " record at ", owner_text, " which is a service name");
  }

  auto rrset = std::find_if(node.rrsets.begin(), node.rrsets.end(),
                            [&](const RRset& s) { return s.type == record.type; });
  if (rrset == node.rrsets.end()) {
    node.rrsets.push_back(RRset{record.type, record.ttl, {}});
    rrset = node.rrsets.end() - 1;
  }
  for (const Rdata& existing : rrset->rdatas) {
    if (existing.bytes == record.rdata) return {};  // duplicate RR: RFC 2181 5 says ignore it
  }
  if (record.type == rrtype::SOA && !rrset->rdatas.empty()) return fail("more than one SOA record");
  rrset->ttl = std::min(rrset->ttl, record.ttl);
  rrset->rdatas.push_back(Rdata{record.rdata, record.rdata_names});
  return {};
}

Result<void> ZoneBuilder::add_service(const Name& owner, std::uint32_t service_index) {
  const std::string owner_text = owner.to_text();
  if (!owner.is_subdomain_of(zone_.origin_)) {
    return fail("service ", owner_text, " is outside the zone ", zone_.origin_.to_text());
  }
  if (owner.equals(zone_.origin_)) return fail("service ", owner_text, " is the zone apex");
  ZoneNode& node = node_for(owner);
  if (node.service >= 0) return fail("service ", owner_text, " is defined twice");
  for (const std::uint16_t type : {rrtype::CNAME, rrtype::A, rrtype::AAAA}) {
    if (node.find(type) != nullptr) {
      return fail("service ", owner_text, " clashes with its ", type_to_text(type), " record");
    }
  }
  node.service = static_cast<std::int32_t>(service_index);
  return {};
}

Result<Zone> ZoneBuilder::build() && {
  const Name origin = zone_.origin_;
  ZoneNode& apex = node_for(origin);
  const RRset* soa = apex.find(rrtype::SOA);
  if (soa == nullptr) return fail("zone ", origin.to_text(), " has no SOA record");
  if (apex.find(rrtype::NS) == nullptr)
    return fail("zone ", origin.to_text(), " has no NS records at the apex");
  MERIDIAN_ASSERT(soa->rdatas.front().bytes.size() >= 20, "SOA RDATA too short");

  // Zone cuts first, so the occlusion check below sees all of them.
  for (auto& [key, node] : zone_.nodes_) {
    node.delegation = !node.owner.equals(origin) && node.find(rrtype::NS) != nullptr;
    if (node.delegation && node.service >= 0)
      return fail("service ", node.owner.to_text(), " is at a zone cut");
  }
  // Below a cut only glue may exist: the child zone owns everything else.
  std::vector<Name> owners;
  owners.reserve(zone_.nodes_.size());
  for (const auto& [key, node] : zone_.nodes_) owners.push_back(node.owner);
  for (const Name& owner : owners) {
    const ZoneNode& node = *zone_.find_node(owner);
    for (Name above = owner; above.label_count() > origin.label_count() + 1;) {
      above = above.parent();
      const ZoneNode* cut = zone_.find_node(above);
      if (cut == nullptr || !cut->delegation) continue;
      if (node.service >= 0) {
        return fail("service ", owner.to_text(), " is below the zone cut ", above.to_text());
      }
      for (const RRset& rrset : node.rrsets) {
        if (!is_address(rrset.type)) {
          return fail(type_to_text(rrset.type), " at ", owner.to_text(), " is below the zone cut ",
                      above.to_text(), " (only glue addresses may be)");
        }
      }
    }
  }
  // Empty non-terminals: every name between a node and the apex exists.
  for (const Name& owner : owners) {
    for (Name above = owner; above.label_count() > origin.label_count() + 1;) {
      above = above.parent();
      node_for(above);
    }
  }
  for (auto& [key, node] : zone_.nodes_) {
    std::sort(node.rrsets.begin(), node.rrsets.end(),
              [](const RRset& a, const RRset& b) { return a.type < b.type; });
  }

  zone_.apex_ = zone_.find_node(origin);
  zone_.soa_ = zone_.apex_->find(rrtype::SOA);
  const auto& soa_bytes = zone_.soa_->rdatas.front().bytes;
  const std::uint32_t minimum = read_u32(soa_bytes.data() + soa_bytes.size() - 4);
  zone_.negative_ttl_ = std::min(zone_.soa_->ttl, minimum);
  return std::move(zone_);
}

}  // namespace meridian::dns
