#include "tests/sim/simulation.hpp"

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "base/rng.hpp"
#include "cluster/raft.hpp"
#include "store/kv_state.hpp"
#include "store/raft_log.hpp"
#include "tests/sim/linearizability.hpp"
#include "tests/sim/sim_member.hpp"
#include "tests/sim/sim_network.hpp"

namespace meridian::sim {
namespace {

using cluster::Message;
using cluster::NodeId;
using cluster::Raft;
using cluster::Ready;
using cluster::Role;

constexpr std::uint64_t kTickMs = 10;
constexpr std::uint64_t kSafetyMs = 1500;
constexpr std::uint64_t kLivenessBoundMs = 4000;
constexpr std::uint64_t kClientTimeoutMs = 300;
constexpr std::uint64_t kClients = 3;
const char* const kKeys[] = {"a", "b", "c"};

struct Violation : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Node {
  NodeId id = 0;
  std::unique_ptr<SimMember> member;  // Raft, durable log, KV state, unsynced Ready
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>>
      proposals;  // index -> (client, term)
  std::uint64_t restart_at = 0;
};

struct Client {
  std::uint64_t id = 0;
  NodeId guess = 1;
  bool busy = false;
  Operation op;
  std::uint64_t started = 0;
  std::uint64_t next_try = 0;
  bool proposed = false;  // a proposal is in the log somewhere: outcome uncertain
  NodeId node = 0;
  std::uint64_t index = 0, term = 0, read_context = 0;
  bool read_sent = false;
  std::uint64_t fresh_done = 0;  // ops invoked after the heal and completed
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& options)
      : options_(options), rng_(options.seed * 0x9E3779B97F4A7C15ull + 1) {
    const std::uint64_t count = rng_.below(2) ? 5 : 3;
    network_.choose_parameters();
    crash_odds_ = 150 + rng_.below(600);
    partition_odds_ = 200 + rng_.below(600);
    compaction_ = rng_.below(2) == 0;
    std::vector<NodeId> voters;
    for (NodeId id = 1; id <= count; ++id) voters.push_back(id);
    founders_.voters = voters;
    for (NodeId id : voters) {
      Raft::Config config;
      config.id = id;
      config.peers = voters;
      config.max_inflight_msgs = 1 + rng_.below(8);
      config.max_entries_per_msg = 1 + rng_.below(16);
      add(id, config);
    }
    if (rng_.below(2) ==
        0) {  // a membership change: add a spare as learner, promote it, remove a founder
      const NodeId spare = count + 1;
      Raft::Config config;
      config.id = spare;  // joins: learns the membership from the leader
      add(spare, config);
      spare_ = spare;
      victim_ = 1 + rng_.below(count);
      next_change_at_ = 100 + rng_.below(400);
      changes_planned_ = true;
    }
    for (std::uint64_t c = 1; c <= kClients; ++c) {
      clients_.emplace_back().id = c;
      clients_.back().guess = 1 + rng_.below(count);
    }
    outcome_.nodes = count;
    trace("cluster of " + std::to_string(count) + " nodes, " + network_.describe() +
          ", compaction " + (compaction_ ? "on" : "off"));
  }

  SimOutcome run() {
    try {
      for (now_ = 0; now_ < kSafetyMs; ++now_) step_ms(true);
      heal_all();
      const std::uint64_t bound = now_ + kLivenessBoundMs;
      for (; !live_enough(); ++now_) {
        if (now_ >= bound) throw Violation("liveness: " + liveness_state());
        step_ms(false);
      }
      finish();
    } catch (const Violation& violation) {
      outcome_.ok = false;
      outcome_.failure = "at " + std::to_string(now_) + "ms: " + violation.what();
      trace("VIOLATION " + outcome_.failure);
    }
    outcome_.sim_ms = now_;
    outcome_.leaders = leaders_.size();
    return outcome_;
  }

 private:
  void trace(const std::string& line) {
    if (options_.trace) std::cout << "[" << now_ << "ms] " << line << "\n";
  }
  static std::string name(NodeId id) {
    return id == cluster::no_node ? "none" : "n" + std::to_string(id);
  }
  bool up(NodeId id) const { return nodes_.at(id).member->up(); }
  bool odds(std::uint64_t one_in) { return rng_.below(one_in) == 0; }

  // ---- nodes and disk -------------------------------------------------------

