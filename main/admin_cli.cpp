#include "main/admin_cli.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include "admin/url.hpp"
#include "main/admin_call.hpp"

namespace meridian {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

constexpr const char* kCommandUsage = R"(usage:
  meridian cluster status [--json]
  meridian cluster add-learner NAME HOST:PORT
  meridian cluster promote NAME | remove NAME | transfer-leader NAME
  meridian kv get KEY [--local] | put KEY VALUE | delete KEY | scan [PREFIX] [--local]
options: --admin HOST:PORT (default: admin.listen of -c FILE, else 127.0.0.1:8053)
         -c FILE (the node's config), --token-file FILE (default: admin.token_file of -c FILE)
)";

int usage(const std::string& message) {
  std::cerr << "meridian: " << message << "\n\n" << kCommandUsage;
  return 2;
}

/// The view of a node whose store is etcd: the etcd cluster and each
/// endpoint's health as this node sees them.
int print_etcd_status(const json::object& status) {
  const json::value* role = status.if_contains("role");
  const bool deciding = role != nullptr && role->is_string() && role->as_string() == "leader";
  std::cout << "node " << cli_text(status.if_contains("name")) << ": etcd store at revision "
            << cli_text(status.if_contains("revision")) << ", etcd leader "
            << cli_text(status.if_contains("leader")) << " in term "
            << cli_text(status.if_contains("term")) << "; "
            << (deciding ? "this node decides verdicts" : "another node decides verdicts") << "\n";
  const json::value* members = status.if_contains("members");
  if (members == nullptr || !members->is_array()) return 0;
  std::ostringstream table;
  table << std::left << std::setw(24) << "ETCD MEMBER" << std::setw(10) << "ROLE" << std::setw(26)
        << "CLIENT ADDRESS"
        << "REACHABLE\n";
  for (const json::value& value : members->as_array()) {
    const json::object& member = value.as_object();
    table << std::left << std::setw(24) << cli_text(member.if_contains("name")) << std::setw(10)
          << cli_text(member.if_contains("role")) << std::setw(26)
          << cli_text(member.if_contains("address")) << cli_text(member.if_contains("reachable"))
          << "\n";
  }
  std::cout << table.str();
  return 0;
}

int print_status(const json::object& status) {
  if (const json::value* backend = status.if_contains("backend");
      backend != nullptr && backend->is_string() && backend->as_string() == "etcd") {
    return print_etcd_status(status);
  }
  std::cout << "node " << cli_text(status.if_contains("name")) << ": "
            << cli_text(status.if_contains("role")) << " in term "
            << cli_text(status.if_contains("term")) << ", leader "
            << cli_text(status.if_contains("leader")) << "; commit "
            << cli_text(status.if_contains("commit")) << ", applied "
            << cli_text(status.if_contains("applied")) << ", log "
            << cli_text(status.if_contains("first_index")) << ".."
            << cli_text(status.if_contains("last_index")) << ", snapshot at "
            << cli_text(status.if_contains("snapshot_index")) << "\n";
  const json::value* members = status.if_contains("members");
  if (members == nullptr || !members->is_array()) return 0;
  // Lag: how far a member's applied index trails the newest commit anyone reported.
  std::uint64_t newest = 0;
  for (const json::value& member : members->as_array()) {
    if (const json::value* commit = member.as_object().if_contains("commit");
        commit && commit->is_number()) {
      newest = std::max(newest, commit->to_number<std::uint64_t>());
    }
  }
  std::ostringstream table;
  table << std::left << std::setw(16) << "MEMBER" << std::setw(8) << "VOTER" << std::setw(15)
        << "ROLE" << std::setw(8) << "TERM" << std::setw(10) << "COMMIT" << std::setw(10)
        << "APPLIED" << std::setw(8) << "LAG" << std::setw(24) << "PEER ADDRESS" << std::setw(22)
        << "ADMIN"
        << "SEEN\n";
  for (const json::value& value : members->as_array()) {
    const json::object& member = value.as_object();
    std::string lag = "-";
    if (const json::value* applied = member.if_contains("applied");
        applied && applied->is_number()) {
      const auto at = applied->to_number<std::uint64_t>();
      lag = std::to_string(newest > at ? newest - at : 0);
    }
    std::string seen = "never";
    if (member.if_contains("self") && member.at("self").as_bool()) {
      seen = "self";
    } else if (const json::value* age = member.if_contains("report_age_ms");
               age && age->is_number()) {
      seen = std::to_string(age->to_number<std::int64_t>()) + "ms ago";
    }
    table << std::left << std::setw(16) << cli_text(member.if_contains("name")) << std::setw(8)
          << cli_text(member.if_contains("voter")) << std::setw(15)
          << cli_text(member.if_contains("role")) << std::setw(8)
          << cli_text(member.if_contains("term")) << std::setw(10)
          << cli_text(member.if_contains("commit")) << std::setw(10)
          << cli_text(member.if_contains("applied")) << std::setw(8) << lag << std::setw(24)
          << cli_text(member.if_contains("address")) << std::setw(22)
          << cli_text(member.if_contains("admin")) << seen << "\n";
  }
  std::cout << table.str();
  return 0;
}

std::string name_body(const std::string& name) {
  return json::serialize(json::object{{"name", name}});
}

}  // namespace

