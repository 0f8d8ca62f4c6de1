// The cookie secret keeper (gslb/cookie_secret_keeper.hpp): a node alone
// rotates its own secret; in a cluster the decider makes and rotates the
// shared one and every node serves it, keeping the previous one accepted.

#include "gslb/cookie_secret_keeper.hpp"

#include <catch2/catch.hpp>

#include <vector>

#include "store/memory_store.hpp"

using namespace meridian;
using namespace meridian::gslb;
using namespace std::chrono_literals;

namespace {

dns::CookieSecret secret_number(std::uint8_t n) {
  dns::CookieSecret secret{};
  secret.fill(n);
  return secret;
}

/// Hands out secrets 1, 2, 3, ... (offset by `base`), as the kernel's
/// random source would hand out new ones.
CookieSecretKeeper::SecretSource counting(std::uint8_t base) {
  auto next = std::make_shared<std::uint8_t>(base);
  return [next] { return secret_number(++*next); };
}

/// A member of the same store that is not the decider.
class NotDecider final : public store::ReplicatedStore {
 public:
  explicit NotDecider(store::MemoryStore& inner) : inner_(inner) {}
  void write(store::KvCommand c, store::StoreCallback<store::KvResult> d) override {
    inner_.write(std::move(c), std::move(d));
  }
  void write_system(store::KvCommand c, store::StoreCallback<store::KvResult> d) override {
    inner_.write_system(std::move(c), std::move(d));
  }
  void write_as_decider(store::KvCommand, store::StoreCallback<store::KvResult> d) override {
    d({}, store::StoreError{store::StoreErrorKind::not_leader, "not the decider"});
  }
  void read(std::string k, store::ReadMode m,
            store::StoreCallback<std::optional<std::string>> d) override {
    inner_.read(std::move(k), m, std::move(d));
  }
  void scan(std::string p, std::size_t l, store::ReadMode m,
            store::StoreCallback<store::KeyValues> d) override {
    inner_.scan(std::move(p), l, m, std::move(d));
  }
  Result<store::WatchId> watch(std::string p, store::WatchCallback c) override {
    return inner_.watch(std::move(p), std::move(c));
  }
  void unwatch(store::WatchId id) override { inner_.unwatch(id); }
  void renew_lease(const std::string& h) override { inner_.renew_lease(h); }
  store::LeaseRenewals lease_renewals() const override { return inner_.lease_renewals(); }
  bool is_decider() const override { return false; }
  store::StoreStatus status() const override { return inner_.status(); }

 private:
  store::MemoryStore& inner_;
};

struct Node {
  dns::CookieSecretSlot slot;
  CookieSecretKeeper keeper;
  Node(store::ReplicatedStore* store, ManualScheduler& scheduler, const Clock& clock,
       Logger& logger, std::uint8_t base)
      : keeper(store, scheduler, clock, logger, 24h, counting(base), slot) {}
  dns::CookieSecret current() const { return slot.load()->current; }
  std::optional<dns::CookieSecret> previous() const { return slot.load()->previous; }
};

}  // namespace

TEST_CASE("cookie secret record: encoded and decoded, garbage refused", "[gslb][cookie]") {
  CookieSecretRecord record{1234, {secret_number(0xab), secret_number(0x01)}};
  const std::string text = encode_cookie_record(record);
  CHECK(text == "v1 1234 abababababababababababababababab 01010101010101010101010101010101");
  auto back = decode_cookie_record(text);
  REQUIRE(back);
  CHECK(back->made_ms == 1234);
  CHECK(back->secrets.current == record.secrets.current);
  CHECK(back->secrets.previous == record.secrets.previous);
  CHECK(decode_cookie_record("v1 5 abababababababababababababababab")->secrets.previous ==
        std::nullopt);
  for (const char* bad : {"", "v2 1 abababababababababababababababab", "v1 x abab", "v1 1 abab",
                          "v1 1 zzababababababababababababababab",
                          "v1 1 abababababababababababababababab 01 extra"}) {
    INFO(bad);
    CHECK_FALSE(decode_cookie_record(bad));
  }
}

