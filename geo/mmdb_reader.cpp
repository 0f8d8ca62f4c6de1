// The one libmaxminddb adapter of Meridian (STYLE.md rule 3).

#include "geo/mmdb_reader.hpp"

#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace meridian::geo {
namespace {

// MMDB_aget_value rather than MMDB_get_value: the variadic form copies its
// path into a calloc'd array on every call, and locate must not allocate.
constexpr const char* kLatitudePath[] = {"location", "latitude", nullptr};
constexpr const char* kLongitudePath[] = {"location", "longitude", nullptr};
constexpr const char* kCountryPath[] = {"country", "iso_code", nullptr};
constexpr const char* kContinentPath[] = {"continent", "code", nullptr};
constexpr const char* kSubdivisionPath[] = {"subdivisions", "0", "iso_code", nullptr};

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
void read_code(MMDB_entry_s& entry, const char* const* path, std::array<char, N>& out, std::size_t min_size) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data) return;
  if (data.type != MMDB_DATA_TYPE_UTF8_STRING || data.data_size < min_size || data.data_size >= N) return;
  out = {};
  std::memcpy(out.data(), data.utf8_string, data.data_size);
}

}  // namespace

struct MmdbReader::Impl {
  MMDB_s mmdb{};
};

Result<std::unique_ptr<MmdbReader>> MmdbReader::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  errno = 0;
  const int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &impl->mmdb);
  const int open_errno = errno;
  if (status != MMDB_SUCCESS) {
    std::string reason = MMDB_strerror(status);
    if ((status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) && open_errno != 0) {
      reason += std::string(" (") + std::strerror(open_errno) + ")";
    }
    return fail("cannot open GeoIP database ", path, ": ", reason);
  }
  return std::unique_ptr<MmdbReader>(new MmdbReader(std::move(impl)));
}

MmdbReader::MmdbReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MmdbReader::~MmdbReader() { MMDB_close(&impl_->mmdb); }

Located MmdbReader::locate(const IpAddress& address) const noexcept {
  Located located;
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
  MMDB_lookup_result_s result = MMDB_lookup_sockaddr(&impl_->mmdb, sa, &mmdb_error);
  // Errors here are an IPv6 address in an IPv4 database or a corrupt tree:
  // either way nothing is known about the address.
  if (mmdb_error != MMDB_SUCCESS) return located;

  // libmaxminddb counts the netmask of an IPv4 lookup in an IPv6 tree from
  // the tree's root, i.e. 96 + the IPv4 prefix; a branch that ends above
  // the IPv4 subtree (< 96) covers the whole IPv4 space: prefix 0.
  unsigned netmask = result.netmask;
  if (v4 && impl_->mmdb.metadata.ip_version == 6) netmask = netmask >= 96 ? netmask - 96 : 0;
  if (netmask > address.bit_length()) netmask = address.bit_length();
  located.prefix_len = static_cast<std::uint8_t>(netmask);
  if (!result.found_entry) return located;

  located.found = true;
  Location& location = located.location;
  double latitude = 0, longitude = 0;
  if (read_degrees(result.entry, kLatitudePath, latitude) && read_degrees(result.entry, kLongitudePath, longitude)) {
    location.has_coordinates = true;
    location.latitude_deg = latitude;
    location.longitude_deg = longitude;
  }
  read_code(result.entry, kCountryPath, location.country, 2);
  read_code(result.entry, kContinentPath, location.continent, 2);
  read_code(result.entry, kSubdivisionPath, location.subdivision, 1);
  return located;
}

}  // namespace meridian::geo
