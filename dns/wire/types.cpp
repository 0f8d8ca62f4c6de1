#include "dns/wire/types.hpp"

#include <iterator>

namespace meridian::dns {

std::string rcode_name(std::uint16_t rcode) {
  // RFC 1035 and RFC 2136; the EDNS codes above 15 print as numbers.
  static constexpr const char* kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                           "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                           "NXRRSET", "NOTAUTH", "NOTZONE"};
  if (rcode < std::size(kNames)) return kNames[rcode];
  return std::to_string(rcode);
}

}  // namespace meridian::dns
