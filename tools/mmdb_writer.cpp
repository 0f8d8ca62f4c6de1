// write_mmdb: builds the search tree in memory, encodes the data section and
// the metadata, and replaces the output file atomically.

#include "tools/mmdb_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <map>
#include <tuple>

#include "base/assert.hpp"
#include "base/clock.hpp"
#include "geo/mmdb_data.hpp"

namespace meridian::geo {
namespace {

constexpr unsigned kRecordBits = 28;
constexpr std::uint64_t kMaxRecordValue = (std::uint64_t{1} << kRecordBits) - 1;
constexpr std::size_t kSeparatorSize = 16;
constexpr std::string_view kMetadataMarker = "\xAB\xCD\xEFMaxMind.com";
// Readers give up on metadata past 128 KiB; codes are two letters in practice.
constexpr std::size_t kMaxDatabaseTypeLength = std::size_t{100} * 1024;
constexpr std::size_t kMaxCodeLength = 255;
constexpr std::size_t kMaxOrganizationLength = 4096;

// What a record of the in-memory tree holds before numbering.
struct Record {
  enum class Kind : std::uint8_t { empty, data, node };
  Kind kind = Kind::empty;
  std::uint32_t index = 0;  // data: index of the distinct location; node: index in Tree::nodes
  friend bool operator==(const Record&, const Record&) = default;
};

// A binary trie over the 128-bit IPv6 space; node 0 is the root.
struct Tree {
  std::vector<std::array<Record, 2>> nodes = std::vector<std::array<Record, 2>>(1);

  std::uint32_t add_node(Record both) {
    nodes.push_back({both, both});
    return static_cast<std::uint32_t>(nodes.size() - 1);
  }

  // The record that covers the `depth`-bit prefix of `address`, creating
  // nodes down to it (each copying the record it splits) so that it can be
  // replaced without touching its siblings. `depth` is 1..128.
  Record& slot(const IpAddress& address, unsigned depth) {
    std::uint32_t node = 0;
    for (unsigned bit = 0; bit + 1 < depth; ++bit) {
      Record& next = nodes[node][address.bit(bit)];
      if (next.kind != Record::Kind::node) {
        const std::uint32_t child = add_node(next);
        // add_node may reallocate: index again instead of using `next`.
        nodes[node][address.bit(bit)] = Record{Record::Kind::node, child};
      }
      node = nodes[node][address.bit(bit)].index;
    }
    return nodes[node][address.bit(depth - 1)];
  }

  // Follows `address` for up to `depth` bits without changing anything;
  // returns the first non-node record, or the node record at `depth`.
  Record walk(const IpAddress& address, unsigned depth) const {
    Record record{Record::Kind::node, 0};
    for (unsigned bit = 0; bit < depth && record.kind == Record::Kind::node; ++bit) {
      record = nodes[record.index][address.bit(bit)];
    }
    return record;
  }

