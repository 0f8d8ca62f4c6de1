// libFuzzer target for the DNS health probe's reply parser
// (dns/wire/client.cpp, with dns/wire/rdata_text.cpp, and the probe's
// answer rule, health/probe_dns_match.cpp), built with clang by
// run_fuzz.sh. A probe
// reads whatever comes back from the address it checks: a broken or hostile
// backend must make the check fail with a reason, never crash the node.
//
// The first input byte picks the query the reply is matched against; the
// rest is the reply. What must hold for every input:
//   - parse_reply returns a reply or an error, nothing else;
//   - a reply it accepts has the bytes' ID and RCODE;
//   - every A and AAAA answer is an address of its family, and every
//     answer matches its own text (answer_matches is reflexive).
// A broken property aborts, which libFuzzer reports with the input.

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "base/ip_address.hpp"
#include "dns/wire/client.hpp"
#include "dns/wire/header.hpp"
#include "health/probe_dns_match.hpp"

using namespace meridian;
using namespace meridian::health::detail;

namespace {

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "probe_fuzz: %s\n", what);
    std::abort();
  }
}

struct Question {
  std::string_view qname;
  std::uint16_t qtype;
};

constexpr std::array<Question, 6> kQuestions = {{{"www.example.com.", 1},
                                                 {"www.example.com.", 28},
                                                 {"example.com.", 15},
                                                 {"_txt.Example.COM", 16},
                                                 {"a\\.b.example.", 5},
                                                 {".", 2}}};

std::vector<std::vector<std::uint8_t>> encode_questions() {
  std::vector<std::vector<std::uint8_t>> queries;
  for (const auto& question : kQuestions) {
    auto query = dns::encode_query(0x4d52, question.qname, question.qtype);
    check(query.ok(), "setup: a question does not encode");
    queries.push_back(std::move(query).value());
  }
  return queries;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::vector<std::uint8_t>> queries = encode_questions();
  if (size < 1) return 0;
  const auto& query = queries[data[0] % queries.size()];
  const std::span<const std::uint8_t> reply(data + 1, size - 1);

  const auto parsed = dns::parse_reply(reply, query);
  if (!parsed.ok()) {
    check(!parsed.error().message.empty(), "a refused reply has no reason");
    return 0;
  }
  check(reply.size() >= dns::kHeaderSize, "a reply shorter than a header was accepted");
  check(parsed->id == dns::read_header(reply).id, "the parsed ID is not the reply's");
  check(parsed->rcode == (reply[3] & 0x0F), "the parsed RCODE is not the reply's");
  for (const dns::ReplyAnswer& answer : parsed->answers) {
    if (answer.type == 1 || answer.type == 28) {
      IpAddress address;
      check(IpAddress::parse(answer.rdata, address),
            "an address answer does not print as an address");
      check((address.family == IpAddress::Family::v4) == (answer.type == 1),
            "an address of the wrong family");
    }
    check(answer_matches(answer, answer.rdata), "an answer does not match its own text");
  }
  return 0;
}
