// The one libmaxminddb adapter of Meridian (STYLE.md rule 3).

#include "geo/mmdb_reader.hpp"

#include <fcntl.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "geo/location_trie.hpp"

namespace meridian::geo {
namespace {

// MMDB_aget_value rather than MMDB_get_value: the variadic form copies its
// path into a calloc'd array on every call, and locate must not allocate.
constexpr const char* kLatitudePath[] = {"location", "latitude", nullptr};
constexpr const char* kLongitudePath[] = {"location", "longitude", nullptr};
constexpr const char* kCountryPath[] = {"country", "iso_code", nullptr};
constexpr const char* kContinentPath[] = {"continent", "code", nullptr};
constexpr const char* kSubdivisionPath[] = {"subdivisions", "0", "iso_code", nullptr};
constexpr const char* kAsnPath[] = {"autonomous_system_number", nullptr};
constexpr const char* kAsnOrganizationPath[] = {"autonomous_system_organization", nullptr};
/// Bits of the IPv6 tree above the IPv4 subtree (::/96).
constexpr unsigned kIpv4Depth = 96;

bool read_degrees(MMDB_entry_s& entry, const char* const* path, double& out) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data) return false;
  if (data.type == MMDB_DATA_TYPE_DOUBLE) {
    out = data.double_value;
    return true;
  }
  if (data.type == MMDB_DATA_TYPE_FLOAT) {
    out = data.float_value;
    return true;
  }
  return false;
}

// Copies a code of 1..N-1 characters (two for countries and continents);
// anything else (absent, wrong type or length) leaves `out` empty rather
// than truncated.
template <std::size_t N>
void read_code(MMDB_entry_s& entry, const char* const* path, std::array<char, N>& out,
               std::size_t min_size) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data) return;
  if (data.type != MMDB_DATA_TYPE_UTF8_STRING || data.data_size < min_size || data.data_size >= N)
    return;
  out = {};
  std::memcpy(out.data(), data.utf8_string, data.data_size);
}

// The fields steering reads from a record (absent ones stay empty).
Location read_location(MMDB_entry_s& entry) {
  Location location;
  double latitude = 0, longitude = 0;
  if (read_degrees(entry, kLatitudePath, latitude) &&
      read_degrees(entry, kLongitudePath, longitude)) {
    location.has_coordinates = true;
    location.latitude_deg = latitude;
    location.longitude_deg = longitude;
  }
  read_code(entry, kCountryPath, location.country, 2);
  read_code(entry, kContinentPath, location.continent, 2);
  read_code(entry, kSubdivisionPath, location.subdivision, 1);
  return location;
}

// autonomous_system_number as any unsigned type that fits 32 bits.
bool read_asn(MMDB_entry_s& entry, std::uint32_t& out) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, kAsnPath) != MMDB_SUCCESS || !data.has_data) return false;
  switch (data.type) {
    case MMDB_DATA_TYPE_UINT16: out = data.uint16; return true;
    case MMDB_DATA_TYPE_UINT32: out = data.uint32; return true;
    case MMDB_DATA_TYPE_UINT64:
      if (data.uint64 > UINT32_MAX) return false;
      out = static_cast<std::uint32_t>(data.uint64);
      return true;
    default: return false;
  }
}

// What the distinct records of a database hold, counted by check().
struct RecordCensus {
  std::uint64_t records = 0;
  std::uint64_t location = 0;  ///< with coordinates, a country or a continent
  std::uint64_t asn = 0;       ///< with autonomous_system_number
};

void count_record(MMDB_entry_s& entry, RecordCensus& census) {
  ++census.records;
  const Location location = read_location(entry);
  if (location.has_coordinates || location.country[0] != 0 || location.continent[0] != 0)
    ++census.location;
  std::uint32_t asn = 0;
  if (read_asn(entry, asn)) ++census.asn;
}

// Decodes every value of the record, as no lookup does: a corrupt data
// section is found at start, not when a client's lookup reaches it.
int decode_record(MMDB_entry_s entry) {
  MMDB_entry_data_list_s* list = nullptr;
  const int status = MMDB_get_entry_data_list(&entry, &list);
  MMDB_free_entry_data_list(list);
  return status;
}

const char* kind_name(DatabaseKind kind) {
  return kind == DatabaseKind::location ? "a City or Country database" : "an ASN database";
}

