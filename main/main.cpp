// meridian: the command-line entry point. Parses the subcommand and hands
// over to the node, the config checker or the GeoIP database builder.

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/certs.hpp"
#include "cluster/node_id.hpp"
#include "config/config.hpp"
#include "gslb/geoip_open.hpp"
#include "main/admin_cli.hpp"
#include "main/explain_cli.hpp"
#include "main/node.hpp"
#include "main/revision.hpp"  // generated at build time (main/write_revision.cmake)
#include "main/version.hpp"
#include "tools/backend.hpp"
#include "tools/geoip_csv.hpp"
#include "tools/mmdb_writer.hpp"

namespace {

using meridian::kVersion;

constexpr const char* kUsage = R"(usage: meridian COMMAND [ARGS]

commands:
  serve -c FILE [--user NAME]    run a node from its config file; with --user, bind the
                                 DNS ports and then run as NAME
  check-config FILE              validate a config file offline (exit 0 or 1)
  explain NAME CLIENT_IP [--ecs SUBNET] [--type A|AAAA] -c FILE | --admin HOST:PORT
          [--token-file FILE] [--json]
                                 why a client gets the answer it gets: the decision
                                 trace, offline from a config (every endpoint up), or
                                 from a running node (its live health and overrides)
  geo build-db --input FILE --output FILE.mmdb [--asn]
                                 write a MaxMind DB from a CSV/TSV of
                                 prefix,latitude,longitude,country,continent[,subdivision]
                                 (latitude and longitude empty: Country layout), or with
                                 --asn of prefix,asn,organization (GeoLite2-ASN layout)
  backend --listen ADDR:PORT[-LAST] [--listen ...] [--name NAME] [--status CODE] [--hang]
                                 a tiny HTTP server for demos and tests
  status [--json]                a running node's own view: identity, cluster role, every
                                 service's endpoints, in answers or not and why
  cluster status [--json]        a running node's view of the cluster (every member's
                                 role, term, commit/applied index, lag)
  cluster add-learner NAME HOST:PORT | promote NAME | remove NAME | transfer-leader NAME
                                 change the membership (sent to the leader; the built-in
                                 store only: etcd's members are etcd's own business)
  kv get KEY [--local] | put KEY VALUE | delete KEY | scan [PREFIX]
                                 the replicated key-value store, for operators and tests
                                 (these commands and the ones below: --admin HOST:PORT or
                                 -c FILE, --token-file FILE for changes, for store export,
                                 and for reads on a node with admin.require_token_for_reads)
  drain | force-down | force-up --endpoint ADDR | --site NAME [--for 2h] [--reason TEXT] [--author NAME]
                                 an operator's override, replicated to every node; --for
                                 ends it by itself (scheduled maintenance)
  undrain --endpoint ADDR | --site NAME
                                 remove the override in force
  overrides | verdicts | events [--limit N] [--json]
                                 the overrides, the replicated verdicts, the event log
  config apply FILE [--author NAME] [--comment TEXT]
                                 validate FILE's shared sections (sites, checks, zones, ...)
                                 on a node and commit them as the cluster's next config
                                 version; every node switches to it
  config history [--limit N] | show [VERSION] | status
                                 the committed versions, one version's text, and which
                                 version a node serves (and whether its file agrees)
  config rollback VERSION        commit the text of an earlier version as a new version
  store export [--output FILE]   the replicated state (config versions, overrides, events,
                                 operator keys) as JSON, from the built-in store or etcd
  store import FILE [--replace]  write an export into the node's store (moving to etcd
                                 and back); refused where state exists, unless --replace
  cluster certs init --dir DIR [--name NAME]
                                 create a cluster CA (DIR/ca.pem, DIR/ca.key)
  cluster certs node --dir DIR --id ID [--out OUT] [--ip ADDR]... [--dns NAME]...
                                 issue OUT/ID.pem and OUT/ID.key (OUT defaults to DIR)
                                 signed by the CA of DIR, with OUT/ca.pem beside them;
                                 the CA key stays in DIR, which records ID.pem
                                 [--days N]: lifetime, default 365, at most 1095
  cluster certs renew --dir DIR --id ID [--out OUT] [--days N] [--ip ADDR]... [--dns NAME]...
                                 a new key and certificate for ID, replacing OUT/ID.pem and
                                 OUT/ID.key in place; SIGHUP the node to use them (no restart)
  version                        print the version and the git revision (also --version)
  help                           print this help (also --help; COMMAND --help: that
                                 command's part)
)";

