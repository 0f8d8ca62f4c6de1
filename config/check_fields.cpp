// The fields of one health check (health/check.hpp), shared by `checks:`
// entries and an endpoint's own `check:` map, which overrides some fields of
// a named check. Type-specific fields are rejected on a check of another
// type, so a setting never silently does nothing.

#include <algorithm>
#include <charconv>

#include "base/assert.hpp"
#include "config/duration.hpp"
#include "config/redact.hpp"
#include "config/sections.hpp"
#include "dns/wire/name.hpp"
#include "dns/wire/types.hpp"

namespace meridian::config_internal {
namespace {

namespace limits = config_limits;
using health::CheckSpec;
using health::CheckType;

constexpr std::string_view kTypeNames[] = {"tcp", "http", "https", "dns"};
constexpr CheckType kTypes[] = {CheckType::tcp, CheckType::http, CheckType::https, CheckType::dns};
constexpr std::chrono::milliseconds kDefaultTimeout{2000};
constexpr unsigned kMinStatus = 100;
constexpr unsigned kMaxStatus = 599;
constexpr std::size_t kMaxHostBytes = 255;

// Query types by mnemonic; the probe compares answers of any type as text.
constexpr std::pair<std::string_view, std::uint16_t> kQueryTypes[] = {
    {"A", dns::rrtype::A},         {"AAAA", dns::rrtype::AAAA}, {"NS", dns::rrtype::NS},
    {"SOA", dns::rrtype::SOA},     {"MX", dns::rrtype::MX},     {"TXT", dns::rrtype::TXT},
    {"CNAME", dns::rrtype::CNAME}, {"SRV", dns::rrtype::SRV},   {"PTR", dns::rrtype::PTR},
    {"CAA", dns::rrtype::CAA},
};
// RCODE names by value (RFC 1035, RFC 2136); what the probe prints too.
constexpr std::string_view kRcodes[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                        "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                        "NXRRSET", "NOTAUTH", "NOTZONE"};

bool is_http(CheckType type) {
  return type == CheckType::http || type == CheckType::https;
}

// "a tcp check", "an http check".
std::string a_check_of(CheckType type) {
  const std::string_view name = kTypeNames[static_cast<std::size_t>(type)];
  return (name.starts_with('h') ? "an " : "a ") + std::string(name) + " check";
}

std::uint16_t default_port(CheckType type) {
  switch (type) {
    case CheckType::http: return 80;
    case CheckType::https: return 443;
    case CheckType::dns: return 53;
    case CheckType::tcp: break;
  }
  return 0;  // tcp has none: the port is required
}

// A new type starts from its own defaults: settings of another kind of
// check would only linger unused, and a port meant for another protocol
// would be wrong.
void change_type(CheckDefinition& definition, CheckSpec& spec, CheckType type) {
  spec.type = type;
  spec.port = default_port(type);
  definition.port_set = false;
  if (!is_http(type)) spec.http = {};
  if (type != CheckType::https) spec.tls = {};
  if (type != CheckType::dns) spec.dns = {};
}

bool is_control(char c) {
  return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
}

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](char c) {
    return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  });
  return text;
}

// A scalar whose text passes `valid`; reports `what` otherwise.
template <class Valid>
std::optional<std::string> read_text(Diagnostics& diag, const Field& field, const std::string& what,
                                     Valid valid) {
  auto text = read_string(diag, field, what);
  if (text && !valid(*text)) {
    report_expected(diag, field, what);
    return std::nullopt;
  }
  return text;
}

bool plain_text(std::string_view text, std::size_t max_bytes) {
  return !text.empty() && text.size() <= max_bytes &&
         std::none_of(text.begin(), text.end(), is_control);
}

// One entry of `expect`: "200" or "200-299".
std::optional<health::StatusRange> parse_status(std::string_view text) {
  auto number = [](std::string_view part, unsigned& out) {
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
    return ec == std::errc() && end == part.data() + part.size() && out >= kMinStatus &&
           out <= kMaxStatus;
  };
  const auto dash = text.find('-');
  unsigned first = 0;
  unsigned last = 0;
  if (dash == std::string_view::npos) {
    if (!number(text, first)) return std::nullopt;
    last = first;
  } else if (!number(text.substr(0, dash), first) || !number(text.substr(dash + 1), last) ||
             first > last) {
    return std::nullopt;
  }
  return health::StatusRange{static_cast<std::uint16_t>(first), static_cast<std::uint16_t>(last)};
}

