// Operator overrides (gslb/operator_actions.hpp): which targets an override
// may name, durations, and writing an override with its event-log entry
// over the memory store, on a manual clock.

#include "gslb/operator_actions.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "base/clock.hpp"
#include "store/memory_store.hpp"
#include "tests/config/test_support.hpp"

using namespace meridian;
using namespace meridian::gslb;
using namespace std::chrono_literals;
using meridian::test::kBaseConfig;
using meridian::test::parse;
using meridian::test::with;

namespace {

/// 2026-01-01T00:00:00Z, ManualClock's wall epoch, in Unix ms.
constexpr std::uint64_t kEpochMs = 1'767'225'600'000;

/// What one change answered.
struct Outcome {
  bool answered = false;
  OverrideWritten written;
  std::optional<OverrideError> error;
};

class Fixture {
 public:
  ManualClock clock;
  store::MemoryStore store{clock, "n1"};
  OperatorActions actions{store, clock, "n1"};

  Outcome set(const OverrideRequest& request) {
    Outcome outcome;
    actions.set_override(request, [&](OverrideWritten written, std::optional<OverrideError> error) {
      CHECK_FALSE(outcome.answered);
      outcome.answered = true;
      outcome.written = std::move(written);
      outcome.error = std::move(error);
    });
    REQUIRE(outcome.answered);
    return outcome;
  }

  store::KeyValues scan(const std::string& prefix) {
    store::KeyValues out;
    store.scan(
        prefix, 1000, store::ReadMode::local,
        [&](store::KeyValues pairs, std::optional<store::StoreError>) { out = std::move(pairs); });
    return out;
  }
};

OverrideRequest request(bool site, std::string name, std::string state) {
  OverrideRequest out;
  out.site = site;
  out.name = std::move(name);
  out.state = std::move(state);
  return out;
}

}  // namespace

TEST_CASE("operator actions: an override may name a site or an endpoint of the config",
          "[gslb][operator_actions]") {
  // kBaseConfig, with one endpoint probed at another address than it answers.
  auto config = parse(with("          - { address: 192.0.2.10, site: us-west }",
                           "          - { address: 192.0.2.10, site: us-west, check: { use: web, "
                           "target: 10.0.0.10 } }") +
                      "checks:\n  web: { type: tcp, port: 80 }\n");
  INFO((config ? std::string() : config.error().message));
  REQUIRE(config.ok());
  CHECK(override_target_known(*config, true, "eu-west").ok());
  CHECK(override_target_known(*config, false, "192.0.2.20").ok());
  CHECK(override_target_known(*config, false, "2001:db8::20").ok());
  CHECK(override_target_known(*config, false, "10.0.0.10").ok());   // probed there
  CHECK(override_target_known(*config, false, "192.0.2.10").ok());  // answered there

  auto site = override_target_known(*config, true, "mars");
  REQUIRE_FALSE(site.ok());
  CHECK(site.error().message == "no site 'mars' in the config");
  auto not_ip = override_target_known(*config, false, "eu-west");
  REQUIRE_FALSE(not_ip.ok());
  CHECK(not_ip.error().message == "'eu-west' is not an IP address");
  auto unknown = override_target_known(*config, false, "192.0.2.99");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message == "no endpoint answers or is probed at 192.0.2.99");
  // A static record's address is no endpoint.
  CHECK_FALSE(override_target_known(*config, false, "192.0.2.1").ok());
}

TEST_CASE("operator actions: durations are a whole number and one unit, at most a year",
          "[gslb][operator_actions]") {
  CHECK(parse_override_duration("90s") == 90s);
  CHECK(parse_override_duration("30m") == 30min);
  CHECK(parse_override_duration("2h") == 2h);
  CHECK(parse_override_duration("7d") == 7 * 24h);
  CHECK(parse_override_duration("365d") == 365 * 24h);
  for (const char* bad :
       {"", "s", "0s", "2", "2y", "1.5h", "-1h", " 2h", "366d", "8761h", "99999999999999999999s"}) {
    INFO(bad);
    CHECK_FALSE(parse_override_duration(bad));
  }
}

