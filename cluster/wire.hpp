#pragma once
// The peer wire format: what travels between nodes inside the mutual-TLS
// stream of the transport (cluster/transport.hpp). A frame is a 4-byte
// big-endian length followed by the payload; the payload starts with a
// format version byte and a type code, which selects one of three kinds:
//
// | type code            | payload        | what it is                                 |
// |----------------------|----------------|--------------------------------------------|
// | 0 .. 11              | Message        | a Raft message (the MessageType)           |
// | kReportType (0x40)   | NodeReport     | a node's view, for `meridian cluster status` |
// | kChunkType (0x41)    | SnapshotChunk  | a piece of a snapshot Message              |
//
// A snapshot Message can be far larger than a frame (kMaxSnapshotBytes), so
// the transport sends it as SnapshotChunks (snapshot_chunk()) and the
// receiver rebuilds the Message with a SnapshotAssembler.
//
// Decoding checks every length against the limits below before allocating,
// and rejects unknown versions, types and flags, so a malformed, truncated,
// oversized or wrong-version frame is an error value, never a crash. The
// encoding is canonical: whatever decodes encodes back to the same bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "base/result.hpp"
#include "cluster/raft_types.hpp"
#include "store/kv_state.hpp"

namespace meridian::cluster {

inline constexpr std::uint8_t kWireVersion = 1;
/// Largest payload accepted. Snapshots are not bound by it (they travel in
/// chunks); every other payload is.
inline constexpr std::uint32_t kMaxFrameBytes = 64 * 1024 * 1024;
/// Most entries in one append.
inline constexpr std::uint32_t kMaxEntriesPerMessage = 64 * 1024;
/// Most members listed in a snapshot's membership.
inline constexpr std::uint32_t kMaxMembers = 4096;
/// Most snapshot data in one chunk.
inline constexpr std::uint32_t kSnapshotChunkBytes = 1024 * 1024;
/// Largest snapshot (its data) sent or accepted: the state machine's own
/// limit.
inline constexpr std::uint64_t kMaxSnapshotBytes = store::kMaxKvSnapshotBytes;

/// Longest NodeReport::admin_address.
inline constexpr std::uint32_t kMaxAdminAddressBytes = 256;

/// Type codes of the payloads that are not Raft messages; they lie outside
/// the MessageType range.
inline constexpr std::uint8_t kReportType = 0x40;
inline constexpr std::uint8_t kChunkType = 0x41;
inline constexpr std::uint8_t kForwardType = 0x42;

/// Largest ForwardFrame::body: a proposal (store::kMaxValueBytes plus its
/// key) with room for the request's framing.
inline constexpr std::uint32_t kMaxForwardBytes = 2 * 1024 * 1024;

/// One node's view of the cluster, sent to every peer now and then so that
/// any node can show every member's state (`meridian cluster status`).
/// Informational only: Raft never reads it.
struct NodeReport {
  NodeId from = no_node;  ///< the reporting node
  NodeId to = no_node;    ///< the peer it is sent to
  Role role = Role::follower;
  std::uint64_t term = 0;
  std::uint64_t leader = 0;  ///< the leader it knows of (no_node: none)
  std::uint64_t commit = 0;
  std::uint64_t applied = 0;
  std::uint64_t last_index = 0;
  std::uint64_t snapshot_index = 0;
  std::uint64_t uptime_ms = 0;
  /// Where its admin API listens ("host:port"; empty: not said), so that
  /// operators' tools can find every member. At most kMaxAdminAddressBytes.
  std::string admin_address;

  friend bool operator==(const NodeReport&, const NodeReport&) = default;
};

/// What a snapshot is, without its data: carried by the first chunk.
struct SnapshotMeta {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  store::Membership membership;

  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

/// A piece of a snapshot Message. The chunks of one snapshot have the same
/// from, to, term and total_bytes; their offsets follow each other from 0
/// to total_bytes, each chunk carries 1..kSnapshotChunkBytes of data (an
/// empty snapshot is one chunk with no data), and exactly the first (offset
/// 0) carries `meta`. Only from, to, term and the snapshot travel: the other
/// Message fields are unused by snapshot messages (see MessageType).
struct SnapshotChunk {
  NodeId from = no_node;
  NodeId to = no_node;
  std::uint64_t term = 0;            ///< the sender's term (Message::term)
  std::uint64_t offset = 0;          ///< where `data` starts in the snapshot's data
  std::uint64_t total_bytes = 0;     ///< size of the snapshot's whole data, <= kMaxSnapshotBytes
  std::optional<SnapshotMeta> meta;  ///< present exactly when offset == 0
  std::string data;

