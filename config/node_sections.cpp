// The node-local sections (node, dns, log, geoip) and `sites:`.

#include <algorithm>
#include <charconv>
#include <filesystem>

#include "config/sections.hpp"

namespace meridian::config_internal {
namespace {

constexpr std::string_view kIdentifierRule = "1 to 63 letters, digits, '.', '_' or '-'";

std::optional<std::string> read_identifier(const Context& context, const Field& field,
                                           std::string_view what) {
  auto text = read_string(context.diag, field, what);
  if (!text) return std::nullopt;
  if (!is_identifier(*text)) {
    report_expected(context.diag, field,
                    std::string(what) + " (" + std::string(kIdentifierRule) + ")");
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> read_path(const Context& context, const Field& field) {
  auto text = read_string(context.diag, field, "a file or directory path");
  if (!text) return std::nullopt;
  if (text->empty()) {
    report_expected(context.diag, field, "a file or directory path");
    return std::nullopt;
  }
  return context.resolve(*text);
}

// Why SocketAddress::parse rejected `text`, for the error message.
std::string listen_problem(std::string_view text) {
  std::string_view host = text;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return "missing ']' after the IPv6 address";
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return "missing :PORT after the address";
    host = text.substr(1, close - 1);
    if (host.find(':') == std::string_view::npos) return "only IPv6 addresses go in brackets";
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return "missing :PORT after the address";
    host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos)
      return "an IPv6 address needs brackets, as in [::1]:53";
  }
  IpAddress address;
  if (!IpAddress::parse(host, address)) return quote(host) + " is not an IP address";
  return "the port must be 1 to 65535";
}

void read_listen(const Context& context, const Field& field, std::vector<SocketAddress>& listen) {
  // One address may be written without the list brackets.
  std::vector<Field> elements;
  if (field.node.IsScalar()) {
    elements.push_back(field);
  } else if (auto list =
                 read_list(context.diag, field, "listen addresses", 1, config_limits::kMaxListen)) {
    elements = std::move(*list);
  } else {
    return;
  }
  std::vector<std::string> paths;
  listen.clear();
  for (const Field& element : elements) {
    auto text =
        read_string(context.diag, element, "an address:port like \"127.0.0.1:53\" or \"[::1]:53\"");
    if (!text) continue;
    SocketAddress parsed;
    if (!SocketAddress::parse(*text, parsed)) {
      report_expected(
          context.diag, element,
          "an address:port like \"127.0.0.1:53\" or \"[::1]:53\" (" + listen_problem(*text) + ")");
      continue;
    }
    const auto same = std::find(listen.begin(), listen.end(), parsed);
    if (same != listen.end()) {
      context.diag.error(location_of(context.diag, element),
                         "duplicate listen address " + parsed.to_string() + " (also at " +
                             paths[static_cast<std::size_t>(same - listen.begin())] + ")");
      continue;
    }
    listen.push_back(parsed);
    paths.push_back(element.path);
  }
}

void read_threads(const Context& context, const Field& field, std::uint32_t& threads) {
  if (field.node.IsScalar() && field.node.Scalar() == "auto") {
    threads = 0;
    return;
  }
  std::int64_t value = 0;
  const std::string text = field.node.IsScalar() ? field.node.Scalar() : std::string();
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (field.node.IsScalar() && ec == std::errc() && end == text.data() + text.size() &&
      value >= 1 && value <= config_limits::kMaxThreads) {
    threads = static_cast<std::uint32_t>(value);
    return;
  }
  report_expected(context.diag, field,
                  "\"auto\" or an integer from 1 to " + std::to_string(config_limits::kMaxThreads));
}

}  // namespace

std::optional<SocketAddress> read_socket_address(const Context& context, const Field& field) {
  auto text =
      read_string(context.diag, field, "an address:port like \"127.0.0.1:7400\" or \"[::1]:7400\"");
  if (!text) return std::nullopt;
  SocketAddress parsed;
  if (!SocketAddress::parse(*text, parsed)) {
    report_expected(context.diag, field,
                    "an address:port like \"127.0.0.1:7400\" or \"[::1]:7400\" (" +
                        listen_problem(*text) + ")");
    return std::nullopt;
  }
  return parsed;
}

std::optional<std::string> read_file_path(const Context& context, const Field& field) {
  return read_path(context, field);
}

std::string Context::resolve(const std::string& path) const {
  const std::filesystem::path file(path);
  if (base_dir.empty() || file.is_absolute()) return file.lexically_normal().string();
  return (std::filesystem::path(base_dir) / file).lexically_normal().string();
}

std::optional<std::uint32_t> Context::site(const Field& field) const {
  auto name = read_string(diag, field, "a site name");
  if (!name || sites == nullptr) return std::nullopt;
  for (std::size_t i = 0; i < sites->size(); ++i) {
    if ((*sites)[i].name == *name) return static_cast<std::uint32_t>(i);
  }
  // A site whose name broke the rule is reported already and kept (see
  // read_sites); listed here it would bring its text, newlines and all,
  // into this error unquoted.
  std::vector<std::string_view> names;
  for (const geo::Site& site : *sites) {
    if (is_identifier(site.name)) names.push_back(site.name);
  }
  report_expected(diag, field, "one of the sites (" + join(names) + ")");
  return std::nullopt;
}

bool is_identifier(std::string_view text) {
  return !text.empty() && text.size() <= config_limits::kMaxNameLength &&
         std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
         });
}

