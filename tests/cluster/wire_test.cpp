#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

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

NodeReport sample_report() {
  return NodeReport{1, 3, Role::leader, 7, 1, 40, 39, 41, 20, 123456, "192.0.2.1:8053"};
}

Message snapshot_message(std::string data) {
  Message m;
  m.type = MessageType::snapshot;
  m.from = 1;
  m.to = 3;
  m.term = 9;
  m.snapshot = store::Snapshot{500, 8, {{1, 2, 3}, {4}}, std::move(data)};
  return m;
}

/// A chunk that follows every rule: the first of a 10-byte snapshot.
SnapshotChunk sample_chunk() {
  SnapshotChunk c;
  c.from = 1;
  c.to = 3;
  c.term = 9;
  c.offset = 0;
  c.total_bytes = 10;
  c.meta = SnapshotMeta{500, 8, {{1, 2, 3}, {4}}};
  c.data = "01234";
  return c;
}

Payload decode_frame(const std::string& frame) {
  auto length = frame_length(frame);
  REQUIRE(length.ok());
  REQUIRE(*length == frame.size() - 4);
  auto decoded = decode_payload(std::string_view(frame).substr(4));
  REQUIRE(decoded.ok());
  return *decoded;
}

/// Every chunk of `message`, as snapshot_chunk() cuts them.
std::vector<SnapshotChunk> split(const Message& message) {
  std::vector<SnapshotChunk> chunks;
  std::uint64_t offset = 0;
  do {
    chunks.push_back(snapshot_chunk(message, offset));
    offset += chunks.back().data.size();
  } while (offset < message.snapshot->data.size());
  return chunks;
}

}  // namespace

TEST_CASE("wire: every message type round-trips", "[cluster]") {
  for (int type = 0; type < message_type_count; ++type) {
    Message m = sample(static_cast<MessageType>(type));
    if (m.type == MessageType::append) {
      m.entries = {{42, 7, store::EntryType::normal, "put a=1"},
                   {43, 7, store::EntryType::config, std::string("\0x", 2)}};
    }
    if (m.type == MessageType::snapshot)
      m.snapshot = store::Snapshot{40, 6, {{1, 2, 3}, {4}}, "state bytes"};
    auto frame = encode_frame(m);
    REQUIRE(frame.ok());
    CHECK(std::get<Message>(decode_frame(*frame)) == m);
  }
}

TEST_CASE("wire: reports and chunks round-trip under their own type codes", "[cluster]") {
  static_assert(kReportType >= message_type_count && kChunkType >= message_type_count);
  for (const Role role : {Role::follower, Role::pre_candidate, Role::candidate, Role::leader}) {
    NodeReport report = sample_report();
    report.role = role;
    const std::string frame = *encode_frame(report);
    CHECK(static_cast<std::uint8_t>(frame[5]) == kReportType);
    CHECK(std::get<NodeReport>(decode_frame(frame)) == report);
  }
  SnapshotChunk first = sample_chunk();
  const std::string frame = *encode_frame(first);
  CHECK(static_cast<std::uint8_t>(frame[5]) == kChunkType);
  CHECK(std::get<SnapshotChunk>(decode_frame(frame)) == first);
  SnapshotChunk later = first;
  later.offset = 5;
  later.meta.reset();
  CHECK(std::get<SnapshotChunk>(decode_frame(*encode_frame(later))) == later);
}

TEST_CASE("wire: forwarded requests and answers round-trip; bodies are bounded", "[cluster]") {
  for (const bool response : {false, true}) {
    const ForwardFrame frame{3, 4, 77, response, std::string("\x01\x01body", 6)};
    const std::string bytes = *encode_frame(frame);
    CHECK(static_cast<std::uint8_t>(bytes[5]) == kForwardType);
    CHECK(std::get<ForwardFrame>(decode_frame(bytes)) == frame);
    const std::string payload = bytes.substr(4);
    for (std::size_t size = 0; size < payload.size(); ++size)
      CHECK_FALSE(decode_payload(payload.substr(0, size)).ok());
  }
  ForwardFrame big{3, 4, 1, false, std::string(kMaxForwardBytes, 'x')};
  CHECK(encode_frame(big).ok());
  big.body.push_back('x');
  CHECK_FALSE(encode_frame(big).ok());
  // A response flag other than 0 or 1 is garbage.
  std::string forged = encode_frame(ForwardFrame{3, 4, 1, true, "b"})->substr(4);
  forged[2 + 24] = 2;
  CHECK_FALSE(decode_payload(forged).ok());
}

