// The client's side of the wire format (a health check's query and the
// reply to it), IO-free: encode_query, parse_reply, rdata_to_text through
// it, and rcode_name.

#include <catch2/catch.hpp>

#include "dns/wire/client.hpp"
#include "dns/wire/types.hpp"

using namespace meridian;
using namespace meridian::dns;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes query_for(std::string_view qname, std::uint16_t qtype = 1) {
  auto query = encode_query(0x1234, qname, qtype);
  REQUIRE(query.ok());
  return *query;
}

/// A reply to `query` with the given answer section bytes.
Bytes reply(const Bytes& query, std::uint8_t ancount, const Bytes& answers,
            std::uint8_t rcode = 0) {
  Bytes out = query;
  out[2] = 0x84;
  out[3] = rcode;
  out[7] = ancount;
  out.insert(out.end(), answers.begin(), answers.end());
  return out;
}

/// An answer record owned by the question name (pointer to offset 12).
Bytes record(std::uint16_t type, const Bytes& rdata) {
  Bytes out = {0xc0, 0x0c, 0, static_cast<std::uint8_t>(type),        0, 1, 0, 0,
               0,    60,   0, static_cast<std::uint8_t>(rdata.size())};
  out.insert(out.end(), rdata.begin(), rdata.end());
  return out;
}

std::string only_rdata(const Bytes& query, std::uint16_t type, const Bytes& rdata) {
  auto parsed = parse_reply(reply(query, 1, record(type, rdata)), query);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->answers.size() == 1);
  return parsed->answers[0].rdata;
}

}  // namespace

TEST_CASE("dns client: query encoding, golden bytes", "[dns_wire]") {
  const Bytes expected = {0x12, 0x34, 0,   0,   0, 1,   0,   0, 0, 0,  0, 0,
                          3,    'w',  'w', 'w', 2, 'e', 'x', 0, 0, 28, 0, 1};
  CHECK(query_for("www.ex.", 28) == expected);
  CHECK(query_for("www.ex", 28) == expected);  // final dot optional
  CHECK(query_for(".", 6) == Bytes{0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1});
  const Bytes escaped = query_for("a\\.b\\065.", 1);
  CHECK(Bytes(escaped.begin() + 12, escaped.end() - 4) == Bytes{4, 'a', '.', 'b', 'A', 0});
}

TEST_CASE("dns client: bad query names are errors", "[dns_wire]") {
  CHECK_FALSE(encode_query(1, "", 1).ok());
  CHECK_FALSE(encode_query(1, "a..b", 1).ok());
  CHECK_FALSE(encode_query(1, ".a", 1).ok());
  CHECK_FALSE(encode_query(1, std::string(64, 'a'), 1).ok());
  CHECK(encode_query(1, std::string(63, 'a'), 1).ok());
  std::string long_name;
  for (int i = 0; i < 4; ++i) long_name += std::string(63, 'a') + ".";
  CHECK_FALSE(encode_query(1, long_name, 1).ok());  // 257 bytes on the wire
  CHECK_FALSE(encode_query(1, "a\\256", 1).ok());
  CHECK_FALSE(encode_query(1, "a\\", 1).ok());
}

TEST_CASE("dns client: RDATA presentation by type", "[dns_wire]") {
  const Bytes query = query_for("svc.example.");
  CHECK(only_rdata(query, 1, {192, 0, 2, 1}) == "192.0.2.1");
  Bytes v6(16, 0);
  v6[0] = 0x20, v6[1] = 0x01, v6[2] = 0x0d, v6[3] = 0xb8, v6[15] = 5;
  CHECK(only_rdata(query, 28, v6) == "2001:db8::5");
  CHECK(only_rdata(query, 5, {3, 'w', 'e', 'b', 0xc0, 0x10}) ==
        "web.example.");  // compressed to "example."
  CHECK(only_rdata(query, 15, {0, 10, 2, 'm', 'x', 0}) == "10 mx.");
  CHECK(only_rdata(query, 16, {2, 'h', 'i', 3, 'a', '"', 'b'}) == "\"hi\" \"a\\\"b\"");
  CHECK(only_rdata(query, 99, {0xab, 0x01}) == "\\# 2 ab01");
  CHECK(only_rdata(query, 2, {2, 'a', '.', 0}) == "a\\..");
}

TEST_CASE("dns client: malformed replies are rejected with a reason", "[dns_wire]") {
  const Bytes query = query_for("svc.example.");
  struct Case {
    Bytes message;
    const char* error;
  };
  Bytes notify = reply(query, 0, {});
  notify[2] = 0x84 | (4 << 3);
  Bytes two_questions = reply(query, 0, {});
  two_questions[5] = 2;
  Bytes cut_question = reply(query, 0, {});
  cut_question.resize(cut_question.size() - 3);
  Bytes looped =
      reply(query, 1, {0xc0, 0x1d, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4});  // points at itself
  const Case cases[] = {
      {Bytes(11, 0), "short reply (11 bytes)"},
      {notify, "reply with opcode 4"},
      {two_questions, "reply with 2 questions"},
      {Bytes(query.begin(), query.end() - 3), "not a reply (QR clear)"},
      {cut_question, "question cut short"},
      {reply(query, 1, {}), "malformed answer record"},
      {reply(query, 1, record(1, {1, 2, 3})), "malformed RDATA of type 1"},
      {looped, "malformed answer record"},
  };
  for (const Case& c : cases) {
    auto parsed = parse_reply(c.message, query);
    INFO(c.error);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().message == c.error);
  }
}

TEST_CASE("dns client: question compared without case; none only with an error rcode",
          "[dns_wire]") {
  const Bytes query = query_for("svc.example.");
  Bytes upper = reply(query, 0, {});
  upper[13] = 'S';
  CHECK(parse_reply(upper, query).ok());

  Bytes no_question(query.begin(), query.begin() + 12);
  no_question[2] = 0x80;
  no_question[5] = 0;
  no_question[3] = 5;  // REFUSED without the question: accepted
  auto refused = parse_reply(no_question, query);
  REQUIRE(refused.ok());
  CHECK(refused->rcode == 5);
  no_question[3] = 0;
  CHECK_FALSE(parse_reply(no_question, query).ok());
}

TEST_CASE("dns client: rcode names", "[dns_wire]") {
  CHECK(rcode_name(0) == "NOERROR");
  CHECK(rcode_name(2) == "SERVFAIL");
  CHECK(rcode_name(3) == "NXDOMAIN");
  CHECK(rcode_name(5) == "REFUSED");
  CHECK(rcode_name(10) == "NOTZONE");
  CHECK(rcode_name(12) == "12");
}