/// The part of kUsage about `command` (and `sub`, when given and the
/// command has such lines): every entry whose first line names it before
/// its options. Empty when none does.
std::string command_help(std::string_view command, std::string_view sub) {
  std::vector<std::string> entries;
  std::string_view rest = kUsage;
  std::string current;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    // An entry starts with two spaces and a name; deeper lines continue it.
    if (line.size() > 2 && line.starts_with("  ") && line[2] != ' ') {
      if (!current.empty()) entries.push_back(current);
      current = std::string(line) + "\n";
    } else if (!current.empty() && line.starts_with("   ")) {
      current += std::string(line) + "\n";
    } else if (!current.empty()) {
      entries.push_back(current);
      current.clear();
    }
  }
  if (!current.empty()) entries.push_back(current);
  // The words of an entry's first line before its first option or argument.
  auto names = [](const std::string& entry) {
    std::vector<std::string> words;
    std::string word;
    for (const char c : entry.substr(0, entry.find('\n')) + " ") {
      if (c != ' ') {
        word += c;
        continue;
      }
      if (word.empty()) continue;
      if (word != "|") words.push_back(word);
      word.clear();
    }
    return words;
  };
  const auto matching = [&](bool with_sub) {
    std::string out;
    for (const std::string& entry : entries) {
      const std::vector<std::string> words = names(entry);
      const bool named = std::find(words.begin(), words.end(), command) != words.end();
      const bool sub_named = !with_sub || std::find(words.begin(), words.end(), sub) != words.end();
      if (named && sub_named) out += entry;
    }
    return out;
  };
  std::string found = sub.empty() ? std::string() : matching(true);
  if (found.empty()) found = matching(false);
  return found;
}

int usage_error(const std::string& message) {
  std::cerr << "meridian: " << message << "\n\n" << kUsage;
  return 2;
}

// Finds "--name VALUE" or "-n VALUE" in args; false when absent.
bool option(const std::vector<std::string_view>& args, std::string_view long_name,
            std::string_view short_name, std::string& value) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == long_name || (!short_name.empty() && args[i] == short_name)) {
      value = args[i + 1];
      return true;
    }
  }
  return false;
}

int serve(const std::vector<std::string_view>& args) {
  meridian::NodeOptions options;
  if (!option(args, "--config", "-c", options.config_path))
    return usage_error("serve needs -c FILE");
  std::string seed;
  if (option(args, "--seed", "", seed)) options.seed = std::stoull(seed);
  option(args, "--user", "-u", options.user);
  return meridian::run_node(options);
}

int check_config(const std::vector<std::string_view>& args) {
  if (args.size() != 1) return usage_error("check-config needs exactly one FILE");
  const std::string path(args[0]);
  auto config = meridian::load_config(path);
  if (!config) {
    std::cerr << config.error().message << "\n";
    return 1;
  }
  // serve refuses a database that is missing, corrupt or of the wrong
  // kind; so does the check, rather than pass a config the node rejects.
  if (auto databases = meridian::gslb::open_geoip(config->geoip); !databases) {
    std::string_view errors = databases.error().message;
    while (!errors.empty()) {
      const std::size_t end = errors.find('\n');
      std::cerr << path << ": " << errors.substr(0, end) << "\n";
      errors = end == std::string_view::npos ? std::string_view() : errors.substr(end + 1);
    }
    return 1;
  }
  std::size_t services = 0;
  for (const auto& zone : config->zones) services += zone.services.size();
  std::cout << path << ": OK (" << config->sites.size() << " sites, " << config->zones.size()
            << " zones, " << services << " services)\n";
  return 0;
}