TEST_CASE("wire: malformed payloads are errors", "[cluster]") {
  Message m = sample(MessageType::append);
  m.entries = {{42, 7, store::EntryType::normal, "data"}};
  m.snapshot = store::Snapshot{1, 1, {{1}, {}}, "s"};
  const std::string frame = *encode_frame(m);
  const std::string payload = frame.substr(4);
  // Every truncation fails cleanly, for every kind of payload.
  for (const std::string& whole : {payload, encode_frame(sample_report())->substr(4),
                                   encode_frame(sample_chunk())->substr(4)}) {
    for (std::size_t size = 0; size < whole.size(); ++size) {
      INFO(size);
      CHECK_FALSE(decode_payload(std::string_view(whole).substr(0, size)).ok());
    }
  }
  auto with = [&](std::size_t at, char value) {
    std::string bad = payload;
    bad[at] = value;
    return decode_payload(bad);
  };
  CHECK_THAT(with(0, 2).error().message, Catch::Contains("unsupported wire version 2"));
  CHECK_THAT(with(1, message_type_count).error().message, Catch::Contains("unknown payload type"));
  CHECK_THAT(with(1, kForwardType + 1).error().message, Catch::Contains("unknown payload type"));
  CHECK_THAT(with(66, static_cast<char>(0x80)).error().message, Catch::Contains("unknown flags"));
  CHECK_FALSE(decode_payload(payload + "x").ok());  // trailing bytes
  CHECK_FALSE(decode_payload(encode_frame(sample_report())->substr(4) + "x").ok());
  // An entry count the frame cannot hold is refused before allocating.
  std::string huge = payload;
  huge[67] = huge[68] = huge[69] = static_cast<char>(0x7f);
  CHECK_FALSE(decode_payload(huge).ok());
  // A role beyond Role::leader.
  std::string report = encode_frame(sample_report())->substr(4);
  report[18] = 4;
  CHECK_THAT(decode_payload(report).error().message, Catch::Contains("unknown role 4"));
}