  friend bool operator==(const SnapshotChunk&, const SnapshotChunk&) = default;
};

/// A client request that one member passes to another (a follower's write
/// to the leader), or the answer to one. `id` pairs them; `body` is opaque to
/// the wire and the transport (the store node encodes it).
struct ForwardFrame {
  NodeId from = no_node;
  NodeId to = no_node;
  std::uint64_t id = 0;
  bool response = false;
  std::string body;  ///< at most kMaxForwardBytes

  friend bool operator==(const ForwardFrame&, const ForwardFrame&) = default;
};

/// A decoded payload: exactly one of the four kinds.
using Payload = std::variant<Message, NodeReport, SnapshotChunk, ForwardFrame>;

/// The frame (length prefix + payload) for `message`. Errors when the
/// payload would exceed kMaxFrameBytes or the entry/member limits (a
/// snapshot message may be encoded whole, but the transport chunks it).
Result<std::string> encode_frame(const Message& message);
/// The frame for `report`. Errors when its admin_address is too long.
Result<std::string> encode_frame(const NodeReport& report);
/// The frame for `chunk`. Errors when the chunk breaks one of the rules of
/// SnapshotChunk (so what is sent would also be accepted).
Result<std::string> encode_frame(const SnapshotChunk& chunk);
/// Errors when the body exceeds kMaxForwardBytes.
Result<std::string> encode_frame(const ForwardFrame& frame);

/// Decodes one payload (without the length prefix) into its kind.
Result<Payload> decode_payload(std::string_view payload);

/// Reads the length prefix at the start of `bytes` (at least 4 bytes);
/// errors when it exceeds kMaxFrameBytes or is 0.
Result<std::uint32_t> frame_length(std::string_view bytes);

/// Checks that the snapshot message `message` can be sent in chunks: it has
/// a snapshot, its data is at most `max_bytes` (<= kMaxSnapshotBytes) and
/// its membership within kMaxMembers.
Result<void> check_snapshot_message(const Message& message,
                                    std::uint64_t max_bytes = kMaxSnapshotBytes);

/// The chunk of the snapshot message `message` that starts at `offset`:
/// up to kSnapshotChunkBytes of its data, plus the metadata when offset is
/// 0. The next chunk starts at offset + data.size(); the last one ends at
/// total_bytes. Preconditions (asserted): check_snapshot_message(message)
/// holds, and offset < data size (or offset == 0 for an empty snapshot).
SnapshotChunk snapshot_chunk(const Message& message, std::uint64_t offset);

/// Rebuilds snapshot messages from the chunks of one connection, which must
/// arrive in order, one snapshot after another (other payloads may come
/// between chunks). Holds at most one partial snapshot. Not thread-safe.
class SnapshotAssembler {
 public:
  /// `max_bytes`: the largest snapshot accepted (<= kMaxSnapshotBytes).
  explicit SnapshotAssembler(std::uint64_t max_bytes = kMaxSnapshotBytes);

  /// Adds the next chunk. Returns the snapshot Message when `chunk` was its
  /// last, nullopt while more are due. Errors (the sender is broken: close
  /// the connection) when the chunk is out of order (a first chunk while one
  /// is in progress, a later chunk without one, or an offset that does not
  /// follow), disagrees with the first chunk (from, to, term, total_bytes),
  /// or announces more than `max_bytes`; the partial snapshot is discarded.
  Result<std::optional<Message>> add(SnapshotChunk chunk);

  /// Discards a partial snapshot.
  void reset();
  /// True while a snapshot is partly received.
  bool in_progress() const { return partial_.has_value(); }

 private:
  std::uint64_t max_bytes_;
  std::optional<Message> partial_;  ///< the snapshot message so far
  std::uint64_t total_bytes_ = 0;
};

}  // namespace meridian::cluster
