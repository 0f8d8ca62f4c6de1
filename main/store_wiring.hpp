#pragma once
// Wiring of the node's consensus-store member (cluster/store_node.hpp) from
// its `cluster:` settings: reads the TLS files, names the founders, converts
// times to ticks. Part of the composition root (main/).

#include <cstdint>
#include <memory>
#include <string>

#include "base/log.hpp"
#include "base/result.hpp"
#include "cluster/store_node.hpp"
#include "config/config.hpp"

namespace meridian {

/// The StoreNode settings for `config` (which has a `cluster:` section).
/// Errors name an unreadable TLS file.
Result<cluster::StoreNodeSettings> store_settings(const Config& config, std::uint64_t seed);

/// Reads a whole (small) file; errors name the path and the reason.
Result<std::string> read_text_file(const std::string& path);

}  // namespace meridian
