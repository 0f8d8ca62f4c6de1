// etcd/codec.hpp: the JSON gateway's encoding, checked against RFC 4648's
// vectors and against lines etcd 3.4's gateway really wrote (captured with
// curl from a local member).

#include "etcd/codec.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

using namespace meridian;
using namespace meridian::etcd;

namespace {

boost::json::object object_of(std::string_view text) {
  return boost::json::parse(text).as_object();
}

std::string all_bytes() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  return bytes;
}

}  // namespace

TEST_CASE("etcd codec: base64 follows RFC 4648's vectors both ways", "[etcd][codec]") {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [bytes, text] : vectors) {
    CAPTURE(bytes);
    CHECK(base64_encode(bytes) == text);
    auto decoded = base64_decode(text);
    REQUIRE(decoded.ok());
    CHECK(*decoded == bytes);
  }
}

TEST_CASE("etcd codec: base64 round-trips every byte value and every length", "[etcd][codec]") {
  const std::string bytes = all_bytes();
  for (std::size_t length = 0; length <= bytes.size(); length += 1 + length / 7) {
    // Every residue of length % 3, from the high bytes down to NUL.
    const std::string chunk = bytes.substr(bytes.size() - length);
    auto decoded = base64_decode(base64_encode(chunk));
    REQUIRE(decoded.ok());
    CHECK(*decoded == chunk);
  }
  CHECK(base64_encode(std::string("\0\0", 2)) == "AAA=");
  CHECK(base64_encode("\xff\xff\xff") == "////");
}

TEST_CASE("etcd codec: base64 refuses what is not canonical text", "[etcd][codec]") {
  for (std::string_view bad :
       {"Zg=", "Zg", "Z", "Zm9v!A==", "Zm 9", "=Zm9", "Zg=a", "Z===", "Zg==Zg==", "Zm9v\n"}) {
    CAPTURE(bad);
    CHECK_FALSE(base64_decode(bad).ok());
  }
}

TEST_CASE("etcd codec: a prefix's range end increments its last byte below 0xff", "[etcd][codec]") {
  CHECK(prefix_range_end("a") == "b");
  CHECK(prefix_range_end("/meridian/prod/") == "/meridian/prod0");
  CHECK(prefix_range_end("ab\xfe") == "ab\xff");
  // Trailing 0xff bytes cannot be incremented: they are dropped, as
  // clientv3.GetPrefixRangeEnd does.
  CHECK(prefix_range_end("a\xff") == "b");
  CHECK(prefix_range_end("a\x01\xff\xff") == "a\x02");
  CHECK(prefix_range_end(std::string("\0", 1)) == "\x01");
}

TEST_CASE("etcd codec: int members are decimal strings or numbers, absent is zero",
          "[etcd][codec]") {
  const auto object = object_of(
      R"({"text": "42", "number": 42, "negative": "-7", "big": "9223372036854775807",
          "too_big": "9223372036854775808", "huge_number": 18446744073709551615,
          "letters": "4x2", "empty": "", "flag": true, "list": []})");
  const auto int_of = [&](std::string_view name) { return int_member(object, name); };
  CHECK(*int_of("text") == 42);
  CHECK(*int_of("number") == 42);
  CHECK(*int_of("negative") == -7);
  CHECK(*int_of("big") == INT64_MAX);
  CHECK(*int_of("absent") == 0);
  for (std::string_view bad : {"too_big", "huge_number", "letters", "empty", "flag", "list"}) {
    CAPTURE(bad);
    CHECK_FALSE(int_of(bad).ok());
  }
}

TEST_CASE("etcd codec: uint members read etcd's 64-bit member ids", "[etcd][codec]") {
  // A member id etcd 3.4 really gave, above INT64_MAX as half of them are.
  const auto status = object_of(
      R"({"leader": "13668033151171901709", "raftTerm": "2", "number": 18446744073709551615,
          "small": 3, "negative": "-1", "negative_number": -1, "letters": "12ab"})");
  CHECK(*uint_member(status, "leader") == 13668033151171901709ULL);
  CHECK(*uint_member(status, "raftTerm") == 2);
  CHECK(*uint_member(status, "number") == UINT64_MAX);
  CHECK(*uint_member(status, "small") == 3);
  CHECK(*uint_member(status, "absent") == 0);
  for (std::string_view bad : {"negative", "negative_number", "letters"}) {
    CAPTURE(bad);
    CHECK_FALSE(uint_member(status, bad).ok());
  }
}

