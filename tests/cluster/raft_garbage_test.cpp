// Raft under garbage input: malformed, misaddressed, stale and random
// messages are refused or ignored, never a crash, never a corrupted state.
#include <catch2/catch.hpp>

#include <limits>

#include "base/rng.hpp"
#include "cluster/membership.hpp"
#include "cluster/raft.hpp"
#include "raft_network.hpp"

using namespace meridian;
using namespace meridian::cluster;
using namespace meridian::cluster::testing;

TEST_CASE("raft garbage: malformed and stale messages are rejected without harm, table-driven",
          "[cluster]") {
  Network net({1, 2, 3}, 12);
  REQUIRE(net.elect(2) == 2);
  REQUIRE(net.raft(2).transfer_leadership(1).ok());  // term 2, so a stale term 1 exists
  net.stabilize();
  REQUIRE(net.leader() == 1);
  net.propose(1, "a");
  const std::uint64_t term = net.raft(1).term();
  REQUIRE(term == 2);
  const std::uint64_t last = net.raft(1).status().last_index;

  const auto message = [&](MessageType type, NodeId from, NodeId to) {
    Message m;
    m.type = type;
    m.from = from;
    m.to = to;
    m.term = term;
    return m;
  };
  const auto entry = [&](std::uint64_t index, std::uint64_t entry_term, store::EntryType type,
                         std::string data) {
    store::Entry e;
    e.index = index;
    e.term = entry_term;
    e.type = type;
    e.data = std::move(data);
    return e;
  };
  struct Case {
    const char* what;
    Message message;
    bool error;  // false: stale, ignored quietly
  };
  std::vector<Case> cases;
  {
    Message m = message(MessageType::append_response, 2, 9);
    cases.push_back({"addressed to another node", m, true});
    m = message(MessageType::append_response, 9, 1);
    m.index = 1;
    cases.push_back({"from an unknown node", m, true});
    m = message(MessageType::heartbeat_response, 1, 1);
    cases.push_back({"from itself", m, true});
    m = message(MessageType::append_response, 2, 1);
    m.term = 0;
    cases.push_back({"without a term", m, true});
    m = message(static_cast<MessageType>(99), 2, 1);
    cases.push_back({"of an unknown type", m, true});
    m = message(MessageType::append_response, 2, 1);
    m.index = last + 100;
    cases.push_back({"acknowledging beyond the log", m, true});
    m = message(MessageType::append, 2, 1);
    m.index = last;
    m.log_term = term;
    cases.push_back({"a second leader in the term", m, true});
    m = message(MessageType::append, 1, 2);
    m.index = last;
    m.log_term = term;
    m.entries = {entry(last + 1, term, store::EntryType::normal, "x"),
                 entry(last + 3, term, store::EntryType::normal, "y")};
    cases.push_back({"entries with a gap", m, true});
    m.entries = {entry(last + 1, term + 1, store::EntryType::normal, "x")};
    cases.push_back({"an entry from the future", m, true});
    m.entries = {entry(last + 1, term, store::EntryType::config, "\x01\x07junk")};
    cases.push_back({"an undecodable config entry", m, true});
    m.entries = {entry(last + 1, term, static_cast<store::EntryType>(9), "x")};
    cases.push_back({"an unknown entry type", m, true});
    m = message(MessageType::snapshot, 1, 2);
    cases.push_back({"a snapshot message without a snapshot", m, true});
    m.snapshot = store::Snapshot{last + 5, term, {{}, {}}, "state"};
    cases.push_back({"a snapshot without voters", m, true});
    m = message(MessageType::heartbeat, 1, 2);
    m.commit = last + 50;
    // Answered with where the follower's log ends (it may have lost
    // entries), never followed.
    cases.push_back({"a commit beyond the follower's log", m, false});
    m = message(MessageType::append_response, 2, 1);
    m.term = term - 1;
    m.index = last + 100;
    cases.push_back({"a stale term", m, false});
    m = message(MessageType::heartbeat_response, 2, 1);
    m.term = std::numeric_limits<std::uint64_t>::max();
    cases.push_back({"a term out of range", m, true});
    m = message(MessageType::snapshot, 1, 2);
    m.snapshot =
        store::Snapshot{std::numeric_limits<std::uint64_t>::max(), term, {{1, 2, 3}, {}}, "s"};
    cases.push_back({"a snapshot index out of range", m, true});
    m = message(MessageType::vote_response, 3, 1);
    cases.push_back({"a late vote", m, false});
    m = message(MessageType::timeout_now, 2, 1);
    cases.push_back({"timeout-now to a leader", m, false});
  }
  for (const Case& c : cases) {
    INFO(c.what);
    Raft& target = net.raft(c.message.to == 2 ? 2 : 1);
    const Status before = target.status();
    const auto result = target.step(c.message);
    CHECK(result.ok() == !c.error);
    const Status after = target.status();
    CHECK(after.term == before.term);
    CHECK(after.role == before.role);
    CHECK(after.leader == before.leader);
    CHECK(after.commit == before.commit);
    CHECK(after.last_index == before.last_index);
    CHECK(after.membership == before.membership);
    net.stabilize();
  }
  // The cluster carries on.
  net.propose(1, "b");
  for (NodeId id : net.ids()) CHECK(net.applied_data(id) == std::vector<std::string>{"a", "b"});
  CHECK(net.raft(1).term() == term);
}

