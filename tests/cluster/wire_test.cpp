#include <catch2/catch.hpp>

#include "base/rng.hpp"
#include "cluster/wire.hpp"

using namespace meridian;
using namespace meridian::cluster;

namespace {

Message sample(MessageType type) {
  Message m;
  m.type = type;
  m.from = 1;
  m.to = 3;
  m.term = 7;
  m.index = 41;
  m.log_term = 6;
  m.commit = 40;
  m.context = 99;
  m.reject_hint = 12;
  m.reject = true;
  m.transfer = true;
  return m;
}

Message decode_frame(const std::string& frame) {
  auto length = frame_length(frame);
  REQUIRE(length.ok());
  REQUIRE(*length == frame.size() - 4);
  auto decoded = decode_payload(std::string_view(frame).substr(4));
  REQUIRE(decoded.ok());
  return *decoded;
}

}  // namespace

TEST_CASE("wire: every message type round-trips", "[cluster]") {
  for (int type = 0; type < message_type_count; ++type) {
    Message m = sample(static_cast<MessageType>(type));
    if (m.type == MessageType::append) {
      m.entries = {{42, 7, store::EntryType::normal, "put a=1"}, {43, 7, store::EntryType::config, std::string("\0x", 2)}};
    }
    if (m.type == MessageType::snapshot) m.snapshot = store::Snapshot{40, 6, {{1, 2, 3}, {4}}, "state bytes"};
    auto frame = encode_frame(m);
    REQUIRE(frame.ok());
    CHECK(decode_frame(*frame) == m);
  }
}

TEST_CASE("wire: malformed payloads are errors", "[cluster]") {
  Message m = sample(MessageType::append);
  m.entries = {{42, 7, store::EntryType::normal, "data"}};
  m.snapshot = store::Snapshot{1, 1, {{1}, {}}, "s"};
  const std::string frame = *encode_frame(m);
  const std::string payload = frame.substr(4);
  // Every truncation fails cleanly.
  for (std::size_t size = 0; size < payload.size(); ++size) {
    INFO(size);
    CHECK_FALSE(decode_payload(std::string_view(payload).substr(0, size)).ok());
  }
  auto with = [&](std::size_t at, char value) {
    std::string bad = payload;
    bad[at] = value;
    return decode_payload(bad);
  };
  CHECK_THAT(with(0, 2).error().message, Catch::Contains("unsupported wire version 2"));
  CHECK_THAT(with(1, 99).error().message, Catch::Contains("unknown message type"));
  CHECK_THAT(with(66, static_cast<char>(0x80)).error().message, Catch::Contains("unknown flags"));
  CHECK_FALSE(decode_payload(payload + "x").ok());  // trailing bytes
  // An entry count the frame cannot hold is refused before allocating.
  std::string huge = payload;
  huge[67] = huge[68] = huge[69] = static_cast<char>(0x7f);
  CHECK_FALSE(decode_payload(huge).ok());
}

TEST_CASE("wire: frame lengths are bounded", "[cluster]") {
  CHECK_FALSE(frame_length("abc").ok());
  CHECK_FALSE(frame_length(std::string("\0\0\0\0", 4)).ok());
  CHECK_FALSE(frame_length(std::string("\xff\xff\xff\xff", 4)).ok());
  CHECK(frame_length(std::string("\0\0\1\0", 4)).value() == 256);
  Message big = sample(MessageType::snapshot);
  big.snapshot = store::Snapshot{1, 1, {}, std::string(kMaxFrameBytes, 'x')};
  CHECK_FALSE(encode_frame(big).ok());
}

TEST_CASE("wire: random garbage never crashes and never decodes to junk", "[cluster]") {
  Rng rng(20261128);
  Message m = sample(MessageType::append);
  m.entries = {{42, 7, store::EntryType::normal, "abc"}};
  const std::string payload = encode_frame(m)->substr(4);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = payload;
    const int edits = 1 + static_cast<int>(rng.below(4));
    for (int e = 0; e < edits; ++e) {
      switch (rng.below(3)) {
        case 0: bytes[rng.below(bytes.size())] = static_cast<char>(rng.next()); break;
        case 1: bytes.resize(rng.below(bytes.size() + 1)); break;
        default: bytes.push_back(static_cast<char>(rng.next())); break;
      }
      if (bytes.empty()) bytes.push_back(1);
    }
    auto decoded = decode_payload(bytes);
    if (decoded.ok()) {
      // Whatever decodes must encode back to the same bytes.
      ++accepted;
      CHECK(encode_frame(*decoded)->substr(4) == bytes);
    }
  }
  CHECK(accepted < 20000);
}