TEST_CASE("etcd codec: header_revision reads the answer's header", "[etcd][codec]") {
  auto revision = header_revision(object_of(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709",
          "revision":"5","raft_term":"2"},"deleted":"1"})"));
  REQUIRE(revision.ok());
  CHECK(*revision == 5);
  // A fresh store's header has no revision field at all (protobuf's zero).
  CHECK(*header_revision(object_of(R"({"header":{"raft_term":"2"}})")) == 0);
  CHECK_FALSE(header_revision(object_of(R"({"kvs":[]})")).ok());
  CHECK_FALSE(header_revision(object_of(R"({"header":"5"})")).ok());
  CHECK_FALSE(header_revision(object_of(R"({"header":{"revision":"five"}})")).ok());
}

TEST_CASE("etcd codec: range_kvs decodes keys, values and revisions", "[etcd][codec]") {
  auto kvs = range_kvs(object_of(
      R"({"header":{"revision":"7"},"kvs":[
          {"key":"YQ==","create_revision":"2","mod_revision":"4","version":"3","value":"Mw=="},
          {"key":"AP8=","create_revision":"5","mod_revision":"5","version":"1","lease":"694d7c"},
          {"key":"Yg==","create_revision":"6","mod_revision":"7","version":"1","value":"",
           "lease":"7587868744937045000"}],"count":"3"})"));
  // "694d7c" is not decimal: the second kv is refused, and with it the answer.
  CHECK_FALSE(kvs.ok());

  kvs = range_kvs(object_of(
      R"({"header":{"revision":"7"},"kvs":[
          {"key":"YQ==","create_revision":"2","mod_revision":"4","version":"3","value":"Mw=="},
          {"key":"AP8=","create_revision":"5","mod_revision":"5","version":"1"},
          {"key":"Yg==","create_revision":"6","mod_revision":"7","version":"1","value":"",
           "lease":"7587868744937045000"}],"count":"3"})"));
  REQUIRE(kvs.ok());
  REQUIRE(kvs->size() == 3);
  CHECK((*kvs)[0].key == "a");
  CHECK((*kvs)[0].value == "3");
  CHECK((*kvs)[0].create_revision == 2);
  CHECK((*kvs)[0].mod_revision == 4);
  CHECK((*kvs)[0].lease == 0);
  // A binary key, and an empty value that the gateway leaves out.
  CHECK((*kvs)[1].key == std::string("\0\xff", 2));
  CHECK((*kvs)[1].value.empty());
  CHECK((*kvs)[2].value.empty());
  CHECK((*kvs)[2].lease == 7587868744937045000);

  // No kvs: an empty range (etcd omits the field).
  auto none = range_kvs(object_of(R"({"header":{"revision":"2"}})"));
  REQUIRE(none.ok());
  CHECK(none->empty());
  CHECK_FALSE(range_kvs(object_of(R"({"kvs":{}})")).ok());
  CHECK_FALSE(range_kvs(object_of(R"({"kvs":[{"key":"Y"}]})")).ok());
  CHECK_FALSE(range_kvs(object_of(R"({"kvs":[{"key":"YQ==","value":7}]})")).ok());
  CHECK_FALSE(range_kvs(object_of(R"({"kvs":["YQ=="]})")).ok());
}

TEST_CASE("etcd codec: a watch's created message", "[etcd][codec]") {
  auto message = parse_watch_message(
      R"({"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"3","raft_term":"2"},"created":true}})");
  REQUIRE(message.ok());
  CHECK(message->created);
  CHECK_FALSE(message->canceled);
  CHECK(message->revision == 3);
  CHECK(message->events.empty());
}