  // A member whose entries and reads come back to the checks and clients.
  void add(NodeId id, const Raft::Config& config) {
    Node& node = nodes_[id];
    node.id = id;
    node.member = std::make_unique<SimMember>(config, options_.seed, rng_, network_);
    node.member->hooks.applied = [this, &node](const store::Entry& entry,
                                               const std::optional<store::KvResult>& result) {
      apply(node, entry, result);
    };
    node.member->hooks.read_ready = [this, &node](const cluster::ReadState& read) {
      serve_read(node, read);
    };
    node.member->hooks.soft_state = [this, &node](const cluster::SoftState& soft) {
      trace(name(node.id) + " is " + cluster::to_string(soft.role) + " in term " +
            std::to_string(node.member->raft().term()) + ", leader " + name(soft.leader));
    };
    node.member->hooks.installed = [this, &node](std::uint64_t index) {
      trace(name(node.id) + " installs snapshot at " + std::to_string(index));
    };
  }

  void crash(Node& node) {
    trace("crash " + name(node.id) +
          (node.member->unsynced() ? " (losing an unsynced write)" : ""));
    node.member->crash();
    node.proposals.clear();
    ++outcome_.crashes;
  }

  // After the member applied `entry` (in index order: SimMember checks it).
  void apply(Node& node, const store::Entry& entry, const std::optional<store::KvResult>& result) {
    const auto [it, first] = applied_.emplace(entry.index, entry);
    if (!first && !(it->second == entry)) {
      throw Violation("state machine safety: two entries applied at index " +
                      std::to_string(entry.index));
    }
    const std::uint64_t current_term = node.member->raft().term();
    auto bound = commit_term_bound_.try_emplace(entry.index, current_term).first;
    bound->second = std::min(bound->second, current_term);
    auto proposal = node.proposals.find(entry.index);
    if (proposal == node.proposals.end()) return;
    const auto [client_id, term] = proposal->second;
    node.proposals.erase(proposal);
    Client& client = clients_[client_id - 1];
    if (!client.busy || !client.proposed || client.node != node.id || client.index != entry.index)
      return;
    if (entry.term != term) {  // another entry won the index: ours can never commit
      trace("client " + std::to_string(client.id) + " proposal at " + std::to_string(entry.index) +
            " lost; retrying");
      client.proposed = false;
      client.next_try = now_ + 1;
      return;
    }
    if (client.op.kind == OpKind::cas && result) client.op.ok = result->ok;
    complete(client);
  }

  // A read-index round of `node` completed and its state caught up.
  void serve_read(Node& node, const cluster::ReadState& read) {
    for (Client& client : clients_) {
      if (client.busy && client.read_sent && client.node == node.id &&
          client.read_context == read.context) {
        client.op.read = node.member->kv().get(client.op.key);
        complete(client);
      }
    }
  }

  // ---- network --------------------------------------------------------------

  void deliver_due() {
    while (auto due = network_.next_due(now_)) {
      const Message& message = *due;
      if (!up(message.to)) continue;
      if (options_.trace) {
        trace(name(message.from) + " -> " + name(message.to) + " " +
              cluster::to_string(message.type) + " term " + std::to_string(message.term) +
              " index " + std::to_string(message.index) + " entries " +
              std::to_string(message.entries.size()) + " commit " + std::to_string(message.commit));
      }
      if (auto stepped = nodes_.at(message.to).member->raft().step(message); !stepped) {
        // Traffic from (or to) a node outside the receiver's membership is
        // refused by design during membership changes; anything else is a bug.
        trace(name(message.to) + " refuses it: " + stepped.error().message);
        if (!changes_planned_ || stepped.error().message.find("member") == std::string::npos) {
          throw Violation("step refused real traffic: " + stepped.error().message);
        }
      }
    }
  }

  // ---- faults ---------------------------------------------------------------

