#include "geo/nets_map.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <unordered_map>

#include "base/assert.hpp"

namespace meridian::geo {
namespace {

constexpr std::size_t kMaxLineLength = 4096;

std::uint32_t key_v4(const IpAddress& address) noexcept {
  return (std::uint32_t{address.bytes[0]} << 24) | (std::uint32_t{address.bytes[1]} << 16) |
         (std::uint32_t{address.bytes[2]} << 8) | address.bytes[3];
}

unsigned __int128 key_v6(const IpAddress& address) noexcept {
  unsigned __int128 key = 0;
  for (const auto byte : address.bytes) key = (key << 8) | byte;
  return key;
}

template <typename Key>
Key host_mask(unsigned prefix_len, unsigned bits) noexcept {
  // The bits after the prefix; shifting by the full width is undefined.
  return prefix_len == 0 ? static_cast<Key>(~Key{0})
                         : static_cast<Key>((Key{1} << (bits - prefix_len)) - 1);
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

}  // namespace

template <typename Key>
NetsMap::Ranges<Key> NetsMap::compile(std::vector<std::pair<Key, unsigned>>& prefixes,
                                      const std::vector<std::uint32_t>& lists, unsigned bits) {
  // prefixes[i] = (start, prefix_len) of a row with list lists[i], sorted by
  // start then prefix length: an enclosing network comes before the
  // networks inside it, so the open networks form a stack.
  Ranges<Key> ranges;
  ranges.starts.reserve(prefixes.size() + 1);
  ranges.lists.reserve(prefixes.size() + 1);
  // From `from` on, the answer is `list`; merges with a neighbour that has
  // the same list, and a range that ended up empty is replaced.
  auto mark = [&](Key from, std::uint32_t list) {
    if (!ranges.starts.empty() && ranges.starts.back() == from) {
      ranges.lists.back() = list;
      if (ranges.lists.size() >= 2 && ranges.lists[ranges.lists.size() - 2] == list) {
        ranges.starts.pop_back();
        ranges.lists.pop_back();
      }
      return;
    }
    if (!ranges.lists.empty() && ranges.lists.back() == list) return;
    ranges.starts.push_back(from);
    ranges.lists.push_back(list);
  };
  struct Open {
    Key end;
    std::uint32_t list;
  };
  std::vector<Open> open;
  const Key kLast = static_cast<Key>(~Key{0});
  auto close_until = [&](bool all, Key next_start) {
    while (!open.empty() && (all || open.back().end < next_start)) {
      const Key end = open.back().end;
      open.pop_back();
      if (end != kLast) mark(static_cast<Key>(end + 1), open.empty() ? kNoList : open.back().list);
    }
  };
  mark(0, kNoList);
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    const auto [start, prefix_len] = prefixes[i];
    close_until(false, start);
    mark(start, lists[i]);
    open.push_back({static_cast<Key>(start | host_mask<Key>(prefix_len, bits)), lists[i]});
  }
  close_until(true, 0);
  ranges.starts.shrink_to_fit();
  ranges.lists.shrink_to_fit();
  return ranges;
}

Result<NetsMap> NetsMap::build(std::vector<SiteList> lists, std::vector<Row> rows,
                               const std::function<std::string(std::uint32_t origin)>& describe) {
  for (const Row& row : rows)
    MERIDIAN_ASSERT(row.list < lists.size(), "nets row names a list that does not exist");
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.network.address.family != b.network.address.family)
      return a.network.address.family < b.network.address.family;
    if (a.network.address.bytes != b.network.address.bytes)
      return a.network.address.bytes < b.network.address.bytes;
    return a.network.prefix_len < b.network.prefix_len;
  });
  for (std::size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].network == rows[i - 1].network) {
      const auto [first, second] = std::minmax(rows[i - 1].origin, rows[i].origin);
      return fail("duplicate network ", rows[i].network.to_string(), " (", describe(first), " and ",
                  describe(second), ")");
    }
  }
  NetsMap table;
  table.rows_ = rows.size();
  std::vector<std::pair<std::uint32_t, unsigned>> v4;
  std::vector<std::pair<Key6, unsigned>> v6;
  std::vector<std::uint32_t> v4_lists, v6_lists;
  for (const Row& row : rows) {
    const IpAddress& address = row.network.address;
    if (address.family == IpAddress::Family::v4) {
      v4.emplace_back(key_v4(address), row.network.prefix_len);
      v4_lists.push_back(row.list);
    } else {
      v6.emplace_back(key_v6(address), row.network.prefix_len);
      v6_lists.push_back(row.list);
    }
  }
  rows.clear();
  rows.shrink_to_fit();
  table.v4_ = compile<std::uint32_t>(v4, v4_lists, 32);
  table.v6_ = compile<Key6>(v6, v6_lists, 128);
  table.lists_ = std::move(lists);
  return table;
}

