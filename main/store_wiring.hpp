#pragma once
// Wiring of the node's replicated store from its config: the built-in Raft
// member (cluster/raft_member.hpp) of `cluster:` or the etcd client
// (etcd/etcd_store.hpp) of `store:`. Reads the TLS files, names the
// founders, converts times to ticks. Part of the composition root (main/).

#include <cstdint>
#include <memory>
#include <string>

#include "base/log.hpp"
#include "base/result.hpp"
#include "cluster/raft_member.hpp"
#include "config/config.hpp"
#include "etcd/etcd_store.hpp"

namespace meridian {

/// The RaftMember settings for `config` (which has a `cluster:` section).
/// Errors name an unreadable TLS file.
Result<cluster::RaftMemberSettings> store_settings(const Config& config, std::uint64_t seed);

/// The EtcdStore settings for `config` (which has a `store:` section).
/// Errors name an unreadable TLS file.
Result<etcd::EtcdStoreSettings> etcd_store_settings(const Config& config);

/// Starts the store `config` names (cluster: or store:). Errors say which
/// store could not start and why.
Result<std::unique_ptr<store::ReplicatedStore>> start_store(const Config& config,
                                                            std::uint64_t seed, Logger& logger,
                                                            const Clock& clock);

/// On SIGHUP: reads `config`'s cluster certificate and key again and gives
/// them to the built-in store's transport for its new connections (a
/// renewal without a restart). Nothing to do without `cluster:`. Errors name
/// the file or say why the pair does not load; the old pair stays in use.
Result<void> reload_store_credentials(const Config& config, store::ReplicatedStore& store);

/// Reads a whole (small) file; errors name the path and the reason.
Result<std::string> read_text_file(const std::string& path);

}  // namespace meridian