TEST_CASE("wire: a report's admin address is bounded", "[cluster]") {
  NodeReport report = sample_report();
  report.admin_address.assign(kMaxAdminAddressBytes, 'a');
  const std::string at_limit = *encode_frame(report);
  CHECK(std::get<NodeReport>(decode_frame(at_limit)) == report);
  report.admin_address.push_back('a');
  CHECK_FALSE(encode_frame(report).ok());
  // The same, forged: a length one over the limit is refused on decoding.
  std::string forged = at_limit.substr(4) + "a";
  forged[forged.size() - kMaxAdminAddressBytes - 2] = 1;  // the length's low byte: 256 -> 257
  CHECK_FALSE(decode_payload(forged).ok());
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

TEST_CASE("wire: a chunk that breaks a rule neither encodes nor decodes", "[cluster]") {
  const std::map<std::string, std::function<void(SnapshotChunk&)>> breaks = {
      {"metadata on a later chunk", [](SnapshotChunk& c) { c.offset = 5; }},
      {"no metadata on the first chunk", [](SnapshotChunk& c) { c.meta.reset(); }},
      {"beyond the end", [](SnapshotChunk& c) { c.total_bytes = 4; }},
      {"empty chunk of a non-empty snapshot", [](SnapshotChunk& c) { c.data.clear(); }},
      {"over the snapshot limit", [](SnapshotChunk& c) { c.total_bytes = kMaxSnapshotBytes + 1; }},
      {"over the chunk size",
       [](SnapshotChunk& c) {
         c.total_bytes = kSnapshotChunkBytes + 1;
         c.data.assign(kSnapshotChunkBytes + 1, 'c');
       }},
  };
  // The same chunk with the rule broken after encoding: patch the fields
  // (offset at 4 + 2 + 24, total at +32) or drop the metadata flag.
  const std::string good = encode_frame(sample_chunk())->substr(4);
  for (const auto& [what, change] : breaks) {
    INFO(what);
    SnapshotChunk chunk = sample_chunk();
    change(chunk);
    CHECK_FALSE(encode_frame(chunk).ok());
  }
  auto patched = [&](std::size_t at, std::uint64_t value) {
    std::string bad = good;
    for (int i = 0; i < 8; ++i) bad[at + i] = static_cast<char>((value >> (56 - 8 * i)) & 0xff);
    return decode_payload(bad);
  };
  CHECK_THAT(patched(26, 5).error().message,
             Catch::Contains("metadata must come with the first chunk"));
  CHECK_THAT(patched(34, 4).error().message, Catch::Contains("beyond the end"));
  CHECK_THAT(patched(34, kMaxSnapshotBytes + 1).error().message,
             Catch::Contains("exceeds the limit"));
  std::string flags = good;
  flags[42] = 3;
  CHECK_THAT(decode_payload(flags).error().message, Catch::Contains("unknown chunk flags"));
}

TEST_CASE("wire: a snapshot is cut into chunks and assembled back", "[cluster]") {
  const std::string data(3 * kSnapshotChunkBytes + kSnapshotChunkBytes / 2, 'd');
  Message message = snapshot_message(data);
  message.snapshot->data[kSnapshotChunkBytes] = 'X';  // one byte that must land at its place
  const auto chunks = split(message);
  REQUIRE(chunks.size() == 4);
  CHECK(chunks[0].meta == SnapshotMeta{500, 8, {{1, 2, 3}, {4}}});
  CHECK(chunks[3].data.size() == kSnapshotChunkBytes / 2);
  SnapshotAssembler assembler;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const std::string frame = *encode_frame(chunks[i]);
    CHECK(frame.size() <= kSnapshotChunkBytes + 4096);
    CHECK_FALSE(chunks[i].meta.has_value() != (i == 0));
    auto added = assembler.add(std::get<SnapshotChunk>(decode_frame(frame)));
    REQUIRE(added.ok());
    CHECK(added->has_value() == (i + 1 == chunks.size()));
    if (added->has_value()) CHECK(**added == message);
  }
  CHECK_FALSE(assembler.in_progress());

  // An empty snapshot is one chunk.
  const Message empty = snapshot_message("");
  REQUIRE(split(empty).size() == 1);
  auto added = assembler.add(split(empty)[0]);
  REQUIRE((added.ok() && added->has_value()));
  CHECK(**added == empty);
}

