#pragma once
// What a node of a cluster says about the config it serves
// (docs/configuration.md): which committed version, whether its own file agrees, and
// what a config text it was asked to commit validated to. Filled in by
// gslb/config_follower.hpp, served by the admin API through
// gslb/node_api.hpp.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace meridian::gslb {

/// Which config a node serves.
struct ConfigNodeStatus {
  std::string file;  ///< the node's config file
  /// The newest committed version this node has applied from the store.
  std::optional<std::uint64_t> committed;
  std::string committed_fingerprint;  ///< its fingerprint; empty without one
  /// The version whose shared sections it serves; nullopt: its own file's.
  std::optional<std::uint64_t> serving;
  std::string fingerprint;       ///< of the shared sections it serves
  std::string file_fingerprint;  ///< of its file's shared sections
  /// Why `committed` is not served here (it does not load on this node);
  /// empty when it is.
  std::string error;
};

/// A config text that passed validation on this node.
struct ValidatedConfig {
  std::string fingerprint;           ///< config/config.hpp shared_fingerprint
  std::vector<std::string> ignored;  ///< its node-local sections
};

}  // namespace meridian::gslb