  void inject_faults() {
    std::uint64_t down = 0;
    for (auto& [id, node] : nodes_) {
      if (!node.member->up()) {
        ++down;
        if (node.restart_at <= now_) {
          trace("restart " + name(id));
          node.member->start();
        }
      }
    }
    if (odds(crash_odds_) && (down + 1) * 2 < nodes_.size() + 1) {
      NodeId victim = 1 + rng_.below(nodes_.size());
      if (rng_.below(2) == 0) {  // half the crashes hit a leader, to force elections
        for (const auto& [id, node] : nodes_) {
          if (node.member->up() && node.member->raft().role() == Role::leader) victim = id;
        }
      }
      Node& node = nodes_.at(victim);
      if (node.member->up()) {
        crash(node);
        node.restart_at = now_ + 20 + rng_.below(300);
      }
    }
    if (!network_.partitioned() && odds(partition_odds_)) {
      std::vector<NodeId> ids;
      for (const auto& [id, node] : nodes_) ids.push_back(id);
      const std::vector<NodeId> side = network_.partition(ids);
      heal_at_ = now_ + 30 + rng_.below(400);
      ++outcome_.partitions;
      std::string names;
      for (NodeId id : side) names += " " + name(id);
      trace("partition {" + names + " } from the rest");
    }
    if (network_.partitioned() && heal_at_ <= now_) {
      network_.heal();
      trace("partition healed");
    }
    if (compaction_ && odds(150)) compact(nodes_.at(1 + rng_.below(nodes_.size())));
  }

  // Drives the planned membership change (add the spare as a learner,
  // promote it, remove a founder) through whichever node leads: the next
  // step follows from the leader's membership, so a step lost with a
  // leadership change is simply proposed again.
  void change_membership() {
    if (spare_ == cluster::no_node || now_ < next_change_at_ || membership_settled()) return;
    next_change_at_ = now_ + 20;
    for (auto& [id, node] : nodes_) {
      if (!node.member->up() || node.member->raft().role() != Role::leader) continue;
      const store::Membership& members = node.member->raft().membership();
      cluster::MembershipChange change{cluster::ChangeKind::remove, victim_};
      if (!cluster::is_member(members, spare_)) {
        change = {cluster::ChangeKind::add_learner, spare_};
      } else if (cluster::is_learner(members, spare_)) {
        change = {cluster::ChangeKind::promote_learner, spare_};
      } else if (!cluster::is_member(members, victim_)) {
        continue;  // all proposed; waiting for the commit
      }
      auto index = node.member->raft().propose_membership(change);
      if (!index) continue;
      trace(std::string("propose ") + cluster::to_string(change.kind) + " " + name(change.node) +
            " at " + name(id) + " index " + std::to_string(*index));
      return;
    }
  }

  // The newest committed config entry is the planned final membership.
  bool membership_settled() const {
    if (spare_ == cluster::no_node) return true;
    for (auto it = applied_.rbegin(); it != applied_.rend(); ++it) {
      if (it->second.type != store::EntryType::config) continue;
      auto config = cluster::decode_config(it->second.data);
      if (!config) throw Violation("undecodable config entry at " + std::to_string(it->first));
      return cluster::is_voter(config->membership, spare_) &&
             !cluster::is_member(config->membership, victim_);
    }
    return false;
  }

  void compact(Node& node) {
    if (!node.member->up() || node.member->unsynced()) return;
    const std::uint64_t index = node.member->applied();
    const store::RaftLog& log = node.member->log();
    if (index <= log.snapshot().index || index < log.first_index() || index > log.last_index())
      return;
    store::Membership membership = log.snapshot().index > 0 ? log.snapshot().membership : founders_;
    for (auto it = applied_.upper_bound(index);
         it != applied_.begin();) {  // the config in force at `index`
      if ((--it)->second.type != store::EntryType::config || it->first <= log.snapshot().index)
        continue;
      membership = cluster::decode_config(it->second.data)->membership;
      break;
    }
    if (!node.member->compact(membership, rng_.below(4))) throw Violation("compact failed");
    ++outcome_.snapshots;
    trace(name(node.id) + " compacts its log up to " + std::to_string(index));
  }

  void heal_all() {
    network_.set_faulty(false);
    network_.heal();
    for (auto& [id, node] : nodes_) {
      if (!node.member->up()) node.member->start();
    }
    heal_event_ = events_;
    for (Client& client : clients_) client.fresh_done = 0;
    trace("liveness phase: all faults healed, every node up");
  }

  // ---- clients --------------------------------------------------------------

  void complete(Client& client) {
    client.op.complete = ++events_;
    history_.push_back(client.op);
    trace("complete " + describe(client.op));
    client.busy = false;
    client.next_try = now_ + rng_.below(20);
    if (client.op.invoke > heal_event_) ++client.fresh_done;
    if (client.proposed) acked_.emplace_back(client.index, client.term);
  }

  void give_up(Client& client) {
    if (client.proposed) {  // may still take effect
      client.op.unknown = true;
      client.op.complete = Operation::never;
      history_.push_back(client.op);
      ++outcome_.unknown;
      trace("unknown " + describe(client.op));
    }
    client.busy = false;
    client.next_try = now_ + rng_.below(20);
  }