TEST_CASE("etcd codec: a watch's events, puts without a type and deletes", "[etcd][codec]") {
  auto message = parse_watch_message(
      R"({"result":{"header":{"revision":"5","raft_term":"2"},"events":[
          {"kv":{"key":"YQ==","create_revision":"2","mod_revision":"4","version":"3","value":"Mw=="}},
          {"type":"DELETE","kv":{"key":"YQ==","mod_revision":"5"}}]}})");
  REQUIRE(message.ok());
  CHECK_FALSE(message->created);
  CHECK(message->revision == 5);
  REQUIRE(message->events.size() == 2);
  CHECK_FALSE(message->events[0].deleted);
  CHECK(message->events[0].kv.key == "a");
  CHECK(message->events[0].kv.value == "3");
  CHECK(message->events[0].kv.mod_revision == 4);
  CHECK(message->events[1].deleted);
  CHECK(message->events[1].kv.key == "a");
  CHECK(message->events[1].kv.mod_revision == 5);

  CHECK_FALSE(
      parse_watch_message(R"({"result":{"header":{},"events":[{"type":"EXPIRE","kv":{}}]}})").ok());
  CHECK_FALSE(parse_watch_message(R"({"result":{"header":{},"events":[{"type":"PUT"}]}})").ok());
  CHECK_FALSE(parse_watch_message(R"({"result":{"header":{},"events":{}}})").ok());
}

TEST_CASE("etcd codec: a watch canceled by a compaction names the compacted revision",
          "[etcd][codec]") {
  // The header of this message has no revision: etcd sends none.
  auto message = parse_watch_message(
      R"({"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","raft_term":"2"},"canceled":true,"compact_revision":"4"}})");
  REQUIRE(message.ok());
  CHECK(message->canceled);
  CHECK(message->compact_revision == 4);
  CHECK(message->revision == 0);
  CHECK(message->events.empty());

  auto reason = parse_watch_message(
      R"({"result":{"header":{"revision":"9"},"canceled":true,"cancel_reason":"etcdserver: mvcc: required revision is a future revision"}})");
  REQUIRE(reason.ok());
  CHECK(reason->canceled);
  CHECK(reason->compact_revision == 0);
  CHECK(reason->cancel_reason == "etcdserver: mvcc: required revision is a future revision");
}

TEST_CASE("etcd codec: a progress message has a revision and nothing else", "[etcd][codec]") {
  auto message = parse_watch_message(R"({"result":{"header":{"revision":"12"}}})");
  REQUIRE(message.ok());
  CHECK(message->revision == 12);
  CHECK_FALSE(message->created);
  CHECK_FALSE(message->canceled);
  CHECK(message->events.empty());
}

TEST_CASE("etcd codec: a watch line that is an error or not a message fails", "[etcd][codec]") {
  auto error = parse_watch_message(
      R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}})");
  REQUIRE_FALSE(error.ok());
  CHECK(error.error().message.find("etcdserver: no leader") != std::string::npos);
  for (std::string_view bad : {"", "{", "[1]", R"({"result":3})", R"({"other":{}})",
                               R"({"result":{"header":{"revision":"x"}}})"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_watch_message(bad).ok());
  }
}

TEST_CASE("etcd codec: gateway_error finds the message of an error answer", "[etcd][codec]") {
  CHECK(
      gateway_error(object_of(
          R"({"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5})")) ==
      std::optional<std::string>("etcdserver: requested lease not found"));
  CHECK(gateway_error(object_of(R"({"error":{"message":"inner","http_code":503}})")) ==
        std::optional<std::string>("inner"));
  CHECK(gateway_error(object_of(R"({"error":"only the error"})")) ==
        std::optional<std::string>("only the error"));
  CHECK(gateway_error(object_of(R"({"error":7})")) ==
        std::optional<std::string>("an error without a message"));
  CHECK(gateway_error(object_of(R"({"header":{"revision":"2"},"kvs":[]})")) == std::nullopt);
}
