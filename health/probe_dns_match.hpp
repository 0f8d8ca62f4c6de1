#pragma once
// Private to the DNS prober (probe_dns.cpp): whether an answer record of a
// reply is one the check expects. The text compared is the RDATA as the
// wire library prints it (dns/wire/rdata_text.hpp); what counts as equal is
// the health check's rule, not the wire format's.

#include <string_view>

#include "dns/wire/client.hpp"

namespace meridian::health::detail {

/// Whether `answer` is the expected text: addresses are compared as
/// addresses ("2001:DB8::1" matches "2001:db8::1"); names (NS, CNAME, PTR,
/// DNAME, and MX as "PREF NAME") without case and with or without the final
/// dot; anything else exactly.
bool answer_matches(const dns::ReplyAnswer& answer, std::string_view expected);

}  // namespace meridian::health::detail