  // Replaces every subtree whose addresses all share one record by that
  // record, so each data network is as wide as the data allows (the prefix
  // length readers report becomes the widest correct ECS scope).
  Record collapse(Record record) {
    if (record.kind != Record::Kind::node) return record;
    auto& children = nodes[record.index];
    children[0] = collapse(children[0]);
    children[1] = collapse(children[1]);
    if (children[0].kind != Record::Kind::node && children[0] == children[1]) return children[0];
    return record;
  }
};

// A row's network in the IPv6 tree: IPv4 a.b.c.d/n lives at ::a.b.c.d/(96+n).
IpNetwork tree_network(IpNetwork network) {
  // Rows built in code may carry host bits; they must not split duplicates.
  network.address = network.address.masked(network.prefix_len);
  if (network.address.family == IpAddress::Family::v6) return network;
  IpNetwork mapped;
  mapped.address.family = IpAddress::Family::v6;
  std::copy_n(network.address.bytes.begin(), 4, mapped.address.bytes.begin() + 12);
  mapped.prefix_len = static_cast<std::uint8_t>(96 + network.prefix_len);
  return mapped;
}

using LocationKey = std::tuple<bool, std::uint64_t, std::uint64_t, std::string, std::string,
                               std::string, std::uint32_t, std::string>;

LocationKey key_of(const NetworkLocation& row) {
  // Fields that are not written do not tell records apart.
  const bool located = row.has_coordinates;
  return {located,
          located ? std::bit_cast<std::uint64_t>(row.latitude_deg) : 0,
          located ? std::bit_cast<std::uint64_t>(row.longitude_deg) : 0,
          row.country,
          row.continent,
          row.subdivision,
          row.asn,
          row.asn != 0 ? row.asn_organization : std::string()};
}

// The GeoIP2-City (or GeoLite2-ASN) shaped map of one row; empty codes and
// absent fields are left out. Keys in sorted order, as MaxMind writes them.
void encode_location(mmdb::Encoder& encoder, const NetworkLocation& row) {
  const bool asn = row.asn != 0;
  encoder.map_header(2 * asn + row.has_coordinates + !row.country.empty() + !row.continent.empty() +
                     !row.subdivision.empty());
  if (asn) {
    encoder.string("autonomous_system_number");
    encoder.uint32(row.asn);
    encoder.string("autonomous_system_organization");
    encoder.string(row.asn_organization);
  }
  if (!row.continent.empty()) {
    encoder.string("continent");
    encoder.map_header(1);
    encoder.string("code");
    encoder.string(row.continent);
  }
  if (!row.country.empty()) {
    encoder.string("country");
    encoder.map_header(1);
    encoder.string("iso_code");
    encoder.string(row.country);
  }
  if (row.has_coordinates) {
    encoder.string("location");
    encoder.map_header(2);
    encoder.string("latitude");
    encoder.double_value(row.latitude_deg);
    encoder.string("longitude");
    encoder.double_value(row.longitude_deg);
  }
  if (!row.subdivision.empty()) {
    encoder.string("subdivisions");
    encoder.array_header(1);
    encoder.map_header(1);
    encoder.string("iso_code");
    encoder.string(row.subdivision);
  }
}

std::uint64_t build_epoch() {
  // SOURCE_DATE_EPOCH makes builds reproducible (the demo database).
  if (const char* fixed = std::getenv("SOURCE_DATE_EPOCH")) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(fixed, fixed + std::strlen(fixed), value);
    if (ec == std::errc() && *end == '\0') return value;
  }
  const auto now = SystemClock().wall_now().time_since_epoch();
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(now).count());
}

void encode_metadata(std::vector<std::uint8_t>& out, std::uint32_t node_count,
                     const std::string& database_type, std::size_t network_count) {
  out.insert(out.end(), kMetadataMarker.begin(), kMetadataMarker.end());
  mmdb::Encoder encoder(out);
  encoder.map_header(9);
  encoder.string("binary_format_major_version");
  encoder.uint16(2);
  encoder.string("binary_format_minor_version");
  encoder.uint16(0);
  encoder.string("build_epoch");
  encoder.uint64(build_epoch());
  encoder.string("database_type");
  encoder.string(database_type);
  encoder.string("description");
  encoder.map_header(1);
  encoder.string("en");
  encoder.string("Meridian GeoIP database, " + std::to_string(network_count) + " networks");
  encoder.string("ip_version");
  encoder.uint16(6);
  encoder.string("languages");
  encoder.array_header(1);
  encoder.string("en");
  encoder.string("node_count");
  encoder.uint32(node_count);
  encoder.string("record_size");
  encoder.uint16(kRecordBits);
}

Result<void> write_file_atomically(const std::string& path,
                                   const std::vector<std::uint8_t>& bytes) {
  std::string temp = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0)
    return fail("cannot create a temporary file next to ", path, ": ", std::strerror(errno));
  const auto cleanup = [&](const char* what) {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    ::unlink(temp.c_str());
    return fail("cannot ", what, " ", temp, ": ", reason);
  };
  // mkstemp creates 0600; a database is meant to be read by the server user.
  if (::fchmod(fd, 0644) != 0) return cleanup("chmod");
  for (std::size_t done = 0; done < bytes.size();) {
    const auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return cleanup("write");
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return cleanup("sync");
  if (::close(fd) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temp.c_str());
    return fail("cannot close ", temp, ": ", reason);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temp.c_str());
    return fail("cannot rename ", temp, " to ", path, ": ", reason);
  }
  return {};
}