TEST_CASE("cookie secret keeper: a node alone rotates its own secret", "[gslb][cookie]") {
  ManualClock clock;
  ManualScheduler scheduler(clock);
  Logger logger(LogLevel::error);
  Node node(nullptr, scheduler, clock, logger, 0);
  node.keeper.start(1min);
  REQUIRE(node.slot.load());
  CHECK(node.current() == secret_number(1));
  CHECK_FALSE(node.previous());
  scheduler.advance(23h);
  CHECK(node.current() == secret_number(1));
  scheduler.advance(1h + 1min);
  CHECK(node.current() == secret_number(2));
  CHECK(node.previous() == secret_number(1));
  CHECK(node.keeper.rotations() == 1);
  CHECK_FALSE(node.keeper.shared());
}

TEST_CASE("cookie secret keeper: the decider makes the cluster's secret, every node serves it",
          "[gslb][cookie]") {
  ManualClock clock;
  ManualScheduler scheduler(clock);
  Logger logger(LogLevel::error);
  store::MemoryStore store(clock, "n1");
  NotDecider other(store);
  Node decider(&store, scheduler, clock, logger, 0);
  Node follower(&other, scheduler, clock, logger, 100);
  decider.keeper.start(5s);
  follower.keeper.start(5s);
  scheduler.run_due();
  // Until the cluster's secret is there each node serves one of its own.
  CHECK(decider.current() == secret_number(1));
  CHECK(follower.current() == secret_number(101));

  scheduler.advance(5s);  // the decider's first check writes the record
  CHECK(decider.keeper.shared());
  CHECK(follower.keeper.shared());
  CHECK(decider.current() == secret_number(2));
  CHECK(follower.current() == secret_number(2));
  CHECK(decider.keeper.rotations() == 1);
  CHECK(follower.keeper.rotations() == 0);

  // A day later the decider rotates; the old secret stays accepted.
  scheduler.advance(24h + 5s);
  CHECK(decider.current() == secret_number(3));
  CHECK(follower.current() == secret_number(3));
  CHECK(follower.previous() == secret_number(2));

  // A node that starts later (a restart) takes the record at once.
  Node late(&other, scheduler, clock, logger, 200);
  late.keeper.start(5s);
  scheduler.run_due();
  CHECK(late.current() == secret_number(3));
  CHECK(late.previous() == secret_number(2));

  // A record that does not decode is replaced by the decider.
  store.write_system(store::KvPut{std::string(kCookieSecretKey), "garbage"},
                     [](const store::KvResult&, const std::optional<store::StoreError>&) {});
  scheduler.advance(5s);
  CHECK(decider.current() == secret_number(4));
  CHECK(late.current() == secret_number(4));
  CHECK_FALSE(late.previous());
}

TEST_CASE("cookie secret file: one or two lines of 32 hex digits", "[gslb][cookie]") {
  auto one = parse_cookie_secret_file("e5e973e5a6b2a43f48e7dc849e37bfcf\n");
  REQUIRE(one);
  CHECK(one->current[0] == 0xe5);
  CHECK(one->current[15] == 0xcf);
  CHECK_FALSE(one->previous);
  auto two = parse_cookie_secret_file(
      "  E5E973E5A6B2A43F48E7DC849E37BFCF \r\n\n dd3bdf9344b678b185a6f5cb60fca715\n");
  REQUIRE(two);
  CHECK(two->current[0] == 0xe5);
  REQUIRE(two->previous);
  CHECK((*two->previous)[0] == 0xdd);
  const auto error_of = [](const char* text) {
    auto parsed = parse_cookie_secret_file(text);
    REQUIRE_FALSE(parsed);
    return parsed.error().message;
  };
  CHECK(error_of("") ==
        "expected one line (the secret) or two (the secret, then the previous "
        "one), found 0");
  CHECK(error_of("e5e973e5a6b2a43f48e7dc849e37bf\n") ==
        "line 1 is not a secret: expected 32 hexadecimal digits (16 bytes)");
  CHECK(error_of("e5e973e5a6b2a43f48e7dc849e37bfcf\nnot-a-secret-but-32-characters!!\n") ==
        "line 2 is not a secret: expected 32 hexadecimal digits (16 bytes)");
  CHECK(error_of("e5e973e5a6b2a43f48e7dc849e37bfcf\ne5e973e5a6b2a43f48e7dc849e37bfcf\n"
                 "e5e973e5a6b2a43f48e7dc849e37bfcf\n")
            .find("found 3") != std::string::npos);
}
