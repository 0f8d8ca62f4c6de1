#include "health/probe_dns_match.hpp"

#include <algorithm>
#include <cctype>

#include "base/ip_address.hpp"
#include "dns/wire/types.hpp"

namespace meridian::health::detail {

namespace {

bool same_text_ignoring_case(std::string_view a, std::string_view b) {
  const auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [&](char x, char y) { return lower(x) == lower(y); });
}

std::string_view without_final_dot(std::string_view name) {
  if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);
  return name;
}

}  // namespace

bool answer_matches(const dns::ReplyAnswer& answer, std::string_view expected) {
  switch (answer.type) {
    case dns::rrtype::A:
    case dns::rrtype::AAAA: {
      IpAddress got, want;
      return IpAddress::parse(answer.rdata, got) && IpAddress::parse(expected, want) && got == want;
    }
    case dns::rrtype::NS:
    case dns::rrtype::CNAME:
    case dns::rrtype::PTR:
    case dns::rrtype::DNAME:
    case dns::rrtype::MX:
      return same_text_ignoring_case(without_final_dot(answer.rdata), without_final_dot(expected));
    default: return answer.rdata == expected;
  }
}

}  // namespace meridian::health::detail
