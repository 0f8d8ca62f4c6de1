// meridian status: a running node's own view (GET /api/v1/status and
// /api/v1/services): who it is, its cluster role, and every service's
// endpoints with whether they are in answers and why.
#include <boost/json/serialize.hpp>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "main/admin_call.hpp"
#include "main/admin_cli.hpp"

namespace meridian {

namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

const json::value* at(const json::object& object, std::initializer_list<std::string_view> path) {
  const json::value* value = nullptr;
  const json::object* current = &object;
  for (const std::string_view name : path) {
    if (current == nullptr) return nullptr;
    value = current->if_contains(name);
    if (value == nullptr) return nullptr;
    current = value->is_object() ? &value->as_object() : nullptr;
  }
  return value;
}

}  // namespace

int run_status_command(const std::vector<std::string_view>& raw) {
  const CliArguments args = split_cli_arguments(raw, {"--json"}, {});
  if (!args.error.empty() || !args.words.empty()) {
    std::cerr
        << "meridian: " << (args.error.empty() ? "status takes no arguments" : args.error)
        << "\nusage: meridian status [--json] [--admin HOST:PORT | -c FILE] [--token-file FILE]\n";
    return 2;
  }
  auto target = resolve_admin_target(args);
  if (!target) {
    std::cerr << "meridian: " << target.error().message << "\n";
    return 1;
  }
  auto status = call_admin(*target, http::verb::get, "/api/v1/status");
  if (!status) return 1;
  auto services = call_admin(*target, http::verb::get, "/api/v1/services");
  if (!services) return 1;
  if (args.has("--json")) {
    std::cout << json::serialize(
                     json::object{{"status", *status}, {"services", (*services)["services"]}})
              << "\n";
    return 0;
  }
  std::cout << "node " << cli_text(at(*status, {"name"})) << " (site "
            << cli_text(at(*status, {"site"})) << "), meridian "
            << cli_text(at(*status, {"version"})) << ", up " << cli_text(at(*status, {"uptime_s"}))
            << " s\n";
  if (const json::value* cluster = at(*status, {"cluster"});
      cluster != nullptr && cluster->is_object()) {
    const json::value* backend = at(*status, {"cluster", "backend"});
    if (backend != nullptr && backend->is_string() && backend->as_string() == "etcd") {
      std::cout << "store: etcd at revision " << cli_text(at(*status, {"cluster", "revision"}))
                << ", etcd leader " << cli_text(at(*status, {"cluster", "leader"})) << ", "
                << (cli_text(at(*status, {"cluster", "role"})) == "leader" ? "deciding"
                                                                           : "not deciding");
      if (const json::value* endpoints = at(*status, {"cluster", "endpoints"});
          endpoints != nullptr && endpoints->is_array()) {
        std::cout << "; endpoints";
        for (const json::value& endpoint : endpoints->as_array()) {
          const json::object& entry = endpoint.as_object();
          const json::value* reachable = entry.if_contains("reachable");
          std::cout << " " << cli_text(entry.if_contains("address"))
                    << (reachable != nullptr && reachable->is_bool() && !reachable->as_bool()
                            ? " (unreachable)"
                            : " (reached)");
        }
      }
    } else {
      std::cout << "cluster: " << cli_text(at(*status, {"cluster", "role"})) << " in term "
                << cli_text(at(*status, {"cluster", "term"})) << ", leader "
                << cli_text(at(*status, {"cluster", "leader"})) << ", applied "
                << cli_text(at(*status, {"cluster", "applied"}));
    }
    if (const json::value* fallback = at(*status, {"health", "fallback"});
        fallback && fallback->is_bool() && fallback->as_bool()) {
      std::cout << "; CUT OFF: answering from its own probes";
    }
    std::cout << "\n";
  }
  if (const json::value* version = at(*status, {"config", "version"});
      version != nullptr && !version->is_null()) {
    std::cout << "config: version " << cli_text(version) << "\n";
  }
  std::cout << "dns: " << cli_text(at(*status, {"dns", "queries"})) << " queries, "
            << cli_text(at(*status, {"dns", "fail_open"})) << " fail-open answers\n";
  const json::value* list = services->if_contains("services");
  if (list == nullptr || !list->is_array()) return 0;
  for (const json::value& service : list->as_array()) {
    const json::object& s = service.as_object();
    std::cout << "\n"
              << cli_text(s.if_contains("name")) << " (" << cli_text(s.if_contains("policy"))
              << ", ttl " << cli_text(s.if_contains("ttl")) << ")\n";
    std::ostringstream table;
    table << std::left << "  " << std::setw(26) << "ENDPOINT" << std::setw(16) << "SITE"
          << std::setw(9) << "ANSWERED" << std::setw(17) << "BECAUSE" << std::setw(10) << "PROBED"
          << std::setw(10) << "LATENCY"
          << "LAST FAILURE\n";
    for (const json::value& endpoint : s.at("endpoints").as_array()) {
      const json::object& e = endpoint.as_object();
      std::string addresses;
      for (const json::value& address : e.at("addresses").as_array()) {
        addresses += (addresses.empty() ? "" : ",") + cli_text(&address);
      }
      std::string latency = "-";
      if (const json::value* ms = e.if_contains("latency_ms"); ms && ms->is_number()) {
        std::ostringstream text;
        text << std::fixed << std::setprecision(1) << ms->to_number<double>() << "ms";
        latency = text.str();
      }
      const bool usable =
          e.if_contains("usable") && e.at("usable").is_bool() && e.at("usable").as_bool();
      std::string reason = cli_text(e.if_contains("reason"));
      if (reason.empty()) reason = "-";
      table << "  " << std::setw(26) << addresses << std::setw(16)
            << cli_text(e.if_contains("site")) << std::setw(9) << (usable ? "yes" : "NO")
            << std::setw(17) << cli_text(e.if_contains("source")) << std::setw(10)
            << cli_text(e.if_contains("probed")) << std::setw(10) << latency << reason << "\n";
    }
    std::cout << table.str();
  }
  return 0;
}

}  // namespace meridian
