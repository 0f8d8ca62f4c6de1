#pragma once
// Node names and Raft node ids. Operators name nodes ("fra-1"); the Raft core
// numbers them. A node's id is a fixed hash of its name, so every node derives
// the same id for a peer from the config alone, certificates carry the name
// (CN or DNS subjectAltName), and no table of numbers has to be kept in sync.
//
// Ids are 64-bit hashes, so two names can in principle share one (a chance
// of about n^2/2^65 for n names, but FNV-1a collisions can be constructed on
// purpose). Changing the hash would change the ids stored in every existing
// log and snapshot, so instead the places where a new name enters a cluster
// check it against the names already there: add-learner against the members,
// `meridian cluster certs node` against the certificates the CA issued.
//
// Ids must never be reused within a cluster (a removed node that came back
// with its old id and an old log could confuse its peers): give a replacement
// node a new name.

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "cluster/raft_types.hpp"

namespace meridian::cluster {

/// Longest node name, in bytes (a DNS label, so it can be a certificate name).
inline constexpr std::size_t kMaxNodeNameBytes = 63;

/// Checks that `name` can name a node: 1..63 characters from a-z, 0-9 and
/// '-', not starting or ending with '-'. The error says what is wrong.
Result<void> validate_node_name(std::string_view name);

/// The Raft id of the node named `name`: the 64-bit FNV-1a hash of the name
/// (never no_node). Stable across versions: it is stored in logs and
/// snapshots.
NodeId node_id_of(std::string_view name) noexcept;

/// A name-to-id function: node_id_of, or a weaker one a test injects to make
/// collisions.
using NodeIdFunction = NodeId (*)(std::string_view) noexcept;

/// Checks that no name in `existing` other than `name` itself has the id
/// `id_of(name)`. The error names both names and says to pick another name.
Result<void> check_id_unique(std::string_view name, const std::vector<std::string>& existing,
                             NodeIdFunction id_of = node_id_of);

}  // namespace meridian::cluster
