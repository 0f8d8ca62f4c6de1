#pragma once
// Cluster membership for the Raft core: single-server changes, their
// encoding in config entries, and the tracking of which configuration is in
// force over a node's log.
//
// Meridian follows the Raft dissertation (§4.1): one server is added,
// promoted or removed at a time, and a node uses the newest configuration in
// its log as soon as the entry is appended, committed or not. Any two
// majorities of configurations that differ by one voter overlap, so this is
// safe as long as a change starts only after the previous one committed (the
// leader enforces that, see Raft::propose_membership).
//
// A config entry carries the change *and* the complete resulting membership,
// so a node that joins with an empty log learns the whole configuration from
// the first config entry (or snapshot) it receives, without a base to apply
// a delta to.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "cluster/raft_types.hpp"
#include "store/raft_log.hpp"

namespace meridian::cluster {

/// The most members a configuration may list (voters plus learners): a
/// decoded config entry beyond this is garbage.
inline constexpr std::size_t max_members = 1024;

/// One single-server change.
enum class ChangeKind : std::uint8_t {
  add_voter,        ///< a new node joins as a voter (must not be a member)
  add_learner,      ///< a new node joins as a learner (must not be a member)
  promote_learner,  ///< a learner becomes a voter
  remove,           ///< a voter or learner leaves (never the last voter)
};

inline constexpr const char* to_string(ChangeKind kind) noexcept {
  switch (kind) {
    case ChangeKind::add_voter: return "add-voter";
    case ChangeKind::add_learner: return "add-learner";
    case ChangeKind::promote_learner: return "promote-learner";
    case ChangeKind::remove: return "remove";
  }
  return "?";
}

struct MembershipChange {
  ChangeKind kind = ChangeKind::add_voter;
  NodeId node = no_node;

  friend bool operator==(const MembershipChange&, const MembershipChange&) = default;
};

/// What a config entry (store::EntryType::config) carries.
struct ConfigEntry {
  MembershipChange change;
  store::Membership membership;  ///< the configuration after the change

  friend bool operator==(const ConfigEntry&, const ConfigEntry&) = default;
};

bool is_voter(const store::Membership& membership, NodeId node) noexcept;
bool is_learner(const store::Membership& membership, NodeId node) noexcept;
bool is_member(const store::Membership& membership, NodeId node) noexcept;

/// `membership` after `change`, with voters and learners sorted; an error
/// naming the reason when the change does not apply (adding a member,
/// promoting a non-learner, removing a non-member or the last voter, node 0).
Result<store::Membership> apply_change(const store::Membership& membership,
                                       const MembershipChange& change);

/// A membership with sorted, de-duplicated lists; an error when it lists
/// node 0, a node twice (also as voter and learner), or too many members.
Result<store::Membership> normalize(store::Membership membership);

/// The bytes of a config entry: version 1, the change, then the membership
/// (integers little-endian).
std::string encode_config(const ConfigEntry& entry);
/// Parses encode_config's output. Errors on truncated, oversized or
/// inconsistent input (e.g. add-voter of a node the membership lacks).
Result<ConfigEntry> decode_config(std::string_view bytes);

/// Which configuration is in force over one node's log: the newest config
/// entry at or below the commit index (or the snapshot's membership, or the
/// initial one), plus the config entries above it, newest last. Entries
/// above the commit index may still be truncated by a new leader, which
/// rolls the configuration back to the previous one.
///
/// Owned by one Raft instance; the caller reports every append (including a
/// truncation, which an append starting below the last index implies),
/// every commit advance, and every snapshot restore.
class MembershipTracker {
 public:
  /// `base` is in force at `base_index` (a snapshot index, or 0).
  MembershipTracker(store::Membership base, std::uint64_t base_index);

  /// The configuration in force: the newest one in the log.
  const store::Membership& current() const noexcept;
  /// Index of the entry that set current() (base_index for the base).
  std::uint64_t current_index() const noexcept;
  /// True when a config entry above `commit` exists (a change is pending).
  bool pending(std::uint64_t commit) const noexcept;

  /// Entries were appended starting at entries.front().index, replacing any
  /// later ones. Config entries must decode (checked by the caller before
  /// appending; a bad one here is a bug).
  void on_append(const std::vector<store::Entry>& entries);
  /// The commit index rose to `commit`: configurations at or below it are
  /// final and older ones are forgotten.
  void on_commit(std::uint64_t commit);
  /// The log was replaced by a snapshot.
  void reset(store::Membership membership, std::uint64_t index);

 private:
  store::Membership committed_;
  std::uint64_t committed_index_;
  std::vector<std::pair<std::uint64_t, store::Membership>> pending_;  // by index, ascending
};

}  // namespace meridian::cluster
