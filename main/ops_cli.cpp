// meridian drain | undrain | force-up | force-down | overrides | verdicts | events:
// operator actions and what the cluster decided, through a node's admin API
// (admin/health_routes.hpp).
#include <boost/json/serialize.hpp>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "main/admin_call.hpp"
#include "main/admin_cli.hpp"

namespace meridian {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

constexpr const char* kOpsUsage = R"(usage:
  meridian drain      --endpoint ADDR | --site NAME [--for 2h] [--reason TEXT] [--author NAME]
  meridian force-down --endpoint ADDR | --site NAME [--for 2h] [--reason TEXT] [--author NAME]
  meridian force-up   --endpoint ADDR | --site NAME [--for 2h] [--reason TEXT] [--author NAME]
  meridian undrain    --endpoint ADDR | --site NAME [--reason TEXT] [--author NAME]
                      (removes whichever override is in force)
  meridian overrides [--json] | verdicts [--json] | events [--limit N] [--json]
options: --admin HOST:PORT (default: admin.listen of -c FILE, else 127.0.0.1:8053)
         -c FILE (the node's config), --token-file FILE (default: admin.token_file of -c FILE)
)";

int usage(const std::string& message) {
  std::cerr << "meridian: " << message << "\n\n" << kOpsUsage;
  return 2;
}

const json::array* array_member(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  return value != nullptr && value->is_array() ? &value->as_array() : nullptr;
}

int act(const std::string& action, const CliArguments& args, const AdminTarget& target) {
  const std::string endpoint = args.value("--endpoint");
  const std::string site = args.value("--site");
  if (endpoint.empty() == site.empty())
    return usage(action + " needs exactly one of --endpoint ADDR or --site NAME");
  if (!args.words.empty()) return usage(action + " takes no positional arguments");
  static const std::map<std::string, std::string> kState{
      {"drain", "drain"}, {"force-down", "down"}, {"force-up", "up"}, {"undrain", "none"}};
  const std::string& state = kState.at(action);
  if (state == "none" && !args.value("--for").empty()) return usage("undrain takes no --for");
  json::object body{
      {"state", state},
      {"author", args.values.contains("--author") ? args.value("--author") : default_author()},
      {"reason", args.value("--reason")}};
  body[endpoint.empty() ? "site" : "endpoint"] = endpoint.empty() ? site : endpoint;
  if (!args.value("--for").empty()) body["for"] = args.value("--for");
  auto answer = call_admin(target, http::verb::post, "/api/v1/overrides", json::serialize(body));
  if (!answer) return 1;
  const std::string subject = (endpoint.empty() ? "site " + site : "endpoint " + endpoint);
  if (state == "none") {
    std::cout << subject << ": override removed\n";
  } else {
    std::cout << subject << ": " << state;
    if (const json::value* until = answer->if_contains("expires_ms"); until && until->is_number()) {
      std::cout << " until " << format_time_ms(until);
    }
    std::cout << "\n";
  }
  return 0;
}

int list_overrides(const json::object& answer) {
  std::ostringstream table;
  table << std::left << std::setw(34) << "TARGET" << std::setw(7) << "STATE" << std::setw(22)
        << "SINCE" << std::setw(22) << "UNTIL" << std::setw(20) << "AUTHOR"
        << "REASON\n";
  if (const json::array* items = array_member(answer, "overrides")) {
    for (const json::value& value : *items) {
      const json::object& item = value.as_object();
      const bool site = item.contains("site");
      const std::string name =
          (site ? "site " : "endpoint ") + cli_text(item.if_contains(site ? "site" : "endpoint"));
      table << std::left << std::setw(34) << name << std::setw(7)
            << cli_text(item.if_contains("state")) << std::setw(22)
            << format_time_ms(item.if_contains("set_ms")) << std::setw(22)
            << (item.at("expires_ms").is_null() ? std::string("-")
                                                : format_time_ms(item.if_contains("expires_ms")))
            << std::setw(20) << cli_text(item.if_contains("author"))
            << cli_text(item.if_contains("reason")) << "\n";
    }
  }
  std::cout << table.str();
  return 0;
}

int list_verdicts(const json::object& answer) {
  std::ostringstream table;
  table << std::left << std::setw(48) << "TARGET" << std::setw(8) << "VERDICT"
        << "OBSERVERS UP\n";
  if (const json::array* items = array_member(answer, "verdicts")) {
    for (const json::value& value : *items) {
      const json::object& item = value.as_object();
      const bool up = item.if_contains("up") && item.at("up").is_bool() && item.at("up").as_bool();
      table << std::left << std::setw(48) << cli_text(item.if_contains("target")) << std::setw(8)
            << (up ? "up" : "down") << cli_text(item.if_contains("observers_up")) << "/"
            << cli_text(item.if_contains("observers"))
            << (item.if_contains("stale") && item.at("stale").is_bool() &&
                        item.at("stale").as_bool()
                    ? " (stale)"
                    : "")
            << "\n";
    }
  }
  std::cout << table.str();
  return 0;
}

int list_events(const json::object& answer) {
  if (const json::array* items = array_member(answer, "events")) {
    for (const json::value& value : *items) {
      const json::object& item = value.as_object();
      std::cout << format_time_ms(item.if_contains("time_ms")) << "  " << std::left << std::setw(17)
                << cli_text(item.if_contains("kind")) << cli_text(item.if_contains("subject"));
      if (const std::string detail = cli_text(item.if_contains("detail"));
          !detail.empty() && detail != "-") {
        std::cout << ": " << detail;
      }
      std::cout << " (" << cli_text(item.if_contains("author")) << ")\n";
    }
  }
  return 0;
}

}  // namespace

int run_ops_command(std::string_view command, const std::vector<std::string_view>& raw) {
  const CliArguments args = split_cli_arguments(
      raw, {"--json"}, {"--endpoint", "--site", "--for", "--reason", "--author", "--limit"});
  if (!args.error.empty()) return usage(args.error);
  auto target = resolve_admin_target(args);
  if (!target) {
    std::cerr << "meridian: " << target.error().message << "\n";
    return 1;
  }
  const std::string what(command);
  if (what == "drain" || what == "undrain" || what == "force-up" || what == "force-down") {
    return act(what, args, *target);
  }
  if (!args.words.empty()) return usage(what + " takes no positional arguments");
  std::string path;
  if (what == "overrides") {
    path = "/api/v1/overrides";
  } else if (what == "verdicts") {
    path = "/api/v1/verdicts";
  } else if (what == "events") {
    path = "/api/v1/events";
    if (!args.value("--limit").empty()) path += "?limit=" + args.value("--limit");
  } else {
    return usage("unknown command '" + what + "'");
  }
  auto answer = call_admin(*target, http::verb::get, path);
  if (!answer) return 1;
  if (args.has("--json")) {
    std::cout << json::serialize(*answer) << "\n";
    return 0;
  }
  if (what == "overrides") return list_overrides(*answer);
  if (what == "verdicts") return list_verdicts(*answer);
  return list_events(*answer);
}

}  // namespace meridian
