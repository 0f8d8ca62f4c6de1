// `dns.rrl` and `dns.cookies`: the abuse defences of the DNS listeners.

#include "config/sections.hpp"

namespace meridian::config_internal {
namespace {

void read_exempt(const Context& context, const Field& field, std::vector<IpNetwork>& exempt) {
  auto entries = read_list(context.diag, field, "networks", 0, config_limits::kMaxRrlExempt);
  if (!entries) return;
  exempt.clear();
  for (const Field& entry : *entries) {
    auto text = read_string(context.diag, entry, "a network like 192.0.2.0/24 or 2001:db8::/48");
    if (!text) continue;
    IpNetwork network;
    if (!IpNetwork::parse(*text, network)) {
      report_expected(context.diag, entry,
                      "a network like 192.0.2.0/24 or 2001:db8::/48 with no host bits set");
      continue;
    }
    exempt.push_back(network);
  }
}

}  // namespace

std::optional<bool> read_bool(const Context& context, const Field& field) {
  auto index = read_choice(context.diag, field, {"false", "true"});
  if (!index) return std::nullopt;
  return *index == 1;
}

void read_rrl(const Context& context, const Field& field, dns::RateLimitSettings& rrl) {
  namespace limits = config_limits;
  MapReader reader(
      context.diag, field,
      {"responses_per_second", "slip", "ipv4_prefix", "ipv6_prefix", "exempt", "table_size"});
  Diagnostics& diag = context.diag;
  if (auto rate = reader.optional("responses_per_second")) {
    if (auto value = read_integer(diag, *rate, 0, limits::kMaxRrlRate))
      rrl.responses_per_second = static_cast<std::uint32_t>(*value);
  }
  if (auto slip = reader.optional("slip")) {
    if (auto value = read_integer(diag, *slip, 0, limits::kMaxRrlSlip))
      rrl.slip = static_cast<std::uint32_t>(*value);
  }
  if (auto prefix = reader.optional("ipv4_prefix")) {
    if (auto value = read_integer(diag, *prefix, 8, 32))
      rrl.ipv4_prefix_len = static_cast<std::uint8_t>(*value);
  }
  if (auto prefix = reader.optional("ipv6_prefix")) {
    if (auto value = read_integer(diag, *prefix, 16, 128))
      rrl.ipv6_prefix_len = static_cast<std::uint8_t>(*value);
  }
  if (auto exempt = reader.optional("exempt")) read_exempt(context, *exempt, rrl.exempt);
  if (auto size = reader.optional("table_size")) {
    if (auto value = read_integer(diag, *size, limits::kMinRrlTable, limits::kMaxRrlTable))
      rrl.table_size = static_cast<std::uint32_t>(*value);
  }
}

void read_cookies(const Context& context, const Field& field, CookieSettings& cookies) {
  MapReader reader(context.diag, field, {"enabled", "rotate_every", "secret_file"});
  if (auto enabled = reader.optional("enabled")) {
    if (auto value = read_bool(context, *enabled)) cookies.enabled = *value;
  }
  if (auto rotate = reader.optional("rotate_every")) {
    if (auto value = read_duration(context.diag, *rotate, config_limits::kMinCookieRotation,
                                   config_limits::kMaxCookieRotation))
      cookies.rotate_every = *value;
  }
  if (auto file = reader.optional("secret_file")) {
    if (auto path = read_file_path(context, *file)) cookies.secret_file = std::move(*path);
  }
}

}  // namespace meridian::config_internal
