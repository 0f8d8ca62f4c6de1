#include "tools/geoip_csv.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <string_view>

namespace meridian::geo {
namespace {

constexpr std::size_t kMaxFields = 6;
constexpr std::size_t kMaxLineLength = 4096;
constexpr std::array<std::string_view, 7> kContinents = {"AF", "AN", "AS", "EU", "NA", "OC", "SA"};

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

bool parse_degrees(std::string_view text, double limit, double& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(out) &&
         std::fabs(out) <= limit;
}

bool is_upper_pair(std::string_view text) {
  return text.size() == 2 && text[0] >= 'A' && text[0] <= 'Z' && text[1] >= 'A' && text[1] <= 'Z';
}

bool is_subdivision(std::string_view text) {
  if (text.empty() || text.size() > 3) return false;
  for (const char c : text) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

bool is_continent(std::string_view text) {
  for (const auto code : kContinents) {
    if (code == text) return true;
  }
  return false;
}

// Parses one data line into `row`; returns an empty string or what is wrong.
std::string parse_line(std::string_view line, NetworkLocation& row) {
  const char separator = line.find('\t') != std::string_view::npos ? '\t' : ',';
  std::array<std::string_view, kMaxFields> fields;
  std::size_t count = 0;
  for (std::size_t start = 0;;) {
    const auto end = line.find(separator, start);
    if (count == kMaxFields) {
      return "more than 6 fields (prefix, latitude, longitude, country, continent, subdivision)";
    }
    fields[count++] = trim(line.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (count < 3) return "expected at least prefix, latitude, longitude";
  const std::string_view prefix = fields[0], latitude = fields[1], longitude = fields[2];
  const std::string_view country = fields[3], continent = fields[4], subdivision = fields[5];
  if (!IpNetwork::parse(prefix, row.network)) {
    return "bad prefix '" + std::string(prefix) + "' (expected ADDRESS/LEN with no host bits set)";
  }
  // Both empty: a record without coordinates (a Country database's).
  row.has_coordinates = !latitude.empty() || !longitude.empty();
  if (row.has_coordinates && !parse_degrees(latitude, 90, row.latitude_deg)) {
    return "bad latitude '" + std::string(latitude) +
           "' (expected a number in -90..90, or both empty)";
  }
  if (row.has_coordinates && !parse_degrees(longitude, 180, row.longitude_deg)) {
    return "bad longitude '" + std::string(longitude) +
           "' (expected a number in -180..180, or both empty)";
  }
  if (!country.empty() && !is_upper_pair(country)) {
    return "bad country '" + std::string(country) +
           "' (expected an ISO 3166-1 alpha-2 code like GB, or empty)";
  }
  if (!continent.empty() && !is_continent(continent)) {
    return "bad continent '" + std::string(continent) +
           "' (expected one of AF AN AS EU NA OC SA, or empty)";
  }
  if (!subdivision.empty() && !is_subdivision(subdivision)) {
    return "bad subdivision '" + std::string(subdivision) +
           "' (expected an ISO 3166-2 code without its country, 1 to 3 of A-Z 0-9, like CA for "
           "US-CA, or empty)";
  }
  if (!subdivision.empty() && country.empty()) return "a subdivision needs its country";
  row.subdivision = subdivision;
  row.country = country;
  row.continent = continent;
  return {};
}

// Parses `prefix, asn, organization` into `row`.
std::string parse_asn_line(std::string_view line, NetworkLocation& row) {
  const char separator = line.find('\t') != std::string_view::npos ? '\t' : ',';
  const auto first = line.find(separator);
  if (first == std::string_view::npos) return "expected prefix, asn, organization";
  const auto second = line.find(separator, first + 1);
  const std::string_view prefix = trim(line.substr(0, first));
  const bool has_organization = second != std::string_view::npos;
  std::string_view number =
      trim(line.substr(first + 1, has_organization ? second - first - 1 : std::string_view::npos));
  const std::string_view organization =
      has_organization ? trim(line.substr(second + 1)) : std::string_view();
  if (!IpNetwork::parse(prefix, row.network)) {
    return "bad prefix '" + std::string(prefix) + "' (expected ADDRESS/LEN with no host bits set)";
  }
  const std::string written(number);
  if (number.starts_with("AS") || number.starts_with("as")) number.remove_prefix(2);
  std::uint64_t asn = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), asn);
  if (number.empty() || ec != std::errc() || end != number.data() + number.size() || asn == 0 ||
      asn >= UINT32_MAX) {
    return "bad asn '" + written + "' (expected an AS number 1..4294967294, like 64500 or AS64500)";
  }
  row.has_coordinates = false;
  row.asn = static_cast<std::uint32_t>(asn);
  row.asn_organization = organization;
  return {};
}

using LineParser = std::string (*)(std::string_view, NetworkLocation&);

Result<std::vector<NetworkLocation>> read_table(const std::string& path, LineParser parse) {
  std::ifstream in(path);
  if (!in) return fail("cannot open ", path, ": ", std::strerror(errno));
  std::vector<NetworkLocation> rows;
  // First line of every network, so a duplicate names both places.
  std::map<std::string, std::size_t> first_line;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    const auto where = [&] { return path + ":" + std::to_string(number) + ": "; };
    if (line.size() > kMaxLineLength)
      return fail(where(), "line longer than ", std::to_string(kMaxLineLength), " bytes");
    const auto content = trim(line);
    if (content.empty() || content.front() == '#') continue;
    NetworkLocation row;
    if (auto problem = parse(content, row); !problem.empty()) return fail(where(), problem);
    const auto [it, inserted] = first_line.emplace(row.network.to_string(), number);
    if (!inserted) {
      return fail(where(), "duplicate network ", it->first, " (first on line ",
                  std::to_string(it->second), ")");
    }
    rows.push_back(std::move(row));
  }
  if (in.bad()) return fail("cannot read ", path, ": ", std::strerror(errno));
  return rows;
}

}  // namespace

Result<std::vector<NetworkLocation>> read_geoip_csv(const std::string& path) {
  return read_table(path, parse_line);
}

Result<std::vector<NetworkLocation>> read_asn_csv(const std::string& path) {
  return read_table(path, parse_asn_line);
}

}  // namespace meridian::geo