int run_cluster_command(const std::vector<std::string_view>& raw) {
  const CliArguments args = split_cli_arguments(raw, {"--json", "--local"}, {});
  if (!args.error.empty()) return usage(args.error);
  if (args.words.empty()) return usage("cluster needs a subcommand");
  auto target = resolve_admin_target(args);
  if (!target) {
    std::cerr << "meridian: " << target.error().message << "\n";
    return 1;
  }
  const std::string& what = args.words[0];
  if (what == "status") {
    if (args.words.size() != 1) return usage("cluster status takes no arguments");
    auto status = call_admin(*target, http::verb::get, "/api/v1/cluster");
    if (!status) return 1;
    if (args.has("--json")) {
      std::cout << json::serialize(*status) << "\n";
      return 0;
    }
    return print_status(*status);
  }
  if (what == "add-learner") {
    if (args.words.size() != 3) return usage("cluster add-learner needs NAME HOST:PORT");
    const std::string body =
        json::serialize(json::object{{"name", args.words[1]}, {"address", args.words[2]}});
    if (!call_admin(*target, http::verb::post, "/api/v1/cluster/learners", body)) return 1;
    std::cout << "added " << args.words[1] << " as a learner\n";
    return 0;
  }
  const std::map<std::string, std::pair<std::string, std::string>> simple{
      {"promote", {"/api/v1/cluster/promote", "promoted"}},
      {"remove", {"/api/v1/cluster/remove", "removed"}},
      {"transfer-leader", {"/api/v1/cluster/transfer-leader", "leadership moved to"}},
  };
  auto it = simple.find(what);
  if (it == simple.end()) return usage("unknown cluster subcommand '" + what + "'");
  if (args.words.size() != 2) return usage("cluster " + what + " needs NAME");
  if (!call_admin(*target, http::verb::post, it->second.first, name_body(args.words[1]))) return 1;
  std::cout << it->second.second << " " << args.words[1] << "\n";
  return 0;
}

int run_kv_command(const std::vector<std::string_view>& raw) {
  const CliArguments args = split_cli_arguments(raw, {"--json", "--local"}, {});
  if (!args.error.empty()) return usage(args.error);
  if (args.words.empty()) return usage("kv needs get, put, delete or scan");
  auto target = resolve_admin_target(args);
  if (!target) {
    std::cerr << "meridian: " << target.error().message << "\n";
    return 1;
  }
  const std::string& what = args.words[0];
  const std::string consistency = args.has("--local") ? "?consistency=local" : "";
  auto key_path = [&](const std::string& key) {
    return "/api/v1/kv/" + admin::percent_encode(key);
  };
  if (what == "get" && args.words.size() == 2) {
    auto answer = call_admin(*target, http::verb::get, key_path(args.words[1]) + consistency);
    if (!answer) return 1;
    std::cout << cli_text(answer->if_contains("value")) << "\n";
    return 0;
  }
  if (what == "put" && args.words.size() == 3) {
    const std::string body = json::serialize(json::object{{"value", args.words[2]}});
    return call_admin(*target, http::verb::put, key_path(args.words[1]), body) ? 0 : 1;
  }
  if (what == "delete" && args.words.size() == 2) {
    return call_admin(*target, http::verb::delete_, key_path(args.words[1])) ? 0 : 1;
  }
  if (what == "scan" && args.words.size() <= 2) {
    const std::string prefix = args.words.size() == 2 ? args.words[1] : "";
    std::string path = "/api/v1/kv?prefix=" + admin::percent_encode(prefix);
    if (args.has("--local")) path += "&consistency=local";
    auto answer = call_admin(*target, http::verb::get, path);
    if (!answer) return 1;
    if (const json::value* items = answer->if_contains("items"); items && items->is_array()) {
      for (const json::value& item : items->as_array()) {
        std::cout << cli_text(item.as_object().if_contains("key")) << "\t"
                  << cli_text(item.as_object().if_contains("value")) << "\n";
      }
    }
    return 0;
  }
  return usage("kv " + what + ": wrong arguments");
}

}  // namespace meridian