TEST_CASE("operator actions: an override is written, then its log entry",
          "[gslb][operator_actions]") {
  Fixture f;
  OverrideRequest drain = request(false, "192.0.2.20", "drain");
  drain.author = "alice";
  drain.reason = "maintenance";
  drain.duration = "2h";
  const Outcome set = f.set(drain);
  REQUIRE_FALSE(set.error);
  CHECK(set.written.key == "_ops/override/endpoint/192.0.2.20");
  REQUIRE(set.written.value);
  const OperatorOverride& value = *set.written.value;
  CHECK(value.state == ForcedState::drain);
  CHECK(value.author == "alice");
  CHECK(value.reason == "maintenance");
  CHECK(value.set_ms == kEpochMs);
  CHECK(value.expires_ms == kEpochMs + 2 * 3'600'000);
  // The store holds what was answered.
  const auto overrides = f.scan("_ops/override/");
  REQUIRE(overrides.size() == 1);
  CHECK(overrides[0].first == set.written.key);
  CHECK(decode_override(overrides[0].second).value() == value);
  // And the log says who did what, as "<node>-api".
  const auto events = f.scan(std::string(kEventPrefix));
  REQUIRE(events.size() == 1);
  CHECK(events[0].first == event_key(kEpochMs, "n1-api", 1));
  const Event event = decode_event(events[0].second).value();
  CHECK(event ==
        Event{kEpochMs, "override", "endpoint 192.0.2.20", "drain for 2h: maintenance", "alice"});

  // A site forced down, by nobody in particular, then removed.
  f.clock.advance(1s);
  const Outcome down = f.set(request(true, "us-west", "down"));
  REQUIRE_FALSE(down.error);
  CHECK(down.written.key == "_ops/override/site/us-west");
  CHECK(down.written.value->state == ForcedState::down);
  CHECK(down.written.value->author == "admin API");
  CHECK(down.written.value->expires_ms == 0);
  f.clock.advance(1s);
  OverrideRequest none = request(true, "us-west", "none");
  none.reason = "fixed";
  const Outcome removed = f.set(none);
  REQUIRE_FALSE(removed.error);
  CHECK(removed.written.key == "_ops/override/site/us-west");
  CHECK_FALSE(removed.written.value);
  CHECK(f.scan("_ops/override/site/").empty());
  const auto log = f.scan(std::string(kEventPrefix));
  REQUIRE(log.size() == 3);
  CHECK(log[1].first == event_key(kEpochMs + 1000, "n1-api", 2));
  CHECK(decode_event(log[1].second).value() ==
        Event{kEpochMs + 1000, "override", "site us-west", "down", "admin API"});
  CHECK(log[2].first == event_key(kEpochMs + 2000, "n1-api", 3));
  CHECK(decode_event(log[2].second).value() ==
        Event{kEpochMs + 2000, "override-removed", "site us-west", "fixed", "admin API"});
}

TEST_CASE("operator actions: a bad request writes nothing", "[gslb][operator_actions]") {
  Fixture f;
  const auto refused = [&](const OverrideRequest& bad, const std::string& message) {
    const Outcome outcome = f.set(bad);
    REQUIRE(outcome.error);
    CHECK(outcome.error->kind == OverrideErrorKind::invalid);
    CHECK(outcome.error->message == message);
    CHECK_FALSE(outcome.error->store);
  };
  refused(request(true, "eu-west", "sideways"), "\"state\" must be drain, down, up or none");
  OverrideRequest tab = request(true, "eu-west", "up");
  tab.author = "a\tb";
  const auto author_refusal = validate_action_text("a\tb", "author");
  REQUIRE_FALSE(author_refusal.ok());
  refused(tab, author_refusal.error().message);
  OverrideRequest long_reason = request(true, "eu-west", "up");
  long_reason.reason = std::string(kMaxActionText + 1, 'x');
  refused(long_reason, validate_action_text(long_reason.reason, "reason").error().message);
  OverrideRequest forever = request(true, "eu-west", "drain");
  forever.duration = "2y";
  refused(forever, "\"for\" must be like 90s, 30m, 2h or 7d (at most a year)");
  // The state is checked first.
  OverrideRequest both = request(true, "eu-west", "bad");
  both.duration = "never";
  refused(both, "\"state\" must be drain, down, up or none");
  CHECK(f.scan("_ops/").empty());
  CHECK(f.scan(std::string(kEventPrefix)).empty());
}

