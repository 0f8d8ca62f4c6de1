#pragma once
// `meridian explain`: the decision trace of one service answer (the explain
// engine is gslb/explain.hpp), offline from a config file (the query
// simulator) or from a running node through its admin API.

#include <string_view>
#include <vector>

namespace meridian {

/// `meridian explain NAME CLIENT_IP [--ecs SUBNET] [--type A|AAAA] -c FILE`:
/// loads the config, opens its GeoIP databases when it can, marks endpoints
/// healthy except where the config's overrides say otherwise (no probes run
/// offline), and prints the trace. With `--admin HOST:PORT [--token-file
/// FILE] [--json]` instead of `-c FILE`, asks the running node (GET
/// /api/v1/explain: its live health and overrides; the token for a node
/// whose reads need it) and prints its trace, or its JSON. Exit 0, 1
/// (config, name or node error), 2 (bad arguments).
int run_explain_command(const std::vector<std::string_view>& args);

}  // namespace meridian
