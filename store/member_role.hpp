#pragma once
// A member's part in the consensus, as Raft names it: the Raft core
// (cluster/raft_types.hpp documents each transition) and the store seam's
// status (store/replicated_store.hpp) speak of the same four roles.

#include <cstdint>

namespace meridian::store {

enum class Role : std::uint8_t {
  follower,       ///< follows `leader` (or waits for one); the starting role
  pre_candidate,  ///< polling voters before raising the term (pre-vote)
  candidate,      ///< raised the term, voted for itself, asking for votes
  leader,         ///< accepts proposals and replicates the log
};

constexpr const char* to_string(Role role) noexcept {
  switch (role) {
    case Role::follower: return "follower";
    case Role::pre_candidate: return "pre-candidate";
    case Role::candidate: return "candidate";
    case Role::leader: return "leader";
  }
  return "?";
}

}  // namespace meridian::store
