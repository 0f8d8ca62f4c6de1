#pragma once
// One running Meridian node (docs/architecture.md): the composition root that
// wires config, GeoIP, the routing table and the DNS servers together.
// Nothing but main() uses it.

#include <cstdint>
#include <memory>
#include <string>

#include "base/log.hpp"
#include "base/result.hpp"
#include "config/config.hpp"

namespace meridian {

struct NodeOptions {
  std::string config_path;
  /// Seed for the workers' generators; 0 picks one from the clock.
  std::uint64_t seed = 0;
  /// The unprivileged user to become once the DNS ports are bound ("":
  /// stay who started it).
  std::string user;
};

/// Loads the config at options.config_path, serves DNS until SIGINT or
/// SIGTERM, and returns the process exit code. SIGHUP reloads the config
/// file's zones, services, sites and GeoIP database without dropping a
/// query; a reload that fails validation keeps the running table and logs
/// why. Listener settings apply at the next start. In a cluster, the node
/// serves the committed config version once there is one (its file's
/// node-local sections plus the version's shared sections; see
/// gslb/config_follower.hpp), and SIGHUP reloads only the node-local part.
int run_node(const NodeOptions& options);

}  // namespace meridian
