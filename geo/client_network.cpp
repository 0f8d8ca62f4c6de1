// select_client and is_special_purpose (declared in geo/steering.hpp).

#include <array>

#include "geo/steering.hpp"

namespace meridian::geo {
namespace {

struct Prefix {
  std::array<std::uint8_t, 4> bytes;
  unsigned length;
};

// RFC 6890 ranges that say nothing about where a client is. Documentation
// ranges are left out on purpose: examples and tests use them as clients.
constexpr Prefix kSpecialV4[] = {
    {{0, 0, 0, 0}, 8},       // "this network", unspecified
    {{10, 0, 0, 0}, 8},      // private
    {{100, 64, 0, 0}, 10},   // shared address space (CGNAT)
    {{127, 0, 0, 0}, 8},     // loopback
    {{169, 254, 0, 0}, 16},  // link-local
    {{172, 16, 0, 0}, 12},   // private
    {{192, 0, 0, 0}, 24},    // IETF protocol assignments
    {{192, 168, 0, 0}, 16},  // private
    {{198, 18, 0, 0}, 15},   // benchmarking
    {{224, 0, 0, 0}, 4},     // multicast
    {{240, 0, 0, 0}, 4},     // reserved, broadcast
};

bool within(const IpAddress& address, const std::uint8_t* prefix, unsigned length) noexcept {
  for (unsigned bit = 0; bit < length; ++bit) {
    if (address.bit(bit) != static_cast<bool>((prefix[bit / 8] >> (7 - bit % 8)) & 1)) return false;
  }
  return true;
}

}  // namespace

bool is_special_purpose(const IpAddress& address) noexcept {
  const IpAddress unmapped = address.unmapped();
  if (unmapped.family == IpAddress::Family::v4) {
    for (const Prefix& prefix : kSpecialV4) {
      if (within(unmapped, prefix.bytes.data(), prefix.length)) return true;
    }
    return false;
  }
  const std::uint8_t first = unmapped.bytes[0], second = unmapped.bytes[1];
  if (first == 0) return true;              // ::/8: unspecified, loopback, compatible
  if ((first & 0xFE) == 0xFC) return true;  // fc00::/7 unique local
  if (first == 0xFE && (second & 0xC0) == 0x80) return true;  // fe80::/10 link-local
  if (first == 0xFF) return true;                             // multicast
  return false;
}

ClientNetwork select_client(const ServiceSpec& spec, const IpNetwork* ecs,
                            const IpAddress& source) noexcept {
  // An ECS of /0 asks us not to use the client's address; a private one
  // locates nothing (and may be a misconfigured resolver's own network).
  if (ecs != nullptr && spec.use_ecs && ecs->prefix_len > 0 && !is_special_purpose(ecs->address)) {
    return {*ecs, true};
  }
  ClientNetwork client;
  client.network.address = source;
  client.network.prefix_len = static_cast<std::uint8_t>(source.bit_length());
  return client;
}

}  // namespace meridian::geo
