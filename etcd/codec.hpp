#pragma once
// The etcd v3 JSON gateway's encoding, IO-free: keys and values travel as
// base64, 64-bit numbers as decimal strings, a prefix as a key range
// [prefix, range_end). Builds the request bodies the etcd store sends and
// reads the answers it gets; every reader checks what it reads and says
// what is wrong, since the answer comes from the network.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace meridian::etcd {

/// RFC 4648 base64 with padding, as the gateway's JSON carries bytes.
std::string base64_encode(std::string_view bytes);
/// Errors on a character outside the alphabet or a wrong length or padding.
Result<std::string> base64_decode(std::string_view text);

/// The end of the key range of every key starting with `prefix` (the prefix
/// with its last byte that is not 0xff incremented, the rest dropped), as
/// etcd's clientv3.GetPrefixRangeEnd. Precondition: `prefix` is not empty
/// and not all 0xff.
std::string prefix_range_end(std::string_view prefix);

/// A key-value pair as etcd reports it.
struct KeyValue {
  std::string key;  ///< decoded, with etcd's whole key (the store's prefix included)
  std::string value;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t lease = 0;
};

/// One change a watch reports.
struct WatchEvent {
  bool deleted = false;  ///< DELETE (the kv has only its key and mod_revision)
  KeyValue kv;
};

/// One message of a watch stream.
struct WatchMessage {
  std::int64_t revision = 0;          ///< the header's revision
  bool created = false;               ///< the answer to the create request
  bool canceled = false;              ///< the watch ended (compaction, or an error)
  std::int64_t compact_revision = 0;  ///< with canceled: the revision compacted away
  std::string cancel_reason;
  std::vector<WatchEvent> events;
};

/// A decimal int64 as the gateway writes it (a string), or a JSON number.
/// Absent: 0 (protobuf's default). Errors on anything else.
Result<std::int64_t> int_member(const boost::json::object& object, std::string_view name);
/// A decimal uint64 (a string) or a JSON number, for etcd's member and
/// cluster IDs, which use all 64 bits (int_member refuses half of them).
/// Absent: 0. Errors on anything else.
Result<std::uint64_t> uint_member(const boost::json::object& object, std::string_view name);
/// The header's revision of an answer.
Result<std::int64_t> header_revision(const boost::json::object& answer);
/// The kvs of a range answer (or of one response of a txn).
Result<std::vector<KeyValue>> range_kvs(const boost::json::object& answer);
/// One line of a watch stream: {"result": {...}} or {"error": {...}}.
Result<WatchMessage> parse_watch_message(std::string_view line);
/// An {"error": ..., "message": ...} answer's text, if the answer is one.
std::optional<std::string> gateway_error(const boost::json::object& answer);

}  // namespace meridian::etcd
