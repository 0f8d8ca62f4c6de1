#include "main/admin_cli.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include "admin/http_client.hpp"
#include "admin/url.hpp"
#include "main/config.hpp"
#include "main/store_wiring.hpp"

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

/// The arguments split into positional words and --options.
struct Arguments {
  std::vector<std::string> words;
  std::string admin;
  std::string config;
  std::string token_file;
  bool json = false;
  bool local = false;
  std::string error;
};

Arguments split(const std::vector<std::string_view>& args) {
  Arguments out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    auto value = [&](std::string& into) {
      if (i + 1 >= args.size()) {
        out.error = std::string(arg) + " needs a value";
        return;
      }
      into = args[++i];
    };
    if (arg == "--admin") {
      value(out.admin);
    } else if (arg == "-c" || arg == "--config") {
      value(out.config);
    } else if (arg == "--token-file") {
      value(out.token_file);
    } else if (arg == "--json") {
      out.json = true;
    } else if (arg == "--local") {
      out.local = true;
    } else if (arg.starts_with("--")) {
      out.error = "unknown option " + std::string(arg);
    } else {
      out.words.emplace_back(arg);
    }
  }
  return out;
}

/// Where to send requests, and with which token.
struct Target {
  SocketAddress admin{IpAddress::v4(127, 0, 0, 1), 8053};
  std::optional<std::string> token;
};

Result<Target> resolve_target(const Arguments& args) {
  Target target;
  std::string token_file = args.token_file;
  if (!args.config.empty()) {
    auto config = load_config(args.config);
    if (!config) return config.error();
    if (config->admin) {
      target.admin = config->admin->listen;
      if (token_file.empty()) token_file = config->admin->token_file;
    }
  }
  if (!args.admin.empty() && !SocketAddress::parse(args.admin, target.admin)) {
    return fail("--admin needs HOST:PORT, as in 127.0.0.1:8053, not '", args.admin, "'");
  }
  if (!token_file.empty()) {
    auto token = read_text_file(token_file);
    if (!token) return token.error();
    while (!token->empty() && (token->back() == '\n' || token->back() == '\r' || token->back() == ' ')) token->pop_back();
    target.token = std::move(*token);
  }
  return target;
}

/// A reply's JSON body (an empty object when it is not JSON).
json::object body_of(const admin::HttpReply& reply) {
  boost::system::error_code error;
  json::value value = json::parse(reply.body, error);
  if (error || !value.is_object()) return {};
  return value.as_object();
}

std::string text_of(const json::value* value) {
  if (value == nullptr || value->is_null()) return "-";
  if (value->is_string()) return std::string(value->as_string());
  if (value->is_bool()) return value->as_bool() ? "yes" : "no";
  return json::serialize(*value);
}

/// Sends one request; a mutation refused by a follower (421) goes once more
/// to the leader it names. Prints the reason and returns nullopt on failure.
std::optional<json::object> call(const Target& target, http::verb method, const std::string& path,
                                 const std::string& body = {}) {
  SocketAddress where = target.admin;
  for (int attempt = 0; attempt < 2; ++attempt) {
    // Longer than the store's own request timeout, so a slow write ends in
    // its 504 ("outcome unknown") rather than a client-side timeout.
    auto reply = admin::http_request(where, method, path, body, target.token, std::chrono::seconds(10));
    if (!reply) {
      std::cerr << "meridian: " << reply.error().message << "\n";
      return std::nullopt;
    }
    json::object answer = body_of(*reply);
    if (reply->status / 100 == 2) return answer;
    const json::value* leader_admin = answer.if_contains("leader_admin");
    SocketAddress leader;
    if (reply->status == 421 && attempt == 0 && leader_admin != nullptr && leader_admin->is_string() &&
        SocketAddress::parse(std::string(leader_admin->as_string()), leader)) {
      std::cerr << "meridian: " << where.to_string() << " is not the leader; asking " << text_of(answer.if_contains("leader"))
                << " at " << leader.to_string() << "\n";
      where = leader;
      continue;
    }
    std::cerr << "meridian: " << where.to_string() << " answered " << reply->status << ": "
              << text_of(answer.if_contains("error")) << "\n";
    return std::nullopt;
  }
  return std::nullopt;
}