const char* layout_of(DatabaseKind kind) {
  return kind == DatabaseKind::location ? "records with location, country or continent"
                                        : "records with autonomous_system_number";
}

// "KIND (database_type "TYPE", LAYOUT)" for a database that is not of the
// expected kind: records of the other kind only, or of neither.
std::string found_kind(const RecordCensus& census, DatabaseKind expected,
                       const std::string& database_type) {
  const bool other = expected == DatabaseKind::location ? census.asn > 0 : census.location > 0;
  const DatabaseKind found =
      expected == DatabaseKind::location ? DatabaseKind::asn : DatabaseKind::location;
  const std::string type = "database_type \"" + database_type + "\", ";
  if (other) return std::string(kind_name(found)) + " (" + type + layout_of(found) + " only)";
  return "neither a City or Country nor an ASN database (" + type +
         "records with neither a location nor autonomous_system_number)";
}

// A descriptor closed at scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// "REASON (strerror)" as MmdbReader::open has always worded its errors.
std::string with_errno(int status, int error) {
  std::string reason = MMDB_strerror(status);
  if (error != 0) reason += std::string(" (") + std::strerror(error) + ")";
  return reason;
}

// Copies the database at `path` into a sealed memfd (nothing can write,
// shrink or grow it, not even this process) and returns the memfd: the
// node never maps the operator's file, so a file truncated or overwritten
// in place (`cp` over it) cannot change what a lookup reads or raise
// SIGBUS. Exactly the size seen by fstat is copied; a file cut shorter
// while it is read is an error, one that grew is copied as it was (a torn
// copy is refused by MMDB_open or check()). Errors are the reason only.
Result<int> copy_to_sealed_memory(const std::string& path) {
  const int file = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file < 0) return fail(with_errno(MMDB_FILE_OPEN_ERROR, errno));
  const Fd file_fd(file);
  struct stat st {};
  if (::fstat(file, &st) != 0) return fail(with_errno(MMDB_IO_ERROR, errno));
  if (!S_ISREG(st.st_mode)) return fail("not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size == 0) return fail("the file is empty");
  if (size > kMaxDatabaseBytes) {
    return fail("the file is ", std::to_string(size), " bytes, more than the limit of ",
                std::to_string(kMaxDatabaseBytes), " bytes");
  }
  const int memory = ::memfd_create("meridian-geoip", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (memory < 0) return fail("cannot create memory for a copy: ", std::strerror(errno));
  Fd memory_fd(memory);
  // sendfile reads the file at `offset` and appends to the memfd.
  off_t offset = 0;
  while (static_cast<std::uint64_t>(offset) < size) {
    const std::size_t left = size - static_cast<std::uint64_t>(offset);
    const ssize_t sent = ::sendfile(memory, file, &offset, left < (1u << 30) ? left : (1u << 30));
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0) return fail(with_errno(MMDB_IO_ERROR, errno));
    if (sent == 0) {
      return fail("the file shrank while it was read (", std::to_string(offset), " of ",
                  std::to_string(size), " bytes); replace it by rename, not in place");
    }
  }
  if (::fcntl(memory, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
    return fail("cannot seal the copy: ", std::strerror(errno));
  return memory_fd.release();
}

}  // namespace

struct MmdbReader::Impl {
  MMDB_s mmdb{};
  std::string path;

  // Looks `address` up; fills `prefix_len` (in the address's own bits) and
  // returns the result, or nullopt when the database cannot hold it.
  std::optional<MMDB_lookup_result_s> lookup(const IpAddress& address,
                                             std::uint8_t& prefix_len) const noexcept {
    const bool v4 = address.family == IpAddress::Family::v4;
    sockaddr_in sin{};
    sockaddr_in6 sin6{};
    const sockaddr* sa = nullptr;
    if (v4) {
      sin.sin_family = AF_INET;
      std::memcpy(&sin.sin_addr, address.bytes.data(), 4);
      sa = reinterpret_cast<const sockaddr*>(&sin);
    } else {
      sin6.sin6_family = AF_INET6;
      std::memcpy(&sin6.sin6_addr, address.bytes.data(), 16);
      sa = reinterpret_cast<const sockaddr*>(&sin6);
    }
    int mmdb_error = MMDB_SUCCESS;
    MMDB_lookup_result_s result = MMDB_lookup_sockaddr(&mmdb, sa, &mmdb_error);
    // Errors here are an IPv6 address in an IPv4 database or a corrupt
    // tree: either way nothing is known about the address.
    if (mmdb_error != MMDB_SUCCESS) return std::nullopt;
    // libmaxminddb counts the netmask of an IPv4 lookup in an IPv6 tree
    // from the tree's root, i.e. 96 + the IPv4 prefix; a branch that ends
    // above the IPv4 subtree (< 96) covers the whole IPv4 space: prefix 0.
    unsigned netmask = result.netmask;
    if (v4 && mmdb.metadata.ip_version == 6)
      netmask = netmask >= kIpv4Depth ? netmask - kIpv4Depth : 0;
    if (netmask > address.bit_length()) netmask = address.bit_length();
    prefix_len = static_cast<std::uint8_t>(netmask);
    return result;
  }
};

Result<std::unique_ptr<MmdbReader>> MmdbReader::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  auto memory = copy_to_sealed_memory(path);
  if (!memory) return fail("cannot open GeoIP database ", path, ": ", memory.error().message);
  const Fd memory_fd(memory.value());
  // libmaxminddb opens a path only: the memfd's own, through /proc. It
  // maps it and closes its descriptor; the mapping keeps the memfd alive
  // once ours is closed too (at the end of this scope).
  const std::string proc_path = "/proc/self/fd/" + std::to_string(memory_fd.get());
  errno = 0;
  const int status = MMDB_open(proc_path.c_str(), MMDB_MODE_MMAP, &impl->mmdb);
  const int open_errno = errno;
  if (status != MMDB_SUCCESS) {
    std::string reason = with_errno(
        status, status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR ? open_errno : 0);
    if (status == MMDB_FILE_OPEN_ERROR && ::access("/proc/self/fd", F_OK) != 0)
      reason += "; Meridian opens its copy of the database through /proc: is /proc mounted?";
    return fail("cannot open GeoIP database ", path, ": ", reason);
  }
  return std::unique_ptr<MmdbReader>(new MmdbReader(std::move(impl)));
}