// The rows as the tree sees them: distinct locations, and networks in the
// IPv6 tree ordered from least to most specific.
struct Table {
  struct Entry {
    IpNetwork network;  // in the IPv6 tree
    std::uint32_t location;
    const NetworkLocation* row;
  };
  std::vector<const NetworkLocation*> locations;
  std::vector<Entry> entries;
};

Result<Table> index_rows(const std::vector<NetworkLocation>& rows, const std::string& output_path) {
  Table table;
  std::map<LocationKey, std::uint32_t> location_index;
  table.entries.reserve(rows.size());
  for (const auto& row : rows) {
    if (row.country.size() > kMaxCodeLength || row.continent.size() > kMaxCodeLength ||
        row.subdivision.size() > kMaxCodeLength) {
      return fail("country or continent code longer than ", std::to_string(kMaxCodeLength),
                  " bytes for ", row.network.to_string());
    }
    if (row.asn_organization.size() > kMaxOrganizationLength) {
      return fail("organization longer than ", std::to_string(kMaxOrganizationLength),
                  " bytes for ", row.network.to_string());
    }
    const auto [it, inserted] =
        location_index.emplace(key_of(row), static_cast<std::uint32_t>(table.locations.size()));
    if (inserted) table.locations.push_back(&row);
    table.entries.push_back({tree_network(row.network), it->second, &row});
  }
  // Less specific networks first, so that each more specific one is carved
  // out of them afterwards and wins for its own addresses.
  std::sort(table.entries.begin(), table.entries.end(),
            [](const Table::Entry& a, const Table::Entry& b) {
              return std::tie(a.network.prefix_len, a.network.address.bytes) <
                     std::tie(b.network.prefix_len, b.network.address.bytes);
            });
  for (std::size_t i = 1; i < table.entries.size(); ++i) {
    const auto& [previous, current] = std::tie(table.entries[i - 1], table.entries[i]);
    if (current.network == previous.network) {
      return fail("duplicate network ", current.row->network.to_string(), " (also written as ",
                  previous.row->network.to_string(), ") in the table for ", output_path);
    }
  }
  return table;
}

Tree build_tree(const Table& table) {
  Tree tree;
  for (const auto& entry : table.entries) {
    const Record data{Record::Kind::data, entry.location};
    if (entry.network.prefix_len == 0) {
      tree.nodes[0] = {data, data};
      continue;
    }
    Record& slot = tree.slot(entry.network.address, entry.network.prefix_len);
    MERIDIAN_ASSERT(slot.kind != Record::Kind::node,
                    "a less specific network inserted after a more specific one");
    slot = data;
  }
  // The root stays a node even when everything collapses: a tree has >= 1 node.
  tree.nodes[0][0] = tree.collapse(tree.nodes[0][0]);
  tree.nodes[0][1] = tree.collapse(tree.nodes[0][1]);

  // IPv4-mapped addresses (::ffff:0:0/96) share the IPv4 subtree (::/96), as
  // in MaxMind's files, unless the table has IPv6 rows of its own in there
  // (then the walk below ends on a node).
  IpAddress mapped_root;
  mapped_root.family = IpAddress::Family::v6;
  mapped_root.bytes[10] = mapped_root.bytes[11] = 0xff;
  const Record ipv4_root = tree.walk(IpAddress{IpAddress::Family::v6, {}}, 96);
  const Record mapped_now = tree.walk(mapped_root, 96);
  if (mapped_now.kind != Record::Kind::node && mapped_now != ipv4_root)
    tree.slot(mapped_root, 96) = ipv4_root;
  return tree;
}