int geo_build_db(const std::vector<std::string_view>& args) {
  std::string input;
  std::string output;
  if (!option(args, "--input", "-i", input) || !option(args, "--output", "-o", output)) {
    return usage_error("geo build-db needs --input FILE and --output FILE");
  }
  const bool asn = std::find(args.begin(), args.end(), "--asn") != args.end();
  auto rows = asn ? meridian::geo::read_asn_csv(input) : meridian::geo::read_geoip_csv(input);
  if (!rows) {
    std::cerr << rows.error().message << "\n";
    return 1;
  }
  if (auto written =
          meridian::geo::write_mmdb(*rows, output, asn ? "Meridian-ASN" : "Meridian-City");
      !written) {
    std::cerr << written.error().message << "\n";
    return 1;
  }
  std::cout << "wrote " << output << " (" << rows->size() << " networks)\n";
  return 0;
}

int backend(const std::vector<std::string_view>& args) {
  meridian::BackendOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const bool has_value = i + 1 < args.size();
    if (args[i] == "--listen" && has_value) {
      // ADDR:PORT, or ADDR:FIRST-LAST for a range of ports (benchmarks).
      std::string text(args[++i]);
      unsigned last = 0;
      if (const auto dash = text.rfind('-'); dash != std::string::npos && dash > text.rfind(':')) {
        last = static_cast<unsigned>(std::stoul(text.substr(dash + 1)));
        text.resize(dash);
      }
      meridian::SocketAddress address;
      if (!meridian::SocketAddress::parse(text, address) ||
          (last != 0 && (last < address.port || last > 65535))) {
        return usage_error("bad --listen address '" + std::string(args[i]) + "'");
      }
      for (unsigned port = address.port; port <= std::max<unsigned>(last, address.port); ++port) {
        address.port = static_cast<std::uint16_t>(port);
        options.listen.push_back(address);
      }
    } else if (args[i] == "--name" && has_value) {
      options.name = args[++i];
    } else if (args[i] == "--status" && has_value) {
      options.status = static_cast<unsigned>(std::stoul(std::string(args[++i])));
      if (options.status < 100 || options.status > 599)
        return usage_error("--status must be 100..599");
    } else if (args[i] == "--hang") {
      options.hang = true;
    } else {
      return usage_error("unknown backend argument '" + std::string(args[i]) + "'");
    }
  }
  if (options.listen.empty()) return usage_error("backend needs --listen ADDR:PORT");
  return meridian::run_backend(options);
}

// Every value of a repeatable option ("--ip A --ip B").
std::vector<std::string> options(const std::vector<std::string_view>& args, std::string_view name) {
  std::vector<std::string> values;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == name) values.emplace_back(args[i + 1]);
  }
  return values;
}

int print_error(const meridian::Error& error) {
  std::cerr << "meridian: " << error.message << "\n";
  return 1;
}

/// `--days N` of a node certificate: 1..kMaxNodeCertificateDays, default
/// kNodeCertificateDays.
meridian::Result<int> days_option(const std::vector<std::string_view>& args) {
  using namespace meridian::cluster;
  std::string text;
  if (!option(args, "--days", "", text)) return kNodeCertificateDays;
  int days = 0;
  const char* end = text.data() + text.size();
  if (auto [ptr, error] = std::from_chars(text.data(), end, days);
      error != std::errc() || ptr != end || days < 1 || days > kMaxNodeCertificateDays) {
    return meridian::fail("--days: expected 1..", std::to_string(kMaxNodeCertificateDays),
                          ", got '", text, "'");
  }
  return days;
}

/// What `cluster certs node` and `renew` read from their arguments.
struct NodeCertificateArgs {
  meridian::cluster::CertificateRequest request;  ///< id, names, addresses, lifetime
  std::string out;                                ///< --out, DIR by default
};