bool read_sites(const Context& context, const Field& field, std::vector<geo::Site>& sites) {
  auto entries = map_entries(context.diag, field);
  if (!entries) return false;
  if (entries->empty() || entries->size() > config_limits::kMaxSites) {
    report_expected(
        context.diag, field,
        "a map of 1 to " + std::to_string(config_limits::kMaxSites) + " sites (name: {lat, lon})");
  }
  for (const MapEntry& entry : *entries) {
    if (!is_identifier(entry.key)) {
      report_expected(context.diag, Field{YAML::Node(entry.key), entry.value.path, entry.key_mark},
                      "a site name (" + std::string(kIdentifierRule) + ")");
    }
    // The site is kept even when its coordinates are wrong, so references to
    // it do not add a second, misleading error.
    geo::Site& site = sites.emplace_back(geo::Site{entry.key, 0, 0});
    MapReader reader(context.diag, entry.value, {"lat", "lon"});
    if (auto lat = reader.required("lat")) {
      if (auto value = read_number(context.diag, *lat, -90, 90)) site.latitude_deg = *value;
    }
    if (auto lon = reader.required("lon")) {
      if (auto value = read_number(context.diag, *lon, -180, 180)) site.longitude_deg = *value;
    }
  }
  return !sites.empty();
}

void read_node(const Context& context, const Field& field, NodeSettings& node) {
  MapReader reader(context.diag, field, {"id", "site", "data_dir"});
  if (auto id = reader.required("id")) {
    if (auto value = read_identifier(context, *id, "a node id")) node.id = std::move(*value);
  }
  if (auto site = reader.required("site")) {
    if (auto index = context.site(*site)) node.site = *index;
  }
  if (auto data_dir = reader.optional("data_dir")) {
    if (auto path = read_path(context, *data_dir)) node.data_dir = std::move(*path);
  }
}

void read_dns(const Context& context, const Field& field, DnsSettings& dns) {
  namespace limits = config_limits;
  MapReader reader(context.diag, field,
                   {"listen", "threads", "udp_payload", "tcp_idle_timeout", "tcp_max_connections",
                    "max_tcp_queries_per_connection", "nsid", "rrl", "cookies",
                    // Per-client limits (docs/security.md):
                    "tcp_max_connections_per_client"});
  Diagnostics& diag = context.diag;
  if (auto listen = reader.optional("listen")) read_listen(context, *listen, dns.listen);
  if (auto threads = reader.optional("threads")) read_threads(context, *threads, dns.threads);
  if (auto payload = reader.optional("udp_payload")) {
    if (auto value = read_integer(diag, *payload, limits::kMinUdpPayload, limits::kMaxUdpPayload)) {
      dns.udp_payload = static_cast<std::uint16_t>(*value);
    }
  }
  if (auto timeout = reader.optional("tcp_idle_timeout")) {
    if (auto value =
            read_duration(diag, *timeout, limits::kMinTcpIdleTimeout, limits::kMaxTcpIdleTimeout)) {
      dns.tcp_idle_timeout = *value;
    }
  }
  if (auto connections = reader.optional("tcp_max_connections")) {
    if (auto value = read_integer(diag, *connections, 1, limits::kMaxTcpConnections)) {
      dns.tcp_max_connections = static_cast<std::uint32_t>(*value);
    }
  }
  if (auto per_client = reader.optional("tcp_max_connections_per_client")) {
    if (auto value = read_integer(diag, *per_client, 1, limits::kMaxTcpConnections)) {
      dns.tcp_max_connections_per_client = static_cast<std::uint32_t>(*value);
    }
  }
  if (auto queries = reader.optional("max_tcp_queries_per_connection")) {
    if (auto value = read_integer(diag, *queries, 1, limits::kMaxTcpQueriesPerConnection)) {
      dns.max_tcp_queries_per_connection = static_cast<std::uint32_t>(*value);
    }
  }
  if (auto nsid = reader.optional("nsid")) {
    auto text = read_string(diag, *nsid, "an NSID string");
    if (text && (text->empty() || text->size() > limits::kMaxNsidBytes)) {
      report_expected(diag, *nsid,
                      "an NSID string of 1 to " + std::to_string(limits::kMaxNsidBytes) + " bytes");
    } else if (text) {
      dns.nsid = std::move(*text);
    }
  }
  if (auto rrl = reader.optional("rrl")) read_rrl(context, *rrl, dns.rrl);
  if (auto cookies = reader.optional("cookies")) read_cookies(context, *cookies, dns.cookies);
}

void read_log(const Context& context, const Field& field, LogLevel& level) {
  MapReader reader(context.diag, field, {"level"});
  if (auto value = reader.optional("level")) {
    static constexpr LogLevel kLevels[] = {LogLevel::debug, LogLevel::info, LogLevel::warn,
                                           LogLevel::error};
    if (auto index = read_choice(context.diag, *value, {"debug", "info", "warn", "error"}))
      level = kLevels[*index];
  }
}

void read_geoip(const Context& context, const Field& field, GeoipSettings& geoip) {
  MapReader reader(context.diag, field, {"database", "asn_database"});
  if (!reader.ok()) return;
  const auto database = reader.optional("database");
  const auto asn_database = reader.optional("asn_database");
  if (!database && !asn_database) {
    context.diag.error(
        location_of(context.diag, field),
        "missing required key \"database\" or \"asn_database\" (a City or Country database for "
        "locations, an ASN database for asn maps, or both)");
    return;
  }
  if (database) {
    if (auto path = read_path(context, *database)) geoip.database = std::move(*path);
  }
  if (asn_database) {
    if (auto path = read_path(context, *asn_database)) geoip.asn_database = std::move(*path);
  }
}

}  // namespace meridian::config_internal