namespace {

// A message with plausible-looking random fields around `raft`'s state:
// valid, stale, misaddressed, inconsistent or absurd.
Message random_message(Rng& rng, const Status& status) {
  const auto pick = [&](std::uint64_t bound) { return rng.below(bound); };
  Message m;
  m.type = static_cast<MessageType>(pick(message_type_count + 1));
  m.from = pick(6);
  m.to = pick(10) == 0 ? pick(5) : 1;
  m.term = pick(500) == 0 ? rng.next() : status.term + pick(3) - (status.term > 0 ? 1 : 0);
  m.index = pick(status.last_index + 4);
  m.log_term = pick(m.term + 2);
  m.commit = pick(status.last_index + 4);
  m.context = pick(4);
  m.reject = pick(2) == 0;
  m.reject_hint = pick(status.last_index + 4);
  m.transfer = pick(10) == 0;
  const std::uint64_t count = m.type == MessageType::append ? pick(4) : 0;
  std::uint64_t entry_term = m.log_term;
  for (std::uint64_t i = 0; i < count; ++i) {
    store::Entry entry;
    entry.index = pick(8) == 0 ? pick(status.last_index + 4) : m.index + 1 + i;
    entry_term = pick(8) == 0 ? pick(m.term + 3) : std::min(m.term, entry_term + pick(2));
    entry.term = entry_term;
    if (pick(6) == 0) {
      entry.type = store::EntryType::config;
      const MembershipChange change{static_cast<ChangeKind>(pick(4)), 1 + pick(5)};
      auto next = apply_change({{1, 2, 3}, {4}}, change);
      entry.data =
          next && pick(2) == 0 ? encode_config({change, *next}) : std::string("\x01\x02junk");
    } else {
      entry.data = "x" + std::to_string(pick(100));
    }
    m.entries.push_back(std::move(entry));
  }
  if (m.type == MessageType::snapshot && pick(5) != 0) {
    store::Membership membership =
        pick(4) == 0 ? store::Membership{} : store::Membership{{1, 2, 3}, {4}};
    m.snapshot = store::Snapshot{pick(status.last_index + 6), pick(m.term + 1), membership, "snap"};
  }
  return m;
}

// A plausible answer from a peer to `sent` (a message of the node's), with
// random outcomes, so the node reaches leadership and replication states.
std::optional<Message> random_reply(Rng& rng, const Message& sent) {
  Message m;
  m.from = sent.to;
  m.to = sent.from;
  m.term = sent.term;
  m.reject = rng.below(4) == 0;
  switch (sent.type) {
    case MessageType::vote_request: m.type = MessageType::vote_response; break;
    case MessageType::pre_vote_request: m.type = MessageType::pre_vote_response; break;
    case MessageType::append:
      m.type = MessageType::append_response;
      m.index = m.reject ? sent.index : sent.index + sent.entries.size();
      m.reject_hint = rng.below(sent.index + 1);
      m.log_term = rng.below(sent.term + 1);
      break;
    case MessageType::snapshot:
      m.type = MessageType::append_response;
      m.reject = false;
      m.index = sent.snapshot->index;
      break;
    case MessageType::heartbeat:
      m.type = MessageType::heartbeat_response;
      m.context = sent.context;
      break;
    default: return std::nullopt;
  }
  return m;
}

}  // namespace