TEST_CASE("operator actions: a store that cannot write says so, and nothing is logged",
          "[gslb][operator_actions]") {
  Fixture f;
  f.store.set_reachable(false);
  const Outcome outcome = f.set(request(false, "192.0.2.20", "drain"));
  REQUIRE(outcome.error);
  CHECK(outcome.error->kind == OverrideErrorKind::store);
  REQUIRE(outcome.error->store);
  CHECK(outcome.error->store->kind == store::StoreErrorKind::unavailable);
  f.store.set_reachable(true);
  CHECK(f.scan("_ops/").empty());
  CHECK(f.scan(std::string(kEventPrefix)).empty());
}

namespace {

/// The memory store, refusing every write after the first `allowed` (a
/// store that fails between an override and its log entry).
class RefusingAfter final : public store::ReplicatedStore {
 public:
  RefusingAfter(store::MemoryStore& inner, int allowed) : inner_(inner), allowed_(allowed) {}
  void write(store::KvCommand command, store::StoreCallback<store::KvResult> done) override {
    write_system(std::move(command), std::move(done));
  }
  void write_system(store::KvCommand command, store::StoreCallback<store::KvResult> done) override {
    if (allowed_-- > 0) return inner_.write_system(std::move(command), std::move(done));
    done({}, store::StoreError{store::StoreErrorKind::unavailable, "no leader"});
  }
  void write_as_decider(store::KvCommand command,
                        store::StoreCallback<store::KvResult> done) override {
    write_system(std::move(command), std::move(done));
  }
  void read(std::string key, store::ReadMode mode,
            store::StoreCallback<std::optional<std::string>> done) override {
    inner_.read(std::move(key), mode, std::move(done));
  }
  void scan(std::string prefix, std::size_t limit, store::ReadMode mode,
            store::StoreCallback<store::KeyValues> done) override {
    inner_.scan(std::move(prefix), limit, mode, std::move(done));
  }
  Result<store::WatchId> watch(std::string prefix, store::WatchCallback callback) override {
    return inner_.watch(std::move(prefix), std::move(callback));
  }
  void unwatch(store::WatchId id) override { inner_.unwatch(id); }
  void renew_lease(const std::string& holder) override { inner_.renew_lease(holder); }
  store::LeaseRenewals lease_renewals() const override { return inner_.lease_renewals(); }
  bool is_decider() const override { return inner_.is_decider(); }
  store::StoreStatus status() const override { return inner_.status(); }

 private:
  store::MemoryStore& inner_;
  int allowed_;
};

}  // namespace

TEST_CASE("operator actions: an override whose log entry cannot be written is an error",
          "[gslb][operator_actions]") {
  ManualClock clock;
  store::MemoryStore memory(clock, "n1");
  RefusingAfter store(memory, 1);  // the override, not its entry
  OperatorActions actions(store, clock, "n1");
  std::optional<OverrideError> error;
  bool answered = false;
  actions.set_override(request(false, "192.0.2.20", "drain"),
                       [&](OverrideWritten, std::optional<OverrideError> failed) {
                         answered = true;
                         error = std::move(failed);
                       });
  REQUIRE(answered);
  // Never a silent gap in the event log: the operator is told, and sends it again.
  REQUIRE(error);
  CHECK(error->kind == OverrideErrorKind::store);
  CHECK_THAT(error->message, Catch::Contains("the override is in force, but its event log entry "
                                             "was not written (no leader)"));
}
