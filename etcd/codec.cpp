#include "etcd/codec.hpp"

#include <boost/json/parse.hpp>

#include <array>
#include <charconv>

#include "base/assert.hpp"

namespace meridian::etcd {

namespace json = boost::json;

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

Result<std::string> string_member(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr) return std::string();
  if (!value->is_string()) return fail("\"", std::string(name), "\" is not a string");
  return std::string(value->as_string());
}

Result<KeyValue> key_value(const json::value& value) {
  if (!value.is_object()) return fail("a kv is not an object");
  const json::object& object = value.as_object();
  KeyValue kv;
  auto key = string_member(object, "key");
  if (!key) return key.error();
  auto decoded_key = base64_decode(*key);
  if (!decoded_key) return fail("kv key: ", decoded_key.error().message);
  kv.key = std::move(*decoded_key);
  auto text = string_member(object, "value");
  if (!text) return text.error();
  auto decoded_value = base64_decode(*text);
  if (!decoded_value) return fail("kv value: ", decoded_value.error().message);
  kv.value = std::move(*decoded_value);
  for (auto [field, name] :
       {std::pair{&kv.create_revision, "create_revision"},
        std::pair{&kv.mod_revision, "mod_revision"}, std::pair{&kv.lease, "lease"}}) {
    auto number = int_member(object, name);
    if (!number) return number.error();
    *field = *number;
  }
  return kv;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                            static_cast<unsigned char>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(n >> shift) & 63];
  }
  if (const std::size_t left = bytes.size() - i; left > 0) {
    std::uint32_t n = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (left == 2) n |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += left == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return fail("base64 of length ", std::to_string(text.size()));
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::array<int, 4> s{};
    int padding = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = text[i + static_cast<std::size_t>(j)];
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        ++padding;
        s[static_cast<std::size_t>(j)] = 0;
        continue;
      }
      if (padding > 0) return fail("base64 data after padding");
      s[static_cast<std::size_t>(j)] = sextet(c);
      if (s[static_cast<std::size_t>(j)] < 0) return fail("a character outside base64");
    }
    const std::uint32_t n =
        (static_cast<std::uint32_t>(s[0]) << 18) | (static_cast<std::uint32_t>(s[1]) << 12) |
        (static_cast<std::uint32_t>(s[2]) << 6) | static_cast<std::uint32_t>(s[3]);
    out += static_cast<char>((n >> 16) & 0xff);
    if (padding < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (padding < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

std::string prefix_range_end(std::string_view prefix) {
  MERIDIAN_ASSERT(!prefix.empty(), "an empty prefix has no range end of its own");
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  MERIDIAN_ASSERT(!end.empty(), "a prefix of 0xff bytes only");
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

Result<std::int64_t> int_member(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr) return std::int64_t{0};
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64() && value->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(value->as_uint64());
  }
  if (!value->is_string()) return fail("\"", std::string(name), "\" is not a number");
  const std::string_view text = value->as_string();
  std::int64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return fail("\"", std::string(name), "\" is not a decimal number: '",
                std::string(text.substr(0, 32)), "'");
  }
  return number;
}

Result<std::uint64_t> uint_member(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr) return std::uint64_t{0};
  if (value->is_uint64()) return value->as_uint64();
  if (value->is_int64() && value->as_int64() >= 0) {
    return static_cast<std::uint64_t>(value->as_int64());
  }
  if (!value->is_string()) return fail("\"", std::string(name), "\" is not a number");
  const std::string_view text = value->as_string();
  std::uint64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return fail("\"", std::string(name), "\" is not a decimal number: '",
                std::string(text.substr(0, 32)), "'");
  }
  return number;
}

Result<std::int64_t> header_revision(const json::object& answer) {
  const json::value* header = answer.if_contains("header");
  if (header == nullptr || !header->is_object()) return fail("the answer has no header");
  return int_member(header->as_object(), "revision");
}

Result<std::vector<KeyValue>> range_kvs(const json::object& answer) {
  std::vector<KeyValue> out;
  const json::value* kvs = answer.if_contains("kvs");
  if (kvs == nullptr) return out;
  if (!kvs->is_array()) return fail("\"kvs\" is not an array");
  for (const json::value& entry : kvs->as_array()) {
    auto kv = key_value(entry);
    if (!kv) return kv.error();
    out.push_back(std::move(*kv));
  }
  return out;
}

std::optional<std::string> gateway_error(const json::object& answer) {
  const json::value* error = answer.if_contains("error");
  if (error == nullptr) return std::nullopt;
  const json::value* message = answer.if_contains("message");
  if (message != nullptr && message->is_string()) return std::string(message->as_string());
  if (error->is_string()) return std::string(error->as_string());
  if (error->is_object()) {
    const json::value* inner = error->as_object().if_contains("message");
    if (inner != nullptr && inner->is_string()) return std::string(inner->as_string());
  }
  return std::string("an error without a message");
}

Result<WatchMessage> parse_watch_message(std::string_view line) {
  boost::system::error_code parse_error;
  json::value parsed = json::parse(line, parse_error);
  if (parse_error || !parsed.is_object()) return fail("a watch message is not a JSON object");
  const json::object& top = parsed.as_object();
  if (auto error = gateway_error(top)) return fail("the watch failed: ", *error);
  const json::value* result = top.if_contains("result");
  if (result == nullptr || !result->is_object()) return fail("a watch message has no result");
  const json::object& body = result->as_object();
  WatchMessage message;
  auto revision = header_revision(body);
  if (!revision) return revision.error();
  message.revision = *revision;
  const auto flag = [&](std::string_view name) {
    const json::value* value = body.if_contains(name);
    return value != nullptr && value->is_bool() && value->as_bool();
  };
  message.created = flag("created");
  message.canceled = flag("canceled");
  auto compacted = int_member(body, "compact_revision");
  if (!compacted) return compacted.error();
  message.compact_revision = *compacted;
  auto reason = string_member(body, "cancel_reason");
  if (!reason) return reason.error();
  message.cancel_reason = std::move(*reason);
  if (const json::value* events = body.if_contains("events")) {
    if (!events->is_array()) return fail("\"events\" is not an array");
    for (const json::value& entry : events->as_array()) {
      if (!entry.is_object()) return fail("an event is not an object");
      const json::object& event = entry.as_object();
      WatchEvent out;
      auto type = string_member(event, "type");
      if (!type) return type.error();
      if (*type != "" && *type != "PUT" && *type != "DELETE")
        return fail("an event of type ", *type);
      out.deleted = *type == "DELETE";
      const json::value* kv = event.if_contains("kv");
      if (kv == nullptr) return fail("an event without a kv");
      auto decoded = key_value(*kv);
      if (!decoded) return decoded.error();
      out.kv = std::move(*decoded);
      message.events.push_back(std::move(out));
    }
  }
  return message;
}

}  // namespace meridian::etcd