/// Reads --id (a node name, not "ca"), --out, --days, --dns and --ip for
/// `cluster certs VERB`; the exit status of the usage error, if any.
std::optional<int> read_node_certificate_args(const std::string& dir,
                                              const std::vector<std::string_view>& args,
                                              std::string_view verb, NodeCertificateArgs& parsed) {
  using namespace meridian::cluster;
  CertificateRequest& request = parsed.request;
  if (!option(args, "--id", "", request.common_name))
    return usage_error("cluster certs " + std::string(verb) + " needs --id ID");
  const std::string& id = request.common_name;
  // The id is the node.id the certificate will be checked against, and a
  // file name here: the same rule as node.id in the config.
  if (auto valid = validate_node_name(id); !valid)
    return usage_error("--id: " + valid.error().message);
  if (id == kCaFileName)
    return usage_error("--id ca: 'ca' names the CA's own files; choose another");
  parsed.out = dir;
  option(args, "--out", "", parsed.out);
  if (auto valid = validate_output_directory("--out", parsed.out); !valid)
    return usage_error(valid.error().message);
  auto days = days_option(args);
  if (!days) return usage_error(days.error().message);
  request.validity = std::chrono::hours(24 * *days);
  request.dns_names = options(args, "--dns");
  request.dns_names.insert(request.dns_names.begin(), id);
  for (const auto& text : options(args, "--ip")) {
    meridian::IpAddress address;
    if (!meridian::IpAddress::parse(text, address)) return usage_error("bad --ip '" + text + "'");
    request.addresses.push_back(address);
  }
  return std::nullopt;
}

int cluster_certs_init(const std::string& dir, const std::vector<std::string_view>& args) {
  using namespace meridian::cluster;
  std::string name = "meridian-cluster-ca";
  option(args, "--name", "", name);
  auto ca = create_ca({name, {}, {}, std::chrono::hours(24 * 365 * 10)});
  if (!ca) return print_error(ca.error());
  if (auto written = write_certificate(dir, kCaFileName, *ca); !written)
    return print_error(written.error());
  std::cout << "wrote " << dir << "/ca.pem and " << dir
            << "/ca.key (keep the key secret, on this machine only; nodes need only ca.pem)\n";
  return 0;
}

int cluster_certs_node(const std::string& dir, const std::vector<std::string_view>& args) {
  using namespace meridian::cluster;
  NodeCertificateArgs parsed;
  if (auto bad = read_node_certificate_args(dir, args, "node", parsed)) return *bad;
  const CertificateRequest& request = parsed.request;
  const std::string& id = request.common_name;
  const std::string& out = parsed.out;
  // DIR keeps a copy of every certificate its CA issued: the names whose ids
  // are taken. A second certificate for a name, or one for a name sharing
  // another's id, would let one node pass for another.
  auto issued_names = certificate_names(dir);
  if (!issued_names) return print_error(issued_names.error());
  if (std::find(issued_names->begin(), issued_names->end(), id) != issued_names->end()) {
    return print_error(
        meridian::fail(dir, "/", id, ".pem exists: a certificate for ", id, " was issued already"));
  }
  if (auto unique = check_id_unique(id, *issued_names); !unique) return print_error(unique.error());
  auto ca = read_certificate(dir, kCaFileName);
  if (!ca) return print_error(ca.error());
  auto issued = issue_node_certificate(*ca, request);
  if (!issued) return print_error(issued.error());
  if (auto written = write_certificate(out, id, *issued); !written)
    return print_error(written.error());
  std::error_code ec;
  if (!std::filesystem::equivalent(dir, out, ec)) {
    // Only the CA's certificate goes beside the node's files, never its key.
    if (auto written = write_certificate_only(out, kCaFileName, ca->certificate_pem); !written)
      return print_error(written.error());
    if (auto written = write_certificate_only(dir, id, issued->certificate_pem); !written)
      return print_error(written.error());
  }
  std::cout << "wrote " << out << "/" << id << ".pem and .key\n";
  return 0;
}

