// The `cluster:` and `admin:` sections.

#include <algorithm>
#include <cctype>

#include "cluster/node_id.hpp"
#include "config/sections.hpp"

namespace meridian::config_internal {
namespace {

constexpr std::size_t kMaxPeers = 64;
constexpr std::size_t kMaxAdminHosts = 32;
constexpr std::chrono::milliseconds kMinTick{10};
constexpr std::chrono::milliseconds kMaxTick{10'000};
constexpr std::chrono::milliseconds kMaxElectionTimeout{600'000};
constexpr std::int64_t kMinSnapshotEntries = 100;
constexpr std::int64_t kMaxSnapshotEntries = 100'000'000;
// The state budget: at most half the snapshot cap (256 MiB), so that a
// snapshot of a full state always fits, with room for the encoding.
constexpr std::int64_t kMinStateMb = 1;
constexpr std::int64_t kMaxStateMb = 128;

void read_peers(const Context& context, const Field& field, ClusterSettings& cluster) {
  auto list = read_list(context.diag, field, "peers ({id, address})", 1, kMaxPeers);
  if (!list) return;
  for (const Field& element : *list) {
    MapReader reader(context.diag, element, {"id", "address"});
    if (!reader.ok()) continue;
    ClusterPeer peer;
    peer.source = location_of(context.diag, element);
    auto id_field = reader.required("id");
    auto address_field = reader.required("address");
    if (!id_field || !address_field) continue;
    auto id = read_string(context.diag, *id_field, "a node name");
    if (!id) continue;
    if (auto valid = cluster::validate_node_name(*id); !valid) {
      report_expected(context.diag, *id_field,
                      "a node name of a-z, 0-9 and '-' (" + valid.error().message + ")");
      continue;
    }
    auto address = read_socket_address(context, *address_field);
    if (!address) continue;
    const bool duplicate = std::any_of(
        cluster.peers.begin(), cluster.peers.end(),
        [&](const ClusterPeer& other) { return other.id == *id || other.address == *address; });
    if (duplicate) {
      context.diag.error(peer.source, "peer " + *id + " at " + address->to_string() +
                                          " repeats the id or the address of another peer");
      continue;
    }
    peer.id = std::move(*id);
    peer.address = *address;
    cluster.peers.push_back(std::move(peer));
  }
}

void read_tls(const Context& context, const Field& field, ClusterSettings& cluster) {
  MapReader reader(context.diag, field, {"ca", "cert", "key"});
  if (auto ca = reader.required("ca")) {
    if (auto path = read_file_path(context, *ca)) cluster.ca_file = std::move(*path);
  }
  if (auto cert = reader.required("cert")) {
    if (auto path = read_file_path(context, *cert)) cluster.cert_file = std::move(*path);
  }
  if (auto key = reader.required("key")) {
    if (auto path = read_file_path(context, *key)) cluster.key_file = std::move(*path);
  }
}

void read_timing(const Context& context, const MapReader& reader, ClusterSettings& cluster) {
  Diagnostics& diag = context.diag;
  if (auto tick = reader.optional("tick")) {
    if (auto value = read_duration(diag, *tick, kMinTick, kMaxTick)) cluster.tick = *value;
  }
  auto election = reader.optional("election_timeout");
  if (election) {
    if (auto value = read_duration(diag, *election, kMinTick, kMaxElectionTimeout))
      cluster.election_timeout = *value;
  }
  auto heartbeat = reader.optional("heartbeat_interval");
  if (heartbeat) {
    if (auto value = read_duration(diag, *heartbeat, kMinTick, kMaxElectionTimeout)) {
      cluster.heartbeat_interval = *value;
    }
  }
  // The Raft core counts ticks, so both times must be whole ticks.
  const auto whole = [&](std::chrono::milliseconds value) {
    return value.count() % cluster.tick.count() == 0;
  };
  const Field* where = election ? &*election : heartbeat ? &*heartbeat : nullptr;
  if (!whole(cluster.election_timeout) || !whole(cluster.heartbeat_interval)) {
    if (where)
      report_expected(
          diag, *where,
          "a multiple of cluster.tick (" + std::to_string(cluster.tick.count()) + "ms)");
  } else if (cluster.election_timeout <= cluster.heartbeat_interval) {
    if (where) report_expected(diag, *where, "election_timeout longer than heartbeat_interval");
  }
  if (auto entries = reader.optional("snapshot_entries")) {
    if (auto value = read_integer(diag, *entries, kMinSnapshotEntries, kMaxSnapshotEntries)) {
      cluster.snapshot_entries = static_cast<std::uint64_t>(*value);
    }
  }
  if (auto budget = reader.optional("max_state_mb")) {
    if (auto value = read_integer(diag, *budget, kMinStateMb, kMaxStateMb)) {
      cluster.max_state_mb = static_cast<std::uint64_t>(*value);
    }
  }
}

}  // namespace

void read_cluster(const Context& context, const Field& field, const NodeSettings& node,
                  ClusterSettings& cluster) {
  MapReader reader(context.diag, field,
                   {"listen", "peers", "join", "tls", "tick", "election_timeout",
                    "heartbeat_interval", "snapshot_entries", "max_state_mb"});
  if (!reader.ok()) return;
  cluster.source = location_of(context.diag, field);
  if (auto listen = reader.required("listen")) {
    if (auto address = read_socket_address(context, *listen)) cluster.listen = *address;
  }
  if (auto peers = reader.required("peers")) read_peers(context, *peers, cluster);
  if (auto join = reader.optional("join")) {
    if (auto choice = read_choice(context.diag, *join, {"false", "true"}))
      cluster.join = *choice == 1;
  }
  if (auto tls = reader.required("tls")) read_tls(context, *tls, cluster);
  read_timing(context, reader, cluster);

  // The node's own settings that a member needs.
  if (!node.id.empty()) {
    if (auto valid = cluster::validate_node_name(node.id); !valid) {
      context.diag.error(
          cluster.source,
          "node.id " + quote(node.id) + " cannot name a cluster member: " + valid.error().message);
    }
  }
  if (node.data_dir.empty()) {
    context.diag.error(cluster.source,
                       "a cluster member needs node.data_dir (where its Raft log is kept)");
  }
}

void read_admin(const Context& context, const Field& field, AdminSettings& admin) {
  MapReader reader(context.diag, field,
                   {"listen", "token_file", "hosts", "require_token_for_reads",
                    // Per-client limits (docs/security.md):
                    "max_connections_per_client"});
  if (!reader.ok()) return;
  admin.source = location_of(context.diag, field);
  auto listen = reader.optional("listen");
  if (listen) {
    if (auto address = read_socket_address(context, *listen)) admin.listen = *address;
  }
  if (auto token = reader.optional("token_file")) {
    if (auto path = read_file_path(context, *token)) admin.token_file = std::move(*path);
  }
  if (auto hosts = reader.optional("hosts")) {
    if (auto list = read_list(context.diag, *hosts, "host names", 0, kMaxAdminHosts)) {
      for (const Field& element : *list) {
        auto name = read_string(context.diag, element, "a host name");
        if (!name) continue;
        const bool valid =
            !name->empty() && name->size() <= 253 &&
            std::all_of(name->begin(), name->end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
            });
        if (!valid) {
          report_expected(context.diag, element, "a host name of letters, digits, '-' and '.'");
          continue;
        }
        admin.hosts.push_back(std::move(*name));
      }
    }
  }
  const auto for_reads = reader.optional("require_token_for_reads");
  if (for_reads) {
    if (auto choice = read_choice(context.diag, *for_reads, {"false", "true"}))
      admin.require_token_for_reads = *choice == 1;
  }
  if (admin.require_token_for_reads && admin.token_file.empty()) {
    // The only token reads could need is the one token_file holds.
    report_expected(context.diag, *for_reads,
                    "false, or a token_file beside it (reads would need the token it holds)");
  }
  if (auto per_client = reader.optional("max_connections_per_client")) {
    if (auto value = read_integer(context.diag, *per_client, 1,
                                  config_limits::kMaxAdminConnectionsPerClient)) {
      admin.max_connections_per_client = static_cast<std::uint32_t>(*value);
    }
  }
  if (admin.token_file.empty() && !admin.listen.address.is_loopback()) {
    report_expected(
        context.diag, listen ? *listen : field,
        "a loopback address, or a token_file (mutations from other hosts need a token)");
  }
}

}  // namespace meridian::config_internal
