#pragma once
// What every CLI subcommand that talks to a running node shares: parsing
// its options, finding the node's admin address and token, and one call to
// the admin API that follows a follower's 421 to the leader once.
//
// Which node: --admin HOST:PORT, else the admin.listen of -c FILE (the
// node's config), else 127.0.0.1:8053. The token: --token-file F, else the
// config's admin.token_file; sent with every request, reads included, so
// that a node with admin.require_token_for_reads answers them.

#include <boost/beast/http/verb.hpp>
#include <boost/json/object.hpp>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip_address.hpp"
#include "base/result.hpp"

namespace meridian {

/// A subcommand's arguments split into positional words, flags and valued
/// options.
struct CliArguments {
  std::vector<std::string> words;
  std::string admin;
  std::string config;
  std::string token_file;
  std::set<std::string> flags;                ///< e.g. "--json", "--local"
  std::map<std::string, std::string> values;  ///< e.g. "--reason" -> "kernel update"
  std::string error;                          ///< set when the arguments are malformed

  bool has(const std::string& flag) const { return flags.contains(flag); }
  std::string value(const std::string& option) const {
    auto it = values.find(option);
    return it == values.end() ? std::string() : it->second;
  }
};

/// `flags` and `valued` list what the subcommand accepts besides --admin,
/// -c/--config and --token-file; anything else is an error.
CliArguments split_cli_arguments(const std::vector<std::string_view>& args,
                                 const std::set<std::string>& flags,
                                 const std::set<std::string>& valued);

/// Where to send requests, and with which token.
struct AdminTarget {
  SocketAddress admin{IpAddress::v4(127, 0, 0, 1), 8053};
  std::optional<std::string> token;
  /// The hosts the operator's own configuration names: the --admin host,
  /// and with -c FILE its admin.listen and every cluster.peers host. A
  /// follower's 421 names the leader's admin address as the cluster's
  /// members reported it; the token goes there only when its host is one
  /// of these (a member, or a certificate holder posing as one, could
  /// otherwise report an address of its choosing and collect the token).
  std::vector<IpAddress> trusted_hosts;
};

/// True when a request with `target`'s token may follow a 421 to `leader`.
bool may_follow_to(const AdminTarget& target, const SocketAddress& leader);

Result<AdminTarget> resolve_admin_target(const CliArguments& args);

/// Sends one request; a mutation refused by a follower (421) goes once more
/// to the leader it names when may_follow_to() allows it, else the CLI says
/// where the leader is and how to reach it. Prints the reason on stderr and
/// returns nullopt on failure.
std::optional<boost::json::object> call_admin(const AdminTarget& target,
                                              boost::beast::http::verb method,
                                              const std::string& path,
                                              const std::string& body = {});

/// A JSON member as text for tables: "-" for missing or null, "yes"/"no".
std::string cli_text(const boost::json::value* value);

/// "user@host": who ran the command, when --author does not say.
std::string default_author();

/// Unix milliseconds as "2024-05-01T12:00:00Z" (UTC); "-" for a missing
/// value or one that is not a number.
std::string format_time_ms(const boost::json::value* ms);

}  // namespace meridian
