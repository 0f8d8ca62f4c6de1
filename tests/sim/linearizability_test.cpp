#include "tests/sim/linearizability.hpp"

#include <catch2/catch.hpp>

using meridian::sim::check_linearizable;
using meridian::sim::Operation;
using meridian::sim::OpKind;

namespace {

Operation put(std::uint64_t client, std::string value, std::uint64_t invoke,
              std::uint64_t complete) {
  Operation op;
  op.client = client;
  op.kind = OpKind::put;
  op.key = "k";
  op.value = std::move(value);
  op.invoke = invoke;
  op.complete = complete;
  return op;
}

Operation get(std::uint64_t client, std::optional<std::string> read, std::uint64_t invoke,
              std::uint64_t complete) {
  Operation op;
  op.client = client;
  op.kind = OpKind::get;
  op.key = "k";
  op.read = std::move(read);
  op.invoke = invoke;
  op.complete = complete;
  return op;
}

Operation cas(std::uint64_t client, std::optional<std::string> expected, std::string value, bool ok,
              std::uint64_t invoke, std::uint64_t complete) {
  Operation op;
  op.client = client;
  op.kind = OpKind::cas;
  op.key = "k";
  op.expected = std::move(expected);
  op.value = std::move(value);
  op.ok = ok;
  op.invoke = invoke;
  op.complete = complete;
  return op;
}

Operation unknown(Operation op) {
  op.unknown = true;
  op.complete = Operation::never;
  return op;
}

}  // namespace

TEST_CASE("concurrent put and reads that see either value are linearizable") {
  // put a [1,10]; get sees a [2,3]; put b [4,12]; get sees a [5,6]; get sees b [13,14].
  std::vector<Operation> history = {put(1, "a", 1, 10), get(2, "a", 2, 3), put(3, "b", 4, 12),
                                    get(2, "a", 5, 6), get(2, "b", 13, 14)};
  CHECK(check_linearizable(history).linearizable);
}

TEST_CASE("a read that goes back in time is not linearizable") {
  // put a, then put b (both complete), then a read of a.
  std::vector<Operation> history = {put(1, "a", 1, 2), put(1, "b", 3, 4), get(2, "a", 5, 6)};
  const auto result = check_linearizable(history);
  CHECK_FALSE(result.linearizable);
  CHECK(result.key == "k");
}

TEST_CASE("a read of a never-written value is not linearizable") {
  std::vector<Operation> history = {get(1, "x", 1, 2)};
  CHECK_FALSE(check_linearizable(history).linearizable);
}

TEST_CASE("an initial read sees nil") {
  CHECK(check_linearizable({get(1, std::nullopt, 1, 2)}).linearizable);
}

TEST_CASE("two compare-and-sets from the same value cannot both succeed") {
  std::vector<Operation> history = {put(1, "a", 1, 2), cas(1, "a", "b", true, 3, 10),
                                    cas(2, "a", "c", true, 4, 11)};
  CHECK_FALSE(check_linearizable(history).linearizable);
  history[2].ok = false;
  CHECK(check_linearizable(history).linearizable);
}

TEST_CASE("an unknown write may or may not take effect") {
  std::vector<Operation> took = {unknown(put(1, "a", 1, 0)), get(2, "a", 5, 6), get(2, "a", 7, 8)};
  CHECK(check_linearizable(took).linearizable);
  std::vector<Operation> never = {unknown(put(1, "a", 1, 0)), get(2, std::nullopt, 5, 6)};
  CHECK(check_linearizable(never).linearizable);
  // But it cannot take effect twice: nil, a, nil, a is impossible.
  std::vector<Operation> flicker = {unknown(put(1, "a", 1, 0)), get(2, "a", 5, 6),
                                    get(2, std::nullopt, 7, 8)};
  CHECK_FALSE(check_linearizable(flicker).linearizable);
}

TEST_CASE("an unknown compare-and-set applies only when its expectation holds") {
  std::vector<Operation> history = {put(1, "a", 1, 2), unknown(cas(1, "z", "b", true, 3, 0)),
                                    get(2, "b", 5, 6)};
  CHECK_FALSE(check_linearizable(history).linearizable);
  history[1].expected = "a";
  CHECK(check_linearizable(history).linearizable);
}

TEST_CASE("keys are checked independently") {
  Operation other = put(1, "x", 1, 2);
  other.key = "other";
  std::vector<Operation> history = {other, get(2, std::nullopt, 3, 4)};
  CHECK(check_linearizable(history).linearizable);
}
