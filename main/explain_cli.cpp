#include "main/explain_cli.hpp"

#include <iostream>
#include <memory>
#include <string>
#include <variant>

#include <boost/json/serialize.hpp>

#include "admin/url.hpp"
#include "config/config.hpp"
#include "geo/geo_index.hpp"
#include "gslb/explain.hpp"
#include "main/admin_call.hpp"

namespace meridian {
namespace {

// The same trace from a running node (GET /api/v1/explain): its live health
// and overrides instead of "every endpoint up".
int explain_on_node(const std::string& admin, const std::string& token_file,
                    const gslb::ExplainQuery& query, bool json_output) {
  CliArguments cli;
  cli.admin = admin;
  cli.token_file = token_file;
  auto target = resolve_admin_target(cli);
  if (!target) {
    std::cerr << "meridian: " << target.error().message << "\n";
    return 2;
  }
  std::string path = "/api/v1/explain?name=" + admin::percent_encode(query.name) +
                     "&client=" + admin::percent_encode(query.source.to_string());
  if (query.ecs) path += "&ecs=" + admin::percent_encode(query.ecs->to_string());
  if (query.family == IpAddress::Family::v6) path += "&type=AAAA";
  auto answer = call_admin(*target, boost::beast::http::verb::get, path);
  if (!answer) return 1;
  if (json_output) {
    std::cout << boost::json::serialize(*answer) << "\n";
    return 0;
  }
  const boost::json::value* text = answer->if_contains("text");
  if (text == nullptr || !text->is_string()) {
    std::cerr << "meridian: the node's answer has no trace text\n";
    return 1;
  }
  std::cout << text->as_string().c_str();
  return 0;
}

}  // namespace

int run_explain_command(const std::vector<std::string_view>& args) {
  std::vector<std::string_view> positional;
  std::string config_path;
  std::string admin;
  std::string token_file;
  bool json_output = false;
  gslb::ExplainQuery query;
  const auto usage = [](const std::string& message) {
    std::cerr << "meridian: " << message
              << "\nusage: meridian explain NAME CLIENT_IP [--ecs SUBNET] [--type A|AAAA] -c FILE"
                 "\n       meridian explain NAME CLIENT_IP [--ecs SUBNET] [--type A|AAAA] --admin "
                 "HOST:PORT [--token-file FILE] [--json]\n";
    return 2;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const bool has_value = i + 1 < args.size();
    if ((args[i] == "-c" || args[i] == "--config") && has_value) {
      config_path = args[++i];
    } else if (args[i] == "--admin" && has_value) {
      admin = args[++i];
    } else if (args[i] == "--token-file" && has_value) {
      token_file = args[++i];
    } else if (args[i] == "--json") {
      json_output = true;
    } else if (args[i] == "--ecs" && has_value) {
      IpNetwork ecs;
      if (!IpNetwork::parse(args[++i], ecs))
        return usage("bad --ecs '" + std::string(args[i]) + "' (ADDRESS/LEN)");
      query.ecs = ecs;
    } else if (args[i] == "--type" && has_value) {
      const std::string_view type = args[++i];
      if (type != "A" && type != "AAAA") return usage("--type must be A or AAAA");
      query.family = type == "A" ? IpAddress::Family::v4 : IpAddress::Family::v6;
    } else if (args[i].starts_with("-")) {
      return usage("unknown explain argument '" + std::string(args[i]) + "'");
    } else {
      positional.push_back(args[i]);
    }
  }
  if (positional.size() != 2 || config_path.empty() == admin.empty()) {
    return usage(
        "explain needs NAME CLIENT_IP and either -c FILE (offline) or --admin HOST:PORT (a running "
        "node)");
  }
  if (json_output && admin.empty()) return usage("--json needs --admin");
  if (!token_file.empty() && admin.empty()) return usage("--token-file needs --admin");
  query.name = positional[0];
  if (!IpAddress::parse(positional[1], query.source)) {
    return usage("bad CLIENT_IP '" + std::string(positional[1]) + "'");
  }
  query.source = query.source.unmapped();
  if (!admin.empty()) return explain_on_node(admin, token_file, query, json_output);

  auto config = load_config(config_path);
  if (!config) {
    std::cerr << config.error().message << "\n";
    return 1;
  }
  std::shared_ptr<const geo::Locator> locator;
  if (auto index = geo::GeoIndex::open(config->geoip.database, config->geoip.asn_database)) {
    locator = std::move(index).value();
  } else {
    std::cerr << "warning: " << index.error().message << "; every client is unlocated\n";
  }
  auto table = gslb::offline_routing_table(*config, std::move(locator));
  if (!table) {
    std::cerr << table.error().message << "\n";
    return 1;
  }
  const gslb::ExplainResult explanation = gslb::explain_query(*config, **table, query);
  if (const auto* error = std::get_if<gslb::ExplainError>(&explanation)) {
    std::cerr << error->message << "\n";
    return 1;
  }
  std::cout << gslb::format_explanation(*config, std::get<gslb::Explanation>(explanation));
  return 0;
}

}  // namespace meridian
