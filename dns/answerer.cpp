#include "dns/answerer.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string_view>

#include "base/assert.hpp"
#include "dns/wire/header.hpp"
#include "dns/wire/message.hpp"
#include "dns/wire/types.hpp"
#include "dns/wire/writer.hpp"

namespace meridian::dns {
namespace {

/// Longest CNAME chain we follow inside our zones before letting the
/// resolver continue (a loop ends sooner: once each link is in the answer).
constexpr int kMaxChain = 8;
/// Most target names whose addresses go into the additional section.
constexpr std::size_t kMaxAdditionalTargets = 16;
/// OPT without options: root(1) type(2) class(2) ttl(4) rdlength(2).
constexpr std::size_t kOptFixedSize = 11;
constexpr std::size_t kMaxNsid = 128;

/// An Extended DNS Error (RFC 8914) for the person debugging: its code and
/// a fixed text (no allocation on the hot path). Sent only with EDNS.
struct ExtendedError {
  std::uint16_t code = 0;
  std::string_view text;  ///< empty: no extended error
  bool present() const noexcept { return !text.empty(); }
};
/// Option code(2) length(2) INFO-CODE(2): the text follows.
constexpr std::size_t kEdeFixedSize = 6;
constexpr std::size_t kMaxEdeText = 96;
/// Option code(2) length(2) client cookie(8) server cookie(16).
constexpr std::size_t kCookieOptionSize = 4 + 8 + kServerCookieSize;

struct Targets {
  std::array<Name, kMaxAdditionalTargets> names;
  std::size_t count = 0;
  void add(const Name& name) noexcept {
    for (std::size_t i = 0; i < count; ++i) {
      if (names[i].equals(name)) return;
    }
    if (count < names.size()) names[count++] = name;
  }
};

/// Per-query working state, on the worker's stack.
class Session {
 public:
  Session(const Answerer& answerer, const RoutingTable& table, const QueryContext& context,
          const Query& query, MessageWriter& writer, QueryStats& stats) noexcept
      : settings_(answerer.settings()),
        table_(table),
        context_(context),
        query_(query),
        writer_(writer),
        stats_(stats) {}

  /// Answer, authority and additional stages for a parsed, valid query.
  void resolve() noexcept;
  Rcode rcode() const noexcept { return rcode_; }
  bool authoritative() const noexcept { return authoritative_; }
  bool truncated() const noexcept { return truncated_; }
  std::uint8_t scope_prefix_len() const noexcept { return scope_prefix_len_; }
  const ExtendedError& extended_error() const noexcept { return extended_error_; }
  /// What the response is, and the name it is accounted under (the zone
  /// for NXDOMAIN, the query name otherwise), for rate limiting.
  ResponseKind kind() const noexcept {
    if (rcode_ == Rcode::nxdomain) return ResponseKind::nxdomain;
    if (rcode_ != Rcode::noerror) return ResponseKind::error;
    if (referral_ != nullptr) return ResponseKind::referral;
    return writer_.count(Section::answer) > 0 ? ResponseKind::answer : ResponseKind::nodata;
  }
  const Name& accounted_name() const noexcept {
    return rcode_ == Rcode::nxdomain && negative_zone_ != nullptr ? negative_zone_->origin()
                                                                  : query_.qname;
  }

 private:
  void answer_stage() noexcept;
  void answer_terminal(const ZoneNode& node, const Name& owner) noexcept;
  bool answer_service_node(const ZoneNode& node, const Name& owner, Name& target) noexcept;
  geo::Choice steer(const Service& service, IpAddress::Family family,
                    std::span<const IpAddress*> picked) noexcept;
  bool answer_addresses(const Service& service, const Name& owner, std::uint16_t type,
                        Name& target) noexcept;
  bool answer_cname(const Service& service, const Name& owner, const geo::Choice& choice,
                    Name& target) noexcept;
  void answer_rrset(const Name& owner, const RRset& rrset) noexcept;
  void authority_stage() noexcept;
  void additional_stage() noexcept;
  void collect_targets(const RRset& rrset) noexcept;
  void count_answer(const geo::Choice& choice) noexcept {
    if (choice.stage == geo::Stage::fail_open) {
      extended_error_ = {ede::OTHER,
                         "fail-open: no endpoint of the service is healthy; answering them all"};
    } else if (choice.stage == geo::Stage::fallback) {
      extended_error_ = {ede::OTHER,
                         "fallback: no endpoint of the service is healthy; answering its fallback"};
    }
    QueryStats::bump(stats_.service_answers);
    if (choice.degraded) QueryStats::bump(stats_.fail_open);
    QueryStats::bump(stats_.answers_by_service[QueryStats::slot(
        table_.service_stats_slot(service_index_), stats_.answers_by_service.size())]);
    QueryStats::bump(stats_.answers_by_site[QueryStats::slot(table_.site_stats_slot(choice.site),
                                                             stats_.answers_by_site.size())]);
  }
  void must_fit(bool written) noexcept {
    if (!written) truncated_ = true;
  }