int print_status(const json::object& status) {
  std::cout << "node " << text_of(status.if_contains("name")) << ": " << text_of(status.if_contains("role"))
            << " in term " << text_of(status.if_contains("term")) << ", leader "
            << text_of(status.if_contains("leader")) << "; commit " << text_of(status.if_contains("commit"))
            << ", applied " << text_of(status.if_contains("applied")) << ", log "
            << text_of(status.if_contains("first_index")) << ".." << text_of(status.if_contains("last_index"))
            << ", snapshot at " << text_of(status.if_contains("snapshot_index")) << "\n";
  const json::value* members = status.if_contains("members");
  if (members == nullptr || !members->is_array()) return 0;
  // Lag: how far a member's applied index trails the newest commit anyone reported.
  std::uint64_t newest = 0;
  for (const json::value& member : members->as_array()) {
    if (const json::value* commit = member.as_object().if_contains("commit"); commit && commit->is_number()) {
      newest = std::max(newest, commit->to_number<std::uint64_t>());
    }
  }
  std::ostringstream table;
  table << std::left << std::setw(16) << "MEMBER" << std::setw(8) << "VOTER" << std::setw(15) << "ROLE"
        << std::setw(8) << "TERM" << std::setw(10) << "COMMIT" << std::setw(10) << "APPLIED" << std::setw(8)
        << "LAG" << std::setw(24) << "PEER ADDRESS" << std::setw(22) << "ADMIN" << "SEEN\n";
  for (const json::value& value : members->as_array()) {
    const json::object& member = value.as_object();
    std::string lag = "-";
    if (const json::value* applied = member.if_contains("applied"); applied && applied->is_number()) {
      const auto at = applied->to_number<std::uint64_t>();
      lag = std::to_string(newest > at ? newest - at : 0);
    }
    std::string seen = "never";
    if (member.if_contains("self") && member.at("self").as_bool()) {
      seen = "self";
    } else if (const json::value* age = member.if_contains("report_age_ms"); age && age->is_number()) {
      seen = std::to_string(age->to_number<std::int64_t>()) + "ms ago";
    }
    table << std::left << std::setw(16) << text_of(member.if_contains("name")) << std::setw(8)
          << text_of(member.if_contains("voter")) << std::setw(15) << text_of(member.if_contains("role"))
          << std::setw(8) << text_of(member.if_contains("term")) << std::setw(10)
          << text_of(member.if_contains("commit")) << std::setw(10) << text_of(member.if_contains("applied"))
          << std::setw(8) << lag << std::setw(24) << text_of(member.if_contains("address")) << std::setw(22)
          << text_of(member.if_contains("admin")) << seen << "\n";
  }
  std::cout << table.str();
  return 0;
}

std::string name_body(const std::string& name) { return json::serialize(json::object{{"name", name}}); }

}  // namespace

int run_cluster_command(const std::vector<std::string_view>& raw) {
  const Arguments args = split(raw);
  if (!args.error.empty()) return usage(args.error);
  if (args.words.empty()) return usage("cluster needs a subcommand");
  auto target = resolve_target(args);
  if (!target) {
    std::cerr << "meridian: " << target.error().message << "\n";
    return 1;
  }
  const std::string& what = args.words[0];
  if (what == "status") {
    if (args.words.size() != 1) return usage("cluster status takes no arguments");
    auto status = call(*target, http::verb::get, "/api/v1/cluster");
    if (!status) return 1;
    if (args.json) {
      std::cout << json::serialize(*status) << "\n";
      return 0;
    }
    return print_status(*status);
  }
  if (what == "add-learner") {
    if (args.words.size() != 3) return usage("cluster add-learner needs NAME HOST:PORT");
    const std::string body = json::serialize(json::object{{"name", args.words[1]}, {"address", args.words[2]}});
    if (!call(*target, http::verb::post, "/api/v1/cluster/learners", body)) return 1;
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
  if (!call(*target, http::verb::post, it->second.first, name_body(args.words[1]))) return 1;
  std::cout << it->second.second << " " << args.words[1] << "\n";
  return 0;
}

int run_kv_command(const std::vector<std::string_view>& raw) {
  const Arguments args = split(raw);
  if (!args.error.empty()) return usage(args.error);
  if (args.words.empty()) return usage("kv needs get, put, delete or scan");
  auto target = resolve_target(args);
  if (!target) {
    std::cerr << "meridian: " << target.error().message << "\n";
    return 1;
  }
  const std::string& what = args.words[0];
  const std::string consistency = args.local ? "?consistency=local" : "";
  auto key_path = [&](const std::string& key) { return "/api/v1/kv/" + admin::percent_encode(key); };
  if (what == "get" && args.words.size() == 2) {
    auto answer = call(*target, http::verb::get, key_path(args.words[1]) + consistency);
    if (!answer) return 1;
    std::cout << text_of(answer->if_contains("value")) << "\n";
    return 0;
  }
  if (what == "put" && args.words.size() == 3) {
    const std::string body = json::serialize(json::object{{"value", args.words[2]}});
    return call(*target, http::verb::put, key_path(args.words[1]), body) ? 0 : 1;
  }
  if (what == "delete" && args.words.size() == 2) {
    return call(*target, http::verb::delete_, key_path(args.words[1])) ? 0 : 1;
  }
  if (what == "scan" && args.words.size() <= 2) {
    const std::string prefix = args.words.size() == 2 ? args.words[1] : "";
    std::string path = "/api/v1/kv?prefix=" + admin::percent_encode(prefix);
    if (args.local) path += "&consistency=local";
    auto answer = call(*target, http::verb::get, path);
    if (!answer) return 1;
    if (const json::value* items = answer->if_contains("items"); items && items->is_array()) {
      for (const json::value& item : items->as_array()) {
        std::cout << text_of(item.as_object().if_contains("key")) << "\t"
                  << text_of(item.as_object().if_contains("value")) << "\n";
      }
    }
    return 0;
  }
  return usage("kv " + what + ": wrong arguments");
}

}  // namespace meridian