Result<std::unique_ptr<MmdbReader>> MmdbReader::open(const std::string& path,
                                                     DatabaseKind expected) {
  auto reader = open(path);
  if (!reader) return reader;
  if (auto checked = reader.value()->check(expected); !checked) return checked.error();
  return reader;
}

MmdbReader::MmdbReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MmdbReader::~MmdbReader() {
  MMDB_close(&impl_->mmdb);
}

Located MmdbReader::locate(const IpAddress& address) const noexcept {
  Located located;
  auto result = impl_->lookup(address, located.prefix_len);
  if (!result || !result->found_entry) return located;
  located.found = true;
  located.location = read_location(result->entry);
  return located;
}

AsnLocated MmdbReader::locate_asn(const IpAddress& address) const noexcept {
  AsnLocated located;
  auto result = impl_->lookup(address, located.prefix_len);
  if (!result || !result->found_entry || !read_asn(result->entry, located.number)) return located;
  located.found = true;
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&result->entry, &data, kAsnOrganizationPath) == MMDB_SUCCESS &&
      data.has_data && data.type == MMDB_DATA_TYPE_UTF8_STRING) {
    located.organization = std::string_view(data.utf8_string, data.data_size);
  }
  return located;
}

std::string MmdbReader::database_type() const {
  const char* type = impl_->mmdb.metadata.database_type;
  return type != nullptr ? type : "";
}

