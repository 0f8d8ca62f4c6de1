#pragma once
// The peer wire format: how a Raft Message travels between nodes (inside the
// mutual-TLS stream of the transport). A frame is a 4-byte big-endian length
// followed by the payload; the payload starts with a format version byte.
// Decoding checks every length against the limits below before allocating,
// and rejects unknown versions and types, so a malformed, truncated,
// oversized or wrong-version frame is an error value, never a crash.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "cluster/raft_types.hpp"

namespace meridian::cluster {

inline constexpr std::uint8_t kWireVersion = 1;
/// Largest payload accepted; also bounds snapshots sent in one message
/// (larger snapshots need chunked transfer, which the transport adds).
inline constexpr std::uint32_t kMaxFrameBytes = 64 * 1024 * 1024;
/// Most entries in one append.
inline constexpr std::uint32_t kMaxEntriesPerMessage = 64 * 1024;
/// Most members listed in a snapshot's membership.
inline constexpr std::uint32_t kMaxMembers = 4096;

/// The frame (length prefix + payload) for `message`. Errors when the
/// payload would exceed kMaxFrameBytes or the entry/member limits.
Result<std::string> encode_frame(const Message& message);

/// Decodes one payload (without the length prefix).
Result<Message> decode_payload(std::string_view payload);

/// Reads the length prefix at the start of `bytes` (at least 4 bytes);
/// errors when it exceeds kMaxFrameBytes or is 0.
Result<std::uint32_t> frame_length(std::string_view bytes);

}  // namespace meridian::cluster