  const AnswererSettings& settings_;
  const RoutingTable& table_;
  const QueryContext& context_;
  const Query& query_;
  MessageWriter& writer_;
  QueryStats& stats_;

  Rcode rcode_ = Rcode::noerror;
  bool authoritative_ = true;
  bool truncated_ = false;
  std::uint8_t scope_prefix_len_ = 0;
  ExtendedError extended_error_;
  std::uint32_t service_index_ = 0;      // of the service being answered, for the counters
  const Zone* negative_zone_ = nullptr;  // NXDOMAIN/NODATA: whose SOA goes in authority
  const ZoneNode* referral_ = nullptr;   // the zone cut of a referral
  Targets targets_;
};

void Session::resolve() noexcept {
  answer_stage();
  if (!truncated_) authority_stage();
  if (!truncated_) additional_stage();
}

void Session::answer_stage() noexcept {
  const Zone* zone = table_.find_zone(query_.qname);
  if (zone == nullptr) {
    rcode_ = Rcode::refused;
    authoritative_ = false;
    extended_error_ = {ede::NOT_AUTHORITATIVE, "not in a zone of this server"};
    return;
  }
  QueryStats::bump(stats_.by_zone[QueryStats::slot(
      table_.zone_stats_slot(static_cast<std::size_t>(zone - table_.zones().data())),
      stats_.by_zone.size())]);
  Name current = query_.qname;
  // The owners whose CNAME is in the answer: a chain never writes one twice,
  // so a loop ends once each of its links is there.
  std::array<Name, kMaxChain> chain;
  std::size_t chained = 0;
  const auto follow = [&](const Name& owner, const Name& target) noexcept {
    if (chained < chain.size()) chain[chained++] = owner;
    return std::none_of(chain.begin(), chain.begin() + static_cast<std::ptrdiff_t>(chained),
                        [&](const Name& seen) { return seen.equals(target); });
  };
  for (int hop = 0;; ++hop) {
    const ZoneMatch match = zone->lookup(current);
    switch (match.kind) {
      case ZoneMatch::Kind::delegation:
        // DS at the cut itself is the parent's data (RFC 4035 3.1.4.1):
        // an authoritative answer, or NODATA with the SOA, never a referral.
        if (query_.qtype == rrtype::DS && match.node->owner.equals(current)) {
          if (const RRset* ds = match.node->find(rrtype::DS)) {
            answer_rrset(current, *ds);
          } else {
            negative_zone_ = zone;
          }
          return;
        }
        // The first owner decides AA; a chain that leads into a child zone
        // keeps the authoritative CNAMEs and adds the referral.
        if (hop == 0) authoritative_ = false;
        referral_ = match.node;
        return;
      case ZoneMatch::Kind::nxdomain:
        rcode_ = Rcode::nxdomain;
        negative_zone_ = zone;
        return;
      case ZoneMatch::Kind::exact:
      case ZoneMatch::Kind::wildcard: break;
    }
    const ZoneNode& node = *match.node;
    if (node.service >= 0) {
      // A service may answer a CNAME (an endpoint given as a name), which
      // the chain follows inside our zones like a static one.
      const std::uint16_t answers_before = writer_.count(Section::answer);
      Name target;
      if (answer_service_node(node, current, target)) {
        if (truncated_ || query_.qtype == rrtype::CNAME || query_.qtype == rrtype::ANY ||
            hop + 1 >= kMaxChain) {
          return;
        }
        const Zone* next = table_.find_zone(target);
        if (next == nullptr) return;  // outside our zones: the resolver follows
        if (!follow(current, target)) return;
        zone = next;
        current = target;
        continue;
      }
      if (writer_.count(Section::answer) == answers_before && !truncated_ &&
          rcode_ == Rcode::noerror) {
        negative_zone_ = zone;
      }
      return;
    }
    const RRset* cname = node.find(rrtype::CNAME);
    // RRSIG and NSEC may live beside a CNAME (RFC 4035 2.5): asked for, they
    // are answered at the owner, not by following it.
    if (cname == nullptr || query_.qtype == rrtype::CNAME || query_.qtype == rrtype::RRSIG ||
        query_.qtype == rrtype::NSEC) {
      const std::uint16_t answers_before = writer_.count(Section::answer);
      answer_terminal(node, current);
      // NODATA, also at the end of a CNAME chain (RFC 2308 2.2): SOA.
      if (writer_.count(Section::answer) == answers_before && !truncated_ &&
          rcode_ == Rcode::noerror) {
        negative_zone_ = zone;
      }
      return;
    }
    answer_rrset(current, *cname);
    if (truncated_ || query_.qtype == rrtype::ANY || hop + 1 >= kMaxChain) return;
    const Name target = [&] {
      Name name;
      Name::from_wire(
          std::span(cname->rdatas.front().bytes.data(), cname->rdatas.front().bytes.size()), name);
      return name;
    }();
    const Zone* next = table_.find_zone(target);
    if (next == nullptr) return;  // outside our zones: the resolver follows
    if (!follow(current, target)) return;
    zone = next;
    current = target;
  }
}

void Session::answer_terminal(const ZoneNode& node, const Name& owner) noexcept {
  const std::uint16_t qtype = query_.qtype;
  if (qtype == rrtype::ANY) {
    if (!node.rrsets.empty()) answer_rrset(owner, node.rrsets.front());
    return;
  }
  if (const RRset* rrset = node.find(qtype)) answer_rrset(owner, *rrset);
}

// A service's name: A and AAAA by steering; a CNAME when the first pick is a
// name. A CNAME is alone at its name (RFC 1034 3.6.2; the config allows no
// other records beside a service with names), so at a service that has
// names every other type gets the CNAME the A choice (AAAA's, for a service
// without IPv4) gives this client, or NODATA when that choice is addresses.
// Returns true when a CNAME was written, with its target in `target`.
bool Session::answer_service_node(const ZoneNode& node, const Name& owner, Name& target) noexcept {
  const Service& service = table_.service(static_cast<std::uint32_t>(node.service));
  service_index_ = static_cast<std::uint32_t>(node.service);
  const std::uint16_t qtype = query_.qtype;
  if (qtype == rrtype::A || qtype == rrtype::AAAA)
    return answer_addresses(service, owner, qtype, target);
  const std::uint16_t answers_before = writer_.count(Section::answer);
  if (qtype == rrtype::ANY) {
    // RFC 8482: one RRset is enough; a service answers with its A choice.
    if (answer_addresses(service, owner, rrtype::A, target)) return true;
    if (writer_.count(Section::answer) == answers_before && rcode_ == Rcode::noerror) {
      if (answer_addresses(service, owner, rrtype::AAAA, target)) return true;
    }
    if (rcode_ != Rcode::noerror || writer_.count(Section::answer) > answers_before) return false;
    if (!node.rrsets.empty()) answer_rrset(owner, node.rrsets.front());
    return false;
  }
  if (!service.cname_targets.empty()) {
    std::array<const IpAddress*, geo::kMaxAnswerCount> picked{};
    for (const auto family : {IpAddress::Family::v4, IpAddress::Family::v6}) {
      const geo::Choice choice = steer(service, family, picked);
      if (choice.cname != geo::kNoCname) return answer_cname(service, owner, choice, target);
      // Addresses (or nothing healthy): no data of this type here.
      if (choice.count > 0 || choice.stage != geo::Stage::none) return false;
    }
    return false;
  }
  if (const RRset* rrset = node.find(qtype)) answer_rrset(owner, *rrset);
  return false;
}

geo::Choice Session::steer(const Service& service, IpAddress::Family family,
                           std::span<const IpAddress*> picked) noexcept {
  const ClientSubnet& ecs = query_.edns.client_subnet;
  const IpNetwork ecs_network{ecs.address, ecs.source_prefix_len};
  // The service decides whether ECS counts (ecs: false, private subnets).
  const geo::ClientNetwork client = geo::select_client(
      service.steering.spec(), ecs.present ? &ecs_network : nullptr, context_.source);
  const geo::Choice choice = service.steering.choose(
      table_.locator(), client.network, family, *context_.rng, picked, nullptr, client.from_ecs);
  // An answer located by the source address does not depend on the subnet
  // the resolver sent: scope 0 lets it cache the answer for all of them.
  if (client.from_ecs) scope_prefix_len_ = std::max(scope_prefix_len_, choice.scope_prefix_len);
  return choice;
}

bool Session::answer_cname(const Service& service, const Name& owner, const geo::Choice& choice,
                           Name& target) noexcept {
  count_answer(choice);
  const std::uint32_t ttl =
      choice.degraded ? std::min(service.degraded_ttl_s, service.ttl_s) : service.ttl_s;
  const Rdata& rdata = service.cname_targets[choice.cname];
  if (!writer_.record(Section::answer, owner, rrtype::CNAME, ttl, rdata)) {
    truncated_ = true;
    return false;
  }
  return Name::from_wire(std::span(rdata.bytes.data(), rdata.bytes.size()), target);
}

bool Session::answer_addresses(const Service& service, const Name& owner, std::uint16_t type,
                               Name& target) noexcept {
  std::array<const IpAddress*, geo::kMaxAnswerCount> picked{};
  const auto family = type == rrtype::A ? IpAddress::Family::v4 : IpAddress::Family::v6;
  const geo::Choice choice = steer(service, family, picked);
  if (choice.stage == geo::Stage::fail_closed) {
    QueryStats::bump(stats_.fail_closed);
    if (choice.servfail) {
      rcode_ = Rcode::servfail;
      authoritative_ = false;
      extended_error_ = {ede::OTHER, "fail-closed: no endpoint of the service is healthy"};
    }
    return false;
  }
  if (choice.cname != geo::kNoCname) return answer_cname(service, owner, choice, target);
  if (choice.count == 0) return false;
  count_answer(choice);
  const std::uint32_t ttl =
      choice.degraded ? std::min(service.degraded_ttl_s, service.ttl_s) : service.ttl_s;
  const MessageWriter::Mark before = writer_.mark();
  for (std::uint32_t i = 0; i < choice.count; ++i) {
    if (!writer_.address(Section::answer, owner, ttl, *picked[i])) {
      writer_.rollback(before);
      truncated_ = true;
      return false;
    }
  }
  return false;
}

void Session::answer_rrset(const Name& owner, const RRset& rrset) noexcept {
  must_fit(writer_.rrset(Section::answer, owner, rrset));
  if (!truncated_) collect_targets(rrset);
}

void Session::collect_targets(const RRset& rrset) noexcept {
  if (rrset.type != rrtype::NS && rrset.type != rrtype::MX && rrset.type != rrtype::SRV) return;
  for (const Rdata& rdata : rrset.rdatas) {
    if (rdata.names.empty()) continue;
    const RdataName& at = rdata.names.back();  // MX/SRV: the target is the last field
    Name target;
    if (Name::from_wire(std::span(rdata.bytes.data() + at.offset, at.length), target))
      targets_.add(target);
  }
}

void Session::authority_stage() noexcept {
  if (referral_ != nullptr) {
    const RRset* ns = referral_->find(rrtype::NS);
    MERIDIAN_ASSERT(ns != nullptr, "zone cut without NS");
    must_fit(writer_.rrset(Section::authority, referral_->owner, *ns));
    if (!truncated_) collect_targets(*ns);
    return;
  }
  if (negative_zone_ != nullptr) {
    const Zone& zone = *negative_zone_;
    must_fit(writer_.record(Section::authority, zone.origin(), rrtype::SOA, zone.negative_ttl(),
                            zone.soa().rdatas.front()));
  }
}

void Session::additional_stage() noexcept {
  for (std::size_t i = 0; i < targets_.count; ++i) {
    const Name& target = targets_.names[i];
    const Zone* zone = table_.find_zone(target);
    if (zone == nullptr) continue;
    // find_node, not lookup: glue below a zone cut is ours to give.
    const ZoneNode* node = zone->find_node(target);
    if (node == nullptr) continue;
    for (const std::uint16_t type : {rrtype::A, rrtype::AAAA}) {
      const RRset* rrset = node->find(type);
      if (rrset == nullptr) continue;
      if (!writer_.rrset(Section::additional, node->owner, *rrset) && referral_ != nullptr &&
          zone->find_node(referral_->owner) == referral_ &&
          target.is_subdomain_of(referral_->owner)) {
        // RFC 9471: glue for in-domain name servers must fit, or TC.
        truncated_ = true;
        return;
      }
    }
  }
}

std::uint16_t response_flags(const Query& query) noexcept {
  return static_cast<std::uint16_t>(flag::QR | (query.opcode << 11) |
                                    (query.flags & (flag::RD | flag::CD)));
}

// Writes the OPT record: our payload size, the extended RCODE bits, and the
// options the client asked for.
void finish_opt(MessageWriter& writer, const AnswererSettings& settings, const Query& query,
                Rcode rcode, std::uint8_t scope_prefix_len, const ExtendedError& error,
                const std::array<std::uint8_t, kServerCookieSize>* server_cookie) noexcept {
  std::array<std::uint8_t,
             4 + kMaxNsid + 4 + 4 + 16 + kCookieOptionSize + kEdeFixedSize + kMaxEdeText>
      options{};
  std::size_t size = 0;
  if (server_cookie != nullptr) {
    // RFC 7873 5.2: the client cookie back, with our server cookie.
    const std::uint8_t head[4] = {0, static_cast<std::uint8_t>(edns_option::COOKIE), 0,
                                  static_cast<std::uint8_t>(8 + kServerCookieSize)};
    std::memcpy(options.data(), head, sizeof head);
    std::memcpy(options.data() + 4, query.edns.cookie.client.data(), 8);
    std::memcpy(options.data() + 12, server_cookie->data(), kServerCookieSize);
    size = kCookieOptionSize;
  }
  const ClientSubnet& ecs = query.edns.client_subnet;
  if (ecs.present && rcode != Rcode::badvers) {
    const std::size_t address_length = (ecs.source_prefix_len + 7u) / 8u;
    const std::size_t length = 4 + address_length;
    const std::uint8_t head[8] = {0,
                                  static_cast<std::uint8_t>(edns_option::CLIENT_SUBNET),
                                  0,
                                  static_cast<std::uint8_t>(length),
                                  static_cast<std::uint8_t>(ecs.family >> 8),
                                  static_cast<std::uint8_t>(ecs.family),
                                  ecs.source_prefix_len,
                                  std::min(scope_prefix_len, ecs.source_prefix_len)};
    std::memcpy(options.data() + size, head, sizeof head);
    std::memcpy(options.data() + size + sizeof head, ecs.address.bytes.data(), address_length);
    size += sizeof head + address_length;
  }
  if (query.edns.nsid_requested && !settings.nsid.empty()) {
    const std::size_t length = std::min(settings.nsid.size(), kMaxNsid);
    const std::uint8_t head[4] = {0, static_cast<std::uint8_t>(edns_option::NSID),
                                  static_cast<std::uint8_t>(length >> 8),
                                  static_cast<std::uint8_t>(length)};
    std::memcpy(options.data() + size, head, sizeof head);
    // The NSID goes out as bytes, without a terminator (RFC 5001).
    std::copy_n(settings.nsid.data(), length, options.data() + size + sizeof head);
    size += sizeof head + length;
  }
  const auto code = static_cast<std::uint16_t>(rcode);
  // The extended error last: advisory, it is left out when the answer has
  // no room for it (the rest of the OPT has its reservation).
  std::size_t with_error = size;
  if (error.present()) {
    const std::size_t text = std::min(error.text.size(), kMaxEdeText);
    const std::size_t length = 2 + text;
    const std::uint8_t head[kEdeFixedSize] = {
        0,
        static_cast<std::uint8_t>(edns_option::EXTENDED_ERROR),
        static_cast<std::uint8_t>(length >> 8),
        static_cast<std::uint8_t>(length),
        static_cast<std::uint8_t>(error.code >> 8),
        static_cast<std::uint8_t>(error.code)};
    std::memcpy(options.data() + size, head, sizeof head);
    std::copy_n(error.text.data(), text, options.data() + size + sizeof head);
    with_error = size + sizeof head + text;
  }
  const auto write = [&](std::size_t length) {
    return writer.opt(settings.udp_payload, static_cast<std::uint8_t>(code >> 4),
                      query.edns.dnssec_ok, std::span<const std::uint8_t>(options.data(), length));
  };
  const bool written = write(with_error) || write(size);
  MERIDIAN_ASSERT(written, "OPT did not fit its reservation");
}

std::size_t opt_size(const AnswererSettings& settings, const Query& query,
                     bool with_cookie) noexcept {
  std::size_t size = kOptFixedSize;
  if (with_cookie) size += kCookieOptionSize;
  if (query.edns.client_subnet.present)
    size += 8 + (query.edns.client_subnet.source_prefix_len + 7u) / 8u;
  if (query.edns.nsid_requested && !settings.nsid.empty())
    size += 4 + std::min(settings.nsid.size(), kMaxNsid);
  return size;
}

void set_rcode(MessageWriter& writer, Rcode rcode) noexcept {
  const auto code = static_cast<std::uint16_t>(rcode);
  writer.set_flags(static_cast<std::uint16_t>((writer.flags() & 0xFFF0) | (code & 0x0F)));
}

/// Why a query answered without a lookup was refused, for the person
/// debugging it (RFC 8914); nothing for the other early answers.
ExtendedError early_extended_error(const Query& query, Rcode rcode) noexcept {
  if (rcode != Rcode::refused) return {};
  if (query.qclass != rrclass::IN) return {ede::NOT_SUPPORTED, "only class IN is served"};
  return {ede::PROHIBITED, "zone transfers are not served"};
}

/// The RCODE of a query answered without a lookup, or nothing when the
/// zones answer it. The checks run in order of precedence (a query with an
/// unknown EDNS version gets BADVERS whatever it asks). QCLASS other than
/// IN, ANY (*) included, is REFUSED: RFC 1034 3.7.1 lets an authoritative
/// server answer * only non-authoritatively, from data of every class, and
/// Meridian holds IN data alone (docs/configuration.md).
std::optional<Rcode> rcode_without_lookup(ParseOutcome outcome, const Query& query) noexcept {
  if (outcome == ParseOutcome::formerr) return Rcode::formerr;
  if (outcome == ParseOutcome::notimp) return Rcode::notimp;
  if (query.edns.present && query.edns.version > 0) return Rcode::badvers;  // RFC 6891 6.1.3
  if (query.qclass != rrclass::IN) return Rcode::refused;
  if (query.qtype == rrtype::AXFR || query.qtype == rrtype::IXFR) {
    return Rcode::refused;  // no zone transfers
  }
  // Every other type, the meta types too (OPT, MAILA, MAILB, TKEY, ...),
  // is looked up: no data of that type exists, so the answer is NODATA or
  // NXDOMAIN with the SOA, authoritative, as Knot and NSD answer.
  return std::nullopt;
}

}  // namespace

Answerer::Answerer(AnswererSettings settings) : settings_(std::move(settings)) {
  settings_.udp_payload =
      std::clamp<std::uint16_t>(settings_.udp_payload, kMinUdpPayload, kMaxUdpPayload);
  if (settings_.nsid.size() > kMaxNsid) settings_.nsid.resize(kMaxNsid);
}

std::size_t Answerer::answer(const RoutingTable& table, const QueryContext& context,
                             std::span<const std::uint8_t> packet, std::span<std::uint8_t> response,
                             QueryStats& stats) const noexcept {
  QueryStats::bump(stats.queries);
  Query query;
  const ParseOutcome outcome = parse_query(packet, query);
  if (outcome == ParseOutcome::drop) {
    QueryStats::bump(stats.dropped);
    return 0;
  }

  std::size_t limit = kMaxTcpMessage;
  if (context.transport == Transport::udp) {
    limit = (outcome == ParseOutcome::ok && query.edns.present)
                ? std::min(query.edns.udp_payload, settings_.udp_payload)
                : kMinUdpPayload;
  }
  MessageWriter writer(response, limit);
  writer.header(query.id, response_flags(query));
  // An OPT goes back only when the query's OPT was understood.
  const bool with_opt = outcome == ParseOutcome::ok && query.edns.present;
  // A COOKIE is answered only when the node has secrets (RFC 7873 5.2.1:
  // otherwise the option is ignored).
  const bool with_cookie = with_opt && query.edns.cookie.present && context.cookies != nullptr;
  if (with_opt) writer.reserve(opt_size(settings_, query, with_cookie));
  if (query.has_question) {
    writer.question(query.qname, query.qtype, query.qclass);
    QueryStats::bump(stats.by_qtype[qtype_slot(query.qtype)]);
  }
  const MessageWriter::Mark after_question = writer.mark();

  CookieCheck cookie = CookieCheck::client_only;
  if (with_cookie) {
    cookie = check_cookie(*context.cookies, query.edns.cookie, context.source, context.now_s);
    QueryStats::bump(is_valid(cookie)                 ? stats.cookie_valid
                     : cookie == CookieCheck::invalid ? stats.cookie_invalid
                                                      : stats.cookie_client_only);
  }

  Rcode rcode = Rcode::noerror;
  std::uint8_t scope = 0;
  ExtendedError error;
  ResponseKind kind = ResponseKind::error;
  const Name* accounted = nullptr;
  if (const std::optional<Rcode> early = rcode_without_lookup(outcome, query)) {
    rcode = *early;
    error = early_extended_error(query, rcode);
  } else {
    if (query.edns.client_subnet.present) QueryStats::bump(stats.client_subnet);
    Session session(*this, table, context, query, writer, stats);
    session.resolve();
    rcode = session.rcode();
    scope = session.scope_prefix_len();
    error = session.extended_error();
    kind = session.kind();
    accounted = &session.accounted_name();
    std::uint16_t flags = writer.flags();
    if (session.authoritative()) flags |= flag::AA;
    if (session.truncated()) {
      // A truncated answer keeps only the question: a partial RRset
      // would mislead, and the client retries over TCP anyway.
      writer.rollback(after_question);
      flags |= flag::TC;
      QueryStats::bump(stats.truncated);
    }
    writer.set_flags(flags);
  }

  // Rate limiting, for UDP sources that did not prove their address with
  // a cookie: over the limit, the response is dropped or slipped (sent
  // truncated, so a real resolver retries over TCP).
  if (context.transport == Transport::udp && context.rate_limiter != nullptr && !is_valid(cookie) &&
      !context.rate_limiter->exempt(context.source)) {
    std::array<char, Name::kMaxWireLength> lowered{};
    std::string_view name;
    if (accounted != nullptr && kind != ResponseKind::error)
      name = accounted->lowercase_key(lowered);
    const RateDecision decision = context.rate_limiter->account(
        context.source, kind,
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(name.data()),
                                      name.size()),
        query.qtype, context.now_ms);
    if (decision == RateDecision::drop) {
      QueryStats::bump(stats.rate_limited_dropped);
      return 0;
    }
    if (decision == RateDecision::slip) {
      QueryStats::bump(stats.rate_limited_slipped);
      writer.rollback(after_question);
      writer.set_flags(static_cast<std::uint16_t>(writer.flags() | flag::TC));
      error = {};
    }
  }

  set_rcode(writer, rcode);
  std::array<std::uint8_t, kServerCookieSize> server_cookie{};
  if (with_cookie) {
    server_cookie = answer_server_cookie(*context.cookies, query.edns.cookie, cookie,
                                         context.source, context.now_s);
  }
  if (with_opt)
    finish_opt(writer, settings_, query, rcode, scope, error,
               with_cookie ? &server_cookie : nullptr);
  QueryStats::bump(stats.by_rcode[static_cast<std::size_t>(rcode)]);
  return writer.size();
}

}  // namespace meridian::dns
