#include "cluster/wire.hpp"

#include <algorithm>
#include <utility>

#include "base/byte_codec.hpp"

namespace meridian::cluster {
namespace {

constexpr std::uint8_t kFlagReject = 1;
constexpr std::uint8_t kFlagTransfer = 2;
constexpr std::uint8_t kFlagSnapshot = 4;
constexpr std::uint8_t kKnownFlags = kFlagReject | kFlagTransfer | kFlagSnapshot;
/// SnapshotChunk flags.
constexpr std::uint8_t kChunkFlagMeta = 1;

static_assert(message_type_count <= kReportType,
              "payload type codes must stay outside the MessageType range");

void put_ids(ByteWriter& out, const std::vector<std::uint64_t>& ids) {
  out.u32(static_cast<std::uint32_t>(ids.size()));
  for (const auto id : ids) out.u64(id);
}

bool get_ids(ByteReader& in, std::vector<std::uint64_t>& ids) {
  const std::uint32_t count = in.u32();
  // Each id takes 8 bytes: a count the input cannot hold is refused before
  // anything is reserved.
  if (!in.ok() || count > kMaxMembers || count > in.remaining() / 8) return false;
  ids.reserve(count);
  for (std::uint32_t i = 0; i < count && in.ok(); ++i) ids.push_back(in.u64());
  return in.ok();
}

bool members_fit(const store::Membership& membership) {
  return membership.voters.size() <= kMaxMembers && membership.learners.size() <= kMaxMembers;
}

/// Starts a frame: the length (filled in by finish()), version, type.
ByteWriter begin(std::uint8_t type, std::size_t reserve = 64) {
  ByteWriter out(reserve);
  out.u32(0);
  out.u8(kWireVersion);
  out.u8(type);
  return out;
}

Result<std::string> finish(ByteWriter&& out) {
  std::string frame = std::move(out).take();
  const std::size_t payload = frame.size() - 4;
  if (payload > kMaxFrameBytes)
    return fail("payload of ", std::to_string(payload), " bytes exceeds the frame limit");
  for (int i = 0; i < 4; ++i) frame[i] = static_cast<char>((payload >> (24 - 8 * i)) & 0xff);
  return frame;
}

/// The rules of SnapshotChunk (wire.hpp), checked on both ends.
Result<void> check_chunk(const SnapshotChunk& chunk) {
  if (chunk.total_bytes > kMaxSnapshotBytes) {
    return fail("snapshot of ", std::to_string(chunk.total_bytes), " bytes exceeds the limit");
  }
  if (chunk.data.size() > kSnapshotChunkBytes)
    return fail("chunk of ", std::to_string(chunk.data.size()), " bytes");
  if (chunk.offset > chunk.total_bytes || chunk.data.size() > chunk.total_bytes - chunk.offset) {
    return fail("chunk beyond the end of the snapshot");
  }
  if (chunk.data.empty() && chunk.total_bytes != 0) return fail("empty chunk");
  if ((chunk.offset == 0) != chunk.meta.has_value())
    return fail("metadata must come with the first chunk only");
  if (chunk.meta && !members_fit(chunk.meta->membership))
    return fail("too many members in the snapshot");
  return {};
}

Result<Message> decode_message(ByteReader& in, std::uint8_t type, std::size_t payload_size) {
  Message message;
  message.type = static_cast<MessageType>(type);
  for (std::uint64_t* field :
       {&message.from, &message.to, &message.term, &message.index, &message.log_term,
        &message.commit, &message.context, &message.reject_hint}) {
    *field = in.u64();
  }
  const std::uint8_t flags = in.u8();
  if ((flags & ~kKnownFlags) != 0) return fail("unknown flags");
  message.reject = (flags & kFlagReject) != 0;
  message.transfer = (flags & kFlagTransfer) != 0;
  const std::uint32_t count = in.u32();
  if (!in.ok()) return fail("truncated message header");
  if (count > kMaxEntriesPerMessage) return fail("too many entries: ", std::to_string(count));
  // Each entry takes at least 21 bytes: a count the payload cannot hold is
  // rejected before anything is reserved.
  if (count > payload_size / 21) return fail("entry count beyond the frame");
  message.entries.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    store::Entry entry;
    entry.index = in.u64();
    entry.term = in.u64();
    const std::uint8_t entry_type = in.u8();
    if (entry_type > static_cast<std::uint8_t>(store::EntryType::config))
      return fail("unknown entry type");
    entry.type = static_cast<store::EntryType>(entry_type);
    entry.data = in.bytes(kMaxFrameBytes);
    if (!in.ok()) return fail("truncated entry ", std::to_string(i));
    message.entries.push_back(std::move(entry));
  }
  if ((flags & kFlagSnapshot) != 0) {
    store::Snapshot snapshot;
    snapshot.index = in.u64();
    snapshot.term = in.u64();
    if (!get_ids(in, snapshot.membership.voters) || !get_ids(in, snapshot.membership.learners)) {
      return fail("bad snapshot membership");
    }
    snapshot.data = in.bytes(kMaxFrameBytes);
    if (!in.ok()) return fail("truncated snapshot");
    message.snapshot = std::move(snapshot);
  }
  if (!in.ok()) return fail("truncated message");
  return message;
}

Result<ForwardFrame> decode_forward(ByteReader& in) {
  ForwardFrame frame;
  frame.from = in.u64();
  frame.to = in.u64();
  frame.id = in.u64();
  const std::uint8_t response = in.u8();
  if (in.ok() && response > 1) return fail("bad response flag ", std::to_string(response));
  frame.response = response == 1;
  frame.body = in.bytes(kMaxForwardBytes);
  if (!in.ok()) return fail("truncated forwarded request");
  return frame;
}

Result<NodeReport> decode_report(ByteReader& in) {
  NodeReport report;
  report.from = in.u64();
  report.to = in.u64();
  const std::uint8_t role = in.u8();
  if (in.ok() && role > static_cast<std::uint8_t>(Role::leader))
    return fail("unknown role ", std::to_string(role));
  report.role = static_cast<Role>(role);
  for (std::uint64_t* field : {&report.term, &report.leader, &report.commit, &report.applied,
                               &report.last_index, &report.snapshot_index, &report.uptime_ms}) {
    *field = in.u64();
  }
  report.admin_address = in.bytes(kMaxAdminAddressBytes);
  if (!in.ok()) return fail("truncated report");
  return report;
}

Result<SnapshotChunk> decode_chunk(ByteReader& in) {
  SnapshotChunk chunk;
  for (std::uint64_t* field :
       {&chunk.from, &chunk.to, &chunk.term, &chunk.offset, &chunk.total_bytes}) {
    *field = in.u64();
  }
  const std::uint8_t flags = in.u8();
  if (!in.ok()) return fail("truncated chunk header");
  if ((flags & ~kChunkFlagMeta) != 0) return fail("unknown chunk flags");
  if ((flags & kChunkFlagMeta) != 0) {
    SnapshotMeta meta;
    meta.index = in.u64();
    meta.term = in.u64();
    if (!get_ids(in, meta.membership.voters) || !get_ids(in, meta.membership.learners)) {
      return fail("bad snapshot membership");
    }
    chunk.meta = std::move(meta);
  }
  chunk.data = in.bytes(kSnapshotChunkBytes);
  if (!in.ok()) return fail("truncated chunk");
  if (auto valid = check_chunk(chunk); !valid) return valid.error();
  return chunk;
}

}  // namespace