// A single value may be written without the list brackets.
std::optional<std::vector<Field>> one_or_list(Diagnostics& diag, const Field& field,
                                              std::string_view what, std::size_t max_count) {
  if (field.node.IsScalar()) return std::vector<Field>{field};
  return read_list(diag, field, what, 1, max_count);
}

void read_expect(Diagnostics& diag, const Field& field, health::HttpCheck& http) {
  auto elements = one_or_list(diag, field, "status codes", limits::kMaxExpect);
  if (!elements) return;
  std::vector<health::StatusRange> expect;
  for (const Field& element : *elements) {
    std::optional<health::StatusRange> range;
    if (element.node.IsScalar()) range = parse_status(element.node.Scalar());
    if (!range) {
      report_expected(diag, element,
                      "a status code from 100 to 599 or a range like \"200-299\" (first <= last)");
      continue;
    }
    expect.push_back(*range);
  }
  if (expect.size() == elements->size()) http.expect = std::move(expect);
}

void read_headers(Diagnostics& diag, const Field& field, health::HttpCheck& http) {
  auto entries = map_entries(diag, field);
  if (!entries) return;
  if (entries->size() > limits::kMaxHttpHeaders) {
    report_expected(diag, field,
                    "a map of at most " + std::to_string(limits::kMaxHttpHeaders) + " headers");
    return;
  }
  std::vector<std::pair<std::string, std::string>> headers;
  for (const MapEntry& entry : *entries) {
    if (entry.key.empty() || !std::all_of(entry.key.begin(), entry.key.end(), is_token_char)) {
      report_expected(diag, Field{YAML::Node(entry.key), entry.value.path, entry.key_mark},
                      "a header name (letters, digits and !#$%&'*+-.^_`|~)");
      continue;
    }
    // Field values may hold tabs (RFC 9110 5.5), nothing else below space.
    const std::string what = "a header value without line breaks or control characters";
    auto value = read_string(diag, entry.value, what);
    if (!value) continue;
    const bool valid = value->size() <= limits::kMaxCheckTextBytes &&
                       std::none_of(value->begin(), value->end(),
                                    [](char c) { return c != '\t' && is_control(c); });
    if (!is_secret_header(entry.key)) {
      if (!valid) report_expected(diag, entry.value, what);
      if (valid) headers.emplace_back(entry.key, std::move(*value));
      continue;
    }
    // A secret is never quoted in an error: errors reach the node's log and
    // the admin API (a committed version that does not load on a node).
    if (!valid) {
      diag.error(location_of(diag, entry.value), "expected " + what +
                                                     ", found a value not shown here (" +
                                                     entry.key + "'s value is a secret)");
    } else if (*value == kRedacted) {
      diag.error(location_of(diag, entry.value),
                 "expected the real value of " + entry.key + ", found " + quote(kRedacted) +
                     ", what the admin API shows instead of a secret: put the secret back");
    } else {
      headers.emplace_back(entry.key, std::move(*value));
    }
  }
  if (headers.size() == entries->size()) http.headers = std::move(headers);
}

