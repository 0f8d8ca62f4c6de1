#pragma once
// Wiring of the node's consensus-store member (cluster/raft_member.hpp) from
// its `cluster:` settings: reads the TLS files, names the founders, converts
// times to ticks. Part of the composition root (main/).

#include <cstdint>
#include <memory>
#include <string>

#include "base/log.hpp"
#include "base/result.hpp"
#include "cluster/raft_member.hpp"
#include "config/config.hpp"

namespace meridian {

/// The RaftMember settings for `config` (which has a `cluster:` section).
/// Errors name an unreadable TLS file.
Result<cluster::RaftMemberSettings> store_settings(const Config& config, std::uint64_t seed);

/// Reads a whole (small) file; errors name the path and the reason.
Result<std::string> read_text_file(const std::string& path);

}  // namespace meridian