  void new_operation(Client& client) {
    Operation op;
    op.client = client.id;
    op.key = kKeys[rng_.below(3)];
    const std::uint64_t kind = rng_.below(10);
    const std::string fresh = "c" + std::to_string(client.id) + "." + std::to_string(++values_);
    if (kind < 4) {
      op.kind = OpKind::put;
      op.value = fresh;
    } else if (kind < 7) {
      op.kind = OpKind::get;
    } else {
      op.kind = OpKind::cas;
      op.value = fresh;
      const auto last = last_value_.find(op.key);
      if (last != last_value_.end() && rng_.below(4) != 0) op.expected = last->second;
    }
    if (op.value) last_value_[op.key] = *op.value;
    op.invoke = ++events_;
    client.op = op;
    client.busy = true;
    client.proposed = false;
    client.read_sent = false;
    client.started = now_;
    trace("invoke " + describe(op));
  }

  void redirect(Client& client, NodeId hint) {
    client.guess =
        hint != cluster::no_node && hint != client.guess ? hint : 1 + rng_.below(nodes_.size());
    client.next_try = now_ + 2 + rng_.below(10);
  }

  void act(Client& client) {
    if (client.busy && now_ - client.started > kClientTimeoutMs) give_up(client);
    if (!client.busy) {
      if (client.next_try > now_) return;
      new_operation(client);
    }
    if (client.proposed || client.read_sent || client.next_try > now_) return;
    Node& node = nodes_.at(client.guess);
    if (!node.member->up()) return redirect(client, cluster::no_node);
    client.node = node.id;
    if (client.op.kind == OpKind::get) {
      client.read_context = ++contexts_;
      if (!node.member->raft().read_index(client.read_context).ok())
        return redirect(client, node.member->raft().leader());
      client.read_sent = true;
      return;
    }
    store::KvCommand command = client.op.kind == OpKind::put
                                   ? store::KvCommand(store::KvPut{client.op.key, *client.op.value})
                                   : store::KvCommand(store::KvCompareAndSet{
                                         client.op.key, client.op.expected, client.op.value});
    auto data = store::encode_command(command);
    if (!data) throw Violation("encode failed");
    auto index = node.member->raft().propose(std::move(*data));
    if (!index) return redirect(client, node.member->raft().leader());
    client.proposed = true;
    client.index = *index;
    client.term = node.member->raft().term();
    node.proposals[*index] = {client.id, client.term};
  }

  // ---- checks ---------------------------------------------------------------

  void check_leaders() {
    for (const auto& [id, node] : nodes_) {
      if (!node.member->up() || node.member->raft().role() != Role::leader) continue;
      const auto [it, first] = leaders_.emplace(node.member->raft().term(), id);
      if (!first && it->second != id) {
        throw Violation("election safety: " + name(it->second) + " and " + name(id) +
                        " lead term " + std::to_string(node.member->raft().term()));
      }
      if (node.member->unsynced() || node.member->raft().has_ready())
        continue;  // the durable log may lag its own
      // Leader completeness: a committed entry is in every leader of a later term.
      for (const auto& [index, entry] : applied_) {
        if (index <= node.member->log().snapshot().index ||
            node.member->raft().term() <= commit_term_bound_.at(index))
          continue;
        const auto term = node.member->log().term(index);
        if (!term || *term != entry.term) {
          throw Violation("leader completeness: leader " + name(id) + " of term " +
                          std::to_string(node.member->raft().term()) + " lacks committed entry " +
                          std::to_string(index));
        }
      }
    }
  }

  // Log matching, inductively: every copy of (index, term) has the same data
  // and the same term at index - 1.
  void check_log_matching() {
    for (const auto& [id, node] : nodes_) {
      const store::RaftLog& log = node.member->log();
      if (log.last_index() < log.first_index()) continue;
      auto entries = log.entries(log.first_index(), log.last_index() + 1, ~std::uint64_t{0});
      if (!entries) throw Violation("cannot read the log of " + name(id));
      for (const store::Entry& entry : *entries) {
        const std::uint64_t previous = *log.term(entry.index - 1);
        const auto key = std::make_pair(entry.index, entry.term);
        const auto [it, first] = copies_.emplace(key, std::make_pair(entry.data, previous));
        if (!first && (it->second.first != entry.data || it->second.second != previous)) {
          throw Violation("log matching: " + name(id) + " holds a different entry (" +
                          std::to_string(entry.index) + ", term " + std::to_string(entry.term) +
                          ")");
        }
      }
    }
  }

