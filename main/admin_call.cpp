#include "main/admin_call.hpp"

#include <unistd.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "admin/http_client.hpp"
#include "admin/token_file.hpp"
#include "base/secret_file.hpp"
#include "config/config.hpp"
#include "main/store_wiring.hpp"

namespace meridian {

namespace json = boost::json;
namespace http = boost::beast::http;

CliArguments split_cli_arguments(const std::vector<std::string_view>& args,
                                 const std::set<std::string>& flags,
                                 const std::set<std::string>& valued) {
  CliArguments out;
  for (std::size_t i = 0; i < args.size() && out.error.empty(); ++i) {
    const std::string arg(args[i]);
    auto value = [&](std::string& into) {
      if (i + 1 >= args.size()) {
        out.error = arg + " needs a value";
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
    } else if (flags.contains(arg)) {
      out.flags.insert(arg);
    } else if (valued.contains(arg)) {
      value(out.values[arg]);
    } else if (arg.starts_with("--")) {
      out.error = "unknown option " + arg;
    } else {
      out.words.push_back(arg);
    }
  }
  return out;
}

Result<AdminTarget> resolve_admin_target(const CliArguments& args) {
  AdminTarget target;
  std::string token_file = args.token_file;
  if (!args.config.empty()) {
    auto config = load_config(args.config);
    if (!config) return config.error();
    if (config->admin) {
      target.admin = config->admin->listen;
      if (token_file.empty()) token_file = config->admin->token_file;
      if (!config->admin->listen.is_wildcard())
        target.trusted_hosts.push_back(config->admin->listen.address);
    }
    if (config->cluster) {
      for (const ClusterPeer& peer : config->cluster->peers)
        target.trusted_hosts.push_back(peer.address.address);
    }
  }
  if (!args.admin.empty() && !SocketAddress::parse(args.admin, target.admin)) {
    return fail("--admin needs HOST:PORT, as in 127.0.0.1:8053, not '", args.admin, "'");
  }
  target.trusted_hosts.push_back(target.admin.address);
  if (!token_file.empty()) {
    auto text = read_secret_file(token_file);
    if (!text) return text.error();
    auto token = admin::token_from_file_text(std::move(*text), token_file);
    if (!token) return token.error();
    target.token = std::move(*token);
  }
  return target;
}

bool may_follow_to(const AdminTarget& target, const SocketAddress& leader) {
  const IpAddress host = leader.address.unmapped();
  return std::any_of(target.trusted_hosts.begin(), target.trusted_hosts.end(),
                     [&](const IpAddress& trusted) { return trusted.unmapped() == host; });
}

std::string cli_text(const json::value* value) {
  if (value == nullptr || value->is_null()) return "-";
  if (value->is_string()) return std::string(value->as_string());
  if (value->is_bool()) return value->as_bool() ? "yes" : "no";
  return json::serialize(*value);
}

std::string default_author() {
  const char* user = std::getenv("USER");
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::string out = user != nullptr && *user != '\0' ? user : "operator";
  if (host[0] != '\0') out += std::string("@") + host;
  return out;
}

std::string format_time_ms(const json::value* ms) {
  if (ms == nullptr || !ms->is_number()) return "-";
  const std::time_t seconds = static_cast<std::time_t>(ms->to_number<std::uint64_t>() / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  std::ostringstream out;
  out << std::put_time(&utc, "%Y-%m-%dT%H:%M:%SZ");
  return out.str();
}

namespace {

/// A reply's JSON body (an empty object when it is not JSON).
json::object body_of(const admin::HttpReply& reply) {
  boost::system::error_code error;
  json::value value = json::parse(reply.body, error);
  if (error || !value.is_object()) return {};
  return value.as_object();
}

}  // namespace

std::optional<json::object> call_admin(const AdminTarget& target, http::verb method,
                                       const std::string& path, const std::string& body) {
  SocketAddress where = target.admin;
  for (int attempt = 0; attempt < 2; ++attempt) {
    // Longer than the store's own request timeout, so a slow write ends in
    // its 504 ("outcome unknown") rather than a client-side timeout.
    auto reply =
        admin::http_request(where, method, path, body, target.token, std::chrono::seconds(10));
    if (!reply) {
      std::cerr << "meridian: " << reply.error().message << "\n";
      return std::nullopt;
    }
    json::object answer = body_of(*reply);
    if (reply->status / 100 == 2) return answer;
    const json::value* leader_admin = answer.if_contains("leader_admin");
    SocketAddress leader;
    if (reply->status == 421 && attempt == 0 && leader_admin != nullptr &&
        leader_admin->is_string() &&
        SocketAddress::parse(std::string(leader_admin->as_string()), leader)) {
      if (!target.token || may_follow_to(target, leader)) {
        std::cerr << "meridian: " << where.to_string() << " is not the leader; asking "
                  << cli_text(answer.if_contains("leader")) << " at " << leader.to_string() << "\n";
        where = leader;
        continue;
      }
      std::cerr << "meridian: " << where.to_string() << " is not the leader; the leader is "
                << cli_text(answer.if_contains("leader"))
                << ", whose admin API its members report at " << leader.to_string()
                << ", a host your configuration does not name (not --admin, nor admin.listen or "
                   "cluster.peers of -c FILE), so the token was not sent there. If that is the "
                   "leader, run the command again with --admin "
                << leader.to_string() << "\n";
      return std::nullopt;
    }
    std::cerr << "meridian: " << where.to_string() << " answered " << reply->status << ": "
              << cli_text(answer.if_contains("error")) << "\n";
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace meridian