/// `cluster certs renew`: a new key and certificate for a node the CA
/// directory already issued for, replacing its files in place (rename), to
/// be picked up by the running node on SIGHUP.
int cluster_certs_renew(const std::string& dir, const std::vector<std::string_view>& args) {
  using namespace meridian::cluster;
  NodeCertificateArgs parsed;
  if (auto bad = read_node_certificate_args(dir, args, "renew", parsed)) return *bad;
  const CertificateRequest& request = parsed.request;
  const std::string& id = request.common_name;
  const std::string& out = parsed.out;
  auto issued_names = certificate_names(dir);
  if (!issued_names) return print_error(issued_names.error());
  if (std::find(issued_names->begin(), issued_names->end(), id) == issued_names->end()) {
    return print_error(meridian::fail(dir, " has issued no certificate for ", id,
                                      "; issue one with cluster certs node"));
  }
  auto ca = read_certificate(dir, kCaFileName);
  if (!ca) return print_error(ca.error());
  auto issued = issue_node_certificate(*ca, request);
  if (!issued) return print_error(issued.error());
  if (auto written = replace_certificate(out, id, *issued); !written)
    return print_error(written.error());
  std::error_code ec;
  if (!std::filesystem::equivalent(dir, out, ec)) {
    if (auto written = replace_certificate(dir, id, {issued->certificate_pem, ""}); !written)
      return print_error(written.error());
  }
  std::cout << "renewed " << out << "/" << id << ".pem and .key; send the node SIGHUP "
            << "(systemctl reload) to use them for new peer connections\n";
  return 0;
}

int cluster_certs(std::string_view subcommand, const std::vector<std::string_view>& args) {
  std::string dir;
  if (!option(args, "--dir", "", dir))
    return usage_error("cluster certs needs init|node|renew and --dir DIR");
  if (auto valid = meridian::cluster::validate_output_directory("--dir", dir); !valid)
    return usage_error(valid.error().message);
  if (subcommand == "init") return cluster_certs_init(dir, args);
  if (subcommand == "node") return cluster_certs_node(dir, args);
  if (subcommand == "renew") return cluster_certs_renew(dir, args);
  return usage_error("cluster certs needs init, node or renew");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) return usage_error("no command");
  const std::string_view command = args.front();
  args.erase(args.begin());
  if (std::find(args.begin(), args.end(), "--help") != args.end() ||
      std::find(args.begin(), args.end(), "-h") != args.end()) {
    const std::string help =
        command_help(command, args.empty() || args.front().starts_with('-') ? "" : args.front());
    if (help.empty()) return usage_error("unknown command '" + std::string(command) + "'");
    std::cout << "usage: meridian " << command << " ...\n\n" << help;
    return 0;
  }
  try {
    if (command == "serve") return serve(args);
    if (command == "check-config") return check_config(args);
    if (command == "explain") return meridian::run_explain_command(args);
    if (command == "backend") return backend(args);
    if (command == "cluster" && args.size() >= 2 && args[0] == "certs") {
      return cluster_certs(args[1], std::vector<std::string_view>(args.begin() + 2, args.end()));
    }
    if (command == "cluster") return meridian::run_cluster_command(args);
    if (command == "kv") return meridian::run_kv_command(args);
    if (command == "store") return meridian::run_store_command(args);
    if (command == "status") return meridian::run_status_command(args);
    if (command == "config") return meridian::run_config_command(args);
    if (command == "drain" || command == "undrain" || command == "force-up" ||
        command == "force-down" || command == "overrides" || command == "verdicts" ||
        command == "events") {
      return meridian::run_ops_command(command, args);
    }
    if (command == "geo" && !args.empty() && args.front() == "build-db") {
      args.erase(args.begin());
      return geo_build_db(args);
    }
    if (command == "version" || command == "--version") {
      std::cout << "meridian " << kVersion << " (git " << meridian::kRevision << ")\n";
      return 0;
    }
    if (command == "help" || command == "--help" || command == "-h") {
      std::cout << kUsage;
      return 0;
    }
  } catch (const std::exception& e) {
    // Only start-up code throws (bad arguments, resource exhaustion); the
    // serving paths report errors as values.
    std::cerr << "meridian: " << e.what() << "\n";
    return 1;
  }
  return usage_error("unknown command '" + std::string(command) + "'");
}