Result<std::string> encode_frame(const Message& message) {
  if (message.entries.size() > kMaxEntriesPerMessage)
    return fail("too many entries for one message");
  if (message.snapshot && !members_fit(message.snapshot->membership))
    return fail("too many members in the snapshot");
  ByteWriter out = begin(static_cast<std::uint8_t>(message.type));
  for (const std::uint64_t field :
       {message.from, message.to, message.term, message.index, message.log_term, message.commit,
        message.context, message.reject_hint}) {
    out.u64(field);
  }
  out.u8(static_cast<std::uint8_t>((message.reject ? kFlagReject : 0) |
                                   (message.transfer ? kFlagTransfer : 0) |
                                   (message.snapshot ? kFlagSnapshot : 0)));
  out.u32(static_cast<std::uint32_t>(message.entries.size()));
  for (const store::Entry& entry : message.entries) {
    out.u64(entry.index);
    out.u64(entry.term);
    out.u8(static_cast<std::uint8_t>(entry.type));
    out.bytes(entry.data);
  }
  if (message.snapshot) {
    const store::Snapshot& snapshot = *message.snapshot;
    out.u64(snapshot.index);
    out.u64(snapshot.term);
    put_ids(out, snapshot.membership.voters);
    put_ids(out, snapshot.membership.learners);
    out.bytes(snapshot.data);
  }
  return finish(std::move(out));
}

