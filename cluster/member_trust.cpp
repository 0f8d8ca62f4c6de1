// Who a RaftMember listens to (cluster/raft_member.hpp, "Only members
// speak"), what it checks in a snapshot before Raft sees it, and the
// certificate revocations it replicates.
#include <charconv>

#include "cluster/node_id.hpp"
#include "cluster/raft_member_state.hpp"

namespace meridian::cluster {

namespace {

constexpr std::string_view kComponent = "store";
/// At most one warning about non-members in this time (each drop is counted).
constexpr std::chrono::seconds kNotMemberLogInterval{10};

}  // namespace

bool RaftMember::Impl::is_current_member(NodeId id) const {
  return is_member(raft_->membership(), id);
}

bool RaftMember::Impl::may_speak(NodeId from, const char* what) {
  if (is_current_member(from)) return true;
  // Not a member of the newest configuration this node knows: a node in the
  // address book may be one this node has not heard of yet (or the cluster
  // a waiting learner is joining), unless its certificates were revoked,
  // which only `cluster remove` does.
  const auto known = address_book_.find(from);
  if (known != address_book_.end() && !revoked_.contains(known->second.name)) return true;
  ++not_member_;
  const SteadyTime now = std::chrono::steady_clock::now();
  if (now - not_member_logged_ >= kNotMemberLogInterval) {
    not_member_logged_ = now;
    logger_.warn(kComponent, std::string("dropped a ") + what + " from " + name_of(from) +
                                 ", which is not a member (counted in not_member; more are not "
                                 "logged for " +
                                 std::to_string(kNotMemberLogInterval.count()) + " s)");
  }
  return false;
}

Result<void> RaftMember::Impl::check_snapshot(const store::Snapshot& snapshot) const {
  auto applied = store::check_kv_snapshot(snapshot.data);
  if (!applied) return applied.error();
  if (*applied != snapshot.index) {
    return fail("its state is at index ", std::to_string(*applied), ", not at its own index ",
                std::to_string(snapshot.index));
  }
  if (auto valid = normalize(snapshot.membership); !valid) {
    return fail("its membership: ", valid.error().message);
  }
  if (snapshot.membership.voters.empty()) return fail("its membership has no voter");
  return {};
}

void RaftMember::Impl::learn_revocation(const std::string& name,
                                        const std::optional<std::string>& value) {
  if (!validate_node_name(name) || !value) return;  // never un-revoked: a new certificate is
  std::int64_t until = 0;
  const char* end = value->data() + value->size();
  if (auto [ptr, error] = std::from_chars(value->data(), end, until);
      error != std::errc() || ptr != end) {
    logger_.warn(kComponent, "ignoring the bad revocation '" + *value + "' of " + name);
    return;
  }
  std::int64_t& held = revoked_[name];
  held = std::max(held, until);
  if (name == settings_.name) {
    logger_.error(kComponent, "this node's own certificates issued until " + std::to_string(held) +
                                  " are revoked: it was removed from the cluster");
    return;
  }
  if (transport_) {
    transport_->revoke(name, held);
    sync_transport_peers();
  }
}

void RaftMember::Impl::sync_transport_peers() {
  if (!transport_) return;
  for (const auto& [id, member] : address_book_) {
    if (is_current_member(id) || !revoked_.contains(member.name)) {
      transport_->add_peer(id, member.name, member.address);
    } else {
      transport_->remove_peer(id);
    }
  }
}

}  // namespace meridian::cluster
