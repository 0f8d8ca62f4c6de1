#include <catch2/catch.hpp>

#include <string>

#include "health/state.hpp"
#include "health/tracker.hpp"

using namespace meridian;
using namespace meridian::health;

namespace {

// Runs a sequence of results ('+' pass, '-' fail) through a rise/fall
// machine and returns the states after each as a string of 'U'/'D'.
std::string run(std::uint32_t rise, std::uint32_t fall, const std::string& results) {
  RiseFall machine(rise, fall);
  std::string states;
  Clock::TimePoint now{};
  for (char c : results) {
    now += std::chrono::seconds(1);
    machine.record(c == '+', now);
    states.push_back(machine.state() == Health::up ? 'U' : 'D');
  }
  return states;
}

}  // namespace

TEST_CASE("rise/fall: HAProxy semantics, table-driven", "[health]") {
  struct Case {
    std::uint32_t rise, fall;
    const char* results;
    const char* states;
  };
  const Case cases[] = {
      {2, 3, "+", "U"},                                    // first probe decides
      {2, 3, "-", "D"},           {2, 3, "+--", "UUU"},    // two failures: still up
      {2, 3, "+---", "UUUD"},                              // the third goes down
      {2, 3, "+--+--", "UUUUUU"},                          // a pass resets the failure streak
      {2, 3, "-+", "DD"},                                  // one pass is not enough to rise
      {2, 3, "-++", "DDU"},       {2, 3, "-+-+", "DDDD"},  // flapping stays down
      {1, 1, "+-+-", "UDUD"},                              // rise=fall=1 follows every probe
      {3, 2, "+--+++", "UUDDDU"},
  };
  for (const Case& c : cases) {
    INFO("rise " << c.rise << " fall " << c.fall << " results " << c.results);
    CHECK(run(c.rise, c.fall, c.results) == c.states);
  }
}

TEST_CASE("rise/fall: since, streak and probes to change", "[health]") {
  RiseFall machine(2, 3);
  CHECK(machine.state() == Health::unknown);
  CHECK(machine.probes_to_change() == 1);
  const Clock::TimePoint t1{std::chrono::seconds(10)};
  CHECK(machine.record(true, t1));
  CHECK(machine.since() == t1);
  CHECK_FALSE(machine.in_transition());
  CHECK_FALSE(machine.record(false, t1 + std::chrono::seconds(1)));
  CHECK(machine.in_transition());
  CHECK(machine.streak() == 1);
  CHECK(machine.probes_to_change() == 2);
  CHECK(machine.since() == t1);
}

TEST_CASE("tracker: overrides beat probes, endpoint beats site", "[health]") {
  CheckSpec check;
  check.rise = 2;
  check.fall = 2;
  check.interval = std::chrono::seconds(5);
  IpAddress a, b;
  IpAddress::parse("192.0.2.1", a);
  IpAddress::parse("192.0.2.2", b);
  HealthTracker tracker({{a, 0, check}, {b, 1, check}, {b, 1, std::nullopt}}, UnknownPolicy::up);
  const Clock::TimePoint now{};
  CHECK(tracker.usable(0));  // unknown counts as up by default
  CHECK(tracker.usable(2));  // unchecked: always up

  ProbeResult failed;
  failed.failure = ProbeFailure::status_mismatch;
  failed.detail = "status 503";
  CHECK(tracker.record(0, failed, now));
  CHECK_FALSE(tracker.usable(0));
  CHECK(tracker.state(0).last_failure == "status_mismatch: status 503");
  CHECK(tracker.change_within(0) == std::chrono::milliseconds(10000));  // rise 2 x 5 s

  CHECK(tracker.set_site_override(0, Override::force_up) == 1);
  CHECK(tracker.usable(0));
  CHECK_FALSE(tracker.change_within(0).has_value());  // overridden: stable
  CHECK(tracker.set_endpoint_override(a, Override::force_down) == 1);
  CHECK_FALSE(tracker.usable(0));  // the endpoint's override wins over its site's
  CHECK(tracker.set_endpoint_override(a, Override::none) == 1);
  CHECK(tracker.usable(0));  // the site's force-up again

  CHECK(tracker.set_site_override(1, Override::force_down) == 2);
  CHECK_FALSE(tracker.usable(2));  // drains reach unchecked endpoints too
  CHECK(tracker.set_endpoint_override(IpAddress::v4(10, 0, 0, 1), Override::force_down) == 0);
}