  void step_ms(bool faults) {
    deliver_due();
    if (faults) inject_faults();
    change_membership();
    if (now_ % kTickMs == 0) {
      for (auto& [id, node] : nodes_) {
        if (node.member->up()) node.member->raft().tick();
      }
    }
    for (Client& client : clients_) act(client);
    for (auto& [id, node] : nodes_) node.member->drive(now_);
    if (now_ % kTickMs == 0) check_leaders();
    if (now_ % 100 == 0) check_log_matching();
  }

  bool live_enough() {
    NodeId leader = cluster::no_node;
    for (const auto& [id, node] : nodes_) {
      if (node.member->raft().role() == Role::leader &&
          (leader == cluster::no_node ||
           node.member->raft().term() > nodes_.at(leader).member->raft().term())) {
        leader = id;
      }
    }
    if (leader == cluster::no_node) return false;
    for (const Client& client : clients_) {
      if (client.fresh_done < 2) return false;
    }
    const store::Membership& members = nodes_.at(leader).member->raft().membership();
    const std::uint64_t commit = std::max(nodes_.at(leader).member->raft().committed(),
                                          applied_.empty() ? 0 : applied_.rbegin()->first);
    for (const auto& [id, node] : nodes_) {
      if (cluster::is_member(members, id) && node.member->applied() < commit) return false;
    }
    members_ = members;
    if (!membership_settled()) return false;
    outcome_.membership_changes = spare_ != cluster::no_node ? 1 : 0;
    return true;
  }

  std::string liveness_state() {
    std::ostringstream out;
    for (const auto& [id, node] : nodes_) {
      out << name(id) << " " << cluster::to_string(node.member->raft().role()) << " term "
          << node.member->raft().term() << " applied " << node.member->applied() << "; ";
    }
    for (const Client& client : clients_)
      out << "client " << client.id << " done " << client.fresh_done << "; ";
    return out.str();
  }

  void finish() {
    check_leaders();
    check_log_matching();
    for (Client& client : clients_) {
      if (client.busy) give_up(client);  // still pending: unknown if proposed, else no effect
    }
    // Every acknowledged write survives: its entry is the one committed at its index.
    for (const auto& [index, term] : acked_) {
      const auto it = applied_.find(index);
      if (it == applied_.end() || it->second.term != term) {
        throw Violation("acknowledged write at " + std::to_string(index) + " was lost");
      }
    }
    for (const auto& [index, entry] : applied_) {
      for (const auto& [id, node] : nodes_) {
        if (cluster::is_member(members_, id) && node.member->applied() < index)
          throw Violation(name(id) + " never applied committed entry " + std::to_string(index));
      }
    }
    outcome_.operations = history_.size();
    const CheckResult result = check_linearizable(history_);
    outcome_.inconclusive = result.inconclusive;
    if (!result.linearizable) {
      throw Violation("history of key " + result.key + " is not linearizable:\n" +
                      result.explanation);
    }
  }

  SimOptions options_;
  Rng rng_;
  std::uint64_t now_ = 0;
  SimNetwork network_{rng_};
  std::uint64_t crash_odds_ = 1, partition_odds_ = 1;
  bool compaction_ = false;
  bool changes_planned_ = false;
  std::map<NodeId, Node> nodes_;
  std::vector<Client> clients_;
  std::uint64_t events_ = 0, contexts_ = 0, values_ = 0;
  std::uint64_t heal_at_ = 0, heal_event_ = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>>
      acked_;  // (index, term) of acknowledged writes
  std::map<std::string, std::string> last_value_;
  std::map<std::uint64_t, store::Entry> applied_;             // index -> the entry applied there
  std::map<std::uint64_t, std::uint64_t> commit_term_bound_;  // index -> a term >= its commit term
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::pair<std::string, std::uint64_t>> copies_;
  std::map<std::uint64_t, NodeId> leaders_;  // term -> leader
  std::vector<Operation> history_;
  store::Membership founders_;  // the initial membership
  store::Membership members_;   // the final membership, per the last leader
  NodeId spare_ = cluster::no_node, victim_ = cluster::no_node;  // the membership change's nodes
  std::uint64_t next_change_at_ = 0;
  SimOutcome outcome_;
};

}  // namespace

SimOutcome run_simulation(const SimOptions& options) {
  return Simulation(options).run();
}

}  // namespace meridian::sim