void read_http(Diagnostics& diag, const MapReader& reader, health::HttpCheck& http) {
  static constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "PUT", "OPTIONS"};
  if (auto method = reader.optional("method")) {
    if (auto index = read_choice(diag, *method, {"GET", "HEAD", "POST", "PUT", "OPTIONS"})) {
      http.method = kMethods[*index];
    }
  }
  if (auto path = reader.optional("path")) {
    auto text = read_text(
        diag, *path, "a request path starting with '/', without spaces or control characters",
        [](const std::string& value) {
          return value.starts_with('/') && plain_text(value, limits::kMaxCheckTextBytes) &&
                 value.find(' ') == std::string::npos;
        });
    if (text) http.path = std::move(*text);
  }
  if (auto host = reader.optional("host")) {
    auto text = read_text(
        diag, *host, "a Host header value (1 to 255 bytes, no spaces or control characters)",
        [](const std::string& value) {
          return plain_text(value, kMaxHostBytes) && value.find(' ') == std::string::npos;
        });
    if (text) http.host = std::move(*text);
  }
  if (auto headers = reader.optional("headers")) read_headers(diag, *headers, http);
  if (auto expect = reader.optional("expect")) read_expect(diag, *expect, http);
  if (auto body = reader.optional("body")) {
    auto text = read_text(
        diag, *body,
        "a body substring of 1 to " + std::to_string(limits::kMaxCheckTextBytes) +
            " bytes, without control characters",
        [](const std::string& value) { return plain_text(value, limits::kMaxCheckTextBytes); });
    if (text) http.body_contains = std::move(*text);
  }
  if (auto limit = reader.optional("body_limit")) {
    if (auto value = read_integer(diag, *limit, 1, limits::kMaxBodyLimit)) {
      http.body_limit_bytes = static_cast<std::uint32_t>(*value);
    }
  }
}

void read_tls(const Context& context, const Field& field, health::TlsCheck& tls) {
  MapReader reader(context.diag, field, {"verify", "ca_file", "server_name"});
  if (auto verify = reader.optional("verify")) {
    if (auto index = read_choice(context.diag, *verify, {"true", "false"}))
      tls.verify = *index == 0;
  }
  if (auto ca_file = reader.optional("ca_file")) {
    auto text = read_text(context.diag, *ca_file, "a CA bundle file path",
                          [](const std::string& v) { return !v.empty(); });
    if (text) tls.ca_file = context.resolve(*text);
  }
  if (auto server_name = reader.optional("server_name")) {
    // SNI carries no final dot (RFC 6066 3).
    auto text = read_text(
        context.diag, *server_name, "a host name without the final dot (like api.example.com)",
        [](const std::string& v) {
          const dns::Name root;
          dns::Name name;
          return plain_text(v, kMaxHostBytes) && !v.ends_with('.') &&
                 dns::Name::from_text(v, name, &root) &&
                 std::all_of(v.begin(), v.end(),
                             [](char c) { return c == '.' || c == '_' || is_token_char(c); });
        });
    if (text) tls.server_name = std::move(*text);
  }
}

// A mnemonic from `names` in any case; reports the choices otherwise.
std::optional<std::size_t> read_mnemonic(Diagnostics& diag, const Field& field,
                                         const std::vector<std::string_view>& names) {
  if (field.node.IsScalar()) {
    const std::string text = upper(field.node.Scalar());
    const auto it = std::find(names.begin(), names.end(), text);
    if (it != names.end()) return static_cast<std::size_t>(it - names.begin());
  }
  report_expected(diag, field, "one of (" + join(names, names.size()) + ")");
  return std::nullopt;
}

void read_query(const Context& context, const Field& field, health::DnsCheck& query) {
  Diagnostics& diag = context.diag;
  MapReader reader(diag, field, {"name", "type", "rcode", "answer"});
  if (auto name = reader.optional("name")) {
    const dns::Name root;
    dns::Name parsed;
    auto text = read_text(diag, *name, "a domain name", [&](const std::string& v) {
      return dns::Name::from_text(v, parsed, &root);
    });
    if (text) query.qname = parsed.to_text();
  }
  if (auto type = reader.optional("type")) {
    std::vector<std::string_view> names;
    for (const auto& [mnemonic, value] : kQueryTypes) names.push_back(mnemonic);
    if (auto index = read_mnemonic(diag, *type, names)) query.qtype = kQueryTypes[*index].second;
  }
  if (auto rcode = reader.optional("rcode")) {
    if (auto index = read_mnemonic(diag, *rcode, {std::begin(kRcodes), std::end(kRcodes)})) {
      query.expect_rcode = static_cast<std::uint8_t>(*index);
    }
  }
  if (auto answer = reader.optional("answer")) {
    auto elements = one_or_list(diag, *answer, "expected answers", limits::kMaxDnsAnswers);
    if (!elements) return;
    // Addresses are compared as addresses, so they must be ones.
    const bool v4 = query.qtype == dns::rrtype::A;
    const bool v6 = query.qtype == dns::rrtype::AAAA;
    const std::string what = v4   ? "an IPv4 address"
                             : v6 ? "an IPv6 address"
                                  : "an answer's RDATA as text";
    std::vector<std::string> answers;
    for (const Field& element : *elements) {
      auto text = read_text(diag, element, what, [&](const std::string& v) {
        IpAddress address;
        if (v4 || v6)
          return IpAddress::parse(v, address) && (address.family == IpAddress::Family::v4) == v4;
        return plain_text(v, limits::kMaxCheckTextBytes);
      });
      if (text) answers.push_back(std::move(*text));
    }
    if (answers.size() == elements->size()) query.expect_answer = std::move(answers);
  }
}