TEST_CASE("raft garbage: random messages and calls never crash a node", "[cluster]") {
  // A lone node (of a configured cluster of five) fed random messages from
  // forged peers, random calls and ticks, driven like the real shell. Raft
  // does not defend against forged leaders (it is not Byzantine-tolerant),
  // so only robustness is checked: no assertion fires, the driver's log
  // calls never fail, and the node's own invariants hold.
  std::size_t refused = 0;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    INFO("seed " << seed);
    Rng rng(seed);
    auto log = store::make_memory_log();
    auto config = test_config(1, {1, 2, 3}, {4});
    config.max_inflight_msgs = 4;
    config.election_tick = 3;
    Raft raft(config, *log, seed);
    std::vector<Message> outbox;
    int leaderships = 0;
    for (int step = 0; step < 4000; ++step) {
      if (raft.role() == Role::leader) ++leaderships;
      const std::uint64_t choice = rng.below(100);
      if (choice < 10) {
        raft.tick();
      } else if (choice < 15) {
        (void)raft.propose("p");
      } else if (choice < 17) {
        (void)raft.campaign();
      } else if (choice < 18) {
        (void)raft.read_index(rng.below(5));
      } else if (choice < 19) {
        (void)raft.propose_membership({static_cast<ChangeKind>(rng.below(4)), 1 + rng.below(5)});
      } else if (choice < 20) {
        (void)raft.transfer_leadership(rng.below(5));
      } else if (choice < 21) {
        raft.report_unreachable(rng.below(5));
        raft.report_snapshot(rng.below(5), rng.below(2) == 0);
      } else if (choice < 60 && !outbox.empty()) {
        const std::size_t position = rng.below(outbox.size());
        const auto reply = random_reply(rng, outbox[position]);
        outbox.erase(outbox.begin() + static_cast<std::ptrdiff_t>(position));
        if (reply) (void)raft.step(*reply);
      } else {
        refused += raft.step(random_message(rng, raft.status())).ok() ? 0 : 1;
      }
      while (raft.has_ready()) {
        Ready ready = raft.ready();
        if (ready.snapshot) REQUIRE(log->install_snapshot(*ready.snapshot).ok());
        auto saved = log->save(ready.entries, ready.hard_state);
        if (!saved) FAIL(saved.error().message);
        outbox.insert(outbox.end(), ready.messages.begin(), ready.messages.end());
        if (outbox.size() > 64) outbox.erase(outbox.begin(), outbox.begin() + 32);
        raft.advance(ready);
      }
      const Status status = raft.status();
      if (status.commit > status.last_index || status.applied > status.commit)
        FAIL("broken indices");
      if (rng.below(300) == 0 && status.applied > log->snapshot().index &&
          status.applied >= log->first_index()) {
        store::Snapshot snapshot{status.applied, *log->term(status.applied), raft.membership(),
                                 "s"};
        REQUIRE(log->compact(snapshot, rng.below(3)).ok());
      }
    }
    CHECK(leaderships > 0);  // the replies drive it through leadership too
  }
  CHECK(refused > 1000);  // the generator really produces garbage
}
