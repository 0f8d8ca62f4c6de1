#include "main/store_wiring.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace meridian {

namespace {
/// TLS files and tokens are small; anything bigger is the wrong file.
constexpr std::size_t kMaxTextFileBytes = 1 << 20;
}  // namespace

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return fail("cannot read ", path, ": ", std::strerror(errno));
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return fail("cannot read ", path);
  std::string content = std::move(text).str();
  if (content.size() > kMaxTextFileBytes)
    return fail(path, " is larger than ", std::to_string(kMaxTextFileBytes), " bytes");
  return content;
}

Result<cluster::RaftMemberSettings> store_settings(const Config& config, std::uint64_t seed) {
  const ClusterSettings& cluster = *config.cluster;
  cluster::RaftMemberSettings settings;
  settings.name = config.node.id;
  settings.data_dir = config.node.data_dir;
  settings.transport.listen = cluster.listen;
  auto ca = read_text_file(cluster.ca_file);
  if (!ca) return ca.error();
  auto cert = read_text_file(cluster.cert_file);
  if (!cert) return cert.error();
  auto key = read_text_file(cluster.key_file);
  if (!key) return key.error();
  settings.transport.ca_pem = std::move(*ca);
  settings.transport.cert_pem = std::move(*cert);
  settings.transport.key_pem = std::move(*key);
  for (const ClusterPeer& peer : cluster.peers) settings.peers.push_back({peer.id, peer.address});
  if (!cluster.join) {
    settings.founders.push_back(config.node.id);
    for (const ClusterPeer& peer : cluster.peers) {
      if (peer.id != config.node.id) settings.founders.push_back(peer.id);
    }
  }
  settings.tick = cluster.tick;
  settings.election_ticks = static_cast<std::uint32_t>(cluster.election_timeout / cluster.tick);
  settings.heartbeat_ticks = static_cast<std::uint32_t>(cluster.heartbeat_interval / cluster.tick);
  settings.snapshot_entries = cluster.snapshot_entries;
  settings.keep_entries = std::min<std::uint64_t>(1000, cluster.snapshot_entries / 2);
  if (config.admin) settings.admin_address = config.admin->listen.to_string();
  settings.seed = seed;
  return settings;
}

}  // namespace meridian
