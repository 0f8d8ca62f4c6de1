// The byte layout of the RocksDB log (store/log_encoding.hpp): round trips,
// and decoders that turn every damaged value into an Error.
#include <catch2/catch.hpp>

#include <functional>
#include <optional>

#include "base/rng.hpp"
#include "store/log_encoding.hpp"
#include "store/rocks_raft_log.hpp"

using namespace meridian;
using namespace meridian::store;

namespace {

// Every decoder, as "decode, then encode again": nullopt when the value is
// rejected. Whatever is accepted must re-encode to the very same bytes (one
// encoding per record, so nothing is silently reinterpreted).
using Recode = std::function<std::optional<std::string>(std::string_view)>;

template <class Decoded, class Encode>
std::optional<std::string> recode(const Result<Decoded>& decoded, Encode encode) {
  if (!decoded.ok()) return std::nullopt;
  return encode(*decoded);
}

const std::vector<std::pair<const char*, Recode>>& decoders() {
  static const std::vector<std::pair<const char*, Recode>> all = {
      {"entry", [](std::string_view v) { return recode(decode_entry(7, v), encode_entry); }},
      {"hard state",
       [](std::string_view v) { return recode(decode_hard_state(v), encode_hard_state); }},
      {"log point",
       [](std::string_view v) { return recode(decode_log_point(v), encode_log_point); }},
      {"snapshot", [](std::string_view v) { return recode(decode_snapshot(v), encode_snapshot); }},
  };
  return all;
}

}  // namespace

TEST_CASE("rocks log: log keys are big-endian so they sort by index", "[store]") {
  CHECK(encode_log_key(1) == std::string("\0\0\0\0\0\0\0\x01", 8));
  CHECK(encode_log_key(0x0102030405060708) == "\x01\x02\x03\x04\x05\x06\x07\x08");
  CHECK(encode_log_key(255) < encode_log_key(256));
  CHECK(encode_log_key(0xffffffff) < encode_log_key(0x100000000));
  CHECK(*decode_log_key(encode_log_key(123456789)) == 123456789u);
  CHECK_FALSE(decode_log_key("1234567").ok());
  CHECK_FALSE(decode_log_key("123456789").ok());
}

TEST_CASE("rocks log: every record round-trips through its encoding", "[store]") {
  const Entry entry{7, 42, EntryType::config, std::string("\0data\xff", 6)};
  CHECK(encode_entry(entry).substr(0, 2) == std::string("\x01\x01", 2));  // version, type
  CHECK(*decode_entry(7, encode_entry(entry)) == entry);
  CHECK(*decode_entry_term(7, encode_entry(entry)) == 42u);
  const Entry empty{7, 0, EntryType::normal, ""};
  CHECK(*decode_entry(7, encode_entry(empty)) == empty);

  const HardState state{5, 3, 0xfffffffffffffffe};
  CHECK(encode_hard_state(state).size() == 25);
  CHECK(*decode_hard_state(encode_hard_state(state)) == state);
  CHECK(*decode_log_point(encode_log_point({9, 2})) == LogPoint{9, 2});

  const Snapshot snapshot{100, 7, {{1, 2, 3}, {40, 50}}, std::string(1000, '\0')};
  CHECK(*decode_snapshot(encode_snapshot(snapshot)) == snapshot);
  CHECK(*decode_snapshot(encode_snapshot(Snapshot{})) == Snapshot{});
}

TEST_CASE("rocks log: a truncated or extended record is rejected", "[store]") {
  // The entry's data is its tail, so only its header can be cut short.
  const std::string entry = encode_entry(Entry{1, 2, EntryType::normal, "data"});
  for (std::size_t cut = 0; cut < 10; ++cut)
    CHECK_FALSE(decode_entry(1, entry.substr(0, cut)).ok());

  const std::vector<std::pair<const char*, std::string>> fixed = {
      {"hard state", encode_hard_state({1, 2, 3})},
      {"log point", encode_log_point({4, 5})},
      {"snapshot", encode_snapshot(Snapshot{6, 7, {{1}, {2}}, "snap"})},
  };
  for (const auto& [name, value] : fixed) {
    INFO(name);
    const auto& decode = [&]() -> const Recode& {
      for (const auto& [decoder_name, function] : decoders()) {
        if (std::string_view(decoder_name) == name) return function;
      }
      FAIL("no decoder");
      return decoders().front().second;
    }();
    CHECK(decode(value) == value);
    for (std::size_t cut = 0; cut < value.size(); ++cut)
      CHECK_FALSE(decode(value.substr(0, cut)).has_value());
    CHECK_FALSE(decode(value + "x").has_value());
    std::string other_version = value;
    other_version[0] = 2;
    CHECK_FALSE(decode(other_version).has_value());
  }
}

TEST_CASE("rocks log: a snapshot's counts are checked before anything is allocated", "[store]") {
  // Version, index, term, then a voter count of 2^32 - 1 with no ids behind it.
  std::string value = encode_snapshot(Snapshot{1, 1, {}, ""}).substr(0, 17) + "\xff\xff\xff\xff";
  auto decoded = decode_snapshot(value);
  REQUIRE_FALSE(decoded.ok());
  CHECK_THAT(decoded.error().message, Catch::Contains("membership"));
  // A data size field far beyond the limit.
  std::string sized = encode_snapshot(Snapshot{1, 1, {}, ""});
  sized.replace(sized.size() - 8, 8, "\x7f\xff\xff\xff\xff\xff\xff\xff");
  CHECK_FALSE(decode_snapshot(sized).ok());
}

TEST_CASE("rocks log: decoders survive random garbage", "[store]") {
  Rng rng(7);
  const std::string valid_snapshot = encode_snapshot(Snapshot{3, 2, {{1, 2}, {3}}, "abc"});
  for (int i = 0; i < 3000; ++i) {
    std::string value;
    if (i % 2 == 0) {
      value.resize(rng.below(64));
      for (char& c : value) c = static_cast<char>(rng.below(256));
      if (!value.empty() && rng.below(2) == 0) value[0] = 1;  // get past the version byte
    } else {
      // A valid snapshot with a few bytes flipped: the interesting near misses.
      value = valid_snapshot;
      for (int flips = 1 + static_cast<int>(rng.below(3)); flips > 0; --flips) {
        value[rng.below(value.size())] = static_cast<char>(rng.below(256));
      }
    }
    for (const auto& [name, decode] : decoders()) {
      INFO(name << " on input " << i);
      const auto again = decode(value);
      if (again) CHECK(*again == value);
    }
    // The term-only decoder accepts exactly what the full one does.
    CHECK(decode_entry_term(7, value).ok() == decode_entry(7, value).ok());
  }
}