Result<std::string> encode_frame(const NodeReport& report) {
  if (report.admin_address.size() > kMaxAdminAddressBytes)
    return fail("admin address too long for a report");
  ByteWriter out = begin(kReportType, 96 + report.admin_address.size());
  out.u64(report.from);
  out.u64(report.to);
  out.u8(static_cast<std::uint8_t>(report.role));
  for (const std::uint64_t field : {report.term, report.leader, report.commit, report.applied,
                                    report.last_index, report.snapshot_index, report.uptime_ms}) {
    out.u64(field);
  }
  out.bytes(report.admin_address);
  return finish(std::move(out));
}

Result<std::string> encode_frame(const SnapshotChunk& chunk) {
  if (auto valid = check_chunk(chunk); !valid) return valid.error();
  ByteWriter out = begin(kChunkType, chunk.data.size() + 128);
  for (const std::uint64_t field :
       {chunk.from, chunk.to, chunk.term, chunk.offset, chunk.total_bytes}) {
    out.u64(field);
  }
  out.u8(chunk.meta ? kChunkFlagMeta : 0);
  if (chunk.meta) {
    out.u64(chunk.meta->index);
    out.u64(chunk.meta->term);
    put_ids(out, chunk.meta->membership.voters);
    put_ids(out, chunk.meta->membership.learners);
  }
  out.bytes(chunk.data);
  return finish(std::move(out));
}

Result<std::string> encode_frame(const ForwardFrame& frame) {
  if (frame.body.size() > kMaxForwardBytes) return fail("forwarded request too large");
  ByteWriter out = begin(kForwardType, frame.body.size() + 40);
  out.u64(frame.from);
  out.u64(frame.to);
  out.u64(frame.id);
  out.u8(frame.response ? 1 : 0);
  out.bytes(frame.body);
  return finish(std::move(out));
}

Result<std::uint32_t> frame_length(std::string_view bytes) {
  if (bytes.size() < 4) return fail("short frame header");
  ByteReader in(bytes.substr(0, 4));
  const std::uint32_t length = in.u32();
  if (length == 0) return fail("empty frame");
  if (length > kMaxFrameBytes)
    return fail("frame of ", std::to_string(length), " bytes exceeds the limit");
  return length;
}

Result<Payload> decode_payload(std::string_view payload) {
  if (payload.size() > kMaxFrameBytes) return fail("frame exceeds the limit");
  ByteReader in(payload);
  const std::uint8_t version = in.u8();
  if (!in.ok()) return fail("empty frame");
  if (version != kWireVersion) return fail("unsupported wire version ", std::to_string(version));
  const std::uint8_t type = in.u8();
  if (!in.ok()) return fail("truncated frame");
  Result<Payload> decoded = fail("unknown payload type ", std::to_string(type));
  if (type < message_type_count) {
    auto message = decode_message(in, type, payload.size());
    decoded = message ? Result<Payload>(std::move(*message)) : Result<Payload>(message.error());
  } else if (type == kReportType) {
    auto report = decode_report(in);
    decoded = report ? Result<Payload>(*report) : Result<Payload>(report.error());
  } else if (type == kChunkType) {
    auto chunk = decode_chunk(in);
    decoded = chunk ? Result<Payload>(std::move(*chunk)) : Result<Payload>(chunk.error());
  } else if (type == kForwardType) {
    auto forward = decode_forward(in);
    decoded = forward ? Result<Payload>(std::move(*forward)) : Result<Payload>(forward.error());
  }
  if (decoded && !in.at_end()) return fail("trailing bytes after the payload");
  return decoded;
}

