#include "cluster/wire.hpp"

#include "base/byte_codec.hpp"

namespace meridian::cluster {
namespace {

constexpr std::uint8_t kFlagReject = 1;
constexpr std::uint8_t kFlagTransfer = 2;
constexpr std::uint8_t kFlagSnapshot = 4;
constexpr std::uint8_t kKnownFlags = kFlagReject | kFlagTransfer | kFlagSnapshot;

void put_ids(ByteWriter& out, const std::vector<std::uint64_t>& ids) {
  out.u32(static_cast<std::uint32_t>(ids.size()));
  for (const auto id : ids) out.u64(id);
}

bool get_ids(ByteReader& in, std::vector<std::uint64_t>& ids) {
  const std::uint32_t count = in.u32();
  if (!in.ok() || count > kMaxMembers) return false;
  ids.reserve(count);
  for (std::uint32_t i = 0; i < count && in.ok(); ++i) ids.push_back(in.u64());
  return in.ok();
}

}  // namespace

Result<std::string> encode_frame(const Message& message) {
  if (message.entries.size() > kMaxEntriesPerMessage) return fail("too many entries for one message");
  if (message.snapshot && (message.snapshot->membership.voters.size() > kMaxMembers ||
                           message.snapshot->membership.learners.size() > kMaxMembers)) {
    return fail("too many members in the snapshot");
  }
  ByteWriter out;
  out.u32(0);  // the length, filled in below
  out.u8(kWireVersion);
  out.u8(static_cast<std::uint8_t>(message.type));
  for (const std::uint64_t field : {message.from, message.to, message.term, message.index, message.log_term,
                                    message.commit, message.context, message.reject_hint}) {
    out.u64(field);
  }
  out.u8(static_cast<std::uint8_t>((message.reject ? kFlagReject : 0) | (message.transfer ? kFlagTransfer : 0) |
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
  std::string frame = std::move(out).take();
  const std::size_t payload = frame.size() - 4;
  if (payload > kMaxFrameBytes) return fail("message of ", std::to_string(payload), " bytes exceeds the frame limit");
  for (int i = 0; i < 4; ++i) frame[i] = static_cast<char>((payload >> (24 - 8 * i)) & 0xff);
  return frame;
}

Result<std::uint32_t> frame_length(std::string_view bytes) {
  if (bytes.size() < 4) return fail("short frame header");
  ByteReader in(bytes.substr(0, 4));
  const std::uint32_t length = in.u32();
  if (length == 0) return fail("empty frame");
  if (length > kMaxFrameBytes) return fail("frame of ", std::to_string(length), " bytes exceeds the limit");
  return length;
}

Result<Message> decode_payload(std::string_view payload) {
  if (payload.size() > kMaxFrameBytes) return fail("frame exceeds the limit");
  ByteReader in(payload);
  const std::uint8_t version = in.u8();
  if (!in.ok()) return fail("empty frame");
  if (version != kWireVersion) return fail("unsupported wire version ", std::to_string(version));
  Message message;
  const std::uint8_t type = in.u8();
  if (type >= message_type_count) return fail("unknown message type ", std::to_string(type));
  message.type = static_cast<MessageType>(type);
  for (std::uint64_t* field : {&message.from, &message.to, &message.term, &message.index, &message.log_term,
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
  if (count > payload.size() / 21) return fail("entry count beyond the frame");
  message.entries.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    store::Entry entry;
    entry.index = in.u64();
    entry.term = in.u64();
    const std::uint8_t entry_type = in.u8();
    if (entry_type > static_cast<std::uint8_t>(store::EntryType::config)) return fail("unknown entry type");
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
  if (!in.at_end()) return fail("trailing bytes after the message");
  return message;
}

}  // namespace meridian::cluster
