#include "tests/sim/linearizability.hpp"

#include <algorithm>
#include <map>
#include <sstream>
#include <unordered_set>
#include <utility>

namespace meridian::sim {
namespace {

using Value = std::optional<std::string>;

std::string show(const Value& value) {
  return value ? "\"" + *value + "\"" : "nil";
}

// One key's search. Operations are indexed; the linearized set is a bitset.
class KeySearch {
 public:
  KeySearch(std::vector<Operation> ops, std::size_t max_states)
      : ops_(std::move(ops)), max_states_(max_states) {
    // Reads with an unknown outcome constrain nothing: drop them.
    std::erase_if(ops_, [](const Operation& op) { return op.unknown && op.kind == OpKind::get; });
    std::sort(ops_.begin(), ops_.end(),
              [](const Operation& a, const Operation& b) { return a.invoke < b.invoke; });
    words_ = (ops_.size() + 63) / 64;
    for (const Operation& op : ops_) required_ += op.unknown ? 0 : 1;
  }

  // 1: linearizable, 0: not, -1: gave up.
  int run() {
    std::vector<std::uint64_t> done(words_, 0);
    return search(done, std::nullopt, 0);
  }

  std::string explain() const {
    std::ostringstream out;
    for (const Operation& op : ops_) out << "  " << describe(op) << "\n";
    return out.str();
  }

 private:
  static bool test(const std::vector<std::uint64_t>& set, std::size_t i) {
    return (set[i / 64] >> (i % 64)) & 1u;
  }
  static void flip(std::vector<std::uint64_t>& set, std::size_t i) {
    set[i / 64] ^= std::uint64_t{1} << (i % 64);
  }

  // Applies op to state; false when the recorded result contradicts it.
  static bool step(const Operation& op, Value& state) {
    switch (op.kind) {
      case OpKind::put: state = op.value; return true;
      case OpKind::get: return op.read == state;
      case OpKind::cas: {
        const bool matches = state == op.expected;
        if (op.unknown) {
          if (matches) state = op.value;
          return true;
        }
        if (matches != op.ok) return false;
        if (matches) state = op.value;
        return true;
      }
    }
    return false;
  }

  std::string memo_key(const std::vector<std::uint64_t>& done, const Value& state) const {
    std::string key(reinterpret_cast<const char*>(done.data()),
                    done.size() * sizeof(std::uint64_t));
    key += state ? "v" + *state : std::string("-");
    return key;
  }

  int search(std::vector<std::uint64_t>& done, const Value& state,
             std::size_t linearized_required) {
    if (linearized_required == required_) return 1;
    if (!seen_.insert(memo_key(done, state)).second) return 0;
    if (seen_.size() > max_states_) return -1;
    // The earliest completion among pending operations bounds what may go next.
    std::uint64_t horizon = Operation::never;
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      if (!test(done, i)) horizon = std::min(horizon, ops_[i].complete);
    }
    bool gave_up = false;
    for (std::size_t i = 0; i < ops_.size() && ops_[i].invoke < horizon; ++i) {
      if (test(done, i)) continue;
      Value next = state;
      if (!step(ops_[i], next)) continue;
      flip(done, i);
      const int found = search(done, next, linearized_required + (ops_[i].unknown ? 0 : 1));
      flip(done, i);
      if (found == 1) return 1;
      if (found == -1) gave_up = true;
    }
    return gave_up ? -1 : 0;
  }

  std::vector<Operation> ops_;
  std::size_t max_states_;
  std::size_t words_ = 0;
  std::size_t required_ = 0;
  std::unordered_set<std::string> seen_;
};

}  // namespace

std::string describe(const Operation& op) {
  std::ostringstream out;
  out << "client " << op.client << " [" << op.invoke << ", ";
  if (op.complete == Operation::never)
    out << "?";
  else
    out << op.complete;
  out << "] ";
  switch (op.kind) {
    case OpKind::put: out << "put " << op.key << " = " << show(op.value); break;
    case OpKind::get:
      out << "get " << op.key << " -> " << (op.unknown ? "?" : show(op.read));
      break;
    case OpKind::cas:
      out << "cas " << op.key << " " << show(op.expected) << " -> " << show(op.value) << ": "
          << (op.unknown ? "?"
              : op.ok    ? "ok"
                         : "failed");
      break;
  }
  if (op.unknown) out << " (outcome unknown)";
  return out.str();
}

CheckResult check_linearizable(const std::vector<Operation>& history, std::size_t max_states) {
  std::map<std::string, std::vector<Operation>> by_key;
  for (const Operation& op : history) by_key[op.key].push_back(op);
  CheckResult result;
  for (auto& [key, ops] : by_key) {
    KeySearch search(std::move(ops), max_states);
    const int found = search.run();
    if (found == -1) result.inconclusive = true;
    if (found == 0) {
      result.linearizable = false;
      result.key = key;
      result.explanation = search.explain();
      return result;
    }
  }
  return result;
}

}  // namespace meridian::sim
