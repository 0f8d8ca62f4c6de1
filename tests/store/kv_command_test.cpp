// State machine commands as entry data: the encoding, its limits, and a
// decoder that turns every bad input into an Error.
#include <catch2/catch.hpp>

#include "base/rng.hpp"
#include "store/kv_state.hpp"

using namespace meridian;
using namespace meridian::store;

namespace {

std::string encoded(const KvCommand& command) {
  auto bytes = encode_command(command);
  if (!bytes.ok()) FAIL("encode failed: " << bytes.error().message);
  return *bytes;
}

std::string u32(std::uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
          static_cast<char>(value >> 8), static_cast<char>(value)};
}

bool round_trips(const KvCommand& command) {
  auto decoded = decode_command(encoded(command));
  return decoded.ok() && *decoded == command;
}

const KvCommand kSamples[] = {
    KvPut{"k", "v"},
    KvPut{std::string(kMaxKeyBytes, 'k'), std::string(kMaxValueBytes, 'v')},
    KvPut{std::string("\0key", 4), ""},
    KvDelete{"health/fra-1/www"},
    KvCompareAndSet{"k", std::nullopt, "new"},
    KvCompareAndSet{"k", "old", std::nullopt},
    KvCompareAndSet{"k", "", ""},
    KvCompareAndSet{"k", std::nullopt, std::nullopt},
};

}  // namespace

TEST_CASE("kv command: every command round-trips through its encoding", "[store]") {
  for (const KvCommand& command : kSamples) {
    INFO("command on a key of " << command_key(command).size() << " bytes");
    CHECK(round_trips(command));
  }
}

TEST_CASE("kv command: the layout is a version, an operation, then the fields", "[store]") {
  CHECK(encoded(KvPut{"k", "v"}) == std::string("\x01\x01") + u32(1) + "k" + u32(1) + "v");
  CHECK(encoded(KvDelete{"ab"}) == std::string("\x01\x02") + u32(2) + "ab");
  CHECK(encoded(KvCompareAndSet{"k", std::nullopt, "v"}) ==
        std::string("\x01\x03") + u32(1) + "k" + std::string(1, '\0') + "\x01" + u32(1) + "v");
}

TEST_CASE("kv command: keys and values beyond the limits are refused both ways", "[store]") {
  const KvCommand too_big[] = {
      KvPut{std::string(kMaxKeyBytes + 1, 'k'), "v"},
      KvPut{"k", std::string(kMaxValueBytes + 1, 'v')},
      KvPut{"", "v"},
      KvDelete{""},
      KvCompareAndSet{"k", std::string(kMaxValueBytes + 1, 'e'), "v"},
      KvCompareAndSet{"k", "e", std::string(kMaxValueBytes + 1, 'v')},
  };
  for (const KvCommand& command : too_big) {
    CHECK_FALSE(validate_command(command).ok());
    CHECK_FALSE(encode_command(command).ok());
  }
  // The same, forged on the wire: the decoder has its own checks.
  const std::string forged[] = {
      std::string("\x01\x02") + u32(kMaxKeyBytes + 1) + std::string(kMaxKeyBytes + 1, 'k'),
      std::string("\x01\x01") + u32(1) + "k" + u32(kMaxValueBytes + 1) +
          std::string(kMaxValueBytes + 1, 'v'),
      std::string("\x01\x02") + u32(0),
      std::string("\x01\x01") + u32(1) + "k" +
          u32(0xffffffff),  // a huge length, no bytes behind it
  };
  for (const std::string& data : forged) CHECK_FALSE(decode_command(data).ok());
}

TEST_CASE("kv command: truncated, extended, unknown-version and unknown-operation input is refused",
          "[store]") {
  for (const KvCommand& command : kSamples) {
    const std::string data = encoded(command);
    if (data.size() > 4096) continue;  // the big sample: its cuts are covered by the small ones
    for (std::size_t cut = 0; cut < data.size(); ++cut) {
      INFO("cut at " << cut << " of " << data.size());
      CHECK_FALSE(decode_command(data.substr(0, cut)).ok());
    }
    CHECK_FALSE(decode_command(data + "x").ok());
    std::string version = data;
    version[0] = 2;
    auto refused = decode_command(version);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message, Catch::Contains("unknown format version 2"));
  }
  for (char operation : {'\0', '\x04', '\xff'}) {
    auto refused = decode_command(std::string("\x01") + operation + u32(1) + "k");
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message, Catch::Contains("unknown operation"));
  }
  CHECK_FALSE(
      decode_command(std::string("\x01\x03") + u32(1) + "k" + "\x02").ok());  // presence byte 2
}

TEST_CASE("kv command: random garbage never decodes to something that re-encodes differently",
          "[store]") {
  Rng rng(42);
  std::vector<std::string> near_misses;  // the small samples, to be damaged
  for (const KvCommand& command : kSamples) {
    if (std::string data = encoded(command); data.size() <= 4096)
      near_misses.push_back(std::move(data));
  }
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string data;
    if (i % 2 == 0) {
      data.resize(rng.below(40));
      for (char& c : data) c = static_cast<char>(rng.below(256));
      if (data.size() >= 2 && rng.below(2) == 0) {
        data[0] = 1;  // past the version and operation checks, to reach the fields
        data[1] = static_cast<char>(1 + rng.below(3));
      }
    } else {
      data = near_misses[rng.below(near_misses.size())];
      for (int flips = 1 + static_cast<int>(rng.below(3)); flips > 0; --flips) {
        data[rng.below(data.size())] = static_cast<char>(rng.below(256));
      }
    }
    auto decoded = decode_command(data);
    if (!decoded.ok()) continue;
    ++accepted;
    // Accepted input is a valid command with exactly one encoding.
    CHECK(validate_command(*decoded).ok());
    CHECK(encoded(*decoded) == data);
  }
  CHECK(accepted > 0);  // the loop does reach the accepting paths
}
