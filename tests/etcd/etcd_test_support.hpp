#pragma once
// Catch2 glue for the etcd tests: start a cluster or fail the test loudly
// (never skip: a missing etcd is a broken setup, not a pass), and small
// readers of etcd's own answers, taken through the cluster's client rather
// than the store under test.

#include <catch2/catch.hpp>

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "etcd/codec.hpp"
#include "tests/etcd/etcd_process.hpp"

namespace meridian::etcd::test {

inline std::unique_ptr<EtcdCluster> start_cluster(EtcdClusterOptions options = {}) {
  auto cluster = EtcdCluster::start(options);
  if (!cluster) FAIL("cannot start etcd: " << cluster.error().message);
  return std::move(*cluster);
}

/// Every key under `prefix` with its value, read linearizably from etcd
/// itself (keys with the prefix, as etcd holds them).
inline std::map<std::string, std::string> etcd_contents(const EtcdCluster& cluster,
                                                        const std::string& prefix) {
  auto answer = cluster.call_any(
      "/v3/kv/range", boost::json::object{{"key", base64_encode(prefix)},
                                          {"range_end", base64_encode(prefix_range_end(prefix))}});
  if (!answer) FAIL("range " << prefix << ": " << answer.error().message);
  if (auto error = gateway_error(*answer)) FAIL("range " << prefix << ": " << *error);
  auto kvs = range_kvs(*answer);
  if (!kvs) FAIL("range " << prefix << ": " << kvs.error().message);
  std::map<std::string, std::string> out;
  for (KeyValue& kv : *kvs) out[kv.key] = kv.value;
  return out;
}

/// One key as etcd holds it, or nullopt.
inline std::optional<KeyValue> etcd_get(const EtcdCluster& cluster, const std::string& key) {
  auto answer = cluster.call_any("/v3/kv/range", boost::json::object{{"key", base64_encode(key)}});
  if (!answer) FAIL("get " << key << ": " << answer.error().message);
  if (auto error = gateway_error(*answer)) FAIL("get " << key << ": " << *error);
  auto kvs = range_kvs(*answer);
  if (!kvs) FAIL("get " << key << ": " << kvs.error().message);
  if (kvs->empty()) return std::nullopt;
  return kvs->front();
}

/// etcd's current revision.
inline std::int64_t etcd_revision(const EtcdCluster& cluster) {
  auto answer = cluster.call_any("/v3/kv/range", boost::json::object{{"key", base64_encode("-")}});
  if (!answer) FAIL("revision: " << answer.error().message);
  auto revision = header_revision(*answer);
  if (!revision) FAIL("revision: " << revision.error().message);
  return *revision;
}

}  // namespace meridian::etcd::test
