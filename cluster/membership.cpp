#include "cluster/membership.hpp"

#include <algorithm>

#include "base/assert.hpp"

namespace meridian::cluster {
namespace {

constexpr std::uint8_t format_version = 1;

bool contains(const std::vector<NodeId>& nodes, NodeId node) {
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

void erase(std::vector<NodeId>& nodes, NodeId node) {
  nodes.erase(std::remove(nodes.begin(), nodes.end(), node), nodes.end());
}

void put_u64(std::string& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void put_u32(std::string& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// Reads little-endian integers from a byte string, remembering whether it
// ever ran past the end (then every later read yields 0).
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  std::uint64_t u64() { return read(8); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(read(4)); }
  std::uint8_t u8() { return static_cast<std::uint8_t>(read(1)); }
  bool truncated() const { return truncated_; }
  bool at_end() const { return offset_ == bytes_.size(); }

 private:
  std::uint64_t read(std::size_t width) {
    if (truncated_ || bytes_.size() - offset_ < width) {
      truncated_ = true;
      return 0;
    }
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < width; ++i) {
      value |= std::uint64_t{static_cast<unsigned char>(bytes_[offset_ + i])} << (8 * i);
    }
    offset_ += width;
    return value;
  }

  std::string_view bytes_;
  std::size_t offset_ = 0;
  bool truncated_ = false;
};

Result<std::vector<NodeId>> read_nodes(Reader& reader) {
  const std::uint32_t count = reader.u32();
  // Check the count before reserving: garbage must not allocate gigabytes.
  if (count > max_members) return fail("config entry lists ", std::to_string(count), " nodes");
  std::vector<NodeId> nodes;
  nodes.reserve(count);
  for (std::uint32_t i = 0; i < count && !reader.truncated(); ++i) nodes.push_back(reader.u64());
  return nodes;
}

}  // namespace

bool is_voter(const store::Membership& membership, NodeId node) noexcept {
  return contains(membership.voters, node);
}

bool is_learner(const store::Membership& membership, NodeId node) noexcept {
  return contains(membership.learners, node);
}

bool is_member(const store::Membership& membership, NodeId node) noexcept {
  return is_voter(membership, node) || is_learner(membership, node);
}

Result<store::Membership> normalize(store::Membership membership) {
  auto& voters = membership.voters;
  auto& learners = membership.learners;
  if (voters.size() + learners.size() > max_members) return fail("membership has too many members");
  std::sort(voters.begin(), voters.end());
  std::sort(learners.begin(), learners.end());
  if (std::adjacent_find(voters.begin(), voters.end()) != voters.end())
    return fail("a voter is listed twice");
  if (std::adjacent_find(learners.begin(), learners.end()) != learners.end())
    return fail("a learner is listed twice");
  if (contains(voters, no_node) || contains(learners, no_node))
    return fail("node id 0 is not a node");
  for (NodeId learner : learners) {
    if (contains(voters, learner))
      return fail("node ", std::to_string(learner), " is both voter and learner");
  }
  return membership;
}

Result<store::Membership> apply_change(const store::Membership& membership,
                                       const MembershipChange& change) {
  const NodeId node = change.node;
  const std::string name = "node " + std::to_string(node);
  if (node == no_node) return fail("node id 0 is not a node");
  store::Membership next = membership;
  switch (change.kind) {
    case ChangeKind::add_voter:
      if (is_member(membership, node)) return fail(name, " is already a member");
      next.voters.push_back(node);
      break;
    case ChangeKind::add_learner:
      if (is_member(membership, node)) return fail(name, " is already a member");
      next.learners.push_back(node);
      break;
    case ChangeKind::promote_learner:
      if (!is_learner(membership, node)) return fail(name, " is not a learner");
      erase(next.learners, node);
      next.voters.push_back(node);
      break;
    case ChangeKind::remove:
      if (!is_member(membership, node)) return fail(name, " is not a member");
      if (is_voter(membership, node) && membership.voters.size() == 1)
        return fail(name, " is the last voter");
      erase(next.voters, node);
      erase(next.learners, node);
      break;
    default: return fail("unknown membership change kind");
  }
  return normalize(std::move(next));
}

std::string encode_config(const ConfigEntry& entry) {
  std::string out;
  out.push_back(static_cast<char>(format_version));
  out.push_back(static_cast<char>(entry.change.kind));
  put_u64(out, entry.change.node);
  put_u32(out, static_cast<std::uint32_t>(entry.membership.voters.size()));
  for (NodeId voter : entry.membership.voters) put_u64(out, voter);
  put_u32(out, static_cast<std::uint32_t>(entry.membership.learners.size()));
  for (NodeId learner : entry.membership.learners) put_u64(out, learner);
  return out;
}

Result<ConfigEntry> decode_config(std::string_view bytes) {
  Reader reader(bytes);
  if (reader.u8() != format_version) return fail("config entry has an unknown format version");
  const std::uint8_t kind = reader.u8();
  if (kind > static_cast<std::uint8_t>(ChangeKind::remove))
    return fail("config entry has an unknown change kind");
  ConfigEntry entry;
  entry.change = {static_cast<ChangeKind>(kind), reader.u64()};
  auto voters = read_nodes(reader);
  if (!voters) return voters.error();
  entry.membership.voters = std::move(*voters);
  auto learners = read_nodes(reader);
  if (!learners) return learners.error();
  entry.membership.learners = std::move(*learners);
  if (reader.truncated()) return fail("config entry is truncated");
  if (!reader.at_end()) return fail("config entry has trailing bytes");
  auto membership = normalize(std::move(entry.membership));
  if (!membership) return fail("config entry: ", membership.error().message);
  entry.membership = std::move(*membership);
  if (entry.membership.voters.empty()) return fail("config entry leaves no voter");
  // The membership must be a possible outcome of the change.
  const NodeId node = entry.change.node;
  const bool consistent = [&] {
    switch (entry.change.kind) {
      case ChangeKind::add_voter:
      case ChangeKind::promote_learner: return is_voter(entry.membership, node);
      case ChangeKind::add_learner: return is_learner(entry.membership, node);
      case ChangeKind::remove: return !is_member(entry.membership, node);
    }
    return false;
  }();
  if (node == no_node || !consistent)
    return fail("config entry's membership does not match its change");
  return entry;
}

MembershipTracker::MembershipTracker(store::Membership base, std::uint64_t base_index)
    : committed_(std::move(base)), committed_index_(base_index) {}

const store::Membership& MembershipTracker::current() const noexcept {
  return pending_.empty() ? committed_ : pending_.back().second;
}

std::uint64_t MembershipTracker::current_index() const noexcept {
  return pending_.empty() ? committed_index_ : pending_.back().first;
}

bool MembershipTracker::pending(std::uint64_t commit) const noexcept {
  return !pending_.empty() && pending_.back().first > commit;
}

void MembershipTracker::on_append(const std::vector<store::Entry>& entries) {
  if (entries.empty()) return;
  const std::uint64_t first = entries.front().index;
  // Raft never truncates committed entries, so a committed configuration is
  // never rolled back.
  MERIDIAN_ASSERT(first > committed_index_, "append below a committed configuration");
  while (!pending_.empty() && pending_.back().first >= first) pending_.pop_back();
  for (const store::Entry& entry : entries) {
    if (entry.type != store::EntryType::config) continue;
    auto decoded = decode_config(entry.data);
    MERIDIAN_ASSERT(decoded.ok(), "an undecodable config entry reached the log");
    pending_.emplace_back(entry.index, std::move(decoded->membership));
  }
}

void MembershipTracker::on_commit(std::uint64_t commit) {
  auto it = pending_.begin();
  while (it != pending_.end() && it->first <= commit) {
    committed_ = std::move(it->second);
    committed_index_ = it->first;
    ++it;
  }
  pending_.erase(pending_.begin(), it);
}

void MembershipTracker::reset(store::Membership membership, std::uint64_t index) {
  committed_ = std::move(membership);
  committed_index_ = index;
  pending_.clear();
}

}  // namespace meridian::cluster
