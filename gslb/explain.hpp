#pragma once
// The explain engine (docs/admin-api.md): the decision trace of one
// service answer, as data (for the admin API's JSON) and as the text
// `meridian explain` prints. It asks the steering exactly as the DNS engine
// does (same routing table, same client selection), with a trace attached.
//
// Two callers: `meridian explain -c FILE` explains offline against
// offline_routing_table() (no probes: every endpoint up unless the config's
// overrides say otherwise), and a running node explains against its current
// config and routing table (explain_current, behind gslb/node_api.hpp).
//
// Thread rule: pure functions of their arguments; any thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/ip_address.hpp"
#include "base/result.hpp"
#include "config/config.hpp"
#include "dns/routing_table.hpp"
#include "geo/locator.hpp"
#include "geo/steering.hpp"

namespace meridian::gslb {

/// One query to explain.
struct ExplainQuery {
  std::string name;                                  ///< the service name (absolute or not)
  IpAddress source;                                  ///< the address the query came from
  std::optional<IpNetwork> ecs;                      ///< the EDNS Client Subnet, if any
  IpAddress::Family family = IpAddress::Family::v4;  ///< A or AAAA
};

/// The decision, as a data structure (for text here, JSON in the admin API).
/// `config` points into the Config it was explained against, which must
/// outlive it.
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

/// Why a query was not explained.
enum class ExplainErrorKind : std::uint8_t {
  bad_query,  ///< the name is not a name, or not a service of the config: asking again cannot help
  reloading,  ///< the config was swapped but not yet the routing table built from it: ask again
  starting,   ///< the node has no config or routing table yet: ask again
};

struct ExplainError {
  ExplainErrorKind kind = ExplainErrorKind::bad_query;
  std::string message;  ///< for a human, as the admin API and the CLI show it
};

/// An explanation, or why there is none.
using ExplainResult = std::variant<Explanation, ExplainError>;

/// Explains `query` against `table` (built from `config`). `seed` fixes the
/// random draw among equal endpoints. Errors: bad_query (not a name, not a
/// service of `config`), reloading (`table` was built from another config:
/// its services do not line up with `config`'s).
ExplainResult explain_query(const Config& config, const dns::RoutingTable& table,
                            const ExplainQuery& query, std::uint64_t seed = 1);

/// The human-readable trace (`meridian explain` prints it; the admin API
/// answers it as "text"). `config` is the one `explanation` was made against.
std::string format_explanation(const Config& config, const Explanation& explanation);

/// The routing table `meridian explain -c FILE` answers from: `config`'s
/// zones and services with every endpoint up except where the config's
/// `overrides:` say otherwise (no probes run offline), located by `locator`
/// (null: every client is unlocated). Errors: a zone does not build (which
/// load_config has already ruled out).
Result<std::shared_ptr<const dns::RoutingTable>> offline_routing_table(
    const Config& config, std::shared_ptr<const geo::Locator> locator);

/// An explanation by a running node, with the config it was made against
/// (explanation.config points into it; its sites name the trace's).
struct CurrentExplanation {
  std::shared_ptr<const Config> config;
  Explanation explanation;
};

/// Explains `query` against what a running node serves now: its current
/// `config` and routing `table` (either null: starting), not offline.
std::variant<CurrentExplanation, ExplainError> explain_current(
    std::shared_ptr<const Config> config, const std::shared_ptr<const dns::RoutingTable>& table,
    const ExplainQuery& query);

}  // namespace meridian::gslb
