#include "cluster/node_id.hpp"

#include <string>

namespace meridian::cluster {

Result<void> validate_node_name(std::string_view name) {
  if (name.empty()) return fail("a node name must not be empty");
  if (name.size() > kMaxNodeNameBytes) {
    return fail("node name '" + std::string(name) + "' is longer than " +
                std::to_string(kMaxNodeNameBytes) + " characters");
  }
  for (const char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!allowed) {
      return fail("node name '" + std::string(name) + "' may use only a-z, 0-9 and '-'");
    }
  }
  if (name.front() == '-' || name.back() == '-') {
    return fail("node name '" + std::string(name) + "' must not start or end with '-'");
  }
  return {};
}

NodeId node_id_of(std::string_view name) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  for (const char c : name) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= 0x100000001b3ULL;  // FNV-1a 64 prime
  }
  return hash == no_node ? 1 : hash;
}

Result<void> check_id_unique(std::string_view name, const std::vector<std::string>& existing,
                             NodeIdFunction id_of) {
  const NodeId id = id_of(name);
  for (const std::string& other : existing) {
    // The same name is the same node (a re-issue, a retried request); the
    // callers decide whether that is allowed.
    if (other == name || id_of(other) != id) continue;
    return fail("node name '", std::string(name), "' has the same id (", std::to_string(id),
                ") as the existing node '", other,
                "'; the cluster could not tell them apart: choose another name");
  }
  return {};
}

}  // namespace meridian::cluster
