// meridian config apply | history | rollback | show | status: cluster-wide
// config versions through a node's admin API (admin/config_routes.hpp).
#include <boost/json/serialize.hpp>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "config/config.hpp"
#include "gslb/config_versions.hpp"
#include "main/admin_call.hpp"
#include "main/admin_cli.hpp"

namespace meridian {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

constexpr const char* kConfigUsage = R"(usage:
  meridian config apply FILE [--author NAME] [--comment TEXT]
                                 validate FILE's shared sections on the node and commit them
                                 as a new version, which every node then serves
  meridian config history [--limit N] [--local] [--json]
  meridian config rollback VERSION [--author NAME] [--comment TEXT]
                                 commit the text of VERSION again, as a new version
  meridian config show [VERSION] [--local]
                                 the text of VERSION (default: the current one)
  meridian config status [--json]
                                 which version the node serves, and whether its file agrees
options: --admin HOST:PORT (default: admin.listen of -c FILE, else 127.0.0.1:8053)
         -c NODE_FILE (the node's config), --token-file FILE (default: admin.token_file of -c NODE_FILE)
)";

int usage(const std::string& message) {
  std::cerr << "meridian: " << message << "\n\n" << kConfigUsage;
  return 2;
}

std::string consistency(const CliArguments& args) {
  return args.has("--local") ? "consistency=local" : "";
}

std::string author_of(const CliArguments& args) {
  return args.values.contains("--author") ? args.value("--author") : default_author();
}

int apply(const CliArguments& args, const AdminTarget& target) {
  if (args.words.size() != 2) return usage("config apply needs exactly one FILE");
  const std::string& path = args.words[1];
  auto text = read_config_file(path);
  if (!text) {
    std::cerr << "meridian: " << text.error().message << "\n";
    return 1;
  }
  if (text->size() > gslb::kMaxConfigTextBytes) {
    std::cerr << "meridian: " << path << " is " << text->size()
              << " bytes; a committed config holds at most " << gslb::kMaxConfigTextBytes << "\n";
    return 1;
  }
  const json::object body{{"yaml", *text},
                          {"name", path},
                          {"author", author_of(args)},
                          {"comment", args.value("--comment")}};
  auto answer = call_admin(target, http::verb::post, "/api/v1/config", json::serialize(body));
  if (!answer) return 1;
  std::cout << "committed version " << cli_text(answer->if_contains("version")) << "\n";
  if (const json::value* ignored = answer->if_contains("ignored");
      ignored && ignored->is_array() && !ignored->as_array().empty()) {
    std::string sections;
    for (const json::value& name : ignored->as_array())
      sections += (sections.empty() ? "" : ", ") + cli_text(&name);
    std::cerr << "note: " << path << "'s node-local sections (" << sections
              << ") are not part of the version: every node keeps its own\n";
  }
  return 0;
}

int rollback(const CliArguments& args, const AdminTarget& target) {
  if (args.words.size() != 2) return usage("config rollback needs exactly one VERSION");
  const std::string& version = args.words[1];
  json::object body{{"version", version}, {"author", author_of(args)}};
  if (args.values.contains("--comment")) body["comment"] = args.value("--comment");
  auto answer =
      call_admin(target, http::verb::post, "/api/v1/config/rollback", json::serialize(body));
  if (!answer) return 1;
  std::cout << "committed version " << cli_text(answer->if_contains("version"))
            << " (the text of version " << cli_text(answer->if_contains("rollback_of")) << ")\n";
  return 0;
}

int history(const CliArguments& args, const AdminTarget& target) {
  if (args.words.size() != 1) return usage("config history takes no positional arguments");
  std::string query = consistency(args);
  if (!args.value("--limit").empty())
    query += std::string(query.empty() ? "" : "&") + "limit=" + args.value("--limit");
  auto answer = call_admin(target, http::verb::get,
                           "/api/v1/config/history" + (query.empty() ? "" : "?" + query));
  if (!answer) return 1;
  if (args.has("--json")) {
    std::cout << json::serialize(*answer) << "\n";
    return 0;
  }
  std::ostringstream table;
  table << std::left << std::setw(9) << "VERSION" << std::setw(22) << "TIME" << std::setw(24)
        << "AUTHOR" << std::setw(18) << "HASH"
        << "COMMENT\n";
  if (const json::value* versions = answer->if_contains("versions");
      versions && versions->is_array()) {
    for (const json::value& value : versions->as_array()) {
      const json::object& item = value.as_object();
      const bool current = item.if_contains("current") && item.at("current").is_bool() &&
                           item.at("current").as_bool();
      table << std::left << std::setw(9)
            << (cli_text(item.if_contains("version")) + (current ? "*" : "")) << std::setw(22)
            << format_time_ms(item.if_contains("time_ms")) << std::setw(24)
            << cli_text(item.if_contains("author")) << std::setw(18)
            << cli_text(item.if_contains("fingerprint")) << cli_text(item.if_contains("comment"))
            << "\n";
    }
  }
  std::cout << table.str();
  if (answer->if_contains("current") == nullptr || answer->at("current").is_null()) {
    std::cout << "(no version committed yet: every node serves its own file)\n";
  }
  return 0;
}

int show(const CliArguments& args, const AdminTarget& target) {
  if (args.words.size() > 2) return usage("config show takes at most one VERSION");
  const std::string query = consistency(args).empty() ? "" : "?" + consistency(args);
  std::string version = args.words.size() == 2 ? args.words[1] : "";
  if (version.empty()) {
    auto answer = call_admin(
        target, http::verb::get,
        "/api/v1/config/history?limit=1" + (query.empty() ? "" : "&" + consistency(args)));
    if (!answer) return 1;
    if (answer->if_contains("current") == nullptr || answer->at("current").is_null()) {
      std::cerr << "meridian: no version committed yet: every node serves its own file\n";
      return 1;
    }
    version = cli_text(answer->if_contains("current"));
  }
  auto answer = call_admin(target, http::verb::get, "/api/v1/config/versions/" + version + query);
  if (!answer) return 1;
  const json::value* text = answer->if_contains("text");
  const std::string yaml =
      text && text->is_string() ? std::string(text->as_string()) : std::string();
  std::cout << yaml << (yaml.empty() || yaml.back() == '\n' ? "" : "\n");
  return 0;
}

int status(const CliArguments& args, const AdminTarget& target) {
  if (args.words.size() != 1) return usage("config status takes no positional arguments");
  auto answer = call_admin(target, http::verb::get, "/api/v1/config");
  if (!answer) return 1;
  if (args.has("--json")) {
    std::cout << json::serialize(*answer) << "\n";
    return 0;
  }
  const bool committed = answer->if_contains("committed") && !answer->at("committed").is_null();
  const bool serving = answer->if_contains("serving") && !answer->at("serving").is_null();
  std::cout << "node:      " << cli_text(answer->if_contains("node")) << " ("
            << cli_text(answer->if_contains("file")) << ")\n";
  std::cout << "committed: "
            << (committed ? "version " + cli_text(answer->if_contains("committed")) + " (" +
                                cli_text(answer->if_contains("committed_fingerprint")) + ")"
                          : std::string("none (every node serves its own file)"))
            << "\n";
  std::cout << "serving:   "
            << (serving ? "version " + cli_text(answer->if_contains("serving"))
                        : std::string("this node's file"))
            << " (" << cli_text(answer->if_contains("fingerprint")) << ")\n";
  std::cout << "file:      " << cli_text(answer->if_contains("file_fingerprint"));
  if (committed) {
    const json::value* matches = answer->if_contains("file_matches_committed");
    std::cout << (matches && matches->is_bool() && matches->as_bool()
                      ? " (matches the committed version)"
                      : " (differs from the committed version)");
  }
  std::cout << "\n";
  if (const json::value* error = answer->if_contains("error"); error && error->is_string()) {
    std::cout << "error:     " << error->as_string().c_str() << "\n";
  }
  return 0;
}

}  // namespace

int run_config_command(const std::vector<std::string_view>& raw) {
  const CliArguments args =
      split_cli_arguments(raw, {"--json", "--local"}, {"--author", "--comment", "--limit"});
  if (!args.error.empty()) return usage(args.error);
  if (args.words.empty()) return usage("config needs apply, history, rollback, show or status");
  auto target = resolve_admin_target(args);
  if (!target) {
    std::cerr << "meridian: " << target.error().message << "\n";
    return 1;
  }
  const std::string& what = args.words[0];
  if (what == "apply") return apply(args, *target);
  if (what == "rollback") return rollback(args, *target);
  if (what == "history") return history(args, *target);
  if (what == "show") return show(args, *target);
  if (what == "status") return status(args, *target);
  return usage("unknown config command '" + what + "'");
}

}  // namespace meridian
