#pragma once
// `meridian explain`: the decision trace of one service answer, offline from
// a config (the query simulator), and the library function behind it, which
// the admin API can serve as well.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip_address.hpp"
#include "base/result.hpp"
#include "dns/routing_table.hpp"
#include "geo/steering.hpp"
#include "config/config.hpp"

namespace meridian {

/// One query to explain.
struct ExplainQuery {
  std::string name;                      ///< the service name (absolute or not)
  IpAddress source;                      ///< the address the query came from
  std::optional<IpNetwork> ecs;          ///< the EDNS Client Subnet, if any
  IpAddress::Family family = IpAddress::Family::v4;  ///< A or AAAA
};

/// The decision, as a data structure (for text here, JSON in the admin API).
struct Explanation {
  std::string service;  ///< the service's absolute name
  const ServiceConfig* config = nullptr;
  /// The network the client was located by, and why that one.
  IpNetwork client;
  std::string client_source;
  geo::Trace trace;
  geo::Choice choice;
  std::vector<IpAddress> answer;
  /// The CNAME answered instead of addresses (a cname endpoint), or empty.
  std::string cname;
  std::uint32_t ttl_s = 0;
  /// The ECS scope of the response (0 when the query had no ECS or the
  /// service did not use it).
  std::uint8_t ecs_scope = 0;
  /// Explained from a config file alone (no probes), not by a running node.
  bool offline = true;
};

/// Explains `query` against `table` (built from `config`). `seed` fixes the
/// random draw among equal endpoints. Errors: the name is not a service.
Result<Explanation> explain_query(const Config& config, const dns::RoutingTable& table, const ExplainQuery& query,
                                  std::uint64_t seed = 1);

/// The human-readable trace (`meridian explain` prints it).
std::string format_explanation(const Config& config, const Explanation& explanation);

/// `meridian explain NAME CLIENT_IP [--ecs SUBNET] [--type A|AAAA] -c FILE`:
/// loads the config, opens its GeoIP databases when it can, marks endpoints
/// healthy except where the config's overrides say otherwise (no probes run
/// offline), and prints the trace. Exit 0, 1 (config or name error), 2
/// (bad arguments).
int run_explain_command(const std::vector<std::string_view>& args);

}  // namespace meridian
