#include "config/zone_build.hpp"

#include <utility>

#include "base/assert.hpp"
#include "dns/wire/types.hpp"

namespace meridian {
namespace {

void append_name(dns::Record& record, const dns::Name& name) {
  const auto wire = name.wire();
  record.rdata_names.push_back(dns::RdataName{static_cast<std::uint16_t>(record.rdata.size()),
                                              static_cast<std::uint16_t>(wire.size())});
  record.rdata.insert(record.rdata.end(), wire.begin(), wire.end());
}

void append_u32(dns::Record& record, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    record.rdata.push_back(static_cast<std::uint8_t>(value >> shift));
}

// RFC 1035 3.3.13.
dns::Record soa_record(const dns::Name& origin, const SoaSettings& soa) {
  dns::Record record;
  record.owner = origin;
  record.type = dns::rrtype::SOA;
  record.ttl = soa.ttl_s;
  append_name(record, soa.mname);
  append_name(record, soa.rname);
  for (std::uint32_t value :
       {soa.serial, soa.refresh_s, soa.retry_s, soa.expire_s, soa.minimum_s}) {
    append_u32(record, value);
  }
  return record;
}

dns::Record ns_record(const ZoneConfig& zone, const dns::Name& target) {
  dns::Record record;
  record.owner = zone.origin;
  record.type = dns::rrtype::NS;
  record.ttl = zone.default_ttl_s;
  append_name(record, target);
  return record;
}

// The error lines of one zone, capped like the loader's.
class ErrorLines {
 public:
  void add(const SourceLocation& where, std::string_view message) {
    ++count_;
    if (count_ > config_limits::kMaxErrors) return;
    if (!text_.empty()) text_ += '\n';
    text_ += where.to_string();
    text_ += ": ";
    text_ += message;
  }
  Error error() const {
    if (count_ <= config_limits::kMaxErrors) return Error{text_};
    return Error{text_ + "\n... and " + std::to_string(count_ - config_limits::kMaxErrors) +
                 " more errors"};
  }

 private:
  std::string text_;
  std::size_t count_ = 0;
};

// An NS target inside the zone needs an address in it, or resolvers
// following the referral find nothing (named-checkzone rejects it too).
bool has_address(const dns::Zone& zone, const dns::Name& name) {
  auto answers = [](const dns::ZoneNode* node) {
    return node != nullptr && (node->find(dns::rrtype::A) != nullptr ||
                               node->find(dns::rrtype::AAAA) != nullptr || node->service >= 0);
  };
  if (answers(zone.find_node(name))) return true;
  const dns::ZoneMatch match = zone.lookup(name);
  return match.kind == dns::ZoneMatch::Kind::wildcard && answers(match.node);
}

}  // namespace

std::optional<dns::Zone> build_zone(const ZoneConfig& zone, std::uint32_t first_service_index,
                                    const ZoneErrorSink& report) {
  dns::ZoneBuilder builder(zone.origin);
  bool failed = false;
  auto error = [&](const SourceLocation& where, std::string_view message) {
    failed = true;
    report(where, message);
  };
  auto add = [&](const dns::Record& record, const SourceLocation& where) {
    if (auto added = builder.add(record); !added) error(where, added.error().message);
  };

  if (zone.soa) add(soa_record(zone.origin, *zone.soa), zone.soa->source);
  for (const NameServer& ns : zone.ns) add(ns_record(zone, ns.name), ns.source);
  for (const RecordConfig& entry : zone.records) {
    if (zone.soa && entry.record.type == dns::rrtype::SOA) {
      // Two SOAs would leave the serial ambiguous; say which two.
      error(entry.source, "SOA record conflicts with " + zone.soa->source.key_path + " (line " +
                              std::to_string(zone.soa->source.line) + "); keep one of them");
      continue;
    }
    add(entry.record, entry.source);
  }
  for (std::size_t i = 0; i < zone.services.size(); ++i) {
    const ServiceConfig& service = zone.services[i];
    const auto index = first_service_index + static_cast<std::uint32_t>(i);
    if (auto added = builder.add_service(service.name, index); !added)
      error(service.source, added.error().message);
  }
  // build() on a zone that lost records would only add follow-on errors
  // (no SOA, dangling delegation): report the first cause alone.
  if (failed) return std::nullopt;

  auto built = std::move(builder).build();
  if (!built) {
    error(zone.source, built.error().message);
    return std::nullopt;
  }
  for (const NameServer& ns : zone.ns) {
    if (ns.name.is_subdomain_of(zone.origin) && !has_address(*built, ns.name)) {
      error(ns.source,
            "name server " + ns.name.to_text() +
                " is inside the zone but has no A or AAAA record (add its glue to records)");
    }
  }
  if (failed) return std::nullopt;
  return std::move(built).value();
}

Result<dns::Zone> build_zone(const ZoneConfig& zone, std::uint32_t first_service_index) {
  ErrorLines errors;
  auto built = build_zone(
      zone, first_service_index,
      [&](const SourceLocation& where, std::string_view message) { errors.add(where, message); });
  if (!built) return errors.error();
  return std::move(*built);
}

Result<std::shared_ptr<const std::vector<dns::Zone>>> build_zones(const Config& config) {
  auto zones = std::make_shared<std::vector<dns::Zone>>();
  std::string errors;
  std::uint32_t first_service = 0;
  for (const ZoneConfig& zone : config.zones) {
    auto built = build_zone(zone, first_service);
    if (!built) {
      if (!errors.empty()) errors += '\n';
      errors += built.error().message;
    } else {
      zones->push_back(std::move(built).value());
    }
    // Services are numbered across zones in config order, also after a
    // failed zone, so the indices stay those build_zone was given.
    first_service += static_cast<std::uint32_t>(zone.services.size());
  }
  if (!errors.empty()) return Error{std::move(errors)};
  return std::shared_ptr<const std::vector<dns::Zone>>(std::move(zones));
}

}  // namespace meridian