// The search tree section: reachable nodes numbered depth-first from the root
// (the alias makes the tree a DAG, and collapse left unreachable nodes behind),
// each as two 28-bit records.
std::vector<std::uint8_t> encode_tree(const Tree& tree,
                                      const std::vector<std::uint32_t>& data_offset) {
  constexpr std::uint32_t kUnnumbered = ~std::uint32_t{0};
  std::vector<std::uint32_t> number(tree.nodes.size(), kUnnumbered);
  std::vector<std::uint32_t> order;
  std::vector<std::uint32_t> stack{0};
  while (!stack.empty()) {
    const std::uint32_t node = stack.back();
    stack.pop_back();
    if (number[node] != kUnnumbered) continue;
    number[node] = static_cast<std::uint32_t>(order.size());
    order.push_back(node);
    for (int side = 1; side >= 0; --side) {
      const Record& child = tree.nodes[node][side];
      if (child.kind == Record::Kind::node && number[child.index] == kUnnumbered)
        stack.push_back(child.index);
    }
  }
  const auto node_count = static_cast<std::uint32_t>(order.size());
  // Records: a node number, node_count for "no data", or node_count + 16 +
  // the offset in the data section (the 16 skips the separator).
  const auto value_of = [&](const Record& record) -> std::uint32_t {
    switch (record.kind) {
      case Record::Kind::empty: return node_count;
      case Record::Kind::node: return number[record.index];
      case Record::Kind::data:
        return static_cast<std::uint32_t>(node_count + kSeparatorSize + data_offset[record.index]);
    }
    return node_count;
  };
  std::vector<std::uint8_t> bytes;
  bytes.reserve(std::size_t{node_count} * 7);
  for (const std::uint32_t node : order) {
    // 28-bit records: 24 low bits of the left record, its top 4 bits and the
    // right record's top 4 bits in one byte, then the right's 24 low bits.
    const std::uint32_t left = value_of(tree.nodes[node][0]);
    const std::uint32_t right = value_of(tree.nodes[node][1]);
    const std::uint8_t packed[7] = {
        static_cast<std::uint8_t>(left >> 16),
        static_cast<std::uint8_t>(left >> 8),
        static_cast<std::uint8_t>(left),
        static_cast<std::uint8_t>((left >> 24 & 0xf) << 4 | (right >> 24 & 0xf)),
        static_cast<std::uint8_t>(right >> 16),
        static_cast<std::uint8_t>(right >> 8),
        static_cast<std::uint8_t>(right),
    };
    bytes.insert(bytes.end(), std::begin(packed), std::end(packed));
  }
  return bytes;
}

}  // namespace

Result<void> write_mmdb(const std::vector<NetworkLocation>& rows, const std::string& output_path,
                        const std::string& database_type) {
  if (database_type.size() > kMaxDatabaseTypeLength) {
    return fail("database type longer than ", std::to_string(kMaxDatabaseTypeLength), " bytes for ",
                output_path);
  }
  auto table = index_rows(rows, output_path);
  if (!table) return table.error();
  const Tree tree = build_tree(*table);

  std::vector<std::uint8_t> data;
  std::vector<std::uint32_t> data_offset;
  mmdb::Encoder encoder(data);
  for (const auto* location : table->locations) {
    data_offset.push_back(static_cast<std::uint32_t>(data.size()));
    encode_location(encoder, *location);
  }

  std::vector<std::uint8_t> file = encode_tree(tree, data_offset);
  const std::size_t node_count = file.size() / 7;
  if (node_count + kSeparatorSize + data.size() > kMaxRecordValue) {
    return fail("too many networks for a ", std::to_string(kRecordBits),
                "-bit database: ", output_path);
  }
  file.insert(file.end(), kSeparatorSize, 0);
  file.insert(file.end(), data.begin(), data.end());
  encode_metadata(file, static_cast<std::uint32_t>(node_count), database_type, rows.size());
  return write_file_atomically(output_path, file);
}

}  // namespace meridian::geo