TEST_CASE("tracker: unknown targets follow the policy", "[health]") {
  CheckSpec check;
  IpAddress a;
  IpAddress::parse("192.0.2.1", a);
  HealthTracker down_tracker({{a, 0, check}}, UnknownPolicy::down);
  CHECK_FALSE(down_tracker.usable(0));
  ProbeResult ok;
  ok.ok = true;
  CHECK(down_tracker.record(0, ok, Clock::TimePoint{}));
  CHECK(down_tracker.usable(0));
  CHECK_FALSE(down_tracker.change_within(0).has_value());
}

TEST_CASE("tracker: record reports transitions that change TTLs", "[health]") {
  CheckSpec check;
  check.rise = 2;
  check.fall = 3;
  check.interval = std::chrono::seconds(1);
  IpAddress a;
  IpAddress::parse("192.0.2.1", a);
  HealthTracker tracker({{a, 0, check}}, UnknownPolicy::up);
  ProbeResult ok;
  ok.ok = true;
  ProbeResult bad;
  const Clock::TimePoint now{};
  CHECK(tracker.record(0, ok, now));  // unknown->up: usable both ways, but TTLs need no cut now
  CHECK_FALSE(tracker.record(0, ok, now));  // nothing changes
  CHECK(tracker.record(0, bad, now));       // a falling streak begins: TTLs shorten
  CHECK(tracker.change_within(0) == std::chrono::milliseconds(2000));
  CHECK(tracker.record(0, bad, now));
  CHECK(tracker.record(0, bad, now));  // down
  CHECK_FALSE(tracker.usable(0));
  CHECK_FALSE(tracker.record(0, bad, now));  // still down, same outlook
}

TEST_CASE("tracker: a reload inherits probe state of unchanged targets only", "[health]") {
  CheckSpec check;
  check.rise = 2;
  check.fall = 1;
  CheckSpec other = check;
  other.port = 8080;
  IpAddress a;
  IpAddress::parse("192.0.2.1", a);
  HealthTracker before({{a, 0, check}, {a, 0, other}}, UnknownPolicy::up);
  ProbeResult bad;
  before.record(0, bad, Clock::TimePoint{});
  before.record(1, bad, Clock::TimePoint{});
  before.set_endpoint_override(a, Override::force_up);

  CheckSpec changed = check;
  changed.http.path = "/changed";
  HealthTracker after({{a, 0, check}, {a, 0, changed}}, UnknownPolicy::up);
  after.inherit(before);
  CHECK(after.state(0).probed == Health::down);               // same target: state kept
  CHECK(after.state(1).probed == Health::unknown);            // changed check: starts over
  CHECK(after.state(0).endpoint_override == Override::none);  // overrides are not inherited
  CHECK_FALSE(after.usable(0));
}

TEST_CASE("tracker: a probe that could not run here is no verdict", "[health]") {
  CheckSpec check;
  check.rise = 1;
  check.fall = 1;
  IpAddress a;
  IpAddress::parse("192.0.2.1", a);
  HealthTracker tracker({{a, 0, check}}, UnknownPolicy::down);
  ProbeResult ok;
  ok.ok = true;
  ProbeResult no_socket;
  no_socket.failure = ProbeFailure::local_error;
  no_socket.detail = "opening a socket: Too many open files";
  const Clock::TimePoint now{};

  // Before any verdict: still unknown, not down.
  CHECK_FALSE(tracker.record(0, no_socket, now));
  CHECK(tracker.state(0).probed == Health::unknown);
  CHECK_FALSE(tracker.state(0).last.has_value());

  // Up with fall 1: any failure would take it down at once; these do not.
  CHECK(tracker.record(0, ok, now));
  for (int i = 0; i < 5; ++i) CHECK_FALSE(tracker.record(0, no_socket, now));
  CHECK(tracker.state(0).probed == Health::up);
  CHECK(tracker.usable(0));
  CHECK(tracker.state(0).last_failure.empty());
  CHECK(tracker.state(0).last->ok);
  CHECK_FALSE(tracker.change_within(0).has_value());

  // A real failure still counts.
  ProbeResult refused;
  refused.failure = ProbeFailure::refused;
  CHECK(tracker.record(0, refused, now));
  CHECK(tracker.state(0).probed == Health::down);
}