// interval and timeout, which depend on each other.
void read_timing(Diagnostics& diag, const MapReader& reader, CheckDefinition& definition,
                 CheckSpec& spec) {
  const auto interval = reader.optional("interval");
  const auto timeout = reader.optional("timeout");
  bool valid = true;
  if (interval) {
    auto value =
        read_duration(diag, *interval, limits::kMinCheckInterval, limits::kMaxCheckInterval);
    if (value) spec.interval = *value;
    valid = valid && value.has_value();
  }
  if (timeout) {
    auto value = read_duration(diag, *timeout, limits::kMinCheckTimeout, limits::kMaxCheckInterval);
    if (value) spec.timeout = *value;
    definition.timeout_set = definition.timeout_set || value.has_value();
    valid = valid && value.has_value();
  }
  if (!valid) return;
  if (!definition.timeout_set) {
    spec.timeout = std::min(kDefaultTimeout, spec.interval / 2);
    return;
  }
  // A probe still running when the next is due would overlap it.
  if (spec.timeout < spec.interval) return;
  if (timeout) {
    report_expected(diag, *timeout,
                    "a timeout less than the interval (" + format_duration(spec.interval) + ")");
  } else if (interval) {
    // Only a changed check inherits a timeout it does not show.
    report_expected(diag, *interval,
                    "an interval greater than the timeout (" + format_duration(spec.timeout) +
                        ", from check " + quote(definition.name) + ")");
  }
}

// `probe_from: all`, a list of sites, or `{ nearest: N }`.
void read_probe_from(const Context& context, const Field& field, health::ProbeFrom& probe_from) {
  Diagnostics& diag = context.diag;
  constexpr std::string_view kExpected = "all, a list of sites, or { nearest: N }";
  if (field.node.IsScalar()) {
    if (field.node.Scalar() == "all") {
      probe_from = health::ProbeFrom{};
    } else {
      report_expected(diag, field, std::string(kExpected));
    }
    return;
  }
  if (field.node.IsSequence()) {
    auto elements = read_list(diag, field, "probe_from", 1, limits::kMaxSites);
    if (!elements) return;
    health::ProbeFrom out{health::ProbeFrom::Kind::sites, {}, 0};
    for (const Field& element : *elements) {
      auto site = context.site(element);
      if (!site) continue;
      if (std::find(out.sites.begin(), out.sites.end(), *site) != out.sites.end()) {
        report_expected(diag, element, "each site once");
        continue;
      }
      out.sites.push_back(*site);
    }
    std::sort(out.sites.begin(), out.sites.end());
    probe_from = std::move(out);
    return;
  }
  if (!field.node.IsMap()) {
    report_expected(diag, field, std::string(kExpected));
    return;
  }
  MapReader reader(diag, field, {"nearest"});
  if (!reader.ok()) return;
  if (auto nearest = reader.required("nearest")) {
    if (auto value = read_integer(diag, *nearest, 1, limits::kMaxSites)) {
      probe_from = health::ProbeFrom{
          health::ProbeFrom::Kind::nearest, {}, static_cast<std::uint32_t>(*value)};
    }
  }
}

}  // namespace

std::vector<std::string_view> check_keys() {
  return {"type",   "port",       "interval", "timeout", "rise",      "fall",
          "method", "path",       "host",     "headers", "expect",    "body",
          "tls",    "body_limit", "query",    "quorum",  "probe_from"};
}