Result<void> check_snapshot_message(const Message& message, std::uint64_t max_bytes) {
  if (message.type != MessageType::snapshot || !message.snapshot)
    return fail("not a snapshot message");
  const std::uint64_t limit = std::min(max_bytes, kMaxSnapshotBytes);
  if (message.snapshot->data.size() > limit) {
    return fail("snapshot of ", std::to_string(message.snapshot->data.size()),
                " bytes exceeds the limit of ", std::to_string(limit));
  }
  if (!members_fit(message.snapshot->membership)) return fail("too many members in the snapshot");
  return {};
}

SnapshotChunk snapshot_chunk(const Message& message, std::uint64_t offset) {
  MERIDIAN_ASSERT(check_snapshot_message(message).ok(),
                  "snapshot_chunk of a message that cannot be chunked");
  const store::Snapshot& snapshot = *message.snapshot;
  MERIDIAN_ASSERT(offset < snapshot.data.size() || offset == 0,
                  "snapshot chunk offset beyond the data");
  SnapshotChunk chunk;
  chunk.from = message.from;
  chunk.to = message.to;
  chunk.term = message.term;
  chunk.offset = offset;
  chunk.total_bytes = snapshot.data.size();
  if (offset == 0) chunk.meta = SnapshotMeta{snapshot.index, snapshot.term, snapshot.membership};
  chunk.data = snapshot.data.substr(offset, kSnapshotChunkBytes);
  return chunk;
}

SnapshotAssembler::SnapshotAssembler(std::uint64_t max_bytes)
    : max_bytes_(std::min(max_bytes, kMaxSnapshotBytes)) {}

void SnapshotAssembler::reset() {
  partial_.reset();
  total_bytes_ = 0;
}

Result<std::optional<Message>> SnapshotAssembler::add(SnapshotChunk chunk) {
  // Whatever goes wrong, the sender is broken: nothing partial survives.
  auto refuse = [this](Error error) -> Result<std::optional<Message>> {
    reset();
    return error;
  };
  if (auto valid = check_chunk(chunk); !valid) return refuse(valid.error());
  if (chunk.offset == 0) {
    if (partial_) return refuse(fail("a new snapshot began before the previous one ended"));
    if (chunk.total_bytes > max_bytes_) {
      return refuse(fail("snapshot of ", std::to_string(chunk.total_bytes),
                         " bytes exceeds the limit of ", std::to_string(max_bytes_)));
    }
    Message message;
    message.type = MessageType::snapshot;
    message.from = chunk.from;
    message.to = chunk.to;
    message.term = chunk.term;
    // Grows with the chunks rather than by the announced size: memory
    // follows what actually arrived.
    message.snapshot =
        store::Snapshot{chunk.meta->index, chunk.meta->term, std::move(chunk.meta->membership), {}};
    partial_ = std::move(message);
    total_bytes_ = chunk.total_bytes;
  } else {
    if (!partial_)
      return refuse(
          fail("a snapshot chunk at offset ", std::to_string(chunk.offset), " without a start"));
    if (chunk.from != partial_->from || chunk.to != partial_->to || chunk.term != partial_->term ||
        chunk.total_bytes != total_bytes_) {
      return refuse(fail("a snapshot chunk disagrees with the first chunk"));
    }
    if (chunk.offset != partial_->snapshot->data.size()) {
      return refuse(fail("snapshot chunk at offset ", std::to_string(chunk.offset), ", expected ",
                         std::to_string(partial_->snapshot->data.size())));
    }
  }
  partial_->snapshot->data += chunk.data;
  if (partial_->snapshot->data.size() < total_bytes_) return std::optional<Message>();
  MERIDIAN_ASSERT(partial_->snapshot->data.size() == total_bytes_,
                  "a checked chunk overran its snapshot");
  std::optional<Message> done = std::move(partial_);
  reset();
  return done;
}

}  // namespace meridian::cluster
