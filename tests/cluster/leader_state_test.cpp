// The leader's bookkeeping: inflight windows, per-peer progress states, and
// pending read-index rounds.
#include <catch2/catch.hpp>

#include "cluster/leader_state.hpp"

using namespace meridian;
using namespace meridian::cluster;

TEST_CASE("inflights: a bounded window freed by acknowledgements", "[cluster]") {
  Inflights window(3);
  CHECK_FALSE(window.full());
  window.add(5);
  window.add(7);
  window.add(9);
  CHECK(window.full());
  window.free_up_to(6);
  CHECK(window.count() == 2);
  window.add(11);  // wraps around the ring
  CHECK(window.full());
  window.free_up_to(9);
  CHECK(window.count() == 1);
  window.free_first();
  CHECK(window.count() == 0);
  window.free_first();  // harmless when empty
  CHECK(window.count() == 0);
}

TEST_CASE("progress: probe, replicate and snapshot states, table-driven", "[cluster]") {
  // Each step: an event applied to a peer starting at next = 11 (probe),
  // then the expected state, match, next and whether it is paused.
  enum class Event {
    send,
    match,
    reject,
    become_replicate,
    become_snapshot,
    heartbeat,
    snapshot_failed
  };
  struct Step {
    Event event;
    std::uint64_t a, b;
    ReplicationState state;
    std::uint64_t match, next;
    bool paused;
  };
  using S = ReplicationState;
  const std::vector<Step> steps = {
      {Event::send, 11, 0, S::probe, 0, 11, true},    // one probe at a time
      {Event::reject, 10, 4, S::probe, 0, 5, false},  // back off to the hint
      {Event::reject, 10, 2, S::probe, 0, 5, false},  // stale rejection: ignored
      {Event::send, 7, 0, S::probe, 0, 5, true},
      {Event::heartbeat, 0, 0, S::probe, 0, 5, false},  // next probe allowed
      {Event::match, 6, 0, S::probe, 6, 7, false},
      {Event::become_replicate, 0, 0, S::replicate, 6, 7, false},
      {Event::send, 8, 0, S::replicate, 6, 9, false},  // optimistic next
      {Event::send, 9, 0, S::replicate, 6, 10, true},  // window of 2 is full
      {Event::match, 8, 0, S::replicate, 8, 10, false},
      {Event::reject, 7, 0, S::replicate, 8, 10, false},  // below the match: stale
      {Event::reject, 9, 0, S::replicate, 8, 9, false},   // restart after the match
      {Event::become_snapshot, 20, 0, S::snapshot, 8, 9, true},
      {Event::snapshot_failed, 0, 0, S::probe, 8, 9, false},
      {Event::become_snapshot, 20, 0, S::snapshot, 8, 9, true},
      {Event::match, 20, 0, S::snapshot, 20, 21, true},
  };
  Progress progress(11, 2, false);
  int number = 0;
  for (const Step& step : steps) {
    INFO("step " << ++number);
    switch (step.event) {
      case Event::send: progress.on_entries_sent(step.a); break;
      case Event::match: progress.on_match(step.a); break;
      case Event::reject: progress.on_reject(step.a, step.b); break;
      case Event::become_replicate: progress.become_replicate(); break;
      case Event::become_snapshot: progress.become_snapshot(step.a); break;
      case Event::heartbeat: progress.on_heartbeat_response(); break;
      case Event::snapshot_failed: progress.on_snapshot_failed(); break;
    }
    CHECK(progress.state() == step.state);
    CHECK(progress.match() == step.match);
    CHECK(progress.next() == step.next);
    CHECK(progress.paused() == step.paused);
  }
}

TEST_CASE("read-index queue: a round confirms itself and every earlier one", "[cluster]") {
  ReadIndexQueue queue(3);
  const auto majority_of_three = [](const std::set<NodeId>& acks) { return acks.size() >= 2; };
  const std::uint64_t r1 = queue.add(100, 1, 5, 1);
  const std::uint64_t r2 = queue.add(200, 2, 6, 1);
  const std::uint64_t r3 = queue.add(300, 1, 7, 1);
  CHECK(queue.full());
  CHECK(queue.last_round() == r3);
  CHECK(queue.release(majority_of_three).empty());  // only the leader so far
  queue.ack(2, r2);                                 // confirms rounds 1 and 2, not 3
  const auto released = queue.release(majority_of_three);
  REQUIRE(released.size() == 2);
  CHECK(released[0].round == r1);
  CHECK(released[0].index == 5);
  CHECK(released[1].context == 200);
  CHECK(released[1].from == 2);
  CHECK(queue.size() == 1);
  queue.ack(3, r3);
  CHECK(queue.release(majority_of_three).size() == 1);
  CHECK(queue.empty());
  CHECK(queue.last_round() == 0);
}
