#pragma once
// The CLI subcommands that talk to a running node through its admin API
// (admin/store_routes.hpp, admin/health_routes.hpp; main/admin_call.hpp has the
// plumbing they share):
//
//   meridian cluster status [--json]
//   meridian cluster add-learner NAME HOST:PORT
//   meridian cluster promote NAME | remove NAME | transfer-leader NAME
//   meridian kv get KEY [--local] | put KEY VALUE | delete KEY | scan [PREFIX] [--local]
//
// Which node: --admin HOST:PORT, else the admin.listen of -c FILE (the
// node's config), else 127.0.0.1:8053. The token for mutations: --token-file
// F, else the config's admin.token_file. A mutation sent to a follower is
// retried once at the leader's admin address when the follower knows it.
//
// Exit codes: 0 done, 1 the node refused or could not be reached (the reason
// on stderr), 2 bad arguments.

#include <string_view>
#include <vector>

namespace meridian {

/// `args` follow "cluster" (e.g. {"status", "--json"}).
int run_cluster_command(const std::vector<std::string_view>& args);
/// `args` follow "kv".
int run_kv_command(const std::vector<std::string_view>& args);

/// Operator actions and what the cluster decided (admin/health_routes.hpp):
///   meridian drain | force-down | force-up --endpoint ADDR | --site NAME [--for 2h] [--reason R]
///   [--author A] meridian undrain --endpoint ADDR | --site NAME   (removes the override in force)
///   meridian overrides | verdicts | events [--limit N]   ([--json] for the API's answer)
/// `command` is the first word, `args` follow it. Lives in main/ops_cli.cpp.
int run_ops_command(std::string_view command, const std::vector<std::string_view>& args);

/// `meridian status [--json]`: the node's identity, cluster role and every
/// service's endpoints (GET /api/v1/status, /api/v1/services). In
/// main/status_cli.cpp.
int run_status_command(const std::vector<std::string_view>& args);

/// The replicated state between stores (admin/store_transfer_routes.hpp):
///   meridian store export [--output FILE]
///   meridian store import FILE [--replace]
/// `args` follow "store". Lives in main/store_cli.cpp.
int run_store_command(const std::vector<std::string_view>& args);

/// Cluster-wide config versions (admin/config_routes.hpp):
///   meridian config apply FILE [--author A] [--comment C]   -> "committed version N"
///   meridian config history [--limit N] [--local] [--json]
///   meridian config rollback VERSION [--author A] [--comment C]
///   meridian config show [VERSION] [--local]   (the text; default the current version)
///   meridian config status [--json]            (what this node serves, whether its file agrees)
/// `args` follow "config". Lives in main/config_cli.cpp.
int run_config_command(const std::vector<std::string_view>& args);

}  // namespace meridian