std::optional<CheckDefinition> read_check_fields(const Context& context, const Field& field,
                                                 const MapReader& reader,
                                                 const CheckDefinition* base,
                                                 const std::string& name) {
  MERIDIAN_ASSERT(base == nullptr || base->spec.has_value(), "a base check must be valid");
  Diagnostics& diag = context.diag;
  const std::size_t errors_before = diag.count();
  CheckDefinition definition =
      base != nullptr ? *base : CheckDefinition{name, CheckSpec{}, false, false};
  CheckSpec spec = base != nullptr ? *base->spec : CheckSpec{};
  spec.name = definition.name;
  // Unknown while `type` is wrong: then fields are not judged by type.
  std::optional<CheckType> type;
  if (base != nullptr) type = spec.type;
  if (auto field_type = base != nullptr ? reader.optional("type") : reader.required("type")) {
    type.reset();
    if (auto index = read_choice(diag, *field_type, {"tcp", "http", "https", "dns"})) {
      type = kTypes[*index];
      if (base == nullptr || *type != base->spec->type) change_type(definition, spec, *type);
    }
  }
  if (auto port = reader.optional("port")) {
    if (auto value = read_integer(diag, *port, 1, 65535)) {
      spec.port = static_cast<std::uint16_t>(*value);
      definition.port_set = true;
    }
  } else if (type == CheckType::tcp && !definition.port_set) {
    diag.error(location_of(diag, field),
               "missing required key \"port\" (a tcp check has no default port)");
  }
  read_timing(diag, reader, definition, spec);
  if (auto rise = reader.optional("rise")) {
    if (auto value = read_integer(diag, *rise, 1, limits::kMaxRiseFall))
      spec.rise = static_cast<std::uint32_t>(*value);
  }
  if (auto fall = reader.optional("fall")) {
    if (auto value = read_integer(diag, *fall, 1, limits::kMaxRiseFall))
      spec.fall = static_cast<std::uint32_t>(*value);
  }
  if (auto quorum = reader.optional("quorum")) {
    static constexpr health::ObserverQuorum kQuorums[] = {
        health::ObserverQuorum::majority, health::ObserverQuorum::any, health::ObserverQuorum::all};
    if (auto index = read_choice(diag, *quorum, {"majority", "any", "all"}))
      spec.quorum = kQuorums[*index];
  }
  if (auto probe_from = reader.optional("probe_from"))
    read_probe_from(context, *probe_from, spec.probe_from);

  // Fields of one kind of check on a check of another kind are errors, and
  // are not read further (their values would only add follow-on errors).
  auto fits = [&](std::initializer_list<std::string_view> keys, bool applies,
                  std::string_view which) {
    if (!type || applies) return true;
    for (std::string_view key : keys) {
      if (auto value = reader.optional(key)) {
        report_expected(diag, *value,
                        "no " + std::string(key) + " in " + a_check_of(*type) + " (only " +
                            std::string(which) + " checks take it)");
      }
    }
    return false;
  };
  if (fits({"method", "path", "host", "headers", "expect", "body", "body_limit"},
           type && is_http(*type), "http and https")) {
    read_http(diag, reader, spec.http);
  }
  if (auto tls = reader.optional("tls"); fits({"tls"}, type == CheckType::https, "https") && tls) {
    read_tls(context, *tls, spec.tls);
  }
  if (auto query = reader.optional("query");
      fits({"query"}, type == CheckType::dns, "dns") && query) {
    read_query(context, *query, spec.dns);
  }
  // A substring longer than what is read could never match.
  if (diag.count() == errors_before &&
      spec.http.body_contains.size() > spec.http.body_limit_bytes) {
    const std::string length = std::to_string(spec.http.body_contains.size());
    const std::string limit = std::to_string(spec.http.body_limit_bytes);
    if (auto body = reader.optional("body")) {
      report_expected(diag, *body,
                      "a body substring no longer than body_limit (" + limit + " bytes)");
    } else if (auto body_limit = reader.optional("body_limit")) {
      report_expected(diag, *body_limit,
                      "a body_limit of at least the body substring's " + length + " bytes");
    }
  }
  if (diag.count() != errors_before) return std::nullopt;
  definition.spec = std::move(spec);
  return definition;
}

}  // namespace meridian::config_internal
