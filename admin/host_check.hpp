#pragma once
// Which Host headers the admin API answers (DNS rebinding): a page that an
// attacker serves from a name of theirs, later resolved to this node's
// address, reaches the API with that name in its Host header. Requests
// naming the server by an IP address, as localhost, or by a name the
// operator listed (`admin.hosts`) are answered; others get 403. A request
// without a Host header (HTTP/1.0 tools) is answered: browsers always send
// one.

#include <string>
#include <string_view>
#include <vector>

namespace meridian::admin {

/// True when `host` (a Host header value: name or address, with an optional
/// :port, IPv6 in brackets) may reach the API. `names` are compared without
/// regard to case.
bool host_allowed(std::string_view host, const std::vector<std::string>& names);

}  // namespace meridian::admin