TEST_CASE("wire: the assembler refuses chunks out of order, inconsistent or over its limit",
          "[cluster]") {
  const Message message = snapshot_message("0123456789");
  // Three chunks of that snapshot, cut by hand (any size up to the maximum).
  std::vector<SnapshotChunk> chunks(3, sample_chunk());
  chunks[0].data = "0123";
  for (std::size_t i = 1; i < 3; ++i) {
    chunks[i].meta.reset();
    chunks[i].offset = i == 1 ? 4 : 7;
    chunks[i].data = i == 1 ? "456" : "789";
  }
  auto term = [](SnapshotChunk c) { return ++c.term, c; };
  auto total = [](SnapshotChunk c) { return ++c.total_bytes, c; };
  auto sender = [](SnapshotChunk c) { return ++c.from, c; };
  struct Case {
    const char* what;
    std::vector<SnapshotChunk> sequence;
    const char* error;
  };
  const std::vector<Case> cases = {
      {"in order", {chunks[0], chunks[1], chunks[2]}, nullptr},
      {"a later chunk without a start", {chunks[1]}, "without a start"},
      {"a gap", {chunks[0], chunks[2]}, "expected 4"},
      {"a repeat", {chunks[0], chunks[1], chunks[1]}, "expected 7"},
      {"a new start mid-snapshot", {chunks[0], chunks[0]}, "began before"},
      {"another term", {chunks[0], term(chunks[1])}, "disagrees"},
      {"another total", {chunks[0], total(chunks[1])}, "disagrees"},
      {"another sender", {chunks[0], sender(chunks[1])}, "disagrees"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    SnapshotAssembler assembler;
    Result<std::optional<Message>> last = std::optional<Message>();
    for (const SnapshotChunk& chunk : c.sequence) {
      last = assembler.add(chunk);
      if (!last) break;
    }
    if (c.error == nullptr) {
      REQUIRE((last.ok() && last->has_value()));
      CHECK(**last == message);
    } else {
      REQUIRE_FALSE(last.ok());
      CHECK_THAT(last.error().message, Catch::Contains(c.error));
      // Nothing partial survives: a whole snapshot assembles afterwards.
      CHECK_FALSE(assembler.in_progress());
      for (const SnapshotChunk& chunk : chunks) last = assembler.add(chunk);
      CHECK((last.ok() && last->has_value()));
    }
  }

  // The limit, at its edge.
  SnapshotAssembler at_limit(10);
  CHECK(at_limit.add(chunks[0]).ok());
  SnapshotAssembler below_limit(9);
  CHECK_THAT(below_limit.add(chunks[0]).error().message, Catch::Contains("exceeds the limit of 9"));
}

TEST_CASE("wire: snapshot messages are checked before chunking", "[cluster]") {
  CHECK(check_snapshot_message(snapshot_message(std::string(100, 'x')), 100).ok());
  CHECK_THAT(check_snapshot_message(snapshot_message(std::string(101, 'x')), 100).error().message,
             Catch::Contains("exceeds the limit of 100"));
  CHECK_FALSE(check_snapshot_message(sample(MessageType::snapshot)).ok());  // no snapshot
  Message crowded = snapshot_message("x");
  crowded.snapshot->membership.voters.assign(kMaxMembers + 1, 7);
  CHECK_FALSE(check_snapshot_message(crowded).ok());
}

TEST_CASE("wire: random garbage never crashes and never decodes to junk", "[cluster]") {
  Rng rng(20261128);
  Message m = sample(MessageType::append);
  m.entries = {{42, 7, store::EntryType::normal, "abc"}};
  const std::vector<std::string> payloads = {encode_frame(m)->substr(4),
                                             encode_frame(sample_report())->substr(4),
                                             encode_frame(sample_chunk())->substr(4)};
  int accepted = 0;
  for (int i = 0; i < 30000; ++i) {
    std::string bytes = payloads[i % payloads.size()];
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
      CHECK(std::visit([](const auto& p) { return encode_frame(p)->substr(4); }, *decoded) ==
            bytes);
    }
  }
  CHECK(accepted < 30000);
}

// The fuzzer's seed corpus (tests/fuzz/corpus/wire) holds these frames; each
// seed is a stream of frames, as the fuzz target reads them. Regenerate with
// MERIDIAN_REWRITE=1 after a format change.
TEST_CASE("wire: the fuzz seed corpus matches the current encoding", "[cluster]") {
  Message append = sample(MessageType::append);
  append.entries = {{42, 7, store::EntryType::normal, "put a=1"},
                    {43, 7, store::EntryType::config, "voters"}};
  std::vector<SnapshotChunk> chunks(3, sample_chunk());
  chunks[0].data = "0123";
  chunks[1] = {1, 3, 9, 4, 10, std::nullopt, "456"};
  chunks[2] = {1, 3, 9, 7, 10, std::nullopt, "789"};
  auto frames = [](const auto&... payloads) { return (*encode_frame(payloads) + ...); };
  const std::map<std::string, std::string> seeds = {
      {"append", frames(append)},
      {"heartbeat", frames(sample(MessageType::heartbeat))},
      {"snapshot_message", frames(snapshot_message("state"))},
      {"report", frames(sample_report())},
      {"chunks", frames(chunks[0], chunks[1], chunks[2])},
      {"mixed", frames(sample(MessageType::vote_request), chunks[0], sample_report(), chunks[1],
                       sample(MessageType::heartbeat_response), chunks[2])},
  };
  const std::filesystem::path directory = MERIDIAN_SOURCE_DIR "/tests/fuzz/corpus/wire";
  const bool rewrite = std::getenv("MERIDIAN_REWRITE") != nullptr;
  for (const auto& [name, bytes] : seeds) {
    INFO(name);
    const auto path = directory / name;
    if (rewrite) {
      std::filesystem::create_directories(directory);
      std::ofstream(path, std::ios::binary) << bytes;
    }
    std::ifstream in(path, std::ios::binary);
    const std::string stored((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
    CHECK(stored == bytes);
  }
}
