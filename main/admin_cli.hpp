#pragma once
// The CLI subcommands that talk to a running node through its admin API
// (admin/store_api.hpp):
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

}  // namespace meridian
