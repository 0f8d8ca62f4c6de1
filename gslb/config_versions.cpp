#include "gslb/config_versions.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <vector>

#include "base/assert.hpp"
#include "config/redact.hpp"
#include "gslb/health_records.hpp"

namespace meridian::gslb {

namespace {

constexpr std::string_view kFormat = "v1";

bool parse_u64(std::string_view digits, std::uint64_t& out) {
  if (digits.empty() || digits.size() > 20) return false;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return ec == std::errc() && end == digits.data() + digits.size();
}

bool is_fingerprint(std::string_view text) {
  if (text.size() != 16) return false;
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> fields;
  while (true) {
    const auto tab = line.find('\t');
    fields.push_back(line.substr(0, tab));
    if (tab == std::string_view::npos) return fields;
    line.remove_prefix(tab + 1);
  }
}

}  // namespace

std::string config_version_key(std::uint64_t number) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%016llu", static_cast<unsigned long long>(number));
  return std::string(kConfigVersionPrefix) + digits;
}

std::optional<std::uint64_t> parse_config_version_key(std::string_view key) {
  if (!key.starts_with(kConfigVersionPrefix)) return std::nullopt;
  key.remove_prefix(kConfigVersionPrefix.size());
  std::uint64_t number = 0;
  if (key.size() != 16 || !parse_u64(key, number) || number == 0) return std::nullopt;
  return number;
}

std::string encode_config_number(std::uint64_t number) {
  return std::to_string(number);
}

std::optional<std::uint64_t> decode_config_number(std::string_view text) {
  std::uint64_t number = 0;
  if (!parse_u64(text, number) || number == 0) return std::nullopt;
  return number;
}

Result<void> validate_config_version(const ConfigVersion& version) {
  if (version.number == 0) return fail("a config version is numbered from 1");
  if (version.previous >= version.number)
    return fail("a config version must follow the one it replaced");
  if (auto valid = validate_action_text(version.author, "author"); !valid) return valid;
  if (auto valid = validate_action_text(version.comment, "comment"); !valid) return valid;
  if (!is_fingerprint(version.fingerprint)) return fail("the fingerprint must be 16 hex digits");
  if (version.text.size() > kMaxConfigTextBytes) {
    return fail("the config is ", std::to_string(version.text.size()),
                " bytes, more than the limit of ", std::to_string(kMaxConfigTextBytes));
  }
  return {};
}

std::string encode_config_version(const ConfigVersion& version) {
  MERIDIAN_ASSERT(validate_config_version(version).ok(), "encoding an invalid config version");
  std::string out;
  out.reserve(version.text.size() + 128);
  out.append(kFormat).append("\t");
  out.append(std::to_string(version.number)).append("\t");
  out.append(std::to_string(version.time_ms)).append("\t");
  out.append(version.fingerprint).append("\t");
  out.append(std::to_string(version.previous)).append("\t");
  out.append(std::to_string(version.rollback_of)).append("\t");
  out.append(version.author).append("\t");
  out.append(version.comment).append("\n");
  out.append(version.text);
  return out;
}

Result<ConfigVersion> decode_config_version(std::string_view data) {
  const auto end = data.find('\n');
  if (end == std::string_view::npos) return fail("config version: no header line");
  const auto fields = split_tabs(data.substr(0, end));
  if (fields.empty() || fields[0] != kFormat) {
    return fail("config version: unknown format '",
                std::string(fields.empty() ? "" : fields[0].substr(0, 16)), "'");
  }
  ConfigVersion version;
  if (fields.size() != 8 || !parse_u64(fields[1], version.number) ||
      !parse_u64(fields[2], version.time_ms) || !parse_u64(fields[4], version.previous) ||
      !parse_u64(fields[5], version.rollback_of)) {
    return fail("config version: malformed header '",
                std::string(data.substr(0, std::min<std::size_t>(end, 80))), "'");
  }
  version.fingerprint = std::string(fields[3]);
  version.author = std::string(fields[6]);
  version.comment = std::string(fields[7]);
  version.text = std::string(data.substr(end + 1));
  if (auto valid = validate_config_version(version); !valid) {
    return fail("config version ", std::to_string(version.number), ": ", valid.error().message);
  }
  return version;
}

ConfigVersion shown_config_version(ConfigVersion version) {
  version.text = redact_config_text(version.text);
  return version;
}

std::string shown_store_value(std::string_view key, std::string value) {
  if (!key.starts_with(kConfigVersionPrefix)) return value;
  auto version = decode_config_version(value);
  // A damaged record may still hold a secret anywhere in it.
  if (!version) return std::string(kRedacted);
  const ConfigVersion shown = shown_config_version(std::move(*version));
  // Not encode_config_version: a text written out again may be over the
  // record's limit, which it asserts. The stored header line stays as it
  // is; only the text after it is replaced.
  const std::size_t header_end = value.find('\n');
  MERIDIAN_ASSERT(header_end != std::string::npos, "a decoded record has a header line");
  value.resize(header_end + 1);
  value += shown.text;
  return value;
}

std::map<std::uint64_t, ConfigVersion> decode_config_versions(
    const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::map<std::uint64_t, ConfigVersion> versions;
  for (const auto& [key, value] : pairs) {
    const auto number = parse_config_version_key(key);
    if (!number) continue;
    auto version = decode_config_version(value);
    if (version && version->number == *number) versions.emplace(*number, std::move(*version));
  }
  return versions;
}

std::vector<const ConfigVersion*> config_history(
    const std::map<std::uint64_t, ConfigVersion>& versions, std::uint64_t current,
    std::size_t limit) {
  std::vector<const ConfigVersion*> chain;
  // `previous` is below `number` (validated), so the walk ends.
  for (std::uint64_t number = current; number != 0 && chain.size() < limit;) {
    auto it = versions.find(number);
    if (it == versions.end() || it->second.number != number) break;
    chain.push_back(&it->second);
    number = it->second.previous;
  }
  return chain;
}

}  // namespace meridian::gslb