Result<void> MmdbReader::check(DatabaseKind expected) const {
  const MMDB_s& mmdb = impl_->mmdb;
  const auto corrupt = [&](int status) {
    return fail("GeoIP database ", impl_->path, " is corrupt: ", MMDB_strerror(status));
  };
  // MMDB_open checked the metadata and that the tree fits the file; what a
  // lookup may still meet is a record pointing outside the tree or the data
  // section, or data that does not decode. Every node and record, once.
  const std::uint32_t node_count = mmdb.metadata.node_count;
  std::unordered_set<std::uint32_t> seen;
  RecordCensus census;
  for (std::uint32_t number = 0; number < node_count; ++number) {
    MMDB_search_node_s node;
    if (const int status = MMDB_read_node(&mmdb, number, &node); status != MMDB_SUCCESS)
      return corrupt(status);
    for (unsigned side = 0; side < 2; ++side) {
      const std::uint64_t record = side == 0 ? node.left_record : node.right_record;
      MMDB_entry_s entry = side == 0 ? node.left_record_entry : node.right_record_entry;
      switch (side == 0 ? node.left_record_type : node.right_record_type) {
        case MMDB_RECORD_TYPE_SEARCH_NODE:
          if (record >= node_count) return corrupt(MMDB_CORRUPT_SEARCH_TREE_ERROR);
          break;
        case MMDB_RECORD_TYPE_EMPTY: break;
        case MMDB_RECORD_TYPE_DATA:
          if (!seen.insert(entry.offset).second) break;
          if (const int status = decode_record(entry); status != MMDB_SUCCESS)
            return corrupt(status);
          count_record(entry, census);
          break;
        default: return corrupt(MMDB_CORRUPT_SEARCH_TREE_ERROR);
      }
    }
  }
  const std::uint64_t matching = expected == DatabaseKind::location ? census.location : census.asn;
  if (census.records > 0 && matching == 0) {
    return fail("GeoIP database ", impl_->path, " is ",
                found_kind(census, expected, database_type()), ", expected ", kind_name(expected),
                " (", layout_of(expected), ")");
  }
  return {};
}

std::shared_ptr<const LocationTrie> MmdbReader::build_trie() const {
  // The trie mirrors the search tree node for node (the same numbers), so
  // the aliases of MaxMind's files (::ffff:0:0/96 and 2002::/16 leading to
  // the IPv4 subtree) stay shared subtrees and walk exactly like lookups.
  const MMDB_s& mmdb = impl_->mmdb;
  const std::uint32_t node_count = mmdb.metadata.node_count;
  if (node_count == 0 || node_count > LocationTrie::kMaxNodes) return nullptr;
  LocationTrie::Builder builder(node_count);
  // Records point at shared data: read each record once.
  std::unordered_map<std::uint32_t, LocationTrie::Ref> by_offset;
  for (std::uint32_t number = 0; number < node_count; ++number) {
    MMDB_search_node_s node;
    if (MMDB_read_node(&mmdb, number, &node) != MMDB_SUCCESS) return nullptr;
    for (unsigned side = 0; side < 2; ++side) {
      const std::uint64_t record = side == 0 ? node.left_record : node.right_record;
      MMDB_entry_s entry = side == 0 ? node.left_record_entry : node.right_record_entry;
      switch (side == 0 ? node.left_record_type : node.right_record_type) {
        case MMDB_RECORD_TYPE_SEARCH_NODE:
          if (record >= node_count) return nullptr;
          builder.set(number, side, static_cast<LocationTrie::Ref>(record));
          break;
        case MMDB_RECORD_TYPE_EMPTY: break;  // the builder's default
        case MMDB_RECORD_TYPE_DATA: {
          const auto [it, inserted] = by_offset.emplace(entry.offset, 0);
          if (inserted) it->second = builder.location(read_location(entry));
          builder.set(number, side, it->second);
          break;
        }
        default: return nullptr;
      }
    }
  }
  if (mmdb.metadata.ip_version == 4) {
    builder.root(IpAddress::Family::v4, 0);
    return std::make_shared<const LocationTrie>(std::move(builder).finish());
  }
  builder.root(IpAddress::Family::v6, 0);
  // The IPv4 subtree: 96 zero bits down from the root (or the record that
  // covers it when the tree ends higher). Reading nodes again, since the
  // builder only writes.
  LocationTrie::Ref ref = 0;
  for (unsigned bit = 0; bit < kIpv4Depth && LocationTrie::is_node(ref); ++bit) {
    MMDB_search_node_s node;
    if (MMDB_read_node(&mmdb, ref, &node) != MMDB_SUCCESS) return nullptr;
    if (node.left_record_type == MMDB_RECORD_TYPE_SEARCH_NODE) {
      ref = static_cast<LocationTrie::Ref>(node.left_record);
    } else if (node.left_record_type == MMDB_RECORD_TYPE_DATA) {
      ref = by_offset.at(node.left_record_entry.offset);
    } else {
      ref = LocationTrie::kEmpty;
    }
  }
  builder.root(IpAddress::Family::v4, ref);
  return std::make_shared<const LocationTrie>(std::move(builder).finish());
}
}  // namespace meridian::geo
