// libFuzzer target for the peer wire format (cluster/wire.hpp), built with
// clang by run_fuzz.sh. The input is read twice:
//   1. as one payload (decode_payload), and
//   2. as a stream of frames, the way a connection delivers them
//      (frame_length, then decode_payload), with snapshot chunks fed to a
//      SnapshotAssembler.
// Whatever decodes must encode back to the same bytes and decode again to an
// equal value; an assembled snapshot must cut back into chunks that assemble
// to the same Message. A broken property aborts, which libFuzzer reports.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "cluster/wire.hpp"

using namespace meridian::cluster;

namespace {

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "wire_fuzz: %s\n", what);
    std::abort();
  }
}

void round_trip(const Payload& payload, std::string_view bytes) {
  const auto frame = std::visit([](const auto& p) { return encode_frame(p); }, payload);
  check(frame.ok(), "a decoded payload does not encode");
  const std::string_view encoded(*frame);
  check(encoded.substr(4) == bytes, "re-encoding changed the bytes");
  const auto length = frame_length(encoded);
  check(length.ok() && *length == bytes.size(), "the length prefix does not match the payload");
  const auto again = decode_payload(encoded.substr(4));
  check(again.ok() && *again == payload, "a re-encoded payload decodes differently");
}

/// Cuts `message` into chunks as the sender does and assembles them again.
void rechunk(const Message& message) {
  check(check_snapshot_message(message).ok(), "an assembled snapshot cannot be sent on");
  SnapshotAssembler assembler;
  std::uint64_t offset = 0;
  for (;;) {
    const SnapshotChunk chunk = snapshot_chunk(message, offset);
    const auto frame = encode_frame(chunk);
    check(frame.ok(), "a chunk of an assembled snapshot does not encode");
    auto added = assembler.add(chunk);
    check(added.ok(), "re-cut chunks are refused");
    offset += chunk.data.size();
    if (added->has_value()) {
      check(**added == message, "re-cut chunks assemble to another snapshot");
      check(offset == message.snapshot->data.size(), "the snapshot ended early");
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto decoded = decode_payload(input); decoded.ok()) round_trip(*decoded, input);

  SnapshotAssembler assembler;
  std::string_view rest = input;
  while (rest.size() >= 4) {
    const auto length = frame_length(rest);
    if (!length.ok() || rest.size() - 4 < *length) break;
    const std::string_view payload = rest.substr(4, *length);
    rest.remove_prefix(4 + *length);
    auto decoded = decode_payload(payload);
    // A connection closes at a bad frame; reading on explores more frames.
    if (!decoded.ok()) continue;
    round_trip(*decoded, payload);
    if (auto* chunk = std::get_if<SnapshotChunk>(&*decoded)) {
      auto added = assembler.add(std::move(*chunk));
      if (added.ok() && added->has_value()) rechunk(**added);
    }
  }
  return 0;
}