template <typename Key>
NetsMap::Match NetsMap::find(const Ranges<Key>& ranges, Key key, unsigned bits) noexcept {
  if (ranges.starts.empty()) return {};
  const auto at =
      std::upper_bound(ranges.starts.begin(), ranges.starts.end(), key) - ranges.starts.begin() - 1;
  const auto index = static_cast<std::size_t>(at);
  const Key first = ranges.starts[index];
  const Key last = index + 1 < ranges.starts.size() ? static_cast<Key>(ranges.starts[index + 1] - 1)
                                                    : static_cast<Key>(~Key{0});
  Match match;
  match.list = ranges.lists[index];
  // The widest aligned block around the key that stays inside the range.
  for (unsigned prefix_len = 0; prefix_len <= bits; ++prefix_len) {
    const Key host = host_mask<Key>(prefix_len, bits);
    const Key low = static_cast<Key>(key & ~host);
    if (low >= first && static_cast<Key>(low | host) <= last) {
      match.scope_prefix_len = static_cast<std::uint8_t>(prefix_len);
      break;
    }
  }
  return match;
}

NetsMap::Match NetsMap::lookup(const IpAddress& address) const noexcept {
  if (address.family == IpAddress::Family::v4) return find<std::uint32_t>(v4_, key_v4(address), 32);
  return find<Key6>(v6_, key_v6(address), 128);
}

Result<void> read_nets_file(
    const std::string& path,
    const std::function<bool(std::string_view name, std::uint32_t& index)>& site,
    std::size_t max_rows, std::size_t max_list_length, NetRows& into) {
  // Only a regular file: a device such as /dev/zero is read forever (one
  // line that never ends), and opening a FIFO waits for a writer.
  std::error_code status_error;
  const auto status = std::filesystem::status(path, status_error);
  if (!status_error && !std::filesystem::is_regular_file(status))
    return fail("cannot read nets file ", path, ": not a regular file");
  std::ifstream in(path);
  if (!in) return fail("cannot open nets file ", path, ": ", std::strerror(errno));
  // Identical lists are stored once: a million rows usually share a few.
  std::unordered_map<std::string, std::uint32_t> list_index;
  std::string line;
  SiteList list;
  for (std::uint32_t number = 1; std::getline(in, line); ++number) {
    const auto where = [&] { return path + ":" + std::to_string(number) + ": "; };
    if (line.size() > kMaxLineLength)
      return fail(where(), "line longer than ", std::to_string(kMaxLineLength), " bytes");
    const std::string_view content = trim(line);
    if (content.empty() || content.front() == '#') continue;
    const auto space = content.find_first_of(" \t");
    if (space == std::string_view::npos) return fail(where(), "expected PREFIX SITE[,SITE...]");
    const std::string_view prefix = content.substr(0, space);
    NetsMap::Row row;
    row.origin = number;
    if (!IpNetwork::parse(prefix, row.network)) {
      return fail(where(), "bad prefix '", std::string(prefix),
                  "' (expected ADDRESS/LEN with no host bits set)");
    }
    list.clear();
    std::string_view sites = trim(content.substr(space + 1));
    for (std::size_t start = 0; start <= sites.size();) {
      const auto comma = std::min(sites.find(',', start), sites.size());
      const std::string_view name = trim(sites.substr(start, comma - start));
      std::uint32_t index = 0;
      if (!site(name, index)) return fail(where(), "unknown site '", std::string(name), "'");
      if (std::find(list.begin(), list.end(), index) != list.end()) {
        return fail(where(), "site '", std::string(name), "' is listed twice");
      }
      if (list.size() == max_list_length) {
        return fail(where(), "more than ", std::to_string(max_list_length), " sites in one list");
      }
      list.push_back(index);
      start = comma + 1;
    }
    if (into.rows.size() == max_rows)
      return fail(where(), "more than ", std::to_string(max_rows), " nets");
    std::string key(reinterpret_cast<const char*>(list.data()),
                    list.size() * sizeof(std::uint32_t));
    const auto [it, inserted] =
        list_index.emplace(std::move(key), static_cast<std::uint32_t>(into.lists.size()));
    if (inserted) into.lists.push_back(list);
    row.list = it->second;
    into.rows.push_back(row);
  }
  if (in.bad()) return fail("cannot read nets file ", path, ": ", std::strerror(errno));
  return {};
}

}  // namespace meridian::geo
