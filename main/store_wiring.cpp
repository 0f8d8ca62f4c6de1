#include "main/store_wiring.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/secret_file.hpp"

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
  auto key = read_secret_file(cluster.key_file);
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
  settings.max_state_bytes = cluster.max_state_mb << 20;
  settings.keep_entries = std::min<std::uint64_t>(1000, cluster.snapshot_entries / 2);
  if (config.admin) settings.admin_address = config.admin->listen.to_string();
  settings.seed = seed;
  return settings;
}

Result<void> reload_store_credentials(const Config& config, store::ReplicatedStore& store) {
  auto* member = dynamic_cast<cluster::RaftMember*>(&store);
  if (!config.cluster || member == nullptr) return {};
  auto cert = read_text_file(config.cluster->cert_file);
  if (!cert) return cert.error();
  auto key = read_secret_file(config.cluster->key_file);
  if (!key) return key.error();
  if (auto loaded = member->reload_credentials(std::move(*cert), std::move(*key)); !loaded) {
    return fail(config.cluster->cert_file, " and ", config.cluster->key_file, ": ",
                loaded.error().message);
  }
  return {};
}

Result<etcd::EtcdStoreSettings> etcd_store_settings(const Config& config) {
  const EtcdStoreConfig& store = *config.etcd_store;
  etcd::EtcdStoreSettings settings;
  settings.name = config.node.id;
  settings.prefix = store.prefix;
  settings.gateway.endpoints = store.endpoints;
  settings.gateway.request_timeout = store.timeout;
  settings.request_timeout = store.timeout;
  if (!store.ca_file.empty()) {
    auto ca = read_text_file(store.ca_file);
    if (!ca) return ca.error();
    auto cert = read_text_file(store.cert_file);
    if (!cert) return cert.error();
    auto key = read_secret_file(store.key_file);
    if (!key) return key.error();
    settings.gateway.ca_pem = std::move(*ca);
    settings.gateway.cert_pem = std::move(*cert);
    settings.gateway.key_pem = std::move(*key);
  }
  // The observer lease of health: is this member's liveness lease too.
  settings.lease_ttl = config.health.observer_lease;
  settings.election_ttl = store.decider_lease;
  // The store is cut off once it missed a decider lease's worth of status calls.
  settings.unreachable_after = store.decider_lease;
  return settings;
}

Result<std::unique_ptr<store::ReplicatedStore>> start_store(const Config& config,
                                                            std::uint64_t seed, Logger& logger,
                                                            const Clock& clock) {
  if (config.cluster) {
    auto settings = store_settings(config, seed);
    if (!settings) return fail("cannot start the cluster member: ", settings.error().message);
    auto started = cluster::RaftMember::start(std::move(*settings), logger, clock);
    if (!started) return fail("cannot start the cluster member: ", started.error().message);
    return std::unique_ptr<store::ReplicatedStore>(std::move(*started));
  }
  auto settings = etcd_store_settings(config);
  if (!settings) return fail("cannot start the etcd store: ", settings.error().message);
  auto started = etcd::EtcdStore::start(std::move(*settings), logger, clock);
  if (!started) return fail("cannot start the etcd store: ", started.error().message);
  return std::unique_ptr<store::ReplicatedStore>(std::move(*started));
}

}  // namespace meridian
