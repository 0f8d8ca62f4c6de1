// The bytes of the state machine: commands (entry data) and snapshots.
//
// Command: u8 version (kKvFormatVersion), u8 operation, then
//   put (1):             key, value
//   delete (2):          key
//   compare-and-set (3): key, optional expected, optional value
// where a key or value is a u32 length and its bytes, and an optional one is
// a presence byte (0 or 1) followed, when 1, by the bytes. Nothing follows.
//
// Decoders read lengths before allocating and compare them with both the
// limit and the bytes left, so garbage costs no memory and never crashes.
#include <type_traits>

#include "base/byte_codec.hpp"
#include "store/kv_state_core.hpp"

namespace meridian::store {
namespace {

enum class Operation : std::uint8_t { put = 1, erase = 2, compare_and_set = 3 };

// The smallest encoded key/value pair: two lengths and a one-byte key.
constexpr std::size_t kMinPairBytes = 4 + 1 + 4;

Result<void> check_key(std::string_view key) {
  if (key.empty()) return fail("key is empty");
  if (key.size() > kMaxKeyBytes) {
    return fail("key of ", std::to_string(key.size()), " bytes, more than the limit of ",
                std::to_string(kMaxKeyBytes));
  }
  return {};
}

Result<void> check_value(const std::optional<std::string>& value) {
  if (value && value->size() > kMaxValueBytes) {
    return fail("value of ", std::to_string(value->size()), " bytes, more than the limit of ",
                std::to_string(kMaxValueBytes));
  }
  return {};
}

}  // namespace

const std::string& command_key(const KvCommand& command) {
  return std::visit([](const auto& c) -> const std::string& { return c.key; }, command);
}

Result<void> validate_command(const KvCommand& command) {
  if (auto key = check_key(command_key(command)); !key) return key;
  if (const auto* put = std::get_if<KvPut>(&command)) return check_value(put->value);
  if (const auto* cas = std::get_if<KvCompareAndSet>(&command)) {
    if (auto expected = check_value(cas->expected); !expected) return expected;
    return check_value(cas->value);
  }
  return {};
}

Result<std::string> encode_command(const KvCommand& command) {
  if (auto valid = validate_command(command); !valid)
    return fail("command not encoded: ", valid.error().message);
  ByteWriter writer;
  writer.u8(kKvFormatVersion);
  std::visit(
      [&writer](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, KvPut>) {
          writer.u8(static_cast<std::uint8_t>(Operation::put));
          writer.bytes(c.key);
          writer.bytes(c.value);
        } else if constexpr (std::is_same_v<T, KvDelete>) {
          writer.u8(static_cast<std::uint8_t>(Operation::erase));
          writer.bytes(c.key);
        } else {
          writer.u8(static_cast<std::uint8_t>(Operation::compare_and_set));
          writer.bytes(c.key);
          writer.optional_bytes(c.expected);
          writer.optional_bytes(c.value);
        }
      },
      command);
  return std::move(writer).take();
}

Result<KvCommand> decode_command(std::string_view data) {
  ByteReader reader(data);
  const std::uint8_t version = reader.u8();
  if (!reader.ok()) return fail("command: empty");
  if (version != kKvFormatVersion)
    return fail("command: unknown format version ", std::to_string(version));
  const std::uint8_t operation = reader.u8();
  // Lengths beyond the limit fail the reader; validate_command below then
  // names the empty key, the one limit the reader does not check.
  std::optional<KvCommand> command;
  switch (static_cast<Operation>(operation)) {
    case Operation::put: {
      std::string key = reader.bytes(kMaxKeyBytes);
      command = KvPut{std::move(key), reader.bytes(kMaxValueBytes)};
      break;
    }
    case Operation::erase: command = KvDelete{reader.bytes(kMaxKeyBytes)}; break;
    case Operation::compare_and_set: {
      std::string key = reader.bytes(kMaxKeyBytes);
      auto expected = reader.optional_bytes(kMaxValueBytes);
      command = KvCompareAndSet{std::move(key), std::move(expected),
                                reader.optional_bytes(kMaxValueBytes)};
      break;
    }
    default:
      if (!reader.ok()) return fail("command: truncated");
      return fail("command: unknown operation ", std::to_string(operation));
  }
  if (!reader.ok()) return fail("command: truncated, or a key or value beyond its limit");
  if (!reader.at_end())
    return fail("command: ", std::to_string(reader.remaining()), " trailing bytes");
  if (auto valid = validate_command(*command); !valid)
    return fail("command: ", valid.error().message);
  return std::move(*command);
}

std::string encode_kv_snapshot(std::uint64_t applied_index, const KvMap& state) {
  std::size_t size = 1 + 8 + 8;
  for (const auto& [key, value] : state) size += 8 + key.size() + value.size();
  ByteWriter writer(size);
  writer.u8(kKvFormatVersion);
  writer.u64(applied_index);
  writer.u64(state.size());
  for (const auto& [key, value] : state) {
    writer.bytes(key);
    writer.bytes(value);
  }
  return std::move(writer).take();
}

Result<KvSnapshot> decode_kv_snapshot(std::string_view data) {
  if (data.size() > kMaxKvSnapshotBytes) {
    return fail("state snapshot of ", std::to_string(data.size()),
                " bytes, more than the limit of ", std::to_string(kMaxKvSnapshotBytes));
  }
  ByteReader reader(data);
  const std::uint8_t version = reader.u8();
  if (!reader.ok()) return fail("state snapshot: empty");
  if (version != kKvFormatVersion)
    return fail("state snapshot: unknown format version ", std::to_string(version));
  KvSnapshot snapshot;
  snapshot.applied_index = reader.u64();
  const std::uint64_t count = reader.u64();
  if (!reader.ok() || count > reader.remaining() / kMinPairBytes) {
    return fail("state snapshot: truncated, or a key count beyond the data");
  }
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string key = reader.bytes(kMaxKeyBytes);
    std::string value = reader.bytes(kMaxValueBytes);
    if (!reader.ok() || key.empty())
      return fail("state snapshot: pair ", std::to_string(i), " is truncated or too long");
    // Strictly rising keys: a repeat or a swap is damage, and emplace_hint
    // at the end keeps loading linear.
    if (!snapshot.state.empty() && !(snapshot.state.rbegin()->first < key)) {
      return fail("state snapshot: keys out of order at pair ", std::to_string(i));
    }
    snapshot.state.emplace_hint(snapshot.state.end(), std::move(key), std::move(value));
  }
  if (!reader.at_end())
    return fail("state snapshot: ", std::to_string(reader.remaining()), " trailing bytes");
  return snapshot;
}

}  // namespace meridian::store
