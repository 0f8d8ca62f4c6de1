// The `store:` section: the replicated state on an etcd cluster.

#include <algorithm>

#include "cluster/node_id.hpp"
#include "config/sections.hpp"

namespace meridian::config_internal {
namespace {

constexpr std::size_t kMaxEndpoints = 16;
constexpr std::size_t kMaxPrefixBytes = 256;
// etcd counts lease TTLs in seconds: a shorter decider lease would be
// rounded up to one anyway, and leaves no room for a renewal in flight.
constexpr std::chrono::milliseconds kMinDeciderLease{2000};
constexpr std::chrono::milliseconds kMaxDeciderLease{600'000};
constexpr std::chrono::milliseconds kMinTimeout{100};
constexpr std::chrono::milliseconds kMaxTimeout{60'000};

void read_endpoints(const Context& context, const Field& field, EtcdStoreConfig& store) {
  auto list = read_list(context.diag, field, "etcd client addresses (IP:port)", 1, kMaxEndpoints);
  if (!list) return;
  for (const Field& element : *list) {
    auto address = read_socket_address(context, element);
    if (!address) continue;
    if (std::find(store.endpoints.begin(), store.endpoints.end(), *address) !=
        store.endpoints.end()) {
      report_expected(context.diag, element, "each endpoint once");
      continue;
    }
    store.endpoints.push_back(*address);
  }
}

void read_prefix(const Context& context, const Field& field, EtcdStoreConfig& store) {
  auto prefix = read_string(context.diag, field, "a key prefix such as /meridian/prod/");
  if (!prefix) return;
  // A prefix that does not end in '/' would also cover its siblings'
  // keys (/meridian/prod and /meridian/prod2).
  const bool printable = std::all_of(prefix->begin(), prefix->end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (prefix->size() < 2 || prefix->size() > kMaxPrefixBytes || prefix->front() != '/' ||
      prefix->back() != '/' || !printable) {
    report_expected(context.diag, field,
                    "a key prefix that starts and ends with '/', of printable characters "
                    "without spaces, such as /meridian/prod/");
    return;
  }
  store.prefix = std::move(*prefix);
}

void read_tls(const Context& context, const Field& field, EtcdStoreConfig& store) {
  MapReader reader(context.diag, field, {"ca", "cert", "key"});
  if (auto ca = reader.required("ca")) {
    if (auto path = read_file_path(context, *ca)) store.ca_file = std::move(*path);
  }
  if (auto cert = reader.required("cert")) {
    if (auto path = read_file_path(context, *cert)) store.cert_file = std::move(*path);
  }
  if (auto key = reader.required("key")) {
    if (auto path = read_file_path(context, *key)) store.key_file = std::move(*path);
  }
}

}  // namespace

void read_store(const Context& context, const Field& field, const NodeSettings& node,
                EtcdStoreConfig& store) {
  MapReader reader(context.diag, field,
                   {"backend", "endpoints", "prefix", "tls", "decider_lease", "timeout"});
  if (!reader.ok()) return;
  store.source = location_of(context.diag, field);
  if (auto backend = reader.required("backend")) {
    // The built-in store has its own section, with peers and certificates.
    read_choice(context.diag, *backend, {"etcd"});
  }
  if (auto endpoints = reader.required("endpoints")) read_endpoints(context, *endpoints, store);
  if (auto prefix = reader.required("prefix")) read_prefix(context, *prefix, store);
  if (auto tls = reader.optional("tls")) read_tls(context, *tls, store);
  if (auto lease = reader.optional("decider_lease")) {
    if (auto value = read_duration(context.diag, *lease, kMinDeciderLease, kMaxDeciderLease)) {
      store.decider_lease = *value;
    }
  }
  if (auto timeout = reader.optional("timeout")) {
    if (auto value = read_duration(context.diag, *timeout, kMinTimeout, kMaxTimeout)) {
      store.timeout = *value;
    }
  }
  // The node's id names its lease record and its decisions in the store.
  if (!node.id.empty()) {
    if (auto valid = cluster::validate_node_name(node.id); !valid) {
      context.diag.error(store.source, "node.id " + quote(node.id) +
                                           " cannot name a store member: " + valid.error().message);
    }
  }
}

}  // namespace meridian::config_internal
